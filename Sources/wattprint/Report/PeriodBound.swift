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
}
