import ArgumentParser
import Foundation
import Ledger

/// `wattprint verify`: recompute every hash chain from the raw rows.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the hash chain of runs from their raw rows, and report any that do not match.",
        discussion: """
            Exit status 0 when every run checked is intact (interrupted runs are intact up to their last batch), \
            1 when any row, batch or seal does not match.

            Example:
              wattprint verify          # every run
              wattprint verify 3 7      # runs 3 and 7
            """)

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: "Run ids to check (default: all).") var runs: [Int64] = []
    @Flag(help: "Print JSON.") var json = false

    struct Row: Codable {
        var run: Int64
        var result: String
        var batches: Int
        var rows: Int
        var batch: Int64?
        var row: Int64?
        var table: String?
        var detail: String?
    }

    func run() throws {
        let store = try ledger.open(create: false)
        let results: [RunVerification]
        do {
            results = runs.isEmpty ? try store.verifyAll() : try runs.map { try store.verify(run: $0) }
        } catch let error as LedgerError { throw CLIError(error.description) }
        let rows = results.map { v -> Row in
            switch v.outcome {
            case .ok: return Row(run: v.runID, result: "ok", batches: v.batches, rows: v.rows)
            case .interrupted: return Row(run: v.runID, result: "interrupted", batches: v.batches, rows: v.rows,
                                          detail: "never closed; all \(v.batches) committed batches intact")
            case .recording: return Row(run: v.runID, result: "recording", batches: v.batches, rows: v.rows,
                                        detail: "still being recorded; \(v.batches) batches so far intact")
            case let .mismatch(batch, row, table, reason):
                return Row(run: v.runID, result: "MISMATCH", batches: v.batches, rows: v.rows, batch: batch, row: row, table: table, detail: reason)
            }
        }
        if json { try JSONOutput.print(rows) } else if rows.isEmpty {
            print("No runs in \(store.path) to verify.")
        } else {
            for r in rows {
                var line = "run \(r.run): \(r.result)"
                if r.result == "MISMATCH" {
                    line += " at" + (r.batch.map { " batch \($0)" } ?? "") + (r.row.map { " row \($0)" } ?? "") + (r.table.map { " (\($0))" } ?? "")
                    line += ": \(r.detail ?? "")"
                } else {
                    line += " (\(r.batches) batches, \(r.rows) rows)" + (r.detail.map { "; \($0)" } ?? "")
                }
                print(line)
            }
            let bad = rows.filter { $0.result == "MISMATCH" }.count
            print(bad == 0 ? "All \(rows.count) run(s) verified." : "\(bad) of \(rows.count) run(s) failed verification.")
        }
        if rows.contains(where: { $0.result == "MISMATCH" }) { throw ExitCode(1) }
    }
}
