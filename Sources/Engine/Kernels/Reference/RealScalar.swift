/// Floating-point scalar with the transcendental functions the reference kernels need.
///
/// The naive kernels are generic over it so tests can run them in `Double` as an independent,
/// higher-precision check of the fp32 SIMD/BLAS kernels and for accurate finite differences.
public protocol RealScalar: BinaryFloatingPoint {
    static func exponential(_ x: Self) -> Self
    static func logarithm(_ x: Self) -> Self
    static func hyperbolicTangent(_ x: Self) -> Self
    static func cosine(_ x: Self) -> Self
    static func sine(_ x: Self) -> Self
}

extension Float: RealScalar {
    public static func exponential(_ x: Float) -> Float { _expf(x) }
    public static func logarithm(_ x: Float) -> Float { _logf(x) }
    public static func hyperbolicTangent(_ x: Float) -> Float { _tanhf(x) }
    public static func cosine(_ x: Float) -> Float { _cosf(x) }
    public static func sine(_ x: Float) -> Float { _sinf(x) }
}

extension Double: RealScalar {
    public static func exponential(_ x: Double) -> Double { _exp(x) }
    public static func logarithm(_ x: Double) -> Double { _log(x) }
    public static func hyperbolicTangent(_ x: Double) -> Double { _tanh(x) }
    public static func cosine(_ x: Double) -> Double { _cos(x) }
    public static func sine(_ x: Double) -> Double { _sin(x) }
}

/// Namespace of the naive reference kernels: plain loops over arrays, one per fast kernel.
///
/// They allocate and are slow on purpose; they exist only to check the fast kernels.
public enum Reference {}
