import CKernels

/// The engine's persistent workers (`wp_pool_run` in `gemv_pool.c`, the pool decoding's products use): they spin for
/// about a millisecond after each job before sleeping, so the many short parallel steps of a training step or a
/// prefill (about 160 products and more element-wise passes in a GPT-2 124M step) do not each pay for waking a sleeping
/// thread, as `DispatchQueue.concurrentPerform` does (a futex wake, several microseconds, more on a VM).
enum WorkerPool {
    /// Runs `body(part)` for every part in 0..<parts on up to `threads` threads (the caller among them), each thread
    /// taking the next part left; returns when all have run. Called from inside a part, or while another thread holds
    /// the pool, it runs the parts in order on the calling thread.
    static func run(parts: Int, threads: Int, _ body: (Int) -> Void) {
        guard parts > 1, threads > 1 else {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                wp_pool_run(
                    parts,
                    { context, part in context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part) },
                    pointer, Int32(threads))
            }
        }
    }
}
