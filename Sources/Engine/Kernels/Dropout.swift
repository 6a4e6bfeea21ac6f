// Legend: N elements.

/// Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), so activations keep
/// their expected value and nothing changes at evaluation time. The mask holds the factor (0 or 1/(1 − p)) and is
/// kept for backward, where the gradient is multiplied by the same mask.
enum Dropout {
    /// Fills `mask` from `seed` deterministically: chunk k draws from its own stream, so the mask does not
    /// depend on the thread count.
    static func fillMask(_ mask: UnsafeMutableBufferPointer<Float>, p: Float, seed: UInt64) {
        let keep = 1 / (1 - p)
        let chunk = 16_384
        let pieces = (mask.count + chunk - 1) / chunk
        Parallel.forEachChunk(pieces, minChunk: 1) { _, range in
            for piece in range {
                var rng = SplitMix64(seed: seed ^ (UInt64(piece) &* 0x9E37_79B9_7F4A_7C15))
                for i in (piece * chunk)..<min(mask.count, (piece + 1) * chunk) {
                    mask[i] = rng.nextUnitFloat() < p ? 0 : keep
                }
            }
        }
    }

    /// x ← x ⊙ mask (forward on the embeddings; backward on their gradient).
    static func scale(_ x: UnsafeMutableBufferPointer<Float>, by mask: UnsafeMutableBufferPointer<Float>) {
        Parallel.forEachChunk(x.count, minChunk: 65_536) { _, range in
            for i in range { x[i] *= mask[i] }
        }
    }

    /// out ← residual + out ⊙ mask: a residual branch's output (already in `out`) dropped and added to the stream.
    static func residualAdd(
        out: UnsafeMutableBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>,
        mask: UnsafeMutableBufferPointer<Float>
    ) {
        Parallel.forEachChunk(out.count, minChunk: 65_536) { _, range in
            for i in range { out[i] = residual[i] + out[i] * mask[i] }
        }
    }

    /// out ← dout ⊙ mask: the gradient reaching a dropped branch.
    static func masked(
        out: UnsafeMutableBufferPointer<Float>, dout: UnsafeMutableBufferPointer<Float>,
        mask: UnsafeMutableBufferPointer<Float>
    ) {
        Parallel.forEachChunk(out.count, minChunk: 65_536) { _, range in
            for i in range { out[i] = dout[i] * mask[i] }
        }
    }
}
