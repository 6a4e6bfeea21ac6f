// Legend: N elements.

/// Residual connection out = inp1 + inp2.
///
/// GPT-2's blocks fuse this add into `MatMul.forward(residual:)`; this pair stays for architectures
/// whose residual branch is not a matmul (e.g. a norm or an LSTM cell) and for the reference model.
public enum Residual {
    /// out = inp1 + inp2. Caches nothing.
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, inp1: UnsafeMutableBufferPointer<Float>,
        inp2: UnsafeMutableBufferPointer<Float>, N: Int
    ) {
        let o = out.baseAddress!, a = inp1.baseAddress!, b = inp2.baseAddress!
        Parallel.forEachChunk(N, minChunk: 16_384) { _, range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound { store8(load8(a + i) + load8(b + i), o + i); i += 8 }
            while i < range.upperBound { o[i] = a[i] + b[i]; i += 1 }
        }
    }

    /// dinp1 += dout; dinp2 += dout (both branches receive the full gradient).
    public static func backward(
        dinp1: UnsafeMutableBufferPointer<Float>, dinp2: UnsafeMutableBufferPointer<Float>,
        dout: UnsafeMutableBufferPointer<Float>, N: Int
    ) {
        let d1 = dinp1.baseAddress!, d2 = dinp2.baseAddress!, dy = dout.baseAddress!
        Parallel.forEachChunk(N, minChunk: 16_384) { _, range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let g = load8(dy + i)
                store8(load8(d1 + i) + g, d1 + i)
                store8(load8(d2 + i) + g, d2 + i)
                i += 8
            }
            while i < range.upperBound { d1[i] += dy[i]; d2[i] += dy[i]; i += 1 }
        }
    }
}
