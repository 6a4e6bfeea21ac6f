// Legend: B rows (sequences) of one time step, H hidden width, G gates (1 RNN, 4 LSTM, 3 GRU); `pre` rows hold the
// input projection W_ih·x + b_ih (G·H), `gh` rows the recurrent projection W_hh·h + b_hh (G·H).

/// The pointwise part of one time step of PyTorch's `nn.RNN` (tanh), `nn.LSTM` and `nn.GRU` (their documented
/// equations), forward and backward, eight lanes at a time with rows spread over cores; the matrix products around
/// it are the model's.
///
/// - RNN: h = tanh(pre + gh).
/// - LSTM, gates i, f, g, o: i = σ, f = σ, g = tanh, o = σ of (pre + gh); c = f·c₋ + i·g; h = o·tanh(c).
/// - GRU, gates r, z, n: r = σ(pre_r + gh_r), z = σ(pre_z + gh_z), n = tanh(pre_n + r·gh_n); h = (1 − z)·n + z·h₋ (the
///   reset gate multiplies W_hn·h + b_hn, as PyTorch does).
public enum RecurrentCell {
    /// Gate activations overwrite `pre` (what backward needs); writes `h` (and `c` for LSTM). `hPrev`/`cPrev` nil
    /// means zeros (the first step). Strides are in floats between consecutive rows (sequences) of each buffer.
    public static func forward(
        _ kind: RecurrentCellKind, pre: UnsafeMutablePointer<Float>, preStride: Int, gh: UnsafeMutablePointer<Float>, ghStride: Int,
        hPrev: UnsafeMutablePointer<Float>?, cPrev: UnsafeMutablePointer<Float>?, h: UnsafeMutablePointer<Float>,
        c: UnsafeMutablePointer<Float>?, stateStride: Int, B: Int, H: Int
    ) {
        Parallel.forEachChunk(B, minChunk: max(1, 8192 / max(1, H))) { _, rows in
            for b in rows {
                let a = pre + b * preStride, r = gh + b * ghStride, out = h + b * stateStride
                let previousH = hPrev.map { $0 + b * stateStride }, previousC = cPrev.map { $0 + b * stateStride }
                var j = 0
                while j < H {
                    let n = min(8, H - j)
                    switch kind {
                    case .rnn:
                        let v = VectorMath.tanh(lanes(a + j, n) + lanes(r + j, n))
                        put(v, a + j, n)
                        put(v, out + j, n)
                    case .lstm:
                        let i = sigmoid(lanes(a + j, n) + lanes(r + j, n)), f = sigmoid(lanes(a + H + j, n) + lanes(r + H + j, n))
                        let g = VectorMath.tanh(lanes(a + 2 * H + j, n) + lanes(r + 2 * H + j, n))
                        let o = sigmoid(lanes(a + 3 * H + j, n) + lanes(r + 3 * H + j, n))
                        put(i, a + j, n); put(f, a + H + j, n); put(g, a + 2 * H + j, n); put(o, a + 3 * H + j, n)
                        let c0 = previousC.map { lanes($0 + j, n) } ?? Float8()
                        let cell: Float8 = f * c0 + i * g
                        put(cell, c! + b * stateStride + j, n)
                        put(o * VectorMath.tanh(cell), out + j, n)
                    case .gru:
                        let rg = sigmoid(lanes(a + j, n) + lanes(r + j, n)), z = sigmoid(lanes(a + H + j, n) + lanes(r + H + j, n))
                        let candidate = VectorMath.tanh(lanes(a + 2 * H + j, n) + rg * lanes(r + 2 * H + j, n))
                        put(rg, a + j, n); put(z, a + H + j, n); put(candidate, a + 2 * H + j, n)
                        let h0 = previousH.map { lanes($0 + j, n) } ?? Float8()
                        let mixed: Float8 = (1 - z) * candidate + z * h0
                        put(mixed, out + j, n)
                    }
                    j += 8
                }
            }
        }
    }

    /// From dh (the step's output gradient plus what the next step sent back) and, for LSTM, `dc` (the cell gradient
    /// from the next step, updated in place to the previous step's): writes `dpre` and `dgh` (G·H each; the same for
    /// RNN and LSTM, the n part scaled by r for GRU) and, for GRU, adds z·dh into `dhPrev` (the direct path; the
    /// recurrent one is the caller's product with W_hh). `act` holds the forward's gate activations, `gh` its
    /// recurrent projections; `dh`, `dc` and `dhPrev` are [B, H].
    public static func backward(
        _ kind: RecurrentCellKind, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?, act: UnsafeMutablePointer<Float>,
        actStride: Int, gh: UnsafeMutablePointer<Float>, ghStride: Int, hPrev: UnsafeMutablePointer<Float>?,
        cPrev: UnsafeMutablePointer<Float>?, c: UnsafeMutablePointer<Float>?, stateStride: Int, dpre: UnsafeMutablePointer<Float>,
        dgh: UnsafeMutablePointer<Float>, gateStride: Int, dhPrev: UnsafeMutablePointer<Float>, B: Int, H: Int
    ) {
        Parallel.forEachChunk(B, minChunk: max(1, 8192 / max(1, H))) { _, rows in
            for b in rows {
                let a = act + b * actStride, d = dh + b * H, dp = dpre + b * gateStride, dr = dgh + b * gateStride
                var j = 0
                while j < H {
                    let n = min(8, H - j), dv = lanes(d + j, n)
                    switch kind {
                    case .rnn:
                        let h = lanes(a + j, n)
                        let v: Float8 = dv * (1 - h * h)
                        put(v, dp + j, n); put(v, dr + j, n)
                    case .lstm:
                        let i = lanes(a + j, n), f = lanes(a + H + j, n), g = lanes(a + 2 * H + j, n), o = lanes(a + 3 * H + j, n)
                        let dcell = dc! + b * H + j
                        let tc = VectorMath.tanh(lanes(c! + b * stateStride + j, n))
                        let total: Float8 = lanes(dcell, n) + dv * o * (1 - tc * tc)
                        let c0 = cPrev.map { lanes($0 + b * stateStride + j, n) } ?? Float8()
                        let di: Float8 = total * g * i * (1 - i)
                        let df: Float8 = total * c0 * f * (1 - f)
                        let dg: Float8 = total * i * (1 - g * g)
                        let dout: Float8 = dv * tc * o * (1 - o)
                        put(di, dp + j, n); put(df, dp + H + j, n); put(dg, dp + 2 * H + j, n); put(dout, dp + 3 * H + j, n)
                        put(di, dr + j, n); put(df, dr + H + j, n); put(dg, dr + 2 * H + j, n); put(dout, dr + 3 * H + j, n)
                        put(total * f, dcell, n)
                    case .gru:
                        let rg = lanes(a + j, n), z = lanes(a + H + j, n), candidate = lanes(a + 2 * H + j, n)
                        let h0 = hPrev.map { lanes($0 + b * stateStride + j, n) } ?? Float8()
                        let hn = lanes(gh + b * ghStride + 2 * H + j, n)
                        let dnPre: Float8 = dv * (1 - z) * (1 - candidate * candidate)
                        let drPre: Float8 = dnPre * hn * rg * (1 - rg)
                        let dzPre: Float8 = dv * (h0 - candidate) * z * (1 - z)
                        put(drPre, dp + j, n); put(dzPre, dp + H + j, n); put(dnPre, dp + 2 * H + j, n)
                        put(drPre, dr + j, n); put(dzPre, dr + H + j, n); put(dnPre * rg, dr + 2 * H + j, n)
                        let previous = dhPrev + b * H + j
                        put(lanes(previous, n) + dv * z, previous, n)
                    }
                    j += 8
                }
            }
        }
    }

    @inline(__always) static func sigmoid(_ x: Float8) -> Float8 { 1 / (1 + VectorMath.exp(-x)) }

    /// n ≤ 8 floats from p, zeros in the other lanes.
    @inline(__always) static func lanes(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float8 {
        if n == 8 { return load8(p) }
        var v = Float8()
        for k in 0..<n { v[k] = p[k] }
        return v
    }

    /// The first n lanes of v to p.
    @inline(__always) static func put(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        if n == 8 { return store8(v, p) }
        for k in 0..<n { p[k] = v[k] }
    }
}

/// Which recurrent cell: PyTorch's `nn.RNN` (tanh), `nn.LSTM` or `nn.GRU`.
public enum RecurrentCellKind: String, Codable, Sendable, CaseIterable {
    case rnn, lstm, gru

    /// Gate blocks in `weight_ih`/`weight_hh` rows: 1, 4 (i, f, g, o) and 3 (r, z, n).
    public var gates: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}
