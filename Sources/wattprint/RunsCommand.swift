import ArgumentParser
import Foundation
import Ledger
import Reports

/// `wattprint runs`: what the ledger holds.
struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the runs recorded in the ledger.",
        discussion: "Example:\n  wattprint runs --json")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        // No ledger yet is no runs yet: nothing to list, and nothing created by looking.
        guard FileManager.default.fileExists(atPath: ledger.resolvedPath) else {
            return try output.emit(RunListReport.build([], path: ledger.resolvedPath, exists: false))
        }
        let store = try ledger.open(create: false)
        let rows = try store.runs().map { r in
            RunListReport.Row(run: r, status: try store.effectiveStatus(of: r), batches: try store.batchCount(run: r.id!))
        }
        try output.emit(RunListReport.build(rows, path: store.path))
    }
}
