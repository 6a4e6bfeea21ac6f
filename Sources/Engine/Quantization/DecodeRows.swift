import CKernels
import Glibc

// Legend: K inputs, N outputs.

/// One inference session's fp32 matrices laid out for one-row products (decoding): output-major rows, rows of more than
/// 1,024 inputs cut into blocks of at most 768 (`wp_rows_block`, `wp_pack_rows_blocked`), read block after block by the
/// pool (`wp_gemv_rows_blocked_into`). Only matrices stored otherwise are copied: input-major ones (GPT-2's `Conv1D`) and
/// output-major ones with longer rows (Llama's down projection); each on its first one-row call, kept for the session's
/// lifetime at 4 bytes a weight (`bytes`).
///
/// Why: decoding streams every weight once a token, so its speed is the rate at which the products read memory. On this
/// project's Zen 5 VM, while it had 55–65 GB/s to give, GPT-2 124M's products (blocks and LM head) read at 83 % of the
/// streaming-read probe as stored and at 94 % laid out this way (interleaved rounds of a C harness over the same sizes);
/// at about 34 GB/s, 94 % and 96–98 %. `WATTPRINT_DECODE_LAYOUT=stored` reads the weights as stored instead.
///
/// A session made before the weights change (training) keeps the old values: make a new one.
final class DecodeRows {
    private struct Entry {
        let rows: UnsafeMutablePointer<Float>
        let K: Int, N: Int, layout: WeightLayout, block: Int
    }
    private var copies: [UnsafeMutablePointer<Float>: Entry] = [:]
    /// Huge-page slabs the copies are cut from (`FloatStorage`: 2 MiB pages, as the parameters), so 48 matrices do not
    /// each round up to a page.
    private var slabs: [FloatStorage] = []
    private var slabUsed = 0
    /// Bytes of the copies made so far.
    private(set) var bytes = 0

    /// Floats a slab holds at least (64 MiB).
    static let slabFloats = 16 << 20

    /// Whether one-row products read copies (`WATTPRINT_DECODE_LAYOUT` unset or `rows`); `stored` turns it off.
    static let enabled = getenv(KernelEnvironment.decodeLayout).map { String(cString: $0) } != "stored"

    /// Whether a matrix of K inputs stored in `layout` is read from a copy: not when it already is output-major rows of at
    /// most 1,024 inputs.
    static func copies(K: Int, layout: WeightLayout) -> Bool { layout == .inputMajor || wp_rows_block(K) < K }

    /// out[N] = inp[K]·W (+ bias) (+ residual) for one row, W [K, N] input-major or [N, K] output-major, from the copy
    /// (made here on the first call). `out` may alias `residual`.
    /// - Returns: false, having written nothing, when the layout is turned off or W needs no copy (the caller runs the
    ///   stored layout). - Precondition: `weight` was copied, if at all, with the same K, N and layout.
    func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>?, residual: UnsafeMutablePointer<Float>?, K: Int, N: Int, layout: WeightLayout
    ) -> Bool {
        guard Self.enabled, Self.copies(K: K, layout: layout) else { return false }
        let entry = copies[weight] ?? copy(weight, K: K, N: N, layout: layout)
        precondition(entry.K == K && entry.N == N && entry.layout == layout, "a weight matrix copied with another shape")
        if bias != nil || residual != nil { MatMul.initialise(out: out, bias: bias, residual: residual, M: 1, N: N) }
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(2 * N * K, ordering: .relaxed) }
        let threads = N * K >= PooledProducts.minimumParallelWeights ? Parallel.workers : 1
        wp_gemv_rows_blocked_into(
            entry.rows, inp, out, N, K, entry.block, Int32(threads), bias != nil || residual != nil ? 1 : 0)
        return true
    }

    private func copy(_ weight: UnsafeMutablePointer<Float>, K: Int, N: Int, layout: WeightLayout) -> Entry {
        let floats = N * K, block = wp_rows_block(K)
        if slabs.isEmpty || (slabUsed + 15) / 16 * 16 + floats > slabs[slabs.count - 1].buffer.count {
            slabs.append(FloatStorage(count: max(Self.slabFloats, floats)))
            slabUsed = 0
        }
        // Each copy starts on a cache line.
        let offset = (slabUsed + 15) / 16 * 16, rows = slabs[slabs.count - 1].buffer.baseAddress! + offset
        slabUsed = offset + floats
        Parallel.forEachChunk(N, minChunk: 16) { _, range in
            wp_pack_rows_blocked(weight, layout == .inputMajor ? 1 : 0, N, K, block, range.lowerBound, range.count, rows)
        }
        let entry = Entry(rows: rows, K: K, N: N, layout: layout, block: block)
        copies[weight] = entry
        bytes += floats * MemoryLayout<Float>.stride
        return entry
    }
}
