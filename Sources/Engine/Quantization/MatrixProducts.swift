// Legend: M rows, K inputs, N outputs.

/// The products a block's forward runs: fp32 `MatMul` everywhere, or, for a model quantised for inference, each
/// quantised matrix's reduced-precision kernel when a call has few rows (decoding). In inference (`inference(_:)`:
/// prefill and decode) a call with many rows (prefill) runs a bf16 or int8 matrix's BF16 or VNNI kernel where the CPU
/// has them (`QuantizedMatrix.forwardMany`), and otherwise, from `WeightPanels.minimumRows` rows, the engine's fp32
/// kernel on the session's packed weights (`WeightPanels`, AVX-512F, from a matrix's second such call; a quantised
/// matrix's are its dequantised values), `MatMul` where neither runs (the engine's kernel packing as it goes, or sgemm).
/// A single fp32 row (decoding) reads the session's copy of a matrix laid out in rows (`DecodeRows`) where it has one.
/// Outside inference (training, evaluation) every call with many rows is `MatMul` on the fp32 (or dequantised) weights,
/// which compute the same model, so a variant's quality is its weights' alone. Keyed by the matrix's address in the
/// parameter buffer.
public struct MatrixProducts {
    var quantized: [UnsafeMutablePointer<Float>: QuantizedMatrix] = [:]
    /// The inference session's packed weights (prefill), set by `inference(_:)`; nil outside inference.
    private var panels: WeightPanels?
    /// The inference session's copies laid out in rows (one-row products), set by `inference(_:)`; nil outside inference.
    private var rows: DecodeRows?

    /// These products as inference runs them, copying weights into the session's `panels` and `rows` (kept for its
    /// lifetime).
    func inference(_ session: any PackingDecodeState) -> MatrixProducts {
        var copy = self
        copy.panels = session.panels
        copy.rows = session.rows
        return copy
    }

    /// Plain fp32 products (training, or an unquantised model).
    public static let fp32 = MatrixProducts()

    /// Rows up to which the quantised kernels run (each row streams the matrix once).
    static let decodeRows = 4

    func forward(
        out: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>, weight: UnsafeMutableBufferPointer<Float>,
        bias: UnsafeMutableBufferPointer<Float>?, residual: UnsafeMutableBufferPointer<Float>? = nil, M: Int, K: Int, N: Int,
        layout: WeightLayout = .inputMajor
    ) {
        precondition(out.count >= M * N && inp.count >= M * K && weight.count >= K * N)
        if let matrix = quantized[weight.baseAddress!] {
            let b = bias.map { UnsafePointer($0.baseAddress!) }, r = residual.map { UnsafePointer($0.baseAddress!) }
            if M <= Self.decodeRows {
                return matrix.forward(out: out.baseAddress!, inp: inp.baseAddress!, bias: b, residual: r, M: M)
            }
            if panels != nil, matrix.forwardMany(out: out.baseAddress!, inp: inp.baseAddress!, bias: b, residual: r, M: M) { return }
        }
        if M == 1, let rows,
            rows.forward(
                out: out.baseAddress!, inp: inp.baseAddress!, weight: weight.baseAddress!, bias: bias?.baseAddress,
                residual: residual?.baseAddress, K: K, N: N, layout: layout)
        {
            return
        }
        if M >= WeightPanels.minimumRows, let panels,
            panels.forward(
                out: out.baseAddress!, inp: inp.baseAddress!, weight: weight.baseAddress!, bias: bias?.baseAddress,
                residual: residual?.baseAddress, M: M, K: K, N: N, layout: layout)
        {
            return
        }
        MatMul.forward(out: out, inp: inp, weight: weight, bias: bias, residual: residual, M: M, K: K, N: N, layout: layout)
    }

    /// Quantises `weight` ([N, K] output-major or [K, N] input-major) and replaces its fp32 values by the round trip.
    mutating func quantize(_ weight: UnsafeMutableBufferPointer<Float>, N: Int, K: Int, layout: WeightLayout, precision: WeightPrecision) {
        let matrix = QuantizedMatrix(weight.baseAddress!, rows: N, columns: K, inputMajor: layout == .inputMajor, precision: precision)
        matrix.dequantize(into: weight.baseAddress!, inputMajor: layout == .inputMajor)
        quantized[weight.baseAddress!] = matrix
    }

    /// Floats of fp32 weights the quantised matrices replace, and the bytes they take instead.
    public var replaced: (floats: Int, bytes: Int) {
        quantized.values.reduce((0, 0)) { ($0.0 + $1.rows * $1.columns, $0.1 + $1.storedBytes) }
    }
}
