import Foundation
import GRDB

/// What `Ledger.merge` did with one source ledger.
public struct MergedLedger: Sendable, Equatable {
    public var path: String
    /// Source run id → its id in the merged ledger, in source order.
    public var runs: [(source: Int64, merged: Int64)]
    public var hosts: [String]
    public var rows: Int

    public static func == (a: MergedLedger, b: MergedLedger) -> Bool {
        a.path == b.path && a.runs.map(\.source) == b.runs.map(\.source) && a.runs.map(\.merged) == b.runs.map(\.merged)
            && a.hosts == b.hosts && a.rows == b.rows
    }
}

/// Why a merge was refused; nothing was written.
public struct LedgerMergeError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Ledger {
    /// Copies every run of each source ledger into this one, rows and hashes unchanged, so each run's original chain
    /// still verifies here (`verify` hashes a merged run with its id in its own ledger, `Run.originRunID`) and its
    /// host keeps its description.
    ///
    /// Every source is verified first and the merge is one transaction: a tampered source, a run still being
    /// recorded, or a run already in this ledger (the same genesis hash: a ledger merged twice, or given twice)
    /// refuses the whole merge with the reason, and nothing is written.
    /// - Throws: `LedgerMergeError` naming the source, the run and what is wrong; `LedgerError` when a ledger cannot
    ///   be opened or written.
    @discardableResult
    public func merge(from paths: [String], mergedAt: Date = Date()) throws -> [MergedLedger] {
        var seen: [Data: String] = [:]
        for path in paths {
            guard (path as NSString).standardizingPath != (self.path as NSString).standardizingPath else {
                throw LedgerMergeError("\(path) is the ledger being merged into; name it once, after --into")
            }
            let source = try Ledger(path: path, create: false)
            for check in try source.verifyAll() {
                switch check.outcome {
                case .ok, .interrupted: break
                case .recording:
                    throw LedgerMergeError(
                        "run \(check.runID) of \(path) is still being recorded; merge after it ends (nothing was merged)")
                case let .mismatch(batch, row, table, reason):
                    let place = [batch.map { "batch \($0)" }, row.map { "row \($0)" }, table].compactMap { $0 }.joined(separator: ", ")
                    throw LedgerMergeError(
                        "run \(check.runID) of \(path) fails verification (\(reason)\(place.isEmpty ? "" : "; \(place)")); a tampered or damaged ledger is not merged (nothing was merged): see `wattprint verify --ledger \(path)`"
                    )
                }
            }
            for run in try source.runs() {
                if let other = seen[run.genesisHash] {
                    throw LedgerMergeError(
                        "run \(run.id!) of \(path) is also in \(other) (the same genesis hash): each ledger is merged once (nothing was merged)"
                    )
                }
                seen[run.genesisHash] = path
            }
        }
        let present = try mappingSQLiteErrors {
            try pool.read { db in try Data.fetchSet(db, sql: "SELECT genesis_hash FROM run") }
        }
        for (genesis, path) in seen where present.contains(genesis) {
            let id = try mappingSQLiteErrors {
                try pool.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE genesis_hash = ?", arguments: [genesis]) }
            }
            throw LedgerMergeError(
                "a run of \(path) is already in \(self.path) (run \(id.map(String.init) ?? "?"), the same genesis hash): that ledger was merged before (nothing was merged)"
            )
        }
        let stamp = LedgerClock.utcString(mergedAt)
        return try mappingSQLiteErrors {
            try pool.writeWithoutTransaction { db in
                var merged: [MergedLedger] = []
                try db.inTransaction {
                    for (k, path) in paths.enumerated() {
                        let alias = "src\(k)"
                        try db.execute(sql: "ATTACH DATABASE ? AS \(alias)", arguments: [path])
                        merged.append(try Self.copy(db: db, from: alias, path: path, mergedAt: stamp))
                    }
                    return .commit
                }
                for k in paths.indices { try db.execute(sql: "DETACH DATABASE src\(k)") }
                return merged
            }
        }
    }

    /// One attached source's hosts, runs and rows copied; run ids renumbered, everything hashed left as it was.
    private static func copy(db: Database, from src: String, path: String, mergedAt: String) throws -> MergedLedger {
        var hostIDs: [Int64: Int64] = [:]
        var hostNames: [String] = []
        for host in try HostRecord.fetchAll(db, sql: "SELECT * FROM \(src).host") {
            var copy = host
            if let existing = try HostRecord.filter(
                sql: """
                    hostname = ? AND cpu_model = ? AND cpu_cores = ? AND memory_bytes = ? AND kernel = ?
                    AND gpus = ? AND tool_version = ? AND boot_id = ?
                    """,
                arguments: [
                    host.hostname, host.cpuModel, host.cpuCores, host.memoryBytes, host.kernel, host.gpus, host.toolVersion, host.bootID,
                ]
            ).fetchOne(db) {
                copy = existing
            } else {
                copy.id = nil
                try copy.insert(db)
                copy.id = db.lastInsertedRowID
            }
            hostIDs[host.id!] = copy.id!
            if !hostNames.contains(host.hostname) { hostNames.append(host.hostname) }
        }
        let genesisByID = Dictionary(
            try Row.fetchAll(db, sql: "SELECT id, genesis_hash FROM \(src).run").map { ($0["id"] as Int64, $0["genesis_hash"] as Data) },
            uniquingKeysWith: { a, _ in a })
        var result = MergedLedger(path: path, runs: [], hosts: hostNames, rows: 0)
        for var run in try Run.fetchAll(db, sql: "SELECT * FROM \(src).run ORDER BY id") {
            let sourceID = run.id!
            guard let host = hostIDs[run.hostID] else {
                throw LedgerMergeError(
                    "run \(sourceID) of \(path) names host \(run.hostID), which is not in that ledger (nothing was merged)")
            }
            // A run merged into the source before keeps the provenance it already has.
            if !run.isMerged {
                run.originRunID = sourceID
                run.originPreviousGenesis = run.previousRunID.flatMap { genesisByID[$0] }
                run.originLedger = path
                run.mergedAt = mergedAt
            }
            run.id = nil
            run.hostID = host
            try run.insert(db)
            let id = db.lastInsertedRowID
            let from = [sourceID]
            try db.execute(
                sql: """
                    INSERT INTO batch (run_id, seq, committed_at, row_count, prev_hash, hash)
                    SELECT \(id), seq, committed_at, row_count, prev_hash, hash FROM \(src).batch WHERE run_id = ?
                    """, arguments: StatementArguments(from))
            let channels = """
                idx, batch_seq, row_seq, device, domain, kind, role, unit, source, mode, resolution, wrap_range, uncertainty, row_hash,
                key, device_class, max_watts
                """
            try db.execute(
                sql: "INSERT INTO channel (run_id, \(channels)) SELECT \(id), \(channels) FROM \(src).channel WHERE run_id = ?",
                arguments: StatementArguments(from))
            result.rows += db.changesCount
            try db.execute(
                sql: """
                    INSERT INTO sample (run_id, batch_seq, row_seq, channel, t_ns, value, row_hash)
                    SELECT \(id), batch_seq, row_seq, channel, t_ns, value, row_hash FROM \(src).sample WHERE run_id = ?
                    """, arguments: StatementArguments(from))
            result.rows += db.changesCount
            try db.execute(
                sql: """
                    INSERT INTO event (run_id, batch_seq, row_seq, t_ns, kind, payload, row_hash)
                    SELECT \(id), batch_seq, row_seq, t_ns, kind, payload, row_hash FROM \(src).event WHERE run_id = ?
                    """, arguments: StatementArguments(from))
            result.rows += db.changesCount
            result.runs.append((sourceID, id))
        }
        return result
    }
}
