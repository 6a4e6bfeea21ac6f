// Legend: R rows, V real vocabulary, Vp padded vocabulary (row stride).

extension Reference {
    /// Naive sibling of `SoftmaxCrossEntropy`: separate softmax, loss and gradient, as llm.c writes them.
    public enum SoftmaxCrossEntropy {
        public static func softmax<S: RealScalar>(logits: [S], R: Int, V: Int, Vp: Int) -> [S] {
            var probs = [S](repeating: 0, count: R * Vp)
            for r in 0..<R {
                var m = -S.infinity
                for v in 0..<V { m = max(m, logits[r * Vp + v]) }
                var sum: S = 0
                for v in 0..<V { probs[r * Vp + v] = S.exponential(logits[r * Vp + v] - m); sum += probs[r * Vp + v] }
                for v in 0..<V { probs[r * Vp + v] /= sum }
            }
            return probs
        }

        public static func forward<S: RealScalar>(probs: [S], targets: [Int32], R: Int, Vp: Int) -> [S] {
            (0..<R).map { r in -S.logarithm(probs[r * Vp + Int(targets[r])]) }
        }

        public static func backward<S: RealScalar>(probs: [S], targets: [Int32], R: Int, V: Int, Vp: Int, dlossScale: S) -> [S] {
            var dlogits = [S](repeating: 0, count: R * Vp)
            for r in 0..<R {
                for v in 0..<V {
                    let indicator: S = v == Int(targets[r]) ? 1 : 0
                    dlogits[r * Vp + v] = (probs[r * Vp + v] - indicator) * dlossScale
                }
            }
            return dlogits
        }
    }
}
