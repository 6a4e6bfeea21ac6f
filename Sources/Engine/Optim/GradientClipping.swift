/// Global-norm gradient clipping.
///
/// The norm is one multithreaded read of the gradient buffer with fixed pieces summed in order (the same for any
/// thread count); the clip itself is folded into `AdamW.update(gradientScale:)`.
public enum GradientClipping {
    /// ‖g‖₂ over the whole flat buffer (padding is zero and does not contribute).
    ///
    /// The buffer is read in pieces of `AdamW.pieceFloats` that the threads take as they free up; each piece's sum of
    /// squares is kept in its own slot and the slots are added in order, so the norm does not depend on the thread count.
    public static func globalNorm(_ gradients: TensorBuffer) -> Float {
        let count = gradients.flat.count, piece = AdamW.pieceFloats
        let pieces = stride(from: 0, to: count, by: piece).map { $0..<min($0 + piece, count) }
        return Float(sumOfSquares(gradients, pieces).reduce(0, +).squareRoot())
    }

    /// ‖g‖₂ with each tensor `recorded` holds taken from there and only the others read (in pieces, as above), added
    /// in the layout's order. Without records for this buffer, `globalNorm(_:)`.
    public static func globalNorm(_ gradients: TensorBuffer, recorded: GradientSquares?) -> Float {
        guard let recorded, recorded.gradients === gradients, recorded.recordedCount > 0 else { return globalNorm(gradients) }
        let layout = gradients.layout, piece = AdamW.pieceFloats
        var pieces: [Range<Int>] = [], owners: [Int] = []
        for position in layout.specs.indices where recorded.sum(at: position) == nil {
            let start = layout.offsets[position], end = start + layout.specs[position].count
            for first in stride(from: start, to: end, by: piece) {
                pieces.append(first..<min(first + piece, end))
                owners.append(position)
            }
        }
        let read = sumOfSquares(gradients, pieces)
        var total: Double = 0, next = 0
        for position in layout.specs.indices {
            if let sum = recorded.sum(at: position) {
                total += sum
                continue
            }
            while next < pieces.count && owners[next] == position {
                total += read[next]
                next += 1
            }
        }
        return Float(total.squareRoot())
    }

    /// Each range's sum of squares, the ranges taken by the threads as they free up.
    private static func sumOfSquares(_ gradients: TensorBuffer, _ pieces: [Range<Int>]) -> [Double] {
        let g = gradients.flat.baseAddress!
        return [Double](unsafeUninitializedCapacity: pieces.count) { out, initialized in
            let o = out.baseAddress!
            WorkerPool.run(parts: pieces.count, threads: Parallel.workers) { index in
                let range = pieces[index]
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
                (o + index).initialize(to: total)
            }
            initialized = pieces.count
        }
    }

    /// The factor that brings `norm` down to `maxNorm` (1 when already within it, or when clipping is off).
    public static func scale(norm: Float, maxNorm: Float) -> Float {
        guard maxNorm > 0, norm > maxNorm else { return 1 }
        return maxNorm / (norm + 1e-6)
    }
}
