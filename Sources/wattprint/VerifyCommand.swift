import ArgumentParser
import Foundation
import Ledger
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
        /// The run's recorded energy recomputed from its raw samples: "matches", "differs" or "none recorded".
        var recomputation: String?
        var recordedJoules: Double?
        var recomputedJoules: Double?
        var seal: String?
    }

    func run() throws {
        let store = try ledger.open(create: false)
        let results: [RunVerification]
        do {
            results = runs.isEmpty ? try store.verifyAll() : try runs.map { try store.verify(run: $0) }
        } catch let error as LedgerError { throw CLIError(error.description) }
        let rows = try results.map { v -> Row in
            var row = Self.row(v)
            row.seal = v.seal?.hex
            guard v.isIntact else { return row }
            let check: RecordedResult.Check
            do { check = try RecordedResult.check(ledger: store, run: v.runID) } catch let error as UnknownIntegrationRules {
                row.recomputation = "not recomputed"
                row.detail = error.description
                return row
            }
            row.recordedJoules = check.recorded?.totalJoules
            row.recomputedJoules = check.recomputed.totalJoules
            if check.matches != nil && !check.anomaliesMatch {
                row.recomputation = "differs"
                row.result = "MISMATCH"
                row.detail = "the run recorded \(check.recordedAnomalies.count) reading decision(s) (anomaly events) but a recomputation from its raw samples makes \(check.recomputedAnomalies.count) different or other ones"
                return row
            }
            switch check.matches {
            case true?: row.recomputation = "matches"
            case false?:
                row.recomputation = "differs"
                row.result = "MISMATCH"
                row.detail = "the run's recorded result (\(check.recorded!.totalJoules) J) differs from its raw samples (\(check.recomputed.totalJoules) J)"
            case nil: row.recomputation = "none recorded"
            }
            return row
        }
        if json { try JSONOutput.print(rows) } else { print(Self.render(rows, path: store.path)) }
        if rows.contains(where: { $0.result == "MISMATCH" }) { throw ExitCode(1) }
    }

    static func row(_ v: RunVerification) -> Row {
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

    static func render(_ rows: [Row], path: String) -> String {
        if rows.isEmpty { return "No runs in \(path) to verify." }
        var lines: [String] = []
        for r in rows {
            var line = "run \(r.run): \(r.result)"
            if r.result == "MISMATCH" {
                line += " at" + (r.batch.map { " batch \($0)" } ?? "") + (r.row.map { " row \($0)" } ?? "") + (r.table.map { " (\($0))" } ?? "")
                line += ": \(r.detail ?? "")"
            } else {
                line += " (\(r.batches) batches, \(r.rows) rows)" + (r.detail.map { "; \($0)" } ?? "")
                if r.recomputation == "matches", let j = r.recomputedJoules {
                    line += String(format: "; recorded result %.6g J = recomputed from raw samples", j)
                }
            }
            lines.append(line)
        }
        let bad = rows.filter { $0.result == "MISMATCH" }.count
        lines.append(bad == 0 ? "All \(rows.count) run(s) verified." : "\(bad) of \(rows.count) run(s) failed verification.")
        return lines.joined(separator: "\n")
    }
}
