import Foundation

// Legend: B batch, Tq query and Tk key positions, NH heads, hs head size, W = NH·hs; q [B,Tq,W], k and v [B,Tk,W].

extension Reference {
    /// Naive sibling of `MaskedAttention`: explicit loops over every (b, h, i, j), masked keys skipped.
    public enum MaskedAttention {
        public static func forward<S: RealScalar>(
            q: [S], k: [S], v: [S], B: Int, Tq: Int, Tk: Int, NH: Int, hs: Int, scale: S, causal: Bool, keyPadding: [UInt8]?,
            bias: [S]?
        ) -> [S] {
            let W = NH * hs
            var out = [S](repeating: 0, count: B * Tq * W)
            for b in 0..<B {
                for h in 0..<NH {
                    for i in 0..<Tq {
                        let keys = (0..<Tk).filter { j in
                            (!causal || j <= i + Tk - Tq) && (keyPadding?[b * Tk + j] ?? 0) == 0
                        }
                        guard !keys.isEmpty else { continue }
                        var scores: [S] = keys.map { j in
                            var s: S = 0
                            for d in 0..<hs { s += q[(b * Tq + i) * W + h * hs + d] * k[(b * Tk + j) * W + h * hs + d] }
                            return s * scale + (bias?[(h * Tq + i) * Tk + j] ?? 0)
                        }
                        let m = scores.max()!
                        scores = scores.map { S.exponential($0 - m) }
                        let sum = scores.reduce(0, +)
                        for (n, j) in keys.enumerated() {
                            for d in 0..<hs { out[(b * Tq + i) * W + h * hs + d] += scores[n] / sum * v[(b * Tk + j) * W + h * hs + d] }
                        }
                    }
                }
            }
            return out
        }
    }

    /// Naive exact GELU, x·Φ(x) with libm's erf.
    public static func exactGELU(_ x: [Double]) -> [Double] { x.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) } }

    /// Naive gated GELU over rows of gate | up (2H each): tanh-GELU(gate)·up.
    public static func gatedGELU<S: RealScalar>(_ gateUp: [S], R: Int, H: Int) -> [S] {
        var out = [S](repeating: 0, count: R * H)
        let c = S(0.797_884_560_802_865_4)
        for r in 0..<R {
            for i in 0..<H {
                let g = gateUp[r * 2 * H + i], u = gateUp[r * 2 * H + H + i]
                out[r * H + i] = 0.5 * g * (1 + S.hyperbolicTangent(c * (g + 0.044_715 * g * g * g))) * u
            }
        }
        return out
    }
}
