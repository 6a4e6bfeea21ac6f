// Legend: N elements.

extension Reference {
    /// Naive sibling of `Residual`.
    public enum Residual {
        public static func forward<S: RealScalar>(inp1: [S], inp2: [S]) -> [S] { zip(inp1, inp2).map { $0 + $1 } }

        public static func backward<S: RealScalar>(dout: [S]) -> (dinp1: [S], dinp2: [S]) { (dout, dout) }
    }
}
