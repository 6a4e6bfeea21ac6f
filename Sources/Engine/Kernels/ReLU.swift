// Legend: N elements.

/// ReLU, max(0, x), the activation of the engine's MLP autoencoders and GAN.
public enum ReLU {
    /// out = max(0, inp). `out` may alias `inp`.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
        Parallel.forEachChunk(N, minChunk: 65_536) { _, range in
            for i in range { out[i] = Swift.max(0, inp[i]) }
        }
    }

    /// dinp = dout where the forward's output was positive, else 0. `dinp` may alias `dout`.
    public static func backward(dinp: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int) {
        Parallel.forEachChunk(N, minChunk: 65_536) { _, range in
            for i in range { dinp[i] = out[i] > 0 ? dout[i] : 0 }
        }
    }
}
