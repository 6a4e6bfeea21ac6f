import CBLAS

/// SIMD helpers shared by the element-wise kernels.
///
/// `exp` is a Cody–Waite range reduction plus a degree-6 polynomial: relative error about 2e-7
/// over the clamped range, which is at fp32 rounding level and keeps softmax/GELU bit-stable
/// across chunkings. Everything here is `@inline(__always)` so loops stay free of calls.
/// The stdlib's generic `pointwiseMin/Max`, `SIMD.max()` and `SIMD.squareRoot()` compile to scalar
/// loops (the last with libm calls), so these helpers use blends and `wp_sqrt8` instead.
public typealias Float8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inline(__always) func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

@inline(__always) func vmax(_ a: Float8, _ b: Float8) -> Float8 { a.replacing(with: b, where: a .< b) }

@inline(__always) func vmin(_ a: Float8, _ b: Float8) -> Float8 { a.replacing(with: b, where: b .< a) }

@inline(__always) func vsqrt(_ a: Float8) -> Float8 { wp_sqrt8(a) }

/// Largest lane, by halving with blends.
@inline(__always) func horizontalMax(_ v: Float8) -> Float {
    let lo = v.lowHalf, hi = v.highHalf
    let m4 = lo.replacing(with: hi, where: lo .< hi)
    let m2 = m4.lowHalf.replacing(with: m4.highHalf, where: m4.lowHalf .< m4.highHalf)
    return Swift.max(m2[0], m2[1])
}

enum VectorMath {
    /// e^x for 8 lanes; inputs are clamped to [-87.3, 88.3] so results stay finite and normal.
    /// `@_transparent` (mandatory inlining): with `@inline(__always)` alone GELU.forward still called it out of line.
    @_transparent
    static func exp(_ input: Float8) -> Float8 {
        let x = vmin(vmax(input, Float8(repeating: -87.3)), Float8(repeating: 88.3))
        // Adding 1.5·2^23 rounds x·log2(e) to an integer held in the low mantissa bits.
        let magic = Float8(repeating: 12_582_912.0)
        let t = x * Float8(repeating: 1.442_695_04) + magic
        let n = t - magic
        let r = (x - n * Float8(repeating: 0.693_145_751_953_125)) - n * Float8(repeating: 1.428_606_765_330_187e-6)
        var p = Float8(repeating: 1.0 / 720.0)
        p = p * r + Float8(repeating: 1.0 / 120.0)
        p = p * r + Float8(repeating: 1.0 / 24.0)
        p = p * r + Float8(repeating: 1.0 / 6.0)
        p = p * r + Float8(repeating: 0.5)
        p = p * r + Float8(repeating: 1.0)
        p = p * r + Float8(repeating: 1.0)
        let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127
        return p * unsafeBitCast(bits &<< 23, to: Float8.self)
    }

    /// tanh(x) = (e^{2x} − 1)/(e^{2x} + 1); |x| is clamped to 9 where tanh is ±1 in fp32.
    @_transparent
    static func tanh(_ input: Float8) -> Float8 {
        let x = vmin(vmax(input, Float8(repeating: -9)), Float8(repeating: 9))
        let e = exp(x + x)
        return (e - 1) / (e + 1)
    }

    /// Scalar e^x with the same polynomial, for tails shorter than 8 lanes.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(Float8(repeating: x))[0]
    }

    /// Scalar tanh with the same formula as the vector version.
    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        tanh(Float8(repeating: x))[0]
    }
}
