// Legend: R rows (tokens), E experts, k experts per token.

/// The top-k softmax router of a mixture of experts (Mixtral's): p = softmax(logits) over the E experts of each row;
/// the k largest are chosen and their weights renormalised over the k, w = p_chosen / Σ p_chosen.
///
/// The auxiliary load-balancing loss is Switch Transformer's (Fedus et al. 2021, eq. 4) as Hugging Face's
/// `load_balancing_loss_func` computes it for top-k routing: aux = E · Σₑ fₑ·Pₑ, with fₑ the number of (row, slot)
/// assignments to expert e divided by the rows, and Pₑ the mean router probability of expert e. Its gradient flows
/// through Pₑ only (fₑ counts discrete choices).
public enum Router {
    /// Chooses each row's experts. Writes `probs[R,E]`, `experts[R,k]` (indices, largest first, ties to the lower
    /// index) and `weights[R,k]`; adds each row's choices to `counts[E]` (not cleared, so layers can share it).
    public static func forward(
        probs: UnsafeMutableBufferPointer<Float>, experts: UnsafeMutableBufferPointer<Int32>, weights: UnsafeMutableBufferPointer<Float>,
        logits: UnsafeMutableBufferPointer<Float>, R: Int, E: Int, k: Int
    ) {
        precondition(k >= 1 && k <= E && probs.count >= R * E && experts.count >= R * k && weights.count >= R * k)
        let p = probs.baseAddress!, x = logits.baseAddress!, ex = experts.baseAddress!, w = weights.baseAddress!
        Parallel.forEachChunk(R, minChunk: 64) { _, rows in
            for r in rows {
                let pr = p + r * E
                pr.update(from: x + r * E, count: E)
                Softmax.inPlace(pr, count: E)
                var chosen = 0
                var sum: Float = 0
                while chosen < k {
                    var best = -1
                    for e in 0..<E where !(0..<chosen).contains(where: { ex[r * k + $0] == Int32(e) }) {
                        if best < 0 || pr[e] > pr[best] { best = e }
                    }
                    ex[r * k + chosen] = Int32(best)
                    sum += pr[best]
                    chosen += 1
                }
                for s in 0..<k { w[r * k + s] = pr[Int(ex[r * k + s])] / sum }
            }
        }
    }

    /// Assignments per expert over `R` rows.
    public static func counts(experts: UnsafeBufferPointer<Int32>, R: Int, E: Int, k: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: E)
        for i in 0..<(R * k) { counts[Int(experts[i])] += 1 }
        return counts
    }

    /// dlogits[R,E] (overwritten) from the gradient of the renormalised weights `dweights[R,k]` and the auxiliary loss
    /// term: ∂(coefficient·aux)/∂p[r,e] = coefficient·E·fₑ/rows, with `fractions` fₑ and `rows` the token count the
    /// loss averages over (all layers' rows when the loss is taken over every layer together).
    public static func backward(
        dlogits: UnsafeMutableBufferPointer<Float>, dweights: UnsafeMutableBufferPointer<Float>, probs: UnsafeMutableBufferPointer<Float>,
        experts: UnsafeMutableBufferPointer<Int32>, weights: UnsafeMutableBufferPointer<Float>, R: Int, E: Int, k: Int,
        auxiliaryCoefficient: Float, fractions: [Float], rows: Int
    ) {
        let dl = dlogits.baseAddress!, dw = dweights.baseAddress!, p = probs.baseAddress!, ex = experts.baseAddress!,
            w = weights.baseAddress!
        let auxScale = auxiliaryCoefficient * Float(E) / Float(rows)
        fractions.withUnsafeBufferPointer { f in
            Parallel.forEachChunk(R, minChunk: 64) { _, range in
                for r in range {
                    let pr = p + r * E, dpr = dl + r * E
                    for e in 0..<E { dpr[e] = auxScale * f[e] }
                    // w_s = p_s / S: ∂w_s/∂p_j = (δ_sj − w_s)/S for chosen j, so dp_j = (dw_j − Σ_s dw_s·w_s) / S.
                    var sum: Float = 0, dot: Float = 0
                    for s in 0..<k { sum += pr[Int(ex[r * k + s])]; dot += dw[r * k + s] * w[r * k + s] }
                    for s in 0..<k { dpr[Int(ex[r * k + s])] += (dw[r * k + s] - dot) / sum }
                    var pdp: Float = 0
                    for e in 0..<E { pdp += pr[e] * dpr[e] }
                    for e in 0..<E { dpr[e] = pr[e] * (dpr[e] - pdp) }
                }
            }
        }
    }

    /// The auxiliary loss E·Σₑ fₑ·Pₑ over the given rows' assignment counts and summed probabilities.
    public static func auxiliaryLoss(counts: [Int], probabilitySums: [Double], rows: Int, k: Int) -> Double {
        let E = counts.count
        var loss = 0.0
        for e in 0..<E { loss += Double(counts[e]) / Double(rows) * probabilitySums[e] / Double(rows) }
        return Double(E) * loss
    }
}
