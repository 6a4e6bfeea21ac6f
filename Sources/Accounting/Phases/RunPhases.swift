import Ledger

/// A run's energy per named phase: every window of that name (a program's `prefill` reported twice is two windows)
/// summed, with the tokens recorded inside them.
public struct PhaseTotal: Codable, Sendable, Equatable {
    public var name: String
    public var windows: Int
    public var seconds: Double
    public var joules: Double
    public var estimatedJoules: Double
    public var tokens: Double
    public var joulesPerToken: Double? { tokens > 0 ? joules / tokens : nil }
    /// Windows a killed program never ended (counted to its last sample).
    public var unclosed: Int

    /// Totals per phase name, in the order each first started.
    /// - Throws: what `PhaseEnergy.windows` throws.
    public static func compute(ledger: Ledger, run id: Int64) throws -> [PhaseTotal] {
        totals(try PhaseEnergy.windows(ledger: ledger, run: id))
    }

    static func totals(_ windows: [PhaseWindow]) -> [PhaseTotal] {
        var totals: [PhaseTotal] = []
        for w in windows {
            let name = w.mark.workload.map { "\($0) \(w.mark.name)" } ?? w.mark.name
            if let i = totals.firstIndex(where: { $0.name == name }) {
                totals[i].windows += 1
                totals[i].seconds += w.seconds
                totals[i].joules += w.joules
                totals[i].estimatedJoules += w.estimatedJoules
                totals[i].tokens += w.tokens
                totals[i].unclosed += w.closed ? 0 : 1
            } else {
                totals.append(
                    PhaseTotal(
                        name: name, windows: 1, seconds: w.seconds, joules: w.joules, estimatedJoules: w.estimatedJoules, tokens: w.tokens,
                        unclosed: w.closed ? 0 : 1))
            }
        }
        return totals
    }
}
