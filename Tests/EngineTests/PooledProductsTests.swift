import CKernels
@testable import Engine
import XCTest

/// The one-row fp32 products decode runs on the C pool: both layouts, every kernel level this CPU runs (portable C,
/// AVX2 rows, AVX-512F columns), any split over threads (output rows, or input rows whose sums the caller adds),
/// overwrite and accumulate, against the exact product (in Double).
final class PooledProductsTests: EngineTestCase {
    override func tearDown() {
        wp_quant_set_kernel(wp_quant_best_kernel())
        super.tearDown()
    }

    /// Shapes with outputs that are not a multiple of 16 (the kernels' vectors) and inputs that are not a multiple of 4,
    /// 8 or 64 (the unrolled loops' tails: 13 rows are 8 + 4 + 1, and 259 over 3 threads 86 = 80 + 4 + 2), inputs fewer than the threads (the
    /// input-major split leaves a thread no rows), and the smallest cases.
    static let shapes = [
        (N: 37, K: 96), (N: 1_001, K: 259), (N: 2_304, K: 768), (N: 50, K: 3), (N: 1, K: 1), (N: 17, K: 5), (N: 40, K: 13),
        (N: 33, K: 2),
    ]

    func testEveryKernelLayoutAndSplitMatchesTheExactProduct() {
        for (N, K) in Self.shapes {
            let weights = randomFloats(N * K, seed: UInt64(N * 7 + K), scale: 1), x = randomFloats(K, seed: 2, scale: 2)
            let start = randomFloats(N, seed: 3, scale: 1)
            for layout in [WeightLayout.outputMajor, .inputMajor] {
                func w(_ n: Int, _ k: Int) -> Float { layout == .inputMajor ? weights[k * N + n] : weights[n * K + k] }
                for kernel in 0...Int(wp_quant_best_kernel()) {
                    wp_quant_set_kernel(Int32(kernel))
                    for threads in [1, 2, 3] {
                        for accumulate in [false, true] {
                            var y = accumulate ? start : [Float](repeating: .nan, count: N)
                            weights.withUnsafeBufferPointer { ws in
                                x.withUnsafeBufferPointer { xs in
                                    y.withUnsafeMutableBufferPointer { ys in
                                        wp_gemv_parallel_into(
                                            layout == .outputMajor ? 2 : 3, ws.baseAddress!, nil, xs.baseAddress!, ys.baseAddress!, N, K,
                                            Int32(threads), accumulate ? 1 : 0)
                                    }
                                }
                            }
                            for n in 0..<N {
                                var exact = accumulate ? Double(start[n]) : 0, magnitude = abs(exact)
                                for k in 0..<K {
                                    exact += Double(w(n, k)) * Double(x[k])
                                    magnitude += abs(Double(w(n, k)) * Double(x[k]))
                                }
                                XCTAssertEqual(
                                    Double(y[n]), exact, accuracy: magnitude * 1e-5 + 1e-6,
                                    "\(N)×\(K) \(layout) kernel \(kernel), \(threads) threads, accumulate \(accumulate), output \(n)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// A decode row through `MatMul.forward`: bias and the residual fused, the output aliasing the residual (as GPT-2's
    /// blocks update the stream in place), against the naive reference plus the residual.
    func testOneRowMatMulFusesBiasAndResidualInPlace() {
        let K = 259, N = 1_001
        for layout in [WeightLayout.outputMajor, .inputMajor] {
            var weight = randomFloats(K * N, seed: 5), bias = randomFloats(N, seed: 6), inp = randomFloats(K, seed: 7)
            let residual = randomFloats(N, seed: 8)
            let expected = zip(Reference.MatMul.forward(inp: inp, weight: weight, bias: bias, M: 1, K: K, N: N, layout: layout), residual)
                .map { $0 + $1 }
            var stream = residual
            weight.withUnsafeMutableBufferPointer { w in
                bias.withUnsafeMutableBufferPointer { b in
                    inp.withUnsafeMutableBufferPointer { x in
                        stream.withUnsafeMutableBufferPointer { s in
                            MatMul.forward(out: s, inp: x, weight: w, bias: b, residual: s, M: 1, K: K, N: N, layout: layout)
                        }
                    }
                }
            }
            for n in 0..<N { XCTAssertEqual(stream[n], expected[n], accuracy: 1e-4, "\(layout) output \(n)") }
        }
    }

    /// The FLOP counter that checks every architecture's formula still sees one-row products.
    func testOneRowProductsAreCounted() {
        let K = 64, N = 48
        var weight = randomFloats(K * N, seed: 9), inp = randomFloats(K, seed: 10), out = [Float](repeating: 0, count: N)
        let flops = BLAS.countingFLOPs {
            weight.withUnsafeMutableBufferPointer { w in
                inp.withUnsafeMutableBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { o in MatMul.forward(out: o, inp: x, weight: w, bias: nil, M: 1, K: K, N: N) }
                }
            }
        }
        XCTAssertEqual(flops, 2 * K * N)
    }
}
