// Legend: B batch, T time, C channels, NH heads, hs head size; qkv [B,T,3C], att [B,NH,T,T].

extension Reference {
    /// Naive sibling of `Attention`: explicit loops, causal positions only.
    public enum Attention {
        public static func forward<S: RealScalar>(qkv: [S], B: Int, T: Int, C: Int, NH: Int) -> (out: [S], att: [S]) {
            let hs = C / NH, scale = 1 / S(hs).squareRoot()
            var out = [S](repeating: 0, count: B * T * C), att = [S](repeating: 0, count: B * NH * T * T)
            for b in 0..<B {
                for h in 0..<NH {
                    for i in 0..<T {
                        let q = (b * T + i) * 3 * C + h * hs
                        var scores = [S](repeating: 0, count: i + 1)
                        var m = -S.infinity
                        for j in 0...i {
                            let k = (b * T + j) * 3 * C + C + h * hs
                            var s: S = 0
                            for d in 0..<hs { s += qkv[q + d] * qkv[k + d] }
                            scores[j] = s * scale
                            m = max(m, scores[j])
                        }
                        var sum: S = 0
                        for j in 0...i { scores[j] = S.exponential(scores[j] - m); sum += scores[j] }
                        for j in 0...i {
                            let p = scores[j] / sum
                            att[((b * NH + h) * T + i) * T + j] = p
                            let v = (b * T + j) * 3 * C + 2 * C + h * hs
                            for d in 0..<hs { out[(b * T + i) * C + h * hs + d] += p * qkv[v + d] }
                        }
                    }
                }
            }
            return (out, att)
        }

        public static func backward<S: RealScalar>(dout: [S], qkv: [S], att: [S], B: Int, T: Int, C: Int, NH: Int) -> [S] {
            let hs = C / NH, scale = 1 / S(hs).squareRoot()
            var dqkv = [S](repeating: 0, count: B * T * 3 * C)
            for b in 0..<B {
                for h in 0..<NH {
                    for i in 0..<T {
                        let row = ((b * NH + h) * T + i) * T
                        let dy = (b * T + i) * C + h * hs
                        var dp = [S](repeating: 0, count: i + 1)
                        for j in 0...i {
                            let v = (b * T + j) * 3 * C + 2 * C + h * hs
                            for d in 0..<hs {
                                dp[j] += dout[dy + d] * qkv[v + d]
                                dqkv[v + d] += att[row + j] * dout[dy + d]
                            }
                        }
                        var dot: S = 0
                        for j in 0...i { dot += att[row + j] * dp[j] }
                        let q = (b * T + i) * 3 * C + h * hs
                        for j in 0...i {
                            let ds = att[row + j] * (dp[j] - dot) * scale
                            let k = (b * T + j) * 3 * C + C + h * hs
                            for d in 0..<hs {
                                dqkv[q + d] += ds * qkv[k + d]
                                dqkv[k + d] += ds * qkv[q + d]
                            }
                        }
                    }
                }
            }
            return dqkv
        }
    }
}
