// Legend: N elements.

extension Reference {
    /// Naive sibling of `GELU` (tanh approximation) using libm's tanh.
    public enum GELU {
        static func constant<S: RealScalar>() -> S { S(0.797_884_560_802_865_4) }

        public static func forward<S: RealScalar>(inp: [S]) -> [S] {
            inp.map { x in S(0.5) * x * (1 + S.hyperbolicTangent(constant() * (x + S(0.044715) * x * x * x))) }
        }

        public static func backward<S: RealScalar>(dout: [S], inp: [S]) -> [S] {
            zip(inp, dout).map { x, g in
                let t = S.hyperbolicTangent(constant() * (x + S(0.044715) * x * x * x))
                let local = S(0.5) * (1 + t) + S(0.5) * x * (1 - t * t) * constant() * (1 + 3 * S(0.044715) * x * x)
                return local * g
            }
        }
    }
}
