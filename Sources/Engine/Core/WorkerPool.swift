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

/// The pool's jobs and its backing off (`gemv_pool.c`). With more runnable threads than cores, a worker that loses its
/// core mid-job leaves the caller waiting a time slice (milliseconds), and a spinning worker takes turns with the caller;
/// so when the caller waits for a preempted worker, or waits for a core itself more than 15 % of 10 ms, the pool runs the
/// next two-thread jobs on the caller alone for 25 ms, doubling up to 1 s while it recurs (jobs on more threads never
/// back off). Counts since the process started; `since` gives a span's.
public struct PoolBackoff: Codable, Sendable, Equatable {
    /// Jobs handed to the pool's threads (products and parallel passes that asked for more than one thread).
    public var jobs: Int
    /// Of them, jobs run on the caller alone because the pool was backing off.
    public var backedOff: Int
    /// Times the pool began backing off.
    public var backoffs: Int

    public init(jobs: Int, backedOff: Int, backoffs: Int) {
        self.jobs = jobs
        self.backedOff = backedOff
        self.backoffs = backoffs
    }

    /// The counts now.
    public static var current: PoolBackoff {
        var jobs = 0, backedOff = 0, backoffs = 0
        wp_pool_backoff_counts(&jobs, &backedOff, &backoffs)
        return PoolBackoff(jobs: jobs, backedOff: backedOff, backoffs: backoffs)
    }

    /// What happened between `earlier` and these counts.
    public func since(_ earlier: PoolBackoff) -> PoolBackoff {
        PoolBackoff(jobs: jobs - earlier.jobs, backedOff: backedOff - earlier.backedOff, backoffs: backoffs - earlier.backoffs)
    }
}
