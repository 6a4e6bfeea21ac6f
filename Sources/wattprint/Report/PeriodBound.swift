import ArgumentParser
import Reports

extension ParsableCommand {
    /// A `--since` or `--until` value as the ledger's start times compare with it (`SustainabilityReportBuilder.instant`:
    /// a day, or a time with `Z` or a UTC offset, in UTC). One that is no date is a usage error (exit 64), as a
    /// reversed period is.
    static func periodBound(_ text: String) throws -> String {
        do {
            return try SustainabilityReportBuilder.instant(text)
        } catch let error as ReportError {
            throw ValidationError(error.description)
        }
    }

    /// Refuses a period whose `since` is not before its `until` (exclusive), both checked as dates first; a day
    /// counts as its UTC midnight.
    static func checkPeriod(since: String?, until: String?) throws {
        let from = try since.map(periodBound), to = try until.map(periodBound)
        func midnight(_ bound: String) -> String { bound.count == 10 ? bound + "T00:00:00.000Z" : bound }
        if let since, let until, let from, let to, midnight(from) >= midnight(to) {
            throw ValidationError("--since \(since) is not before --until \(until) (--until is exclusive); swap them or widen the period")
        }
    }
}
