// Legend: B batch, T time, NH query heads, NKV key/value heads, hs head size; qkv rows as `AttentionLayout` says,
// out [B,T,NH·hs], att [B,NH,T,T].

extension Reference {
    /// Naive sibling of `Attention`: explicit loops, causal positions only, any layout (multi-head or grouped-query).
    public enum Attention {
        public static func forward<S: RealScalar>(qkv: [S], B: Int, T: Int, layout l: AttentionLayout) -> (out: [S], att: [S]) {
            let hs = l.hs, W = l.outWidth, scale = 1 / S(hs).squareRoot()
            var out = [S](repeating: 0, count: B * T * W), att = [S](repeating: 0, count: B * l.NH * T * T)
            for b in 0..<B {
                for h in 0..<l.NH {
                    let g = h / l.group
                    for i in 0..<T {
                        let q = (b * T + i) * l.rowStride + l.qOffset + h * hs
                        var scores = [S](repeating: 0, count: i + 1)
                        var m = -S.infinity
                        for j in 0...i {
                            let k = (b * T + j) * l.rowStride + l.kOffset + g * hs
                            var s: S = 0
                            for d in 0..<hs { s += qkv[q + d] * qkv[k + d] }
                            scores[j] = s * scale
                            m = max(m, scores[j])
                        }
                        var sum: S = 0
                        for j in 0...i { scores[j] = S.exponential(scores[j] - m); sum += scores[j] }
                        for j in 0...i {
                            let p = scores[j] / sum
                            att[((b * l.NH + h) * T + i) * T + j] = p
                            let v = (b * T + j) * l.rowStride + l.vOffset + g * hs
                            for d in 0..<hs { out[(b * T + i) * W + h * hs + d] += p * qkv[v + d] }
                        }
                    }
                }
            }
            return (out, att)
        }

        public static func backward<S: RealScalar>(dout: [S], qkv: [S], att: [S], B: Int, T: Int, layout l: AttentionLayout) -> [S] {
            let hs = l.hs, W = l.outWidth, scale = 1 / S(hs).squareRoot()
            var dqkv = [S](repeating: 0, count: B * T * l.rowStride)
            for b in 0..<B {
                for h in 0..<l.NH {
                    let g = h / l.group
                    for i in 0..<T {
                        let row = ((b * l.NH + h) * T + i) * T
                        let dy = (b * T + i) * W + h * hs
                        var dp = [S](repeating: 0, count: i + 1)
                        for j in 0...i {
                            let v = (b * T + j) * l.rowStride + l.vOffset + g * hs
                            for d in 0..<hs {
                                dp[j] += dout[dy + d] * qkv[v + d]
                                dqkv[v + d] += att[row + j] * dout[dy + d]
                            }
                        }
                        var dot: S = 0
                        for j in 0...i { dot += att[row + j] * dp[j] }
                        let q = (b * T + i) * l.rowStride + l.qOffset + h * hs
                        for j in 0...i {
                            let ds = att[row + j] * (dp[j] - dot) * scale
                            let k = (b * T + j) * l.rowStride + l.kOffset + g * hs
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

        /// GPT-2's fused layout.
        public static func forward<S: RealScalar>(qkv: [S], B: Int, T: Int, C: Int, NH: Int) -> (out: [S], att: [S]) {
            forward(qkv: qkv, B: B, T: T, layout: .fused(C: C, NH: NH))
        }

        public static func backward<S: RealScalar>(dout: [S], qkv: [S], att: [S], B: Int, T: Int, C: Int, NH: Int) -> [S] {
            backward(dout: dout, qkv: qkv, att: att, B: B, T: T, layout: .fused(C: C, NH: NH))
        }
    }
}
