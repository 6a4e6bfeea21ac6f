import ArgumentParser
import Foundation
import Ledger
import Reports
import Accounting

/// `wattprint verify`: recompute every hash chain, and every recorded result, from the raw rows.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute runs' hash chains and recorded results from their raw rows, and report any that do not match.",
        discussion: """
            Exit status 0 when every run checked is intact (interrupted runs are intact up to their last batch), \
            1 when any row, batch or seal does not match, or a run's recorded energy differs from its raw samples.

            Example:
              wattprint verify          # every run
              wattprint verify 3 7      # runs 3 and 7
            """)

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: "Run ids to check (default: all).") var runs: [Int64] = []
    @OptionGroup var output: OutputOptions

    /// `verify`'s exit status when any run does not match.
    static let mismatchExitCode: Int32 = 1

    func run() throws {
        let store = try ledger.open(create: false)
        let results: [RunVerification]
        do {
            results = runs.isEmpty ? try store.verifyAll() : try runs.map { try store.verify(run: $0) }
        } catch let error as LedgerError { throw CLIError(error.description) }
        let carbon = try CarbonTables.load()
        let rows = try results.map { v -> VerifyReport.Row in
            var row = VerifyReport.Row(v)
            try row.check(ledger: store, carbon: carbon)
            return row
        }
        try output.emit(VerifyReport.build(rows, path: store.path))
        if rows.contains(where: \.isMismatch) { throw ExitCode(Self.mismatchExitCode) }
    }
}
