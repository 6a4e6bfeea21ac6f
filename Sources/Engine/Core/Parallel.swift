import CBLAS
#if canImport(Glibc)
    import Glibc
#endif

/// Thread settings shared by the SIMD kernels and OpenBLAS.
///
/// Element-wise kernels split work into `workers` fixed chunks (so reductions are deterministic
/// for a given thread count) and run them on the engine's spinning workers (`WorkerPool`). OpenBLAS keeps
/// its own pool; `configure(threads:)` sets both to the same count.
public enum Parallel {
    nonisolated(unsafe) private static var workerCount = max(1, hardwareThreads())
    /// Upper bound on reduction chunks, so per-chunk scratch can be sized once.
    public static let maxChunks = 16

    /// Number of chunks element-wise kernels split into.
    public static var workers: Int { workerCount }

    /// Cores the OS reports for this process; the default thread count.
    public static func hardwareThreads() -> Int {
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Sets the thread count for both the SIMD kernels and OpenBLAS. Call before building models: it is also where
    /// OpenBLAS is first opened, so a missing library is an error here rather than an abort in a kernel.
    public static func configure(threads: Int) throws {
        precondition(threads >= 1, "thread count must be positive")
        if let error = wp_blas_load_error() {
            throw EngineError(.blasUnavailable, String(cString: error), fix: "then run the command again")
        }
        workerCount = min(threads, maxChunks)
        wp_blas_set_threads(Int32(threads))
    }

    /// OpenBLAS's current thread count.
    public static var blasThreads: Int { Int(wp_blas_get_threads()) }

    /// The kernel family OpenBLAS runs ("Haswell", "SkylakeX", "Zen", …; `OPENBLAS_CORETYPE` overrides its own choice),
    /// nil for a BLAS that does not say.
    public static var blasCoreName: String? { wp_blas_core_name().map { String(cString: $0) } }

    /// `OPENBLAS_CORETYPE` as set in this process's environment (nil when unset or empty): the kernel family forced on
    /// OpenBLAS instead of the one it would detect.
    public static var blasCoreOverride: String? {
        getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Number of chunks used for `count` items when each chunk should hold at least `minChunk`.
    @inline(__always)
    public static func chunkCount(_ count: Int, minChunk: Int) -> Int {
        max(1, min(workerCount, count / max(minChunk, 1)))
    }

    /// Runs `body(chunkIndex, range)` over `count` items split into `chunkCount(count, minChunk:)` contiguous ranges.
    ///
    /// Runs inline when there is one chunk, so small shapes pay no dispatch cost.
    @inline(__always)
    public static func forEachChunk(_ count: Int, minChunk: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count, minChunk: minChunk)
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        WorkerPool.run(parts: chunks, threads: chunks) { c in
            body(c, (c * count / chunks)..<((c + 1) * count / chunks))
        }
    }
}
