import Foundation

// Legend: NH heads, Tq query positions (the first at `queryStart`), Tk key positions, N buckets.

/// T5's relative position bias (Raffel et al. 2020, §2.1): one learned scalar per (bucket, head) added to the attention
/// scores, the bucket a function of key position − query position. Shared by every layer of a stack; an encoder's
/// buckets are bidirectional, a decoder's look back only.
public enum RelativePositionBias {
    /// The bucket of `relative` = key position − query position, as Mesh TensorFlow's and Hugging Face's
    /// `_relative_position_bucket` compute it: half the buckets (per direction, when bidirectional) are exact
    /// distances below N/2 (N halved first when bidirectional), the rest logarithmic up to `maxDistance`, beyond which
    /// all share the last bucket. The logarithm is taken in fp32, as PyTorch does, so boundaries fall where theirs do.
    public static func bucket(_ relative: Int, bidirectional: Bool, buckets: Int, maxDistance: Int) -> Int {
        var n = buckets, base = 0, distance: Int
        if bidirectional {
            n /= 2
            if relative > 0 { base = n }
            distance = abs(relative)
        } else {
            distance = max(0, -relative)
        }
        let exact = n / 2
        if distance < exact { return base + distance }
        let ratio = Float(distance) / Float(exact)
        let span = Float(Foundation.log(Double(maxDistance) / Double(exact)))
        let large = exact + Int(Foundation.logf(ratio) / span * Float(n - exact))
        return base + min(large, n - 1)
    }

    /// Buckets of every (query, key) pair: [Tq, Tk], query i at position `queryStart + i`.
    public static func buckets(
        Tq: Int, Tk: Int, queryStart: Int = 0, bidirectional: Bool, buckets n: Int, maxDistance: Int
    ) -> [Int32] {
        var out = [Int32](repeating: 0, count: Tq * Tk)
        for i in 0..<Tq {
            for j in 0..<Tk {
                out[i * Tk + j] = Int32(bucket(j - (queryStart + i), bidirectional: bidirectional, buckets: n, maxDistance: maxDistance))
            }
        }
        return out
    }

    /// bias[h, i, j] = table[bucket[i, j], h] for the [N, NH] table (Hugging Face's `relative_attention_bias.weight`).
    public static func forward(
        bias: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, buckets: [Int32], NH: Int, Tq: Int, Tk: Int
    ) {
        precondition(buckets.count == Tq * Tk)
        buckets.withUnsafeBufferPointer { index in
            for h in 0..<NH {
                let out = bias + h * Tq * Tk
                for r in 0..<(Tq * Tk) { out[r] = table[Int(index[r]) * NH + h] }
            }
        }
    }

    /// dtable[bucket[i, j], h] += dbias[h, i, j]. Serial: many pairs share a bucket.
    public static func backward(
        dtable: UnsafeMutablePointer<Float>, dbias: UnsafePointer<Float>, buckets: [Int32], NH: Int, Tq: Int, Tk: Int
    ) {
        precondition(buckets.count == Tq * Tk)
        buckets.withUnsafeBufferPointer { index in
            for h in 0..<NH {
                let d = dbias + h * Tq * Tk
                for r in 0..<(Tq * Tk) { dtable[Int(index[r]) * NH + h] += d[r] }
            }
        }
    }
}
