// Legend: R rows (tokens), C channels, V rows of the table.

/// A token embedding lookup without positions (rotary models add positions in attention).
public enum TokenEmbedding {
    /// out[r,:] = table[tokens[r],:].
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, tokens: UnsafeBufferPointer<Int32>, table: UnsafeMutableBufferPointer<Float>, R: Int, C: Int
    ) {
        precondition(out.count >= R * C && tokens.count >= R)
        let o = out.baseAddress!, e = table.baseAddress!, tok = tokens.baseAddress!
        Parallel.forEachChunk(R, minChunk: 64) { _, rows in
            for r in rows { (o + r * C).update(from: e + Int(tok[r]) * C, count: C) }
        }
    }

    /// dtable[tokens[r],:] += dout[r,:]. Always accumulates; serial, since repeated tokens share a row.
    public static func backward(
        dtable: UnsafeMutableBufferPointer<Float>, dout: UnsafeMutableBufferPointer<Float>, tokens: UnsafeBufferPointer<Int32>, R: Int,
        C: Int
    ) {
        let d = dout.baseAddress!, e = dtable.baseAddress!, tok = tokens.baseAddress!
        for r in 0..<R {
            let src = d + r * C, dst = e + Int(tok[r]) * C
            var i = 0
            while i + 8 <= C { store8(load8(dst + i) + load8(src + i), dst + i); i += 8 }
            while i < C { dst[i] += src[i]; i += 1 }
        }
    }
}
