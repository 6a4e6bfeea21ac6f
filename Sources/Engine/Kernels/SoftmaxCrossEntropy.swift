import CKernels
// Legend: R rows (B·T), V real vocabulary, Vp padded vocabulary (row stride; columns V..<Vp are padding).

/// Softmax followed by cross-entropy against integer targets, over the first V of Vp logits.
///
/// Padding columns exist only so the LM-head sgemm sees a multiple of 64; they are excluded from
/// the softmax and get zero gradient, so padded rows of the tied embedding stay exactly zero.
public enum SoftmaxCrossEntropy {
    /// losses[r] = −log softmax(logits[r, 0..<V])[targets[r]], 0 for a row whose target is negative (not scored).
    /// Leaves `logits` untouched (evaluation).
    public static func forward(
        losses: UnsafeMutableBufferPointer<Float>, logits: UnsafeMutableBufferPointer<Float>,
        targets: UnsafeBufferPointer<Int32>, R: Int, V: Int, Vp: Int
    ) {
        precondition(losses.count >= R && logits.count >= R * Vp && targets.count >= R && V <= Vp)
        let l = logits.baseAddress!, t = targets.baseAddress!, out = losses.baseAddress!
        Parallel.forEachChunk(R, minChunk: 4) { _, rows in
            for r in rows {
                let row = l + r * Vp
                guard t[r] >= 0 else { out[r] = 0; continue }
                let (m, s) = maxAndSum(row, V: V)
                out[r] = _logf(s) + m - row[Int(t[r])]
            }
        }
    }

    /// Fused forward and backward: writes `losses` and overwrites `logits` with
    /// dlogits = (softmax − onehot(target))·dlossScale (padding columns 0), in one pass per row. A row whose target is
    /// negative is not scored: loss 0 and dlogits 0.
    ///
    /// `dlossScale` is dL/dloss[r]; for a mean over B·T tokens and A accumulation steps it is 1/(B·T·A).
    public static func forwardBackward(
        losses: UnsafeMutableBufferPointer<Float>, logits: UnsafeMutableBufferPointer<Float>,
        targets: UnsafeBufferPointer<Int32>, R: Int, V: Int, Vp: Int, dlossScale: Float
    ) {
        precondition(losses.count >= R && logits.count >= R * Vp && targets.count >= R && V <= Vp)
        let l = logits.baseAddress!, t = targets.baseAddress!, out = losses.baseAddress!
        Parallel.forEachChunk(R, minChunk: 4) { _, rows in
            for r in rows {
                let row = l + r * Vp
                guard t[r] >= 0 else { out[r] = 0; row.update(repeating: 0, count: Vp); continue }
                let target = Int(t[r])
                let targetLogit = row[target]
                var m: Float = 0, s: Float = 0
                if wp_softmax_row(row, V, dlossScale, &m, &s) == 0 { (m, s) = Softmax.inPlace(row, count: V, outputScale: dlossScale) }
                out[r] = _logf(s) + m - targetLogit
                row[target] -= dlossScale
                (row + V).update(repeating: 0, count: Vp - V)
            }
        }
    }

    /// Row maximum and Σ exp(x − max) without writing the row.
    @inline(__always)
    static func maxAndSum(_ row: UnsafeMutablePointer<Float>, V: Int) -> (Float, Float) {
        var max: Float = 0, sum: Float = 0
        if wp_softmax_max_sum(row, V, &max, &sum) != 0 { return (max, sum) }
        let m = Softmax.rowMax(row, count: V)
        let mb = Float8(repeating: m)
        var sv = Float8()
        var j = 0
        while j + 8 <= V { sv += VectorMath.exp(load8(row + j) - mb); j += 8 }
        var s = sv.sum()
        while j < V { s += VectorMath.exp(row[j] - m); j += 1 }
        return (m, s)
    }
}

extension SoftmaxCrossEntropy {
    /// Rows with a target ≥ 0 whose largest logit (of the first V) is the target's: the accuracy numerator.
    public static func hits(logits: UnsafePointer<Float>, targets: UnsafeBufferPointer<Int32>, R: Int, V: Int, Vp: Int) -> Int {
        var count = 0
        for r in 0..<R where targets[r] >= 0 {
            let row = logits + r * Vp
            var best = 0
            for j in 1..<V where row[j] > row[best] { best = j }
            if best == Int(targets[r]) { count += 1 }
        }
        return count
    }
}
