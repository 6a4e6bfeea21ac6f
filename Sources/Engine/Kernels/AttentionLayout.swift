// Legend: NH query heads, NKV key/value heads (NKV divides NH), hs head size.

/// Where one batch's queries, keys and values sit in a row-major buffer, and how query heads share key/value heads.
///
/// Each position is one row of `rowStride` floats; query head h occupies `qOffset + h·hs ..< qOffset + (h+1)·hs`,
/// key/value head g `kOffset + g·hs …` and `vOffset + g·hs …`. Query head h attends with key/value head
/// `h / (NH / NKV)` (grouped-query attention; NKV = NH is multi-head attention). Outputs are rows of `NH·hs` floats.
public struct AttentionLayout: Sendable, Equatable {
    public var NH: Int
    public var NKV: Int
    public var hs: Int
    public var rowStride: Int
    public var qOffset: Int
    public var kOffset: Int
    public var vOffset: Int

    /// GPT-2's fused rows: q | k | v, each `C = NH·hs` wide, one key/value head per query head.
    public static func fused(C: Int, NH: Int) -> AttentionLayout {
        AttentionLayout(NH: NH, NKV: NH, hs: C / NH, rowStride: 3 * C, qOffset: 0, kOffset: C, vOffset: 2 * C)
    }

    /// Grouped-query rows as one fused projection writes them: q (NH heads) | k (NKV heads) | v (NKV heads).
    public static func grouped(NH: Int, NKV: Int, hs: Int) -> AttentionLayout {
        AttentionLayout(NH: NH, NKV: NKV, hs: hs, rowStride: (NH + 2 * NKV) * hs, qOffset: 0, kOffset: NH * hs, vOffset: (NH + NKV) * hs)
    }

    /// Width of an output row.
    public var outWidth: Int { NH * hs }
    /// Query heads per key/value head.
    public var group: Int { NH / NKV }
    /// Width of one key (or value) row: what a KV cache stores per position.
    public var kvWidth: Int { NKV * hs }
}
