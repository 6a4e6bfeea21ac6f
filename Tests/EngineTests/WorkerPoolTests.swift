import CKernels
import Foundation
import Synchronization
import XCTest

@testable import Engine

/// The engine's spinning workers as the element-wise passes and the matrix kernel use them: every part runs exactly
/// once whatever the split, also while other threads hold the cores (a worker then starts late and finds its share
/// taken), a part that asks for the pool again runs its own parts on its thread, and two callers at once both finish
/// with every part run.
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
    /// or by a worker that copied the job as it was replaced. `body` returns false to stop early.
    func whileOtherThreadsHoldTheCores(_ body: (Int) -> Bool) {
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

    /// A product split over two threads adds the same sums in the same order whichever thread runs each share, so under
    /// contention it equals the uncontended result bit for bit.
    func testProductsUnderContentionEqualTheUncontendedOnes() {
        let (N, K) = (1_001, 259)
        let weights = randomFloats(N * K, seed: 5, scale: 1), x = randomFloats(K, seed: 6, scale: 1)
        func product(_ kind: Int32) -> [Float] {
            var y = [Float](repeating: .nan, count: N)
            weights.withUnsafeBufferPointer { w in
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { y in
                        wp_gemv_parallel_into(kind, w.baseAddress!, nil, x.baseAddress!, y.baseAddress!, N, K, 2, 0)
                    }
                }
            }
            return y
        }
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
