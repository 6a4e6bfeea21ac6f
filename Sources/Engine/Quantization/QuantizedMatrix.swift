import CKernels
import Synchronization

// Legend: N output rows, K inputs; the matrix is output-major [N, K] (PyTorch `Linear`), rows of M ≤ a few tokens.

/// One weight matrix stored in bf16 or Q8_0 for inference, with its fp32 round trip: `dequantize` writes back the values
/// the stored weights stand for, so every other path (evaluation, prefill where the CPU lacks the matrix kernels) computes
/// with the same model; a bf16 matrix also keeps its weights packed for prefill's BF16 kernel, an int8 one for the VNNI
/// kernel (`forwardMany`), where the CPU runs them.
public final class QuantizedMatrix: @unchecked Sendable {
    public let precision: WeightPrecision
    public let rows: Int, columns: Int
    let halves: UnsafeMutableBufferPointer<UInt16>
    let bytes: UnsafeMutableBufferPointer<Int8>
    let scales: UnsafeMutableBufferPointer<Float>
    private let scratch: UnsafeMutableBufferPointer<Float>
    /// The bf16 weights packed for prefill's BF16 products (`wp_bf16_pack_panels`), where the CPU has AVX-512 BF16.
    private var panels: UnsafeMutablePointer<UInt32>? = nil
    /// Prefill's activations rounded to bf16, kept between calls (one prefill call per matrix per layer) and grown as
    /// needed.
    private var roundedRows = UnsafeMutableBufferPointer<UInt16>(start: nil, count: 0)
    /// The int8 weights packed for prefill's VNNI kernel (`wp_q8_pack_panels`: quads, scales, offsets), made on the first
    /// prefill call where the CPU has it.
    private var q8Panels: (quads: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, offsets: UnsafeMutablePointer<Int32>)?
    /// Prefill's activations quantised per group of 32 (offset by 128) and their scales, kept between calls.
    private var quantisedRows = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var rowScales = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

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
        // A second copy (2 bytes a weight) in the layout the BF16 matrix kernel reads; decoding keeps the rows above.
        if precision == .bf16 && wp_quant_kernel() == 3 && K % 2 == 0 {
            let words = (N + 15) / 16 * 16 * (K / 2)
            let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: words)
            wp_bf16_pack_panels(halves.baseAddress!, N, K, packed)
            panels = packed
        }

    }

    deinit {
        halves.deallocate()
        bytes.deallocate()
        scales.deallocate()
        scratch.deallocate()
        panels?.deallocate()
        roundedRows.deallocate()
        if let q8Panels {
            UnsafeMutableRawPointer(q8Panels.quads).deallocate()
            UnsafeMutableRawPointer(q8Panels.scales).deallocate()
            UnsafeMutableRawPointer(q8Panels.offsets).deallocate()
        }
        quantisedRows.deallocate()
        rowScales.deallocate()
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

    /// y[M, N] = x[M, K]·Wᵀ (+ bias) (+ residual) for prefill (many rows) with the CPU's dot products: bf16 with AVX-512
    /// BF16 (x rounded to bf16), int8 with AVX-512 VNNI (x quantised per group of 32 as decoding does), fp32
    /// accumulation, groups of outputs spread over cores. `out` may alias `residual`. One caller at a time (as `forward`:
    /// inference is one thread).
    /// - Returns: false, having written nothing, when this CPU has no such kernel (or a narrower kernel is forced): the
    ///   caller multiplies the dequantised fp32 weights instead.
    func forwardMany(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, M: Int
    ) -> Bool {
        if precision == .int8 { return forwardManyInt8(out: out, inp: inp, bias: bias, residual: residual, M: M) }
        guard let panels, wp_quant_kernel() == 3 else { return false }
        let N = rows, K = columns
        if roundedRows.count < M * K {
            roundedRows.deallocate()
            roundedRows = .allocate(capacity: M * K)
        }
        let a = roundedRows.baseAddress!
        guard wp_bf16_round(inp, a, M * K) != 0 else { return false }
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(2 * M * N * K, ordering: .relaxed) }
        // Bias and residual are added as each tile is stored.
        Parallel.forEachChunk(wp_bf16_gemm_groups(N), minChunk: 1) { _, groups in
            _ = wp_bf16_gemm(a, M, K, panels, N, groups.lowerBound, groups.count, out, N, bias, residual)
        }
        return true
    }

    /// The int8 weights packed for the VNNI matrix kernel, on the first prefill call (decoding and evaluation never
    /// need them): 1 byte a weight and 8 bytes a group of 32 more, cache-line aligned.
    private func packInt8() -> (
        quads: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, offsets: UnsafeMutablePointer<Int32>
    ) {
        let N = rows, K = columns, outputs = wp_q8_gemm_groups(N) * 48, groups = K / WeightPrecision.groupSize
        func aligned<T>(_ count: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
            UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<T>.stride, alignment: 64).bindMemory(
                to: T.self, capacity: count)
        }
        let packed = (
            quads: aligned(outputs * K, Int8.self), scales: aligned(outputs * groups, Float.self),
            offsets: aligned(outputs * groups, Int32.self)
        )
        wp_q8_pack_panels(bytes.baseAddress!, scales.baseAddress!, N, K, packed.quads, packed.scales, packed.offsets)
        q8Panels = packed
        return packed
    }

    /// `forwardMany` for int8 weights: the rows quantised once (`wp_q8_quantize_rows`), then the VNNI matrix kernel with
    /// bias and residual added as it stores.
    private func forwardManyInt8(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, M: Int
    ) -> Bool {
        guard wp_quant_kernel() == 3 else { return false }
        let N = rows, K = columns, groups = K / WeightPrecision.groupSize
        let q8Panels = self.q8Panels ?? packInt8()
        if quantisedRows.count < M * K {
            quantisedRows.deallocate()
            quantisedRows = .allocate(capacity: M * K)
            rowScales.deallocate()
            rowScales = .allocate(capacity: M * groups)
        }
        let xu = quantisedRows.baseAddress!, xs = rowScales.baseAddress!
        // Rows quantised on every core, each chunk its own rows.
        let quantised = Atomic<Int>(0)
        Parallel.forEachChunk(M, minChunk: 16) { _, range in
            let done = wp_q8_quantize_rows(
                inp + range.lowerBound * K, range.count, K, xu + range.lowerBound * K, xs + range.lowerBound * groups)
            quantised.add(Int(done), ordering: .relaxed)
        }
        guard quantised.load(ordering: .relaxed) == Parallel.chunkCount(M, minChunk: 16) else { return false }
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(2 * M * N * K, ordering: .relaxed) }
        let outputGroups = wp_q8_gemm_groups(N), parts = max(1, min(outputGroups, max(Parallel.workers, Parallel.blasThreads)))
        WorkerPool.run(parts: parts, threads: parts) { part in
            let first = outputGroups * part / parts, last = outputGroups * (part + 1) / parts
            _ = wp_q8_gemm(
                xu, xs, M, K, q8Panels.quads, q8Panels.scales, q8Panels.offsets, N, first, last - first, out, N, bias, residual)
        }
        return true
    }

    /// y[M, N] = x[M, K]·Wᵀ (+ bias) (+ residual), row by row with the reduced-precision kernel, output rows spread over
    /// cores. `out` may alias `residual`. - Precondition: M ≤ 8.
    public func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, M: Int
    ) {
        precondition(M <= 8)
        let N = rows, K = columns, y = scratch.baseAddress!
        // Rows spread over cores by the C pool, whose workers spin between products (a Dispatch wake-up per product
        // cost a third of the bf16 kernel's time, perf); small matrices stay on this thread.
        let threads = N * K >= 65_536 ? Parallel.workers : 1
        for m in 0..<M {
            switch precision {
            case .bf16: wp_gemv_parallel(0, halves.baseAddress!, nil, inp + m * K, y + m * N, N, K, Int32(threads))
            case .int8: wp_gemv_parallel(1, bytes.baseAddress!, scales.baseAddress!, inp + m * K, y + m * N, N, K, Int32(threads))
            case .fp32: preconditionFailure()
            }
        }
        for m in 0..<M {
            for n in 0..<N { out[m * N + n] = (residual?[m * N + n] ?? 0) + (bias?[n] ?? 0) + y[m * N + n] }
        }
    }
}
