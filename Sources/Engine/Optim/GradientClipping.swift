/// Global-norm gradient clipping.
///
/// The norm is one multithreaded read of the gradient buffer with fixed chunks summed in order
/// (deterministic per thread count); the clip itself is folded into `AdamW.update(gradientScale:)`.
public enum GradientClipping {
    /// ‖g‖₂ over the whole flat buffer (padding is zero and does not contribute).
    public static func globalNorm(_ gradients: TensorBuffer) -> Float {
        let g = gradients.flat.baseAddress!
        let count = gradients.flat.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: Parallel.maxChunks) { out in
            let o = out.baseAddress!
            o.initialize(repeating: 0, count: Parallel.maxChunks)
            Parallel.forEachChunk(count, minChunk: 65_536) { chunk, range in
                var acc = Float8(), total: Double = 0, i = range.lowerBound
                var inBlock = 0
                while i + 8 <= range.upperBound {
                    let x = load8(g + i)
                    acc += x * x
                    i += 8
                    inBlock += 1
                    if inBlock == 4096 { total += Double(acc.sum()); acc = Float8(); inBlock = 0 }
                }
                total += Double(acc.sum())
                while i < range.upperBound { total += Double(g[i] * g[i]); i += 1 }
                o[chunk] = total
            }
            var sum: Double = 0
            for c in 0..<Parallel.maxChunks { sum += o[c] }
            return Float(sum.squareRoot())
        }
    }

    /// The factor that brings `norm` down to `maxNorm` (1 when already within it, or when clipping is off).
    public static func scale(norm: Float, maxNorm: Float) -> Float {
        guard maxNorm > 0, norm > maxNorm else { return 1 }
        return maxNorm / (norm + 1e-6)
    }
}
