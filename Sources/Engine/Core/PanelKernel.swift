import CKernels
import Glibc

// Legend: M rows, K inputs, N outputs.

/// The engine's AVX-512F fp32 matrix kernel (`gemm_f32.c`: groups of 48 outputs × K, tiles of 8 rows × 48) for products
/// of many rows: on weights packed once per inference session (`WeightPanels`), or on weights that change between
/// calls (training's forward products, input gradients and overwritten weight gradients), packed a group at a time into
/// a per-thread scratch just before that group's row tiles read it.
///
/// Why not sgemm there: OpenBLAS packs the whole weight matrix on every call too, and in a C harness on a GPT-2 124M
/// training step's product shapes (256 rows, a distinct weight matrix per layer, as a step meets them) its own kernel ran
/// 369–414 GFLOP/s where this one, packing as it goes, ran 440–463 (2 threads; the FMA probe ≈ 550).
/// `WATTPRINT_MATMUL_KERNEL=sgemm` turns it off everywhere (`KernelEnvironment`).
enum PanelKernel {
    /// Rows from which a product runs this kernel: fewer (decoding, a small batch, the last rows' logits) stay on the
    /// one-row kernels or sgemm.
    static let minimumRows = 16
    /// The most inputs one pass of a product packed as it goes may have: one group's panel (K × 48 floats, 768 KiB at
    /// 4096) must stay in the core's L2 while every row tile passes it. Wider inputs with input-major weights (GPT-2's
    /// LM-head input gradient: K is the padded vocabulary, 50304) are cut into slices of at most this many, each
    /// slice's product added to the output; wider output-major ones run sgemm.
    static let maximumUnpackedInputs = 4096

    /// Whether the kernel runs here: the CPU has AVX-512F, `WATTPRINT_QUANT_KERNEL` does not force a narrower kernel, and
    /// `WATTPRINT_MATMUL_KERNEL` is not `sgemm`.
    static var available: Bool { wp_quant_kernel() >= 2 && !sgemmForced }
    private static let sgemmForced = getenv(KernelEnvironment.matmulKernel).map { String(cString: $0) == "sgemm" } ?? false

    /// out[M, N] = inp[M, K]·W (+ bias) (+ residual), W [K, N] input-major or [N, K] output-major, packed a group at a
    /// time as it goes. `out` may alias `residual`.
    /// - Returns: false, having written nothing, when the kernel does not run here or the shape is not one it takes (the
    ///   caller runs sgemm).
    static func multiply(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, layout: WeightLayout,
        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, M: Int, K: Int, N: Int
    ) -> Bool {
        guard M >= minimumRows, K <= maximumUnpackedInputs || layout == .inputMajor, available else { return false }
        let inputMajor: Int32 = layout == .inputMajor ? 1 : 0
        let slices = (K + maximumUnpackedInputs - 1) / maximumUnpackedInputs
        for slice in 0..<slices {
            let first = K * slice / slices, width = K * (slice + 1) / slices - first
            // Input-major W's slice is rows first..<first + width; later slices add to what the first wrote.
            let sliceBias = slice == 0 ? bias : nil, sliceResidual = slice == 0 ? residual : UnsafePointer(out)
            let groups = wp_f32_gemm_groups(N)
            share(groups: groups, flops: 2 * M * N * width) { cursor in
                // Returns 0 only without AVX-512F, which `available` has ruled out.
                _ = wp_f32_gemm_unpacked(
                    inp + first, K, M, width, weight + first * N, inputMajor, N, 0, groups, cursor, out, N, sliceBias, sliceResidual)
            }
        }
        return true
    }

    /// The most output rows one pass of a weight gradient on this kernel covers. Each group of 48 columns reads every
    /// row of the transposed side again, so that side (rows × M floats) must stay in cache: GPT-2's LM-head gradient
    /// (50304 rows) in one pass ran 365 GFLOP/s in a C harness, in blocks of at most 4096 rows 461 (sgemm: 428).
    static let transposedRowBlock = 4096

    /// Weight gradient out[R, N] = Aᵀ·W, with A stored [M, R] (M rows, the batch's tokens) and W [M, N]: GPT-2's dW = xᵀ·dy
    /// (A = x, W = dy) and an output-major layer's dW = dyᵀ·x (A = dy, W = x). Overwrites `out`.
    ///
    /// Only overwrites: in a C harness on GPT-2 124M's gradient shapes (M = 256, 2 threads, 12 distinct matrices per
    /// shape) this kernel ran 455–470 GFLOP/s where sgemm, zeroing the output first, ran 417–428; when adding to the
    /// output, sgemm (457–469) beat it (426–439), so accumulating micro-batches stay on sgemm.
    /// - Returns: the sum of squares of every value it stored (`out`'s squared Frobenius norm, summed per group of 48
    ///   columns and then in order, so the same for any thread count), or nil, having written nothing, when the kernel
    ///   does not run here or the shape is not one it takes.
    static func multiplyTransposed(
        out: UnsafeMutablePointer<Float>, transposed a: UnsafePointer<Float>, weight: UnsafePointer<Float>, M: Int, R: Int, N: Int
    ) -> Double? {
        guard M >= minimumRows, M <= maximumUnpackedInputs, available else { return nil }
        let blocks = (R + transposedRowBlock - 1) / transposedRowBlock, groups = wp_f32_gemm_groups(N)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: blocks * groups) { squares in
            // Blocks write different rows, so a thread done with its last group of one block goes on to the next block.
            share(groups: blocks * groups, flops: 2 * M * N * R, cursors: blocks) { cursors in
                for block in 0..<blocks {
                    // Block edges on multiples of 8, the kernel's tile height, where the rows allow.
                    let first = R * block / blocks / 8 * 8, end = block + 1 == blocks ? R : R * (block + 1) / blocks / 8 * 8
                    // Returns 0 only without AVX-512F, which `available` has ruled out.
                    _ = wp_f32_gemm_transposed_unpacked(
                        a + first, R, end - first, M, weight, N, 0, groups, cursors + block, out + first * N, N, 0,
                        squares.baseAddress! + block * groups)
                }
            }
            // Every group of every block wrote its slot.
            return squares.reduce(0, +)
        }
    }

    /// A layer's input gradient dinp[M, K] (=|+=) dout[M, N]·Wᵀ (`multiply` on W read the other way round) and its
    /// overwritten weight gradient (`multiplyTransposed`: out[R, NW] = aᵀ·other, a [M, R], other [M, NW]) as one job:
    /// a thread done with its last input-gradient group goes on to the weight gradient's groups instead of waiting for
    /// the others at the end of the first product.
    /// - Returns: the weight gradient's sum of squares, as `multiplyTransposed`; nil, having written nothing, when the
    ///   kernel does not run here, M is under `minimumRows` or over `maximumUnpackedInputs`, the layer has more than
    ///   `maximumUnpackedInputs` outputs (the input gradient's inputs, which would need slices) or the weight gradient
    ///   more than `transposedRowBlock` rows: the caller then runs the two apart.
    static func inputAndWeightGradients(
        dinp: UnsafeMutablePointer<Float>, accumulateInput: Bool, dout: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        layout: WeightLayout, M: Int, K: Int, N: Int,
        dweight: UnsafeMutablePointer<Float>, transposed a: UnsafePointer<Float>, other: UnsafePointer<Float>, R: Int, NW: Int
    ) -> Double? {
        guard M >= minimumRows, M <= maximumUnpackedInputs, N <= maximumUnpackedInputs, R <= transposedRowBlock, available else {
            return nil
        }
        // The input gradient reads W the other way round: input-major W is output-major for it.
        let inputMajor: Int32 = layout == .inputMajor ? 0 : 1
        let inputGroups = wp_f32_gemm_groups(K), weightGroups = wp_f32_gemm_groups(NW)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: weightGroups) { squares in
            share(groups: inputGroups + weightGroups, flops: 2 * M * N * K + 2 * M * NW * R, cursors: 2) { cursors in
                // Return 0 only without AVX-512F, which `available` has ruled out.
                _ = wp_f32_gemm_unpacked(
                    dout, N, M, N, weight, inputMajor, K, 0, inputGroups, cursors, dinp, K, nil, accumulateInput ? UnsafePointer(dinp) : nil
                )
                _ = wp_f32_gemm_transposed_unpacked(
                    a, R, R, M, other, NW, 0, weightGroups, cursors + 1, dweight, NW, 0, squares.baseAddress)
            }
            // Every group wrote its slot.
            return squares.reduce(0, +)
        }
    }

    /// Runs `body(cursors)` on as many threads as `spread` would use, each taking groups from the shared cursors (each
    /// starting at 0; one per product the job runs) as it frees up, so a thread that runs slower or starts later takes
    /// fewer: with the groups split in halves beforehand, one thread waited for the other for ≈ 10 ms of a GPT-2 124M
    /// training step's ≈ 490 (perf).
    static func share(groups: Int, flops: Int, cursors: Int = 1, _ body: (UnsafeMutablePointer<Int>) -> Void) {
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(flops, ordering: .relaxed) }
        let threads = max(1, min(groups, max(Parallel.workers, Parallel.blasThreads)))
        withUnsafeTemporaryAllocation(of: Int.self, capacity: cursors) { cells in
            let cursor = cells.baseAddress!
            cursor.initialize(repeating: 0, count: cursors)
            if threads == 1 { return body(cursor) }
            WorkerPool.run(parts: threads, threads: threads) { _ in body(cursor) }
        }
    }

    /// Runs `body(firstGroup, groupCount)` over `groups` groups of 48 outputs on as many threads as sgemm would have
    /// used (`Parallel.workers` is capped at 16 chunks), on the engine's spinning workers (`WorkerPool`), and counts
    /// `flops` while `BLAS.counting` is on.
    static func spread(groups: Int, flops: Int, _ body: (Int, Int) -> Void) {
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(flops, ordering: .relaxed) }
        let parts = max(1, min(groups, max(Parallel.workers, Parallel.blasThreads)))
        if parts == 1 { return body(0, groups) }
        WorkerPool.run(parts: parts, threads: parts) { part in
            let first = groups * part / parts, last = groups * (part + 1) / parts
            body(first, last - first)
        }
    }
}
