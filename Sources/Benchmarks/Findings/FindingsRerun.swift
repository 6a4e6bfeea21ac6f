import Accounting
import Foundation
import Ledger

/// Which runs are findings reruns, and whose: `wattprint bench` measures a finding's alternative as a ledger run of
/// its own once its benchmark's sampling has stopped, and then records that run's id in the benchmark's findings
/// (`EfficiencyFinding.alternativeRun`) before closing the benchmark's run.
public enum FindingsRerun {
    /// Each findings rerun's benchmark, by the rerun's id. The id a finding records is one of the ledger the benchmark
    /// ran in, so in a merged ledger it names a run merged from that same ledger with that original id
    /// (`Run.originLedger`, `Run.originRunID`); and a rerun is on its benchmark's host and is the first such run to start
    /// after it, which tells apart two ledgers merged from one path.
    ///
    /// Reads every run's findings (`Ledger.events(kind:)`, which SQLite finds by scanning the event table), unless no
    /// run can be a rerun: `wattprint bench` starts every rerun with `--findings none`.
    /// - Throws: what the ledger's reads throw.
    public static func parents(in ledger: Ledger) throws -> [Int64: Int64] {
        struct Origin: Hashable {
            var ledger: String?
            var run: Int64
        }
        let all = try ledger.runs()
        guard all.contains(where: { $0.command.contains("--findings none") }) else { return [:] }
        var local: [Origin: [Run]] = [:], runs: [Int64: Run] = [:]
        for run in all {
            guard let id = run.id else { continue }
            local[Origin(ledger: run.originLedger, run: run.originRunID ?? id), default: []].append(run)
            runs[id] = run
        }
        var parents: [Int64: Int64] = [:]
        for (id, event) in try ledger.events(kind: "bench_findings") {
            guard let parent = runs[id], case let .benchFindings(json) = RunEvent(event),
                let findings = try? JSONDecoder().decode([EfficiencyFinding].self, from: JSONEncoder().encode(json))
            else { continue }
            for recorded in findings.compactMap(\.alternativeRun) {
                // Of runs with that origin (two when one path was merged twice), the first on the benchmark's host
                // that started after it.
                let candidates = (local[Origin(ledger: parent.originLedger, run: recorded)] ?? []).filter {
                    $0.id != id && $0.hostID == parent.hostID && $0.startedAt >= parent.startedAt
                }
                if let rerun = candidates.min(by: { $0.startedAt < $1.startedAt }), let rerunID = rerun.id { parents[rerunID] = id }
            }
        }
        return parents
    }
}
