// Legend: B batch, T time steps, C channels, V vocabulary rows in wte, maxT rows in wpe.

/// Token plus learned position embedding (GPT-2's input layer).
public enum PositionalEmbedding {
    /// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]. Caches nothing: backward needs only the tokens.
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, tokens: UnsafeBufferPointer<Int32>,
        wte: UnsafeMutableBufferPointer<Float>, wpe: UnsafeMutableBufferPointer<Float>,
        B: Int, T: Int, C: Int
    ) {
        precondition(out.count >= B * T * C && tokens.count >= B * T && wpe.count >= T * C)
        let o = out.baseAddress!, e = wte.baseAddress!, p = wpe.baseAddress!, tok = tokens.baseAddress!
        Parallel.forEachChunk(B * T, minChunk: 64) { _, rows in
            for row in rows {
                let t = row % T
                let dst = o + row * C, src = e + Int(tok[row]) * C, pos = p + t * C
                var i = 0
                while i + 8 <= C { store8(load8(src + i) + load8(pos + i), dst + i); i += 8 }
                while i < C { dst[i] = src[i] + pos[i]; i += 1 }
            }
        }
    }

    /// dwte[tokens[b,t],:] += dout[b,t,:]; dwpe[t,:] += dout[b,t,:]. Always accumulates.
    ///
    /// Serial: repeated tokens scatter into the same wte row, and the work is only B·T·C adds.
    public static func backward(
        dwte: UnsafeMutableBufferPointer<Float>, dwpe: UnsafeMutableBufferPointer<Float>,
        dout: UnsafeMutableBufferPointer<Float>, tokens: UnsafeBufferPointer<Int32>,
        B: Int, T: Int, C: Int
    ) {
        let d = dout.baseAddress!, e = dwte.baseAddress!, p = dwpe.baseAddress!, tok = tokens.baseAddress!
        for row in 0..<(B * T) {
            let src = d + row * C, we = e + Int(tok[row]) * C, wp = p + (row % T) * C
            var i = 0
            while i + 8 <= C {
                let g = load8(src + i)
                store8(load8(we + i) + g, we + i)
                store8(load8(wp + i) + g, wp + i)
                i += 8
            }
            while i < C { we[i] += src[i]; wp[i] += src[i]; i += 1 }
        }
    }
}
