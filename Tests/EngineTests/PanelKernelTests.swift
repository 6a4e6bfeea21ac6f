import CKernels
@testable import Engine
import XCTest

/// The engine's fp32 kernel on weights packed as it goes (`PanelKernel`, training's forward and input gradients): against
/// the exact product in both weight layouts, at shapes off its tiles, groups and 16-wide transposes, with several groups
/// a thread (34 groups: at least two on each of up to 16 threads, so the next group's prefetch runs, partial groups
/// included); inputs wider than a panel in slices; weight gradients on its transposed form; and `MatMul` on it against
/// `MatMul` on sgemm.
final class PanelKernelTests: EngineTestCase {
    override func tearDown() {
        wp_quant_set_kernel(wp_quant_best_kernel())
        super.tearDown()
    }

    func testUnpackedKernelMatchesTheExactProduct() throws {
        try XCTSkipUnless(PanelKernel.available, "the kernel needs AVX-512F (sgemm runs instead)")
        for (M, N, K) in [
            (16, 1, 1), (16, 100, 33), (24, 145, 64), (17, 49, 130), (40, 96, 16), (19, 300, 50), (16, 47, 17), (24, 1601, 20),
        ] {
            for layout in [WeightLayout.inputMajor, .outputMajor] {
                let weights = randomFloats(N * K, seed: UInt64(N * 31 + K), scale: 1)
                let x = randomFloats(M * K, seed: 7, scale: 2), bias = randomFloats(N, seed: 8), residual = randomFloats(M * N, seed: 9)
                func w(_ n: Int, _ k: Int) -> Double { Double(layout == .inputMajor ? weights[k * N + n] : weights[n * K + k]) }
                for fused in [false, true] {
                    // 64 sentinels past the output: a write beyond M×N changes them.
                    var out = (fused ? residual : [Float](repeating: .nan, count: M * N)) + [Float](repeating: 12345, count: 64)
                    let done = weights.withUnsafeBufferPointer { ws in
                        x.withUnsafeBufferPointer { xs in
                            bias.withUnsafeBufferPointer { bs in
                                out.withUnsafeMutableBufferPointer { o in
                                    PanelKernel.multiply(
                                        out: o.baseAddress!, inp: xs.baseAddress!, weight: ws.baseAddress!, layout: layout,
                                        bias: fused ? bs.baseAddress! : nil, residual: fused ? UnsafePointer(o.baseAddress!) : nil,
                                        M: M, K: K, N: N)
                                }
                            }
                        }
                    }
                    XCTAssertTrue(done)
                    assertExactProduct(
                        out, M: M, N: N, K: K, input: { Double(x[$0 * K + $1]) }, weight: w, bias: fused ? bias : nil,
                        residual: fused ? residual : nil, "\(M)×\(N)×\(K) \(layout) fused \(fused)")
                }
            }
        }
    }

    /// Inputs wider than one group's panel, with input-major weights: cut into slices whose products add up (three
    /// slices here, the first carrying bias and residual).
    func testWideInputsAddUpTheirSlices() throws {
        try XCTSkipUnless(PanelKernel.available, "the kernel needs AVX-512F (sgemm runs instead)")
        let (M, N, K) = (17, 50, 2 * PanelKernel.maximumUnpackedInputs + 9)
        let weights = randomFloats(K * N, seed: 11, scale: 1), x = randomFloats(M * K, seed: 12, scale: 2)
        let bias = randomFloats(N, seed: 13), residual = randomFloats(M * N, seed: 14)
        var out = residual + [Float](repeating: 12345, count: 64)
        let done = weights.withUnsafeBufferPointer { ws in
            x.withUnsafeBufferPointer { xs in
                bias.withUnsafeBufferPointer { bs in
                    out.withUnsafeMutableBufferPointer { o in
                        PanelKernel.multiply(
                            out: o.baseAddress!, inp: xs.baseAddress!, weight: ws.baseAddress!, layout: .inputMajor, bias: bs.baseAddress!,
                            residual: UnsafePointer(o.baseAddress!), M: M, K: K, N: N)
                    }
                }
            }
        }
        XCTAssertTrue(done)
        assertExactProduct(
            out, M: M, N: N, K: K, input: { Double(x[$0 * K + $1]) }, weight: { Double(weights[$1 * N + $0]) }, bias: bias,
            residual: residual, relative: 1e-5, "\(M)×\(N)×\(K) in slices")
    }

    /// Weight gradients, out[R, N] = Aᵀ·W with A [M, R]: against the exact product at shapes off the tiles (rows not a
    /// multiple of 8, partial groups), and over more rows than one block (three blocks, edges on multiples of 8); each
    /// into an output wherever an array puts it and into one on a cache line, where rows of a multiple of 16 outputs are
    /// streamed to memory.
    func testTransposedKernelMatchesTheExactProduct() throws {
        try XCTSkipUnless(PanelKernel.available, "the kernel needs AVX-512F (sgemm runs instead)")
        let shapes = [
            (16, 1, 1), (16, 13, 49), (33, 100, 145), (20, 7, 300), (64, 2 * PanelKernel.transposedRowBlock + 21, 20),
            (24, 40, 96), (24, 41, 112), (32, 2 * PanelKernel.transposedRowBlock + 21, 64),
        ]
        for (M, R, N) in shapes {
            let a = randomFloats(M * R, seed: UInt64(R * 7 + N), scale: 2), w = randomFloats(M * N, seed: UInt64(M), scale: 1)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: (R * N + 64) * MemoryLayout<Float>.stride, alignment: 64)
            defer { raw.deallocate() }
            let aligned = raw.bindMemory(to: Float.self, capacity: R * N + 64)
            for (label, place) in [("array", nil), ("cache line", aligned)] {
                var array = [Float](repeating: .nan, count: R * N) + [Float](repeating: 12345, count: 64)
                place?.initialize(from: array, count: array.count)
                let squares = a.withUnsafeBufferPointer { ap in
                    w.withUnsafeBufferPointer { wp in
                        array.withUnsafeMutableBufferPointer { o in
                            PanelKernel.multiplyTransposed(
                                out: place ?? o.baseAddress!, transposed: ap.baseAddress!, weight: wp.baseAddress!, M: M, R: R, N: N)
                        }
                    }
                }
                let out = place.map { Array(UnsafeBufferPointer(start: $0, count: R * N + 64)) } ?? array
                // The sum of squares it took as it stored: every stored value's, in any block and any group.
                let stored = out.prefix(R * N).reduce(0.0) { $0 + Double($1) * Double($1) }
                XCTAssertEqual(try XCTUnwrap(squares), stored, accuracy: 1e-6 * stored, "\(R)×\(N) squares, \(label)")
                assertExactProduct(
                    out, M: R, N: N, K: M, input: { Double(a[$1 * R + $0]) }, weight: { Double(w[$1 * N + $0]) }, bias: nil,
                    residual: nil, "\(R)×\(N) over \(M) rows, \(label)")
            }
        }
    }

    /// Fewer rows than a tile's worth of reuse, or inputs too wide for one group's panel to stay in L2 with output-major
    /// weights (which cannot be sliced in place): sgemm's. Weight gradients over too few or too many rows: sgemm's too.
    func testShapesTheKernelDoesNotTake() {
        let few = PanelKernel.minimumRows - 1, wide = PanelKernel.maximumUnpackedInputs + 1
        let w = [Float](repeating: 1, count: wide * 2), x = [Float](repeating: 1, count: 16 * wide)
        var out = [Float](repeating: 0, count: 16 * 2)
        for (M, K, layout) in [(few, 4, WeightLayout.inputMajor), (16, wide, .outputMajor)] {
            let done = w.withUnsafeBufferPointer { ws in
                x.withUnsafeBufferPointer { xs in
                    out.withUnsafeMutableBufferPointer { o in
                        PanelKernel.multiply(
                            out: o.baseAddress!, inp: xs.baseAddress!, weight: ws.baseAddress!, layout: layout, bias: nil,
                            residual: nil, M: M, K: K, N: 2)
                    }
                }
            }
            XCTAssertFalse(done, "M \(M), K \(K)")
        }
        for M in [few, wide] {
            let squares = w.withUnsafeBufferPointer { ws in
                x.withUnsafeBufferPointer { xs in
                    out.withUnsafeMutableBufferPointer { o in
                        PanelKernel.multiplyTransposed(
                            out: o.baseAddress!, transposed: xs.baseAddress!, weight: ws.baseAddress!, M: M, R: 16, N: 2)
                    }
                }
            }
            XCTAssertNil(squares, "weight gradient over \(M) rows")
        }
        XCTAssertEqual(out, [Float](repeating: 0, count: 32), "nothing written")
    }

    /// `MatMul.forward` and `MatMul.backward` (the input gradient on the kernel, the weight gradient on it when overwritten
    /// and on sgemm when accumulated; both in one job when the input gradient runs on it too) against both on sgemm (the
    /// kernel forced off), in both layouts and every pair of input- and weight-gradient writes.
    func testMatMulOnTheKernelMatchesSgemm() throws {
        try XCTSkipUnless(PanelKernel.available, "the kernel needs AVX-512F (sgemm runs instead)")
        let (M, K, N) = (24, 70, 100)
        let x = randomFloats(M * K, seed: 1), dy = randomFloats(M * N, seed: 2), weights = randomFloats(K * N, seed: 3)
        let bias = randomFloats(N, seed: 4), residual = randomFloats(M * N, seed: 5), prior = randomFloats(M * K, seed: 6)
        for layout in [WeightLayout.inputMajor, .outputMajor] {
            for (inputWrite, write) in [
                (GradientWrite.overwrite, GradientWrite.overwrite), (.accumulate, .overwrite), (.overwrite, .accumulate),
                (.accumulate, .accumulate),
            ] {
                func run(kernel: Int32) -> (out: [Float], dinp: [Float], dweight: [Float]) {
                    wp_quant_set_kernel(kernel)
                    var out = [Float](repeating: 0, count: M * N), dinp = prior, dweight = [Float](repeating: 0.5, count: K * N)
                    var xs = x, dys = dy, ws = weights, bs = bias, rs = residual
                    xs.withUnsafeMutableBufferPointer { xp in
                        dys.withUnsafeMutableBufferPointer { dyp in
                            ws.withUnsafeMutableBufferPointer { wp in
                                bs.withUnsafeMutableBufferPointer { bp in
                                    rs.withUnsafeMutableBufferPointer { rp in
                                        out.withUnsafeMutableBufferPointer { op in
                                            MatMul.forward(
                                                out: op, inp: xp, weight: wp, bias: bp, residual: rp, M: M, K: K, N: N, layout: layout)
                                        }
                                        dinp.withUnsafeMutableBufferPointer { dip in
                                            dweight.withUnsafeMutableBufferPointer { dwp in
                                                MatMul.backward(
                                                    dinp: dip, dweight: dwp, dbias: nil, dout: dyp, inp: xp, weight: wp, M: M, K: K, N: N,
                                                    layout: layout, inputWrite: inputWrite, parameterWrite: write)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    return (out, dinp, dweight)
                }
                let kernel = run(kernel: wp_quant_best_kernel()), sgemm = run(kernel: 1)
                for (name, a, b) in [
                    ("out", kernel.out, sgemm.out), ("dinp", kernel.dinp, sgemm.dinp), ("dweight", kernel.dweight, sgemm.dweight),
                ] {
                    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThan(worst, 1e-4, "\(layout) input \(inputWrite), weights \(write): \(name)")
                }
            }
        }
    }
}
