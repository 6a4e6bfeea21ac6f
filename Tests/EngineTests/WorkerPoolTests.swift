import Foundation
import Synchronization
import XCTest

@testable import Engine

/// The engine's spinning workers as the element-wise passes and the matrix kernel use them: every part runs exactly
/// once whatever the split, a part that asks for the pool again runs its own parts on its thread, and two callers at
/// once both finish with every part run.
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
