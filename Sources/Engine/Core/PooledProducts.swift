import CKernels

// Legend: N outputs, K inputs.

/// One-row fp32 products (decode) on the C pool of spinning workers (`wp_gemv_parallel_into`) instead of OpenBLAS's
/// sgemv: a decode step runs about fifty of them, and OpenBLAS's threads are told to sleep at once after each call
/// (blas_loader.c) so they leave the cores to the element-wise kernels between prefill and training sgemm calls.
enum PooledProducts {
    /// Matrices smaller than this run on the calling thread: splitting them costs more than it saves.
    static let minimumParallelWeights = 65_536

    /// y[N] (=|+=) W·x[K], W `.outputMajor` [N, K] or `.inputMajor` [K, N] (row-major, contiguous).
    @inline(__always)
    static func gemv(
        weight: UnsafePointer<Float>, layout: WeightLayout, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, N: Int, K: Int,
        accumulate: Bool
    ) {
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(2 * N * K, ordering: .relaxed) }
        let threads = N * K >= minimumParallelWeights ? Parallel.workers : 1
        wp_gemv_parallel_into(layout == .outputMajor ? 2 : 3, weight, nil, x, y, N, K, Int32(threads), accumulate ? 1 : 0)
    }
}
