import CKernels
@testable import Engine
import XCTest

/// bf16 and Q8_0 weights: every decode kernel this CPU runs against the stored values' exact product (within the
/// kernel's stated bound), the round trip's error, and a quantised model decoding what its dequantised weights compute.
final class QuantizationTests: EngineTestCase {
    override func tearDown() {
        wp_quant_set_kernel(wp_quant_best_kernel())
        super.tearDown()
    }

    func testEveryKernelMatchesTheStoredWeightsProduct() {
        let N = 37, K = 96
        let weights = randomFloats(N * K, seed: 1, scale: 2), x = randomFloats(K, seed: 2, scale: 3)
        for precision in [WeightPrecision.bf16, .int8] {
            let matrix = weights.withUnsafeBufferPointer {
                QuantizedMatrix($0.baseAddress!, rows: N, columns: K, inputMajor: false, precision: precision)
            }
            // Rounding bounds of the storage itself: bf16 keeps 8 significant bits, Q8_0 half a step of max|w|/127.
            for r in 0..<N {
                let largest = (0..<K).map { abs(weights[r * K + $0]) }.max()!
                for c in 0..<K {
                    let bound = precision == .bf16 ? abs(weights[r * K + c]) / 256 : largest / 254 * 1.0001
                    XCTAssertLessThanOrEqual(abs(matrix.value(r, c) - weights[r * K + c]), bound)
                }
            }
            for kernel in 0...wp_quant_best_kernel() {
                wp_quant_set_kernel(Int32(kernel))
                var y = [Float](repeating: 0, count: N)
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer {
                        matrix.forward(out: $0.baseAddress!, inp: xs.baseAddress!, bias: nil, residual: nil, M: 1)
                    }
                }
                for r in 0..<N {
                    var exact = 0.0, magnitude = 0.0
                    for c in 0..<K {
                        exact += Double(matrix.value(r, c)) * Double(x[c])
                        magnitude += abs(Double(matrix.value(r, c)) * Double(x[c]))
                    }
                    // Kernel 3 rounds the activations (bf16: 8 bits; int8: per group of 32 to max|x|/127).
                    let tolerance = kernel == 3 ? (precision == .bf16 ? magnitude / 128 : magnitude / 60) : magnitude * 1e-5
                    XCTAssertEqual(Double(y[r]), exact, accuracy: tolerance + 1e-6, "\(precision) kernel \(kernel) row \(r)")
                }
            }
        }
    }

    /// The pool of spinning workers gives every row exactly what the caller's own thread computes for it, for any
    /// split (rows not a multiple of the threads), and again after its workers have gone to sleep.
    func testTheWorkerPoolComputesWhatOneThreadDoes() {
        let N = 1_001, K = 256
        let weights = randomFloats(N * K, seed: 3, scale: 1), x = randomFloats(K, seed: 4, scale: 2)
        for precision in [WeightPrecision.bf16, .int8] {
            let matrix = weights.withUnsafeBufferPointer {
                QuantizedMatrix($0.baseAddress!, rows: N, columns: K, inputMajor: false, precision: precision)
            }
            var single = [Float](repeating: 0, count: N)
            for threads in [1, 2, 3] {
                var y = [Float](repeating: .nan, count: N)
                let kind: Int32 = precision == .bf16 ? 0 : 1
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { ys in
                        let w: UnsafeRawPointer =
                            precision == .bf16 ? UnsafeRawPointer(matrix.halves.baseAddress!) : UnsafeRawPointer(matrix.bytes.baseAddress!)
                        wp_gemv_parallel(kind, w, matrix.scales.baseAddress, xs.baseAddress!, ys.baseAddress!, N, K, Int32(threads))
                    }
                }
                if threads == 1 { single = y } else { XCTAssertEqual(y, single, "\(precision), \(threads) threads") }
            }
            usleep(50_000) // past the workers' spinning: they sleep, and must be woken
            var again = [Float](repeating: .nan, count: N)
            x.withUnsafeBufferPointer { xs in
                again.withUnsafeMutableBufferPointer { ys in
                    let w: UnsafeRawPointer =
                        precision == .bf16 ? UnsafeRawPointer(matrix.halves.baseAddress!) : UnsafeRawPointer(matrix.bytes.baseAddress!)
                    wp_gemv_parallel(precision == .bf16 ? 0 : 1, w, matrix.scales.baseAddress, xs.baseAddress!, ys.baseAddress!, N, K, 2)
                }
            }
            XCTAssertEqual(again, single)
        }
    }

    func testQuantisedDecodingComputesTheDequantisedModel() throws {
        for precision in [WeightPrecision.bf16, .int8] {
            let gpt2 = try GPT2(config: GPT2Config(layers: 2, channels: 64, heads: 2, vocabularySize: 100, maxSequence: 16), seed: 3)
            let llama = try Llama(
                config: LlamaConfig(layers: 2, channels: 64, heads: 4, kvHeads: 2, hidden: 96, vocabularySize: 100, maxSequence: 16),
                seed: 4)
            for model in [gpt2 as any QuantizableModel, llama] {
                try model.quantize(precision)
                XCTAssertEqual(model.weightPrecision, precision)
                XCTAssertGreaterThan(model.quantizedReplacement.floats, 0)
                XCTAssertThrowsError(try model.quantize(.int8), "a quantised model has lost its fp32 weights")
                let tokens = randomTokens(8, vocabulary: 100, seed: 5)
                // Prefill (the BF16 or VNNI matrix kernel where the CPU has it, else fp32 products on the dequantised weights) then
                // decode (the reduced-precision kernels) against the full forward (fp32) on the same weights.
                let full: [Float]
                if let g = model as? GPT2 {
                    try g.forwardLogits(inputs: tokens, B: 1, T: 8)
                    full = (0..<8).flatMap { Array(g.logits(row: $0)) }
                } else {
                    full = try (model as! Llama).logits(inputs: tokens, B: 1, T: 8)
                }
                let session = InferenceSession(model: model, maxBatch: 1, maxChunk: 8)
                // Six rows: more than the decode kernels take, so a bf16 model prefills with the BF16 matrix kernel where
                // the CPU has one.
                let prefilled = Array(try session.prefill(sequence: 0, tokens: Array(tokens[0..<6])))
                let last = Array(full[(5 * 100)..<(6 * 100)])
                XCTAssertLessThan(
                    zip(prefilled, last).map { abs($0 - $1) }.max()!, 0.03 * last.map(abs).max()!, "\(type(of: model)) \(precision) prefill"
                )
                for t in 6..<8 {
                    try session.decode([(sequence: 0, token: tokens[t])])
                    let ours = Array(session.logits(at: 0)), theirs = Array(full[(t * 100)..<((t + 1) * 100)])
                    let scale = theirs.map(abs).max()!
                    let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
                    XCTAssertLessThan(worst, 0.03 * scale, "\(type(of: model)) \(precision) position \(t)")
                }
            }
        }
    }

    /// The VNNI int8 matrix kernel (prefill) against the exact integer product of the rows as it quantises them and the
    /// stored weights, times both scales: rows off its 4-row tiles, outputs off its 16-wide panels and 48-wide groups,
    /// bias and residual fused with the output aliasing the residual, sentinels past the output. Where the CPU lacks
    /// VNNI it declines, writing nothing.
    func testInt8MatrixKernelMatchesTheExactProduct() {
        for (M, N, K) in [(1, 1, 32), (5, 15, 64), (4, 16, 96), (7, 49, 64), (13, 100, 128), (9, 47, 32)] {
            let weights = randomFloats(N * K, seed: UInt64(N + K), scale: 1), x = randomFloats(M * K, seed: 7, scale: 2)
            let bias = randomFloats(N, seed: 8), residual = randomFloats(M * N, seed: 9)
            let matrix = weights.withUnsafeBufferPointer {
                QuantizedMatrix($0.baseAddress!, rows: N, columns: K, inputMajor: false, precision: .int8)
            }
            for fused in [false, true] {
                let (done, out) = Self.forwardMany(matrix, x: x, bias: bias, residual: residual, fused: fused, M: M)
                guard wp_quant_best_kernel() == 3 else {
                    XCTAssertFalse(done, "no AVX-512 VNNI: the caller multiplies in fp32")
                    continue
                }
                XCTAssertTrue(done)
                XCTAssertEqual(Array(out[(M * N)...]), [Float](repeating: 12345, count: 64), "\(M)×\(N)×\(K): written past the output")
                let groups = K / 32
                var quantised = [UInt8](repeating: 0, count: M * K), rowScales = [Float](repeating: 0, count: M * groups)
                XCTAssertEqual(wp_q8_quantize_rows(x, M, K, &quantised, &rowScales), 1)
                // The rows as decoding quantises them (gemv_quantized.c): scale max|x|/127, nearest even, offset 128.
                for m in 0..<M {
                    for g in 0..<groups {
                        let slice = x[(m * K + g * 32)..<(m * K + g * 32 + 32)]
                        let largest = slice.map(abs).max()!, inverse: Float = largest > 0 ? 127 / largest : 0
                        XCTAssertEqual(rowScales[m * groups + g], largest / 127)
                        for (j, value) in slice.enumerated() {
                            let expected = UInt8(Int((value * inverse).rounded(.toNearestOrEven)) + 128)
                            XCTAssertEqual(quantised[m * K + g * 32 + j], expected, "row \(m) group \(g) element \(j)")
                        }
                    }
                }
                for m in 0..<M {
                    for n in 0..<N {
                        var exact = fused ? Double(residual[m * N + n]) + Double(bias[n]) : 0, magnitude = abs(exact)
                        for g in 0..<groups {
                            var dot = 0
                            for k in (g * 32)..<(g * 32 + 32) { dot += (Int(quantised[m * K + k]) - 128) * Int(matrix.bytes[n * K + k]) }
                            let term = Double(dot) * Double(rowScales[m * groups + g]) * Double(matrix.scales[n * groups + g])
                            exact += term
                            magnitude += abs(term)
                        }
                        XCTAssertEqual(
                            Double(out[m * N + n]), exact, accuracy: magnitude * 1e-5 + 1e-6, "\(M)×\(N)×\(K) fused \(fused) (\(m), \(n))")
                    }
                }
            }
        }
    }

    /// One int8 matrix called with few rows, then with many (its kept scratch grows; the rows are quantised in two
    /// chunks), gives each time what the decode kernel gives row by row, within the rows' quantisation, which both share.
    func testInt8MatrixKernelRowsGrowAndMatchDecoding() throws {
        try XCTSkipIf(wp_quant_best_kernel() < 3, "no AVX-512 VNNI")
        let N = 50, K = 64
        let weights = randomFloats(N * K, seed: 3, scale: 1)
        let matrix = weights.withUnsafeBufferPointer {
            QuantizedMatrix($0.baseAddress!, rows: N, columns: K, inputMajor: false, precision: .int8)
        }
        for M in [5, 40] {
            let x = randomFloats(M * K, seed: UInt64(M), scale: 2)
            let (done, many) = Self.forwardMany(
                matrix, x: x, bias: [Float](repeating: 0, count: N), residual: [Float](repeating: 0, count: M * N), fused: false, M: M)
            XCTAssertTrue(done)
            for m in 0..<M {
                var row = [Float](repeating: 0, count: N)
                x.withUnsafeBufferPointer { xs in matrix.forward(out: &row, inp: xs.baseAddress! + m * K, bias: nil, residual: nil, M: 1) }
                for n in 0..<N {
                    XCTAssertEqual(many[m * N + n], row[n], accuracy: 1e-4 * max(1, abs(row[n])), "M \(M) row \(m) output \(n)")
                }
            }
        }
    }

    /// The BF16 matrix kernel (prefill) against the exact product of the bf16-rounded inputs and the stored weights: rows
    /// that are not a multiple of its 6-row tiles, outputs not a multiple of its 16-wide panels or 64-wide groups, bias and
    /// residual fused with the output aliasing the residual. Where the CPU lacks AVX-512 BF16 it declines, writing nothing.
    func testBF16MatrixKernelMatchesTheExactProduct() {
        for (M, N, K) in [(1, 1, 2), (5, 15, 30), (6, 16, 96), (7, 17, 96), (13, 65, 64), (20, 130, 258)] {
            let weights = randomFloats(N * K, seed: UInt64(N + K), scale: 1), x = randomFloats(M * K, seed: 7, scale: 2)
            let bias = randomFloats(N, seed: 8), residual = randomFloats(M * N, seed: 9)
            let matrix = weights.withUnsafeBufferPointer {
                QuantizedMatrix($0.baseAddress!, rows: N, columns: K, inputMajor: false, precision: .bf16)
            }
            for fused in [false, true] {
                let (done, out) = Self.forwardMany(matrix, x: x, bias: bias, residual: residual, fused: fused, M: M)
                guard wp_quant_best_kernel() == 3 else {
                    XCTAssertFalse(done, "no AVX-512 BF16: the caller multiplies in fp32")
                    continue
                }
                XCTAssertTrue(done)
                assertExactProduct(
                    out, M: M, N: N, K: K,
                    input: { Double(Float(bitPattern: UInt32(QuantizedMatrix.bf16(x[$0 * K + $1])) << 16)) },
                    weight: { Double(matrix.value($0, $1)) }, bias: fused ? bias : nil, residual: fused ? residual : nil, relative: 1e-5,
                    "\(M)×\(N)×\(K) fused \(fused)")
            }
        }
    }

    /// `matrix.forwardMany` of `x` into a fresh output (the residual's copy when `fused`, which the kernel then reads as
    /// its residual in place; NaN otherwise) followed by 64 sentinels of 12345.
    static func forwardMany(
        _ matrix: QuantizedMatrix, x: [Float], bias: [Float], residual: [Float], fused: Bool, M: Int
    ) -> (done: Bool, out: [Float]) {
        var out = (fused ? residual : [Float](repeating: .nan, count: residual.count)) + [Float](repeating: 12345, count: 64)
        let done = x.withUnsafeBufferPointer { xs in
            bias.withUnsafeBufferPointer { bs in
                out.withUnsafeMutableBufferPointer { o in
                    matrix.forwardMany(
                        out: o.baseAddress!, inp: xs.baseAddress!, bias: fused ? bs.baseAddress! : nil,
                        residual: fused ? UnsafePointer(o.baseAddress!) : nil, M: M)
                }
            }
        }
        return (done, out)
    }
}
