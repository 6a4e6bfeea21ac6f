/// SplitMix64: the engine's only source of randomness, so every run is reproducible from a seed.
///
/// Small, fast and with good statistical quality for initialisation and sampling; not cryptographic.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits, exactly representable as Float.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, bound).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }

    /// Fills `out` with N(0, std²) samples (Box–Muller on 53-bit uniforms).
    public mutating func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, std: Float) {
        var i = 0
        while i < out.count {
            let u1 = Double((next() >> 11) + 1) * (1.0 / 9_007_199_254_740_993.0)
            let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            let radius = (-2.0 * _log(u1)).squareRoot()
            let angle = 2.0 * Double.pi * u2
            out[i] = Float(radius * _cos(angle)) * std
            if i + 1 < out.count { out[i + 1] = Float(radius * _sin(angle)) * std }
            i += 2
        }
    }
}

extension TensorBuffer {
    /// Fills the first `count` floats of tensor `index` with N(0, std²), in seeded chunks of 2²⁰ spread over the
    /// kernel workers: the same values for any thread count (each chunk's stream depends only on the seed, the tensor
    /// and the chunk).
    func fillNormal(tensor index: Int, count: Int, std: Float, seed: UInt64) {
        let view = self.view(index), chunk = 1 << 20
        let pieces = (count + chunk - 1) / chunk
        Parallel.forEachChunk(pieces, minChunk: 1) { _, range in
            for piece in range {
                var stream = SplitMix64(seed: seed ^ (UInt64(index) << 32) ^ UInt64(piece))
                var rng = SplitMix64(seed: stream.next())
                let lo = piece * chunk, hi = min(count, lo + chunk)
                rng.fillNormal(UnsafeMutableBufferPointer(rebasing: view[lo..<hi]), std: std)
            }
        }
    }
}
