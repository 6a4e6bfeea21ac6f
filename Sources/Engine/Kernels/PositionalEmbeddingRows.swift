// Legend: R rows, C channels.

extension PositionalEmbedding {
    /// out[r,:] = wte[tokens[r],:] + wpe[positions[r],:] for rows at arbitrary positions (KV-cached inference).
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>,
        wte: UnsafeMutableBufferPointer<Float>, wpe: UnsafeMutableBufferPointer<Float>, R: Int, C: Int
    ) {
        let o = out.baseAddress!, e = wte.baseAddress!, p = wpe.baseAddress!
        for row in 0..<R {
            let dst = o + row * C, src = e + Int(tokens[row]) * C, pos = p + Int(positions[row]) * C
            var i = 0
            while i + 8 <= C { store8(load8(src + i) + load8(pos + i), dst + i); i += 8 }
            while i < C { dst[i] = src[i] + pos[i]; i += 1 }
        }
    }
}
