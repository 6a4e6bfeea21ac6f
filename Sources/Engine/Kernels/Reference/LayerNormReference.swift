// Legend: R rows, C channels.

extension Reference {
    /// Naive sibling of `LayerNorm`.
    public enum LayerNorm {
        public static func forward<S: RealScalar>(inp: [S], weight: [S], bias: [S], R: Int, C: Int) -> (out: [S], mean: [S], rstd: [S]) {
            var out = [S](repeating: 0, count: R * C), mean = [S](repeating: 0, count: R), rstd = [S](repeating: 0, count: R)
            for r in 0..<R {
                var m: S = 0
                for c in 0..<C { m += inp[r * C + c] }
                m /= S(C)
                var v: S = 0
                for c in 0..<C { let d = inp[r * C + c] - m; v += d * d }
                v /= S(C)
                let s = 1 / (v + S(1e-5)).squareRoot()
                for c in 0..<C { out[r * C + c] = (inp[r * C + c] - m) * s * weight[c] + bias[c] }
                mean[r] = m
                rstd[r] = s
            }
            return (out, mean, rstd)
        }

        public static func backward<S: RealScalar>(dout: [S], inp: [S], weight: [S], mean: [S], rstd: [S], R: Int, C: Int)
            -> (dinp: [S], dweight: [S], dbias: [S])
        {
            var dinp = [S](repeating: 0, count: R * C), dw = [S](repeating: 0, count: C), db = [S](repeating: 0, count: C)
            for r in 0..<R {
                var s1: S = 0, s2: S = 0
                for c in 0..<C {
                    let norm = (inp[r * C + c] - mean[r]) * rstd[r]
                    let dnorm = dout[r * C + c] * weight[c]
                    s1 += dnorm
                    s2 += dnorm * norm
                }
                s1 /= S(C)
                s2 /= S(C)
                for c in 0..<C {
                    let norm = (inp[r * C + c] - mean[r]) * rstd[r]
                    let dnorm = dout[r * C + c] * weight[c]
                    dinp[r * C + c] = (dnorm - s1 - norm * s2) * rstd[r]
                    dw[c] += dout[r * C + c] * norm
                    db[c] += dout[r * C + c]
                }
            }
            return (dinp, dw, db)
        }
    }
}
