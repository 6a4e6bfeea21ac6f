// Legend: R rows, C channels, H hidden, hs head size, E experts, k experts per token.

extension Reference {
    /// Naive sibling of `RMSNorm`.
    public enum RMSNorm {
        public static func forward<S: RealScalar>(inp: [S], weight: [S], R: Int, C: Int, epsilon: S) -> (out: [S], rstd: [S]) {
            var out = [S](repeating: 0, count: R * C), rstd = [S](repeating: 0, count: R)
            for r in 0..<R {
                var s: S = 0
                for c in 0..<C { s += inp[r * C + c] * inp[r * C + c] }
                let q = 1 / (s / S(C) + epsilon).squareRoot()
                for c in 0..<C { out[r * C + c] = inp[r * C + c] * q * weight[c] }
                rstd[r] = q
            }
            return (out, rstd)
        }

        public static func backward<S: RealScalar>(dout: [S], inp: [S], weight: [S], rstd: [S], R: Int, C: Int) -> (dinp: [S], dweight: [S])
        {
            var dinp = [S](repeating: 0, count: R * C), dw = [S](repeating: 0, count: C)
            for r in 0..<R {
                var dot: S = 0
                for c in 0..<C { dot += dout[r * C + c] * weight[c] * inp[r * C + c] }
                let q = rstd[r]
                for c in 0..<C {
                    dinp[r * C + c] = dout[r * C + c] * weight[c] * q - inp[r * C + c] * dot / S(C) * q * q * q
                    dw[c] += dout[r * C + c] * inp[r * C + c] * q
                }
            }
            return (dinp, dw)
        }
    }

    /// Naive sibling of `RoPE`: the angle computed for every element, Hugging Face Llama's half-split pairs.
    public enum RoPE {
        public static func apply<S: RealScalar>(_ rows: [S], R: Int, rowStride: Int, headOffsets: [Int], positions: [Int], hs: Int, base: S)
            -> [S]
        {
            var out = rows
            let half = hs / 2
            for r in 0..<R {
                for offset in headOffsets {
                    for i in 0..<half {
                        let angle = S(positions[r]) * S.exponential(-S(2 * i) / S(hs) * S.logarithm(base))
                        let c = S.cosine(angle), s = S.sine(angle)
                        let a = rows[r * rowStride + offset + i], b = rows[r * rowStride + offset + half + i]
                        out[r * rowStride + offset + i] = a * c - b * s
                        out[r * rowStride + offset + half + i] = b * c + a * s
                    }
                }
            }
            return out
        }
    }

    /// Naive sibling of `SwiGLU`.
    public enum SwiGLU {
        public static func forward<S: RealScalar>(gateUp: [S], R: Int, H: Int) -> [S] {
            var out = [S](repeating: 0, count: R * H)
            for r in 0..<R {
                for i in 0..<H {
                    let g = gateUp[r * 2 * H + i], u = gateUp[r * 2 * H + H + i]
                    out[r * H + i] = g / (1 + S.exponential(-g)) * u
                }
            }
            return out
        }
    }

    /// Naive mixture-of-experts feed-forward: softmax router, top-k renormalised, SwiGLU experts, weighted sum.
    public enum Mixture {
        /// Weights in Hugging Face Mixtral's (output-major) layout: `router[E,C]`, per expert `gateUp[2H,C]` (w1 then
        /// w3) and `down[C,H]` (w2). Returns the output [R,C], the router probabilities [R,E] and choices [R·k].
        public static func forward<S: RealScalar>(
            inp: [S], router: [S], gateUp: [[S]], down: [[S]], R: Int, C: Int, H: Int, E: Int, k: Int
        ) -> (out: [S], probs: [S], experts: [Int]) {
            var out = [S](repeating: 0, count: R * C), probs = [S](repeating: 0, count: R * E), chosen = [Int]()
            for r in 0..<R {
                var logits = [S](repeating: 0, count: E)
                for e in 0..<E { for c in 0..<C { logits[e] += inp[r * C + c] * router[e * C + c] } }
                let m = logits.max()!
                var sum: S = 0
                for e in 0..<E { probs[r * E + e] = S.exponential(logits[e] - m); sum += probs[r * E + e] }
                for e in 0..<E { probs[r * E + e] /= sum }
                var picks: [Int] = []
                for _ in 0..<k {
                    var best = -1
                    for e in 0..<E where !picks.contains(e) { if best < 0 || probs[r * E + e] > probs[r * E + best] { best = e } }
                    picks.append(best)
                }
                chosen += picks
                let norm = picks.reduce(S(0)) { $0 + probs[r * E + $1] }
                for e in picks {
                    var a = [S](repeating: 0, count: H)
                    for h in 0..<H {
                        var g: S = 0, u: S = 0
                        for c in 0..<C {
                            g += inp[r * C + c] * gateUp[e][h * C + c]
                            u += inp[r * C + c] * gateUp[e][(H + h) * C + c]
                        }
                        a[h] = g / (1 + S.exponential(-g)) * u
                    }
                    let w = probs[r * E + e] / norm
                    for c in 0..<C {
                        var y: S = 0
                        for h in 0..<H { y += a[h] * down[e][c * H + h] }
                        out[r * C + c] += w * y
                    }
                }
            }
            return (out, probs, chosen)
        }
    }
}
