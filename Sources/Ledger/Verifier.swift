import Foundation
import GRDB

/// What `verify` found for one run.
public struct RunVerification: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Every batch and the seal match.
        case ok
        /// Never closed and its recorder is gone: every committed batch matches, the run has no seal.
        case interrupted
        /// Still being recorded by a live process: every committed batch so far matches.
        case recording
        /// The first thing that does not match.
        case mismatch(batch: Int64?, row: Int64?, table: String?, reason: String)
    }
    public var runID: Int64
    public var outcome: Outcome
    public var batches: Int
    public var rows: Int

    public var isIntact: Bool { if case .mismatch = outcome { return false }; return true }
}

extension Ledger {
    /// Recomputes a run's chain from its raw rows.
    public func verify(run id: Int64) throws -> RunVerification {
        try wrap { try pool.read { db in try Ledger.verify(db: db, runID: id, ledger: self) } }
    }

    /// Verifies every run, oldest first.
    public func verifyAll() throws -> [RunVerification] {
        try runs().compactMap(\.id).map { try verify(run: $0) }
    }

    private static func verify(db: Database, runID: Int64, ledger: Ledger) throws -> RunVerification {
        guard let run = try Run.fetchOne(db, key: runID) else { throw LedgerError.unknownRun(runID) }
        var result = RunVerification(runID: runID, outcome: .ok, batches: 0, rows: 0)
        func fail(_ batch: Int64?, _ row: Int64?, _ table: String?, _ reason: String) -> RunVerification {
            result.outcome = .mismatch(batch: batch, row: row, table: table, reason: reason); return result
        }
        guard let host = try HostRecord.fetchOne(db, key: run.hostID) else {
            return fail(nil, nil, "host", "the run's host row \(run.hostID) is missing")
        }
        var previous = HashChain.genesis(run.genesisCanonical(host: host))
        if previous != run.genesisHash {
            return fail(nil, nil, "run", "the run header or its host description was altered (genesis hash differs)")
        }
        let batches = try Row.fetchAll(db, sql: "SELECT seq, row_count, prev_hash, hash FROM batch WHERE run_id = ? ORDER BY seq", arguments: [runID])
        for (expectedSeq, batch) in batches.enumerated() {
            let seq: Int64 = batch["seq"]
            if seq != Int64(expectedSeq) { return fail(Int64(expectedSeq), nil, "batch", "batch \(expectedSeq) is missing") }
            let prevHash: Data = batch["prev_hash"]
            if prevHash != previous { return fail(seq, nil, "batch", "the link to the previous batch was altered") }
            var rows: [(rowSeq: Int64, table: String, canonical: String, stored: Data)] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM channel WHERE run_id = ? AND batch_seq = ?", arguments: [runID, seq]) {
                rows.append((row["row_seq"], "channel", Ledger.channel(from: row).canonical, row["row_hash"]))
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM sample WHERE run_id = ? AND batch_seq = ?", arguments: [runID, seq]) {
                let s = SampleRecord(channel: row["channel"], tNs: row["t_ns"], value: row["value"])
                rows.append((row["row_seq"], "sample", s.canonical, row["row_hash"]))
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM event WHERE run_id = ? AND batch_seq = ?", arguments: [runID, seq]) {
                let e = EventRecord(tNs: row["t_ns"], kind: row["kind"], payload: row["payload"])
                rows.append((row["row_seq"], "event", e.canonical, row["row_hash"]))
            }
            rows.sort { $0.rowSeq < $1.rowSeq }
            var hashes: [Data] = []
            for (expectedRow, row) in rows.enumerated() {
                if row.rowSeq != Int64(expectedRow) {
                    return fail(seq, Int64(expectedRow), nil, "row \(expectedRow) is missing or duplicated")
                }
                let recomputed = HashChain.rowHash(row.canonical)
                if recomputed != row.stored {
                    return fail(seq, row.rowSeq, row.table, "the \(row.table) row's values do not match its recorded hash")
                }
                hashes.append(recomputed)
            }
            let count: Int = batch["row_count"]
            if count != rows.count {
                return fail(seq, nil, "batch", "the batch recorded \(count) rows but \(rows.count) are present")
            }
            let recomputed = HashChain.batchHash(previous: previous, runID: runID, seq: seq, rowHashes: hashes)
            let stored: Data = batch["hash"]
            if recomputed != stored { return fail(seq, nil, "batch", "the batch hash does not match its rows") }
            previous = recomputed
            result.batches += 1
            result.rows += rows.count
        }
        for table in ["channel", "sample", "event"] {
            if let orphan = try Int64.fetchOne(db, sql: "SELECT batch_seq FROM \(table) WHERE run_id = ? AND batch_seq >= ? LIMIT 1",
                                               arguments: [runID, batches.count]) {
                return fail(orphan, nil, table, "\(table) rows belong to batch \(orphan), which the chain does not contain")
            }
        }
        switch run.status {
        case .complete:
            guard let seal = run.sealHash, let ended = run.endedAt else {
                return fail(nil, nil, "run", "marked complete but never sealed")
            }
            if HashChain.seal(last: previous, status: run.status.rawValue, endedAt: ended, exitCode: run.exitCode) != seal {
                return fail(nil, nil, "run", "the seal does not match the chain and the run's end (status, end time or exit code altered)")
            }
        case .interrupted, .running:
            if let seal = run.sealHash, let ended = run.endedAt,
               HashChain.seal(last: previous, status: run.status.rawValue, endedAt: ended, exitCode: run.exitCode) == seal {
                break
            }
            let alive = Ledger.recorderAlive(pid: run.pid, bootID: host.bootID, hostname: host.hostname)
            result.outcome = (run.status == .running && alive) ? .recording : .interrupted
        }
        return result
    }
}
