import Benchmarks
import XCTest

/// Medians, their order-statistic intervals with the coverage they actually have, spread, and disagreeing repeats.
final class RepeatSummaryTests: XCTestCase {
    func testMedianIntervalAndCoverage() {
        let five = RepeatSummary([3, 1, 2, 5, 4])
        XCTAssertEqual(five.median, 3)
        XCTAssertEqual([five.low, five.high], [1, 5], "no 95 % order-statistic interval exists for 5 values: [min, max]")
        XCTAssertEqual(five.coverage!, 1 - 2 / 32, accuracy: 1e-12)
        let six = RepeatSummary([1, 2, 3, 4, 5, 6])
        XCTAssertEqual(six.median, 3.5)
        XCTAssertEqual(six.coverage!, 1 - 2 / 64, accuracy: 1e-12)
        // n = 10: j = 2 covers 1 − 2·(1 + 10)/1024 = 97.9 %; j = 3 would cover 89 %.
        let ten = RepeatSummary((1...10).map(Double.init))
        XCTAssertEqual([ten.low, ten.high], [2, 9])
        XCTAssertEqual(ten.coverage!, 1 - 2 * 11 / 1024, accuracy: 1e-12)
        XCTAssertNil(RepeatSummary([7]).low)
        XCTAssertNil(RepeatSummary([7]).coefficientOfVariation)
    }

    /// For every n the interval chosen covers at least 95 % when any does, and widening it by one never lowers it.
    func testCoverageRuleHoldsForEveryCount() {
        for n in 2...40 {
            let s = RepeatSummary((0..<n).map(Double.init))
            let j = Int(s.low!) + 1
            if n >= 6 { XCTAssertGreaterThanOrEqual(s.coverage!, 0.95, "n \(n)") }
            if j + 1 <= n / 2 {
                XCTAssertLessThan(
                    1 - 2 * (0..<(j + 1)).reduce(0.0) { $0 + binomial(n, $1) } / pow(2, Double(n)), 0.95, "n \(n): j \(j) is the largest")
            }
        }
    }

    func binomial(_ n: Int, _ k: Int) -> Double { (0..<k).reduce(1.0) { $0 * Double(n - $1) / Double($1 + 1) } }

    func testSpreadAndDisagreeingRepeats() {
        let s = RepeatSummary([10, 10.2, 9.9, 10.1, 14])
        XCTAssertEqual(s.disagreeing, [4])
        XCTAssertEqual(s.coefficientOfVariation!, 1.7701 / 10.84, accuracy: 1e-4, "sample standard deviation ÷ mean")
        XCTAssertEqual(RepeatSummary([10, 10.2, 9.9, 10.1, 10.3]).disagreeing, [], "spread within 5 % is never flagged")
        XCTAssertEqual(RepeatSummary([1, 5]).disagreeing, [], "two values cannot outvote each other")
    }
}
