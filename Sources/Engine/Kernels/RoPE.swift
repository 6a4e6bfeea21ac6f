// Legend: R rows (positions), hs head size, heads per row as `AttentionLayout` places them.

/// Rotary position embeddings (Su et al. 2021) in Hugging Face Llama's half-split convention: in each head, element i
/// and element i + hs/2 form a pair rotated by the angle pos·θᵢ with θᵢ = base^(−2i/hs), i < hs/2.
///
/// Applied in place to the query and key heads of q/k/v rows; values are left alone. The angles are tabulated once
/// per (position, i) in `RoPE.Table`.
public enum RoPE {
    /// cos and sin of pos·θᵢ for positions 0..<maxPositions and i < hs/2.
    public final class Table: @unchecked Sendable {
        public let headSize: Int
        public let base: Float
        let cosines: [Float], sines: [Float]

        public init(headSize: Int, maxPositions: Int, base: Float) {
            precondition(headSize % 2 == 0, "RoPE needs an even head size")
            self.headSize = headSize
            self.base = base
            let half = headSize / 2
            var c = [Float](repeating: 0, count: maxPositions * half), s = c
            for p in 0..<maxPositions {
                for i in 0..<half {
                    // Angles in Double, as the reference does; float32 angles drift at long contexts.
                    let angle = Double(p) * _pow(Double(base), -2 * Double(i) / Double(headSize))
                    c[p * half + i] = Float(_cos(angle))
                    s[p * half + i] = Float(_sin(angle))
                }
            }
            cosines = c
            sines = s
        }
    }

    /// Rotates heads `heads` (start offsets in a row, each `hs` wide) of R rows of `rowStride` floats; row r is at
    /// position `positions[r]`. `inverse` rotates by −angle: the backward pass (the rotation is orthogonal).
    public static func apply(
        _ rows: UnsafeMutableBufferPointer<Float>, R: Int, rowStride: Int, headOffsets: [Int], positions: UnsafeBufferPointer<Int32>,
        table: Table, inverse: Bool = false
    ) {
        let hs = table.headSize, half = hs / 2
        let base = rows.baseAddress!
        table.cosines.withUnsafeBufferPointer { cs in
            table.sines.withUnsafeBufferPointer { ss in
                let cp = cs.baseAddress!, sp = ss.baseAddress!
                Parallel.forEachChunk(R, minChunk: 32) { _, range in
                    for r in range {
                        let p = Int(positions[r])
                        let c = cp + p * half, s = sp + p * half
                        for offset in headOffsets {
                            let x = base + r * rowStride + offset, y = x + half
                            var i = 0
                            while i + 8 <= half {
                                let a = load8(x + i), b = load8(y + i), cv = load8(c + i)
                                let sv = inverse ? -load8(s + i) : load8(s + i)
                                store8(a * cv - b * sv, x + i)
                                store8(b * cv + a * sv, y + i)
                                i += 8
                            }
                            while i < half {
                                let a = x[i], b = y[i], sn = inverse ? -s[i] : s[i]
                                x[i] = a * c[i] - b * sn
                                y[i] = b * c[i] + a * sn
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// The query and key heads of a layout's rows, for `apply`.
    public static func queryAndKeyHeads(_ l: AttentionLayout) -> [Int] {
        (0..<l.NH).map { l.qOffset + $0 * l.hs } + (0..<l.NKV).map { l.kOffset + $0 * l.hs }
    }
}
