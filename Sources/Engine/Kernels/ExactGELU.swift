// Legend: N elements.

/// GELU without approximation, as BERT's `hidden_act: "gelu"` computes it: x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
///
/// erf comes from Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), vectorised with the engine's exp, so the
/// kernel stays within fp32 rounding of PyTorch's `F.gelu` while costing a few multiply-adds per element.
public enum ExactGELU {
    static let inverseSqrt2: Float = 0.707_106_78
    /// 1/√(2π), for the density φ(x).
    static let inverseSqrt2Pi: Float = 0.398_942_28

    /// erf(x) for 8 lanes (A&S 7.1.26 with the sign restored).
    @inline(__always)
    static func erf(_ x: Float8) -> Float8 {
        let a = abs8(x)
        let t = 1 / (1 + Float8(repeating: 0.327_591_1) * a)
        var p = Float8(repeating: 1.061_405_429)
        p = p * t + Float8(repeating: -1.453_152_027)
        p = p * t + Float8(repeating: 1.421_413_741)
        p = p * t + Float8(repeating: -0.284_496_736)
        p = p * t + Float8(repeating: 0.254_829_592)
        let y = 1 - p * t * VectorMath.exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }

    @inline(__always) static func abs8(_ x: Float8) -> Float8 { x.replacing(with: -x, where: x .< 0) }

    @inline(__always) static func erf(_ x: Float) -> Float { erf(Float8(repeating: x))[0] }

    /// out = gelu(inp). Caches nothing: backward recomputes from `inp`.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
        Parallel.forEachChunk(N, minChunk: 16_384) { _, range in
            var i = range.lowerBound
            let k = Float8(repeating: inverseSqrt2)
            while i + 8 <= range.upperBound {
                let v = load8(inp + i)
                store8(0.5 * v * (1 + erf(v * k)), out + i)
                i += 8
            }
            while i < range.upperBound { out[i] = 0.5 * inp[i] * (1 + erf(inp[i] * inverseSqrt2)); i += 1 }
        }
    }

    /// dinp = dout·(Φ(x) + x·φ(x)). `dinp` may alias `dout`.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int) {
        Parallel.forEachChunk(N, minChunk: 16_384) { _, range in
            var i = range.lowerBound
            let k = Float8(repeating: inverseSqrt2), c = Float8(repeating: inverseSqrt2Pi)
            while i + 8 <= range.upperBound {
                let v = load8(inp + i)
                let local = 0.5 * (1 + erf(v * k)) + v * c * VectorMath.exp(-0.5 * v * v)
                store8(local * load8(dout + i), dinp + i)
                i += 8
            }
            while i < range.upperBound {
                let v = inp[i]
                let local = 0.5 * (1 + erf(v * inverseSqrt2)) + v * inverseSqrt2Pi * VectorMath.exp(-0.5 * v * v)
                dinp[i] = local * dout[i]
                i += 1
            }
        }
    }
}
