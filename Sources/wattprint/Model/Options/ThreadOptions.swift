import ArgumentParser
import Engine

/// `--threads`: OpenBLAS and SIMD-kernel threads.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and the SIMD kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        // More workers than CPUs only queue behind each other, and very many stall OpenBLAS's start.
        if let threads, threads > 4 * Parallel.hardwareThreads() {
            throw ValidationError(
                "--threads \(threads) is far more than the \(Parallel.hardwareThreads()) CPUs this process may use; use at most \(Parallel.hardwareThreads())"
            )
        }
    }

    /// Applies the setting and returns the count in use.
    @discardableResult
    func apply() throws -> Int {
        let count = threads ?? Parallel.hardwareThreads()
        try Parallel.configure(threads: count)
        return count
    }
}
