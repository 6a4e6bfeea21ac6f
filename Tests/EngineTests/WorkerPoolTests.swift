import CKernels
import Foundation
import Synchronization
import XCTest

@testable import Engine

/// The engine's spinning workers as the element-wise passes and the matrix kernel use them: every part runs exactly
/// once whatever the split, also while other threads hold the cores (a worker then starts late and finds its share
/// taken), a part that asks for the pool again runs its own parts on its thread, two callers at once both finish
/// with every part run, and a worker held up mid-job makes the pool back off to fewer threads without changing a
/// product's bits.
final class WorkerPoolTests: EngineTestCase {
    /// Counts of each part's runs, shared by the parts' threads.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        init(_ n: Int) { counts = Mutex([Int](repeating: 0, count: n)) }
        func add(_ part: Int) { counts.withLock { $0[part] += 1 } }
        var values: [Int] { counts.withLock { $0 } }
    }

    func testEveryPartRunsOnceWhateverTheSplit() {
        for (parts, threads) in [(1, 4), (2, 2), (7, 2), (100, 3), (5, 16), (3, 1)] {
            let tally = Tally(parts)
            WorkerPool.run(parts: parts, threads: threads) { tally.add($0) }
            XCTAssertEqual(tally.values, [Int](repeating: 1, count: parts), "\(parts) parts on \(threads) threads")
        }
        WorkerPool.run(parts: 0, threads: 2) { _ in XCTFail("no part to run") }
    }

    /// Spinning threads, one per core, while `body(round)` runs for rounds over a third of a second (many scheduler
    /// ticks): the pool's workers lose their cores at random points, so shares are claimed late, by the other thread,
    /// or by a worker that copied the job as it was replaced. The pool's backing off is turned off meanwhile, or it
    /// would run most jobs on the caller alone. `body` returns false to stop early.
    func whileOtherThreadsHoldTheCores(_ body: (Int) -> Bool) {
        wp_pool_set_backoff(0)
        defer { wp_pool_set_backoff(1) }
        let stop = Atomic<Bool>(false), running = Atomic<Int>(0), hogCount = max(2, Parallel.hardwareThreads())
        let hogs = (0..<hogCount).map { _ in
            Thread {
                running.add(1, ordering: .relaxed)
                var spins = 0
                while !stop.load(ordering: .relaxed) { spins &+= 1 }
            }
        }
        hogs.forEach { $0.start() }
        defer { stop.store(true, ordering: .relaxed) }
        while running.load(ordering: .relaxed) < hogCount { usleep(1_000) }
        let end = Date().addingTimeInterval(0.35)
        var round = 0
        while Date() < end, body(round) { round += 1 }
    }

    func testEveryPartRunsOnceWhileOtherThreadsHoldTheCores() {
        whileOtherThreadsHoldTheCores { job in
            // Jobs of different sizes follow each other on two and three threads: a worker's copy that mixed two jobs
            // once took a smaller job's unit count for a larger one and ran a part twice.
            let parts = [2, 3, 7][job % 3], tally = Tally(parts)
            WorkerPool.run(parts: parts, threads: 2 + job % 2) { tally.add($0) }
            XCTAssertEqual(tally.values, [Int](repeating: 1, count: parts), "job \(job): \(parts) parts")
            return tally.values == [Int](repeating: 1, count: parts)
        }
    }

    /// y = W·x over `threads` threads by the pool (`kind` 2: W [N, K] output-major; 3: W [K, N] input-major).
    static func product(_ kind: Int32, _ weights: [Float], _ x: [Float], N: Int, K: Int, threads: Int32) -> [Float] {
        var y = [Float](repeating: .nan, count: N)
        weights.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    wp_gemv_parallel_into(kind, w.baseAddress!, nil, x.baseAddress!, y.baseAddress!, N, K, threads, 0)
                }
            }
        }
        return y
    }

    /// A product split over two threads adds the same sums in the same order whichever thread runs each share, so under
    /// contention it equals the uncontended result bit for bit.
    func testProductsUnderContentionEqualTheUncontendedOnes() {
        let (N, K) = (1_001, 259)
        let weights = randomFloats(N * K, seed: 5, scale: 1), x = randomFloats(K, seed: 6, scale: 1)
        func product(_ kind: Int32) -> [Float] { Self.product(kind, weights, x, N: N, K: K, threads: 2) }
        let expected = [Int32(2), 3].map(product)
        whileOtherThreadsHoldTheCores { round in
            for (index, kind) in [Int32(2), 3].enumerated() where product(kind) != expected[index] {
                XCTFail("round \(round), kind \(kind): the product differs from the uncontended one")
                return false
            }
            return true
        }
    }

    func testAPartThatAsksForThePoolRunsItsPartsItself() {
        let outer = Tally(6), inner = Tally(6 * 5)
        WorkerPool.run(parts: 6, threads: 2) { o in
            outer.add(o)
            WorkerPool.run(parts: 5, threads: 2) { i in inner.add(o * 5 + i) }
        }
        XCTAssertEqual(outer.values, [Int](repeating: 1, count: 6))
        XCTAssertEqual(inner.values, [Int](repeating: 1, count: 30))
    }

    /// Runs two-part jobs until a worker takes a part, that part sleeping `milliseconds` as a worker that lost its core
    /// would; returns whether one did within 50 jobs. The caller's own part takes a millisecond, so a worker has time
    /// to claim the other.
    func holdUpAWorker(milliseconds: UInt32) -> Bool {
        let caller = pthread_self(), workerRan = Atomic<Bool>(false)
        for _ in 0..<50 {
            WorkerPool.run(parts: 2, threads: 2) { _ in
                guard pthread_equal(pthread_self(), caller) == 0 else {
                    usleep(1_000)
                    return
                }
                workerRan.store(true, ordering: .relaxed)
                usleep(milliseconds * 1_000)
            }
            if workerRan.load(ordering: .relaxed) { return true }
        }
        return false
    }

    func testAWorkerHeldUpMidJobMakesThePoolBackOff() throws {
        wp_pool_set_backoff(1)
        let before = PoolBackoff.current
        guard holdUpAWorker(milliseconds: 20) else { throw XCTSkip("no worker took a part in 50 jobs") }
        let held = PoolBackoff.current.since(before)
        XCTAssertGreaterThanOrEqual(held.backoffs, 1, "the caller waited about 19 ms for a worker's part")
        // Within the 25 ms that follow, jobs run on the caller alone: every part on this thread.
        let caller = pthread_self(), elsewhere = Atomic<Int>(0), tally = Tally(6)
        WorkerPool.run(parts: 6, threads: 2) { part in
            tally.add(part)
            if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(tally.values, [Int](repeating: 1, count: 6))
        XCTAssertEqual(elsewhere.load(ordering: .relaxed), 0, "a part ran on a worker while the pool backed off")
        let after = PoolBackoff.current.since(before)
        XCTAssertEqual(after.jobs - held.jobs, 1)
        XCTAssertEqual(after.backedOff - held.backedOff, 1)
    }

    func testTurnedOffThePoolDoesNotBackOff() throws {
        wp_pool_set_backoff(0)
        defer { wp_pool_set_backoff(1) }
        let before = PoolBackoff.current
        guard holdUpAWorker(milliseconds: 20) else { throw XCTSkip("no worker took a part in 50 jobs") }
        WorkerPool.run(parts: 6, threads: 2) { _ in }
        let after = PoolBackoff.current.since(before)
        XCTAssertEqual(after.backoffs, 0)
        XCTAssertEqual(after.backedOff, 0)
    }

    /// Backing off keeps each product's split into parts, so a product run on the caller alone adds the same sums in the
    /// same order as one run on two threads.
    func testProductsWhileBackingOffEqualTheOthers() throws {
        let (N, K) = (1_001, 259)
        let weights = randomFloats(N * K, seed: 7, scale: 1), x = randomFloats(K, seed: 8, scale: 1)
        func product(_ kind: Int32) -> [Float] { Self.product(kind, weights, x, N: N, K: K, threads: 2) }
        // Computed with backing off turned off: on two threads, whatever ran before.
        wp_pool_set_backoff(0)
        let expected = [Int32(2), 3].map(product)
        wp_pool_set_backoff(1)
        guard holdUpAWorker(milliseconds: 20) else { throw XCTSkip("no worker took a part in 50 jobs") }
        let before = PoolBackoff.current
        let backedOff = [Int32(2), 3].map(product)
        XCTAssertEqual(PoolBackoff.current.since(before).backedOff, 2, "both products ran while the pool backed off")
        XCTAssertEqual(backedOff, expected)
        // The single-threaded split differs from the two-part one: the comparison above is not trivially equal.
        let single = Self.product(3, weights, x, N: N, K: K, threads: 1)
        XCTAssertNotEqual(single, expected[1], "a one-part input-major product sums in another order")
    }

    func testTwoCallersAtOnceBothFinish() {
        let tallies = (0..<4).map { _ in Tally(10) }
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<20 {
                WorkerPool.run(parts: 10, threads: 2) { part in tallies[caller].add(part) }
            }
        }
        for tally in tallies { XCTAssertEqual(tally.values, [Int](repeating: 20, count: 10), "each caller's every part, 20 times") }
    }
}
