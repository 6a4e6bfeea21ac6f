// Legend: B batch, T time, C channels, V wte rows, P wpe rows.

extension Reference {
    /// Naive sibling of `PositionalEmbedding`.
    public enum PositionalEmbedding {
        public static func forward<S: RealScalar>(tokens: [Int32], wte: [S], wpe: [S], B: Int, T: Int, C: Int) -> [S] {
            var out = [S](repeating: 0, count: B * T * C)
            for b in 0..<B {
                for t in 0..<T {
                    let token = Int(tokens[b * T + t])
                    for c in 0..<C { out[(b * T + t) * C + c] = wte[token * C + c] + wpe[t * C + c] }
                }
            }
            return out
        }

        public static func backward<S: RealScalar>(dout: [S], tokens: [Int32], V: Int, P: Int, B: Int, T: Int, C: Int) -> (
            dwte: [S], dwpe: [S]
        ) {
            var dwte = [S](repeating: 0, count: V * C), dwpe = [S](repeating: 0, count: P * C)
            for b in 0..<B {
                for t in 0..<T {
                    let token = Int(tokens[b * T + t])
                    for c in 0..<C {
                        dwte[token * C + c] += dout[(b * T + t) * C + c]
                        dwpe[t * C + c] += dout[(b * T + t) * C + c]
                    }
                }
            }
            return (dwte, dwpe)
        }
    }
}
