import CQuant

// Legend: N output rows, K inputs; the matrix is output-major [N, K] (PyTorch `Linear`), rows of M ≤ a few tokens.

/// One weight matrix stored in bf16 or Q8_0 for decoding, with its fp32 round trip: `dequantize` writes back the values
/// the stored weights stand for, so every other path (prefill's sgemm, evaluation) computes with the same model.
public final class QuantizedMatrix: @unchecked Sendable {
    public let precision: WeightPrecision
    public let rows: Int, columns: Int
    private let halves: UnsafeMutableBufferPointer<UInt16>
    private let bytes: UnsafeMutableBufferPointer<Int8>
    private let scales: UnsafeMutableBufferPointer<Float>
    private let scratch: UnsafeMutableBufferPointer<Float>

    /// Quantises `weights` ([rows, columns] output-major, or [columns, rows] input-major, transposed here).
    /// - Precondition: int8 needs `columns` to be a multiple of 32.
    public init(_ weights: UnsafePointer<Float>, rows N: Int, columns K: Int, inputMajor: Bool, precision: WeightPrecision) {
        precondition(precision != .fp32 && (precision != .int8 || K % WeightPrecision.groupSize == 0))
        self.precision = precision
        rows = N
        columns = K
        func weight(_ r: Int, _ c: Int) -> Float { inputMajor ? weights[c * N + r] : weights[r * K + c] }
        halves = .allocate(capacity: precision == .bf16 ? N * K : 0)
        bytes = .allocate(capacity: precision == .int8 ? N * K : 0)
        scales = .allocate(capacity: precision == .int8 ? N * K / WeightPrecision.groupSize : 0)
        scratch = .allocate(capacity: N * 8)
        Parallel.forEachChunk(N, minChunk: 16) { _, range in
            for r in range {
                if precision == .bf16 {
                    for c in 0..<K { self.halves[r * K + c] = Self.bf16(weight(r, c)) }
                } else {
                    let groups = K / WeightPrecision.groupSize
                    for g in 0..<groups {
                        let base = g * WeightPrecision.groupSize
                        var largest: Float = 0
                        for j in 0..<WeightPrecision.groupSize { largest = max(largest, abs(weight(r, base + j))) }
                        let scale = largest / 127, inverse = largest > 0 ? 127 / largest : 0
                        self.scales[r * groups + g] = scale
                        for j in 0..<WeightPrecision.groupSize {
                            self.bytes[r * K + base + j] = Int8((weight(r, base + j) * inverse).rounded())
                        }
                    }
                }
            }
        }
    }

    deinit {
        halves.deallocate()
        bytes.deallocate()
        scales.deallocate()
        scratch.deallocate()
    }

    /// Bytes stored (weights and scales): what a decode step streams.
    public var storedBytes: Int { halves.count * 2 + bytes.count + scales.count * 4 }

    /// fp32 round to bf16, nearest even (NaN kept a NaN).
    static func bf16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The value stored weight (r, c) stands for.
    public func value(_ r: Int, _ c: Int) -> Float {
        switch precision {
        case .bf16: return Float(bitPattern: UInt32(halves[r * columns + c]) << 16)
        case .int8: return Float(bytes[r * columns + c]) * scales[r * (columns / WeightPrecision.groupSize) + c / WeightPrecision.groupSize]
        case .fp32: preconditionFailure()
        }
    }

    /// Writes the stored weights' values back into `weights`, in its own layout.
    public func dequantize(into weights: UnsafeMutablePointer<Float>, inputMajor: Bool) {
        let N = rows, K = columns
        Parallel.forEachChunk(N, minChunk: 16) { _, range in
            for r in range {
                for c in 0..<K { weights[inputMajor ? c * N + r : r * K + c] = self.value(r, c) }
            }
        }
    }

    /// y[M, N] = x[M, K]·Wᵀ (+ bias) (+ residual), row by row with the reduced-precision kernel, output rows spread over
    /// cores. `out` may alias `residual`. - Precondition: M ≤ 8.
    public func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, M: Int
    ) {
        precondition(M <= 8)
        let N = rows, K = columns, y = scratch.baseAddress!
        // Spread over cores only when each core gets a million weights or more to stream: a dispatch costs about as
        // much as a small matrix's whole product (perf: thread wake-ups were a third of the bf16 kernel's time; GPT-2
        // 124M bf16 decode 119–124 → 130–135 tokens/s in three interleaved rounds).
        let minimumRows = max(256, 1_000_000 / max(1, K))
        Parallel.forEachChunk(N, minChunk: minimumRows) { _, range in
            let first = range.lowerBound, count = range.count
            for m in 0..<M {
                switch self.precision {
                case .bf16: wp_gemv_bf16(self.halves.baseAddress! + first * K, inp + m * K, y + m * N + first, count, K)
                case .int8:
                    let groups = K / WeightPrecision.groupSize
                    wp_gemv_q8(
                        self.bytes.baseAddress! + first * K, self.scales.baseAddress! + first * groups, inp + m * K, y + m * N + first,
                        count, K)
                case .fp32: preconditionFailure()
                }
            }
        }
        for m in 0..<M {
            for n in 0..<N { out[m * N + n] = (residual?[m * N + n] ?? 0) + (bias?[n] ?? 0) + y[m * N + n] }
        }
    }
}
