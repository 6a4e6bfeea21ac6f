// Legend: M rows, K inputs, N outputs. W is [K,N] (input-major) or [N,K] (output-major).

extension Reference {
    /// Naive sibling of `MatMul`.
    public enum MatMul {
        @inline(__always)
        static func w<S>(_ weight: [S], _ k: Int, _ n: Int, K: Int, N: Int, _ layout: WeightLayout) -> S {
            layout == .inputMajor ? weight[k * N + n] : weight[n * K + k]
        }

        public static func forward<S: RealScalar>(
            inp: [S], weight: [S], bias: [S]?, M: Int, K: Int, N: Int,
            layout: WeightLayout = .inputMajor
        ) -> [S] {
            var out = [S](repeating: 0, count: M * N)
            for m in 0..<M {
                for n in 0..<N {
                    var s: S = bias?[n] ?? 0
                    for k in 0..<K { s += inp[m * K + k] * w(weight, k, n, K: K, N: N, layout) }
                    out[m * N + n] = s
                }
            }
            return out
        }

        public static func backward<S: RealScalar>(
            dout: [S], inp: [S], weight: [S], M: Int, K: Int, N: Int,
            layout: WeightLayout = .inputMajor
        ) -> (dinp: [S], dweight: [S], dbias: [S]) {
            var dinp = [S](repeating: 0, count: M * K), dw = [S](repeating: 0, count: K * N), db = [S](repeating: 0, count: N)
            for m in 0..<M {
                for n in 0..<N {
                    let g = dout[m * N + n]
                    db[n] += g
                    for k in 0..<K {
                        dinp[m * K + k] += g * w(weight, k, n, K: K, N: N, layout)
                        let index = layout == .inputMajor ? k * N + n : n * K + k
                        dw[index] += g * inp[m * K + k]
                    }
                }
            }
            return (dinp, dw, db)
        }
    }
}
