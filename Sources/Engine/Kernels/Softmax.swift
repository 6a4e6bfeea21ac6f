// Legend: N entries of one row.

/// Numerically stable softmax of a single row (max subtracted), shared by attention and sampling.
public enum Softmax {
    /// row[0..<N] = outputScale·softmax(row[0..<N]) in place; returns the row maximum and Σ exp(row − max).
    ///
    /// `outputScale` lets cross-entropy fold its loss scale into the normalising pass.
    @discardableResult @inline(__always)
    public static func inPlace(_ row: UnsafeMutablePointer<Float>, count N: Int, outputScale: Float = 1) -> (max: Float, sum: Float) {
        let m = rowMax(row, count: N)
        let mb = Float8(repeating: m)
        var sv = Float8()
        var j = 0
        while j + 8 <= N { let e = VectorMath.exp(load8(row + j) - mb); store8(e, row + j); sv += e; j += 8 }
        var s = sv.sum()
        while j < N { let e = VectorMath.exp(row[j] - m); row[j] = e; s += e; j += 1 }
        let inv = outputScale / s, iv = Float8(repeating: inv)
        j = 0
        while j + 8 <= N { store8(load8(row + j) * iv, row + j); j += 8 }
        while j < N { row[j] *= inv; j += 1 }
        return (m, s)
    }

    /// The largest of row[0..<N], eight lanes at a time: the first pass of every stable softmax.
    @inline(__always)
    static func rowMax(_ row: UnsafeMutablePointer<Float>, count N: Int) -> Float {
        var mv = Float8(repeating: -.infinity), j = 0
        while j + 8 <= N { mv = vmax(mv, load8(row + j)); j += 8 }
        var m = horizontalMax(mv)
        while j < N { m = Swift.max(m, row[j]); j += 1 }
        return m
    }
}
