import Accounting
import Benchmarks
import Carbon
import Foundation
import Ledger
import Measures

/// What `verify` found for each run: its chain, and its recorded result and decisions against a recomputation.
public enum VerifyReport {
    /// One run's outcome.
    public struct Row: Codable, Sendable {
        public var run: Int64
        /// `ok`, `interrupted`, `recording` or `MISMATCH`.
        public var result: String
        public var batches: Int
        public var rows: Int
        public var batch: Int64?
        public var row: Int64?
        public var table: String?
        public var detail: String?
        /// The run's recorded energy recomputed from its raw samples: "matches", "differs", "none recorded" or "not recomputed".
        public var recomputation: String?
        public var recordedJoules: Double?
        public var recomputedJoules: Double?
        /// A benchmark's recorded summary against its recomputation: "matches", "differs" or nil (not a benchmark).
        public var benchSummary: String?
        public var seal: String?

        public var isMismatch: Bool { result == Self.mismatch }
        public static let mismatch = "MISMATCH"

        /// The chain's verdict; the recomputation is filled in by `check`.
        public init(_ v: RunVerification) {
            run = v.runID
            batches = v.batches
            rows = v.rows
            seal = v.seal?.hex
            switch v.outcome {
            case .ok: result = "ok"
            case .interrupted:
                result = "interrupted"
                detail = "never closed; all \(v.batches) committed batches intact"
            case .recording:
                result = "recording"
                detail = "still being recorded; \(v.batches) batches so far intact"
            case let .mismatch(batch, row, table, reason):
                result = Self.mismatch
                self.batch = batch; self.row = row; self.table = table; detail = reason
            }
        }

        /// Recomputes an intact run's recorded result and decisions from its raw samples, and a benchmark's summary
        /// (`BenchAnalysis`) from its samples and events.
        public mutating func check(ledger: Ledger, carbon: CarbonData) throws {
            guard !isMismatch else { return }
            try apply(Self.recompute(ledger: ledger, run: run, carbon: carbon).get())
        }

        /// What a run's raw rows recompute to: its result and decisions, and a benchmark's summary against the one it
        /// recorded. Independent of the chain check, so the two can run at once; `apply` it to an intact row.
        public struct Recomputation: Sendable {
            var check: RecordedResult.Check?
            var unknownRules: String?
            var summaryDifference: String??
            /// Why the recorded summary was not recomputed (`NewerAnalysisRules`).
            var summaryNotRecomputed: String?
        }

        public static func recompute(ledger: Ledger, run: Int64, carbon: CarbonData) -> Result<Recomputation, Error> {
            Result {
                let check: RecordedResult.Check
                do { check = try RecordedResult.check(ledger: ledger, run: run) } catch let error as UnknownIntegrationRules {
                    return Recomputation(check: nil, unknownRules: error.description, summaryDifference: nil)
                }
                let recorded = try ledger.events(run: run).filter { $0.kind == "bench_summary" }.compactMap { event -> JSONValue? in
                    if case let .benchSummary(s) = RunEvent(event) { return s }
                    return nil
                }.last
                var difference: String??
                if let recorded {
                    do {
                        let recomputed = try JSONValue(encoding: try BenchAnalysis.compute(ledger: ledger, run: run, data: carbon))
                        difference = .some(recorded.firstDifference(from: recomputed))
                    } catch let newer as NewerAnalysisRules {
                        return Recomputation(
                            check: check, unknownRules: nil, summaryDifference: nil, summaryNotRecomputed: newer.description)
                    }
                }
                return Recomputation(check: check, unknownRules: nil, summaryDifference: difference)
            }
        }

        public mutating func apply(_ r: Recomputation) {
            guard !isMismatch else { return }
            guard let check = r.check else {
                recomputation = "not recomputed"
                detail = r.unknownRules
                return
            }
            recordedJoules = check.recorded?.totalJoules
            recomputedJoules = check.recomputed.totalJoules
            if check.matches != nil && !check.anomaliesMatch {
                recomputation = "differs"
                result = Self.mismatch
                detail =
                    "the run recorded \(QuantityFormat.counted(check.recordedAnomalies.count, "reading decision")) (anomaly events) but a recomputation from its raw samples makes \(check.recomputedAnomalies.count) different or other ones"
                return
            }
            if let why = r.summaryNotRecomputed {
                benchSummary = "not recomputed"
                detail = why
            }
            if case let .some(difference) = r.summaryDifference {
                if let difference {
                    benchSummary = "differs"
                    result = Self.mismatch
                    detail = "the benchmark summary the run recorded differs from its recomputation from raw samples at \(difference)"
                    return
                }
                benchSummary = "matches"
            }
            switch check.matches {
            case true?: recomputation = "matches"
            case false?:
                recomputation = "differs"
                result = Self.mismatch
                detail =
                    "the run's recorded result (\(check.recorded!.totalJoules) J) differs from its raw samples (\(check.recomputed.totalJoules) J)"
            case nil: recomputation = "none recorded"
            }
        }
    }

    public static func build(_ rows: [Row], path: String) -> Report {
        if rows.isEmpty { return Report(blocks: [.line("No runs in \(path) to verify.")], data: rows) }
        var lines: [String] = []
        for r in rows {
            var line = "run \(r.run): \(r.result)"
            if r.isMismatch {
                line +=
                    " at" + (r.batch.map { " batch \($0)" } ?? "") + (r.row.map { " row \($0)" } ?? "") + (r.table.map { " (\($0))" } ?? "")
                line += ": \(r.detail ?? "")"
            } else {
                line += " (\(r.batches) batches, \(r.rows) rows)" + (r.detail.map { "; \($0)" } ?? "")
                if r.recomputation == "matches", let j = r.recomputedJoules {
                    line += String(format: "; recorded result %.6g J = recomputed from raw samples", j)
                }
                if r.benchSummary == "matches" { line += "; benchmark summary = recomputed" }
            }
            lines.append(line)
        }
        let bad = rows.filter(\.isMismatch).count
        let runs = "\(rows.count) \(rows.count == 1 ? "run" : "runs")"
        lines.append(
            bad == 0
                ? (rows.count == 1 ? "1 run verified." : "All \(runs) verified.") : "\(bad) of \(runs) failed verification.")
        return Report(blocks: lines.map(Block.line), data: rows)
    }
}
