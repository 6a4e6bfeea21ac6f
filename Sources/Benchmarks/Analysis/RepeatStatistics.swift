import Foundation

/// A figure measured once per repeat: its median, a distribution-free interval for the median, and the spread.
///
/// The interval is the order-statistic interval [x₍ⱼ₎, x₍ₙ₊₁₋ⱼ₎] with the largest j whose coverage
/// 1 − 2·P(Binomial(n, ½) ≤ j − 1) is at least 95 % (Conover, Practical Nonparametric Statistics, §3.2); with fewer than
/// six repeats no such j exists and the interval is [min, max], whose coverage (93.75 % for five) is stated.
public struct RepeatSummary: Codable, Sendable, Equatable {
    public var values: [Double]
    public var median: Double
    /// The interval for the median and its actual coverage; nil for a single value.
    public var low: Double?
    public var high: Double?
    public var coverage: Double?
    /// Sample standard deviation ÷ mean; nil below two values or for a zero mean.
    public var coefficientOfVariation: Double?

    public init(_ values: [Double]) {
        self.values = values
        let sorted = values.sorted(), n = sorted.count
        median = n == 0 ? .nan : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        if n >= 2 {
            var j = 1
            while j + 1 <= n / 2, Self.coverage(n: n, j: j + 1) >= 0.95 { j += 1 }
            low = sorted[j - 1]
            high = sorted[n - j]
            coverage = Self.coverage(n: n, j: j)
            let mean = values.reduce(0, +) / Double(n)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            coefficientOfVariation = mean != 0 ? variance.squareRoot() / abs(mean) : nil
        }
    }

    /// Coverage of [x₍ⱼ₎, x₍ₙ₊₁₋ⱼ₎] for the median of n values: 1 − 2·P(Bin(n, ½) ≤ j − 1).
    static func coverage(n: Int, j: Int) -> Double {
        var tail = 0.0, term = pow(0.5, Double(n))
        for i in 0..<j {
            tail += term
            term *= Double(n - i) / Double(i + 1)
        }
        return 1 - 2 * tail
    }

    /// Repeats whose value is far from the others: beyond 3 scaled median absolute deviations (1.4826·MAD, the
    /// normal-consistent scale) and more than 5 % from the median. Needs three values.
    public var disagreeing: [Int] {
        guard values.count >= 3 else { return [] }
        let deviations = values.map { abs($0 - median) }.sorted()
        let n = deviations.count
        let mad = n % 2 == 1 ? deviations[n / 2] : (deviations[n / 2 - 1] + deviations[n / 2]) / 2
        return values.indices.filter {
            let d = abs(values[$0] - median)
            return d > 3 * 1.4826 * mad && d > 0.05 * abs(median)
        }
    }
}
