import CBLAS
import Synchronization

/// The only place the engine calls OpenBLAS. All matrices are row-major.
///
/// Wraps `cblas_sgemm` and `cblas_sgemv`; transposes are flags, never copies. While `counting` is on, every call adds
/// the FLOPs it issues (2·m·n·k, 2·m·n) to `issuedFLOPs`, so tests check each architecture's FLOP formula against the
/// work actually done.
enum BLAS {
    static let counting = Atomic<Bool>(false)
    static let issuedFLOPs = Atomic<Int>(0)

    /// FLOPs the products in `body` issued. Not reentrant; for tests.
    static func countingFLOPs(_ body: () throws -> Void) rethrows -> Int {
        issuedFLOPs.store(0, ordering: .relaxed)
        counting.store(true, ordering: .sequentiallyConsistent)
        defer { counting.store(false, ordering: .sequentiallyConsistent) }
        try body()
        return issuedFLOPs.load(ordering: .sequentiallyConsistent)
    }

    /// C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C. Wraps `cblas_sgemm` (CblasRowMajor).
    @inline(__always)
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if counting.load(ordering: .relaxed) { issuedFLOPs.add(2 * m * n * k, ordering: .relaxed) }
        wp_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Runs `body` with OpenBLAS limited to one thread, restoring the previous count afterwards.
    ///
    /// For regions where the engine itself spreads many small, independent products (one per attention
    /// head) over cores: OpenBLAS's own threading costs more than such a product, and each call then runs
    /// on the calling thread (OpenBLAS ≥ 0.3.7 supports concurrent single-threaded calls).
    @inline(__always)
    static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let previous = wp_blas_get_threads()
        if previous == 1 { return try body() }
        wp_blas_set_threads(1)
        defer { wp_blas_set_threads(previous) }
        return try body()
    }

    /// y = alpha · op(A) · x + beta · y with A row-major [m,n]. Wraps `cblas_sgemv` (CblasRowMajor).
    ///
    /// Used for batch-1 decode: sgemm with a single row runs 2–3× slower than sgemv in OpenBLAS.
    @inline(__always)
    static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        if counting.load(ordering: .relaxed) { issuedFLOPs.add(2 * m * n, ordering: .relaxed) }
        wp_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}
