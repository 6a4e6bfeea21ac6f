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
    /// Sources are read through read-only connections (never migrated or written) and the whole merge is one write
    /// transaction: each source's runs are verified and copied from one snapshot of it, so a run is copied only as it
    /// was verified. A tampered source, a run still marked running (recording, on this host or another, or never
    /// closed: `wattprint ledger mark-interrupted` on its host marks a dead one interrupted), or a run already in this ledger (the same
    /// genesis hash: a ledger merged twice, or given twice) refuses the whole merge with the reason; nothing is
    /// written.
    /// - Throws: `LedgerMergeError` naming the source, the run and what is wrong; `LedgerError` when a ledger cannot
    ///   be opened or written.
    @discardableResult
    public func merge(from paths: [String], mergedAt: Date = Date()) throws -> [MergedLedger] {
        let sources = paths.map { (given: $0, absolute: URL(fileURLWithPath: $0).standardizedFileURL.path) }
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        var named = Set<String>()
        for source in sources {
            guard source.absolute != target else {
                throw LedgerMergeError("\(source.given) is the ledger being merged into; name it once, after --into")
            }
            guard named.insert(source.absolute).inserted else {
                throw LedgerMergeError("\(source.given) is named twice; name each ledger once (nothing was merged)")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source.given, isDirectory: &isDirectory) else {
                throw LedgerMergeError("\(source.given) does not exist; name each host's ledger file (nothing was merged)")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: source.given)[.size] as? Int) ?? 0
            guard !isDirectory.boolValue, size > 0 else {
                throw LedgerMergeError(
                    "\(source.given) is \(isDirectory.boolValue ? "a directory" : "an empty file"), not a ledger; name each host's ledger file (nothing was merged)"
                )
            }
            do {
                try Ledger.checkHeader(path: source.given)
                try Ledger.inspectReadOnly(path: source.given)
            } catch let error as LedgerError {
                // The open errors speak of --ledger; here the file is a source.
                throw LedgerMergeError(
                    "\(source.given) cannot be merged: \(error.description.components(separatedBy: "; it was left untouched").first ?? error.description) (nothing was merged)"
                )
            }
        }
        let stamp = LedgerClock.utcString(mergedAt)
        return try mappingSQLiteErrors {
            try pool.write { db in
                var present: [Data: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT id, genesis_hash FROM run") {
                    present[row["genesis_hash"]] = "\(self.path) as run \(row["id"] as Int64): that ledger was merged before"
                }
                var merged: [MergedLedger] = []
                for source in sources {
                    var configuration = Configuration()
                    configuration.readonly = true
                    let queue = try DatabaseQueue(path: source.given, configuration: configuration)
                    defer { try? queue.close() }
                    merged.append(
                        try queue.read { sdb in
                            try Self.copy(
                                from: sdb, into: db, path: source.given, origin: source.absolute, present: &present, mergedAt: stamp)
                        })
                }
                return merged
            }
        }
    }

    /// One source's hosts, runs and rows, verified then copied from one read transaction; run ids renumbered,
    /// everything hashed left as it was.
    private static func copy(
        from sdb: Database, into db: Database, path: String, origin: String, present: inout [Data: String], mergedAt: String
    ) throws -> MergedLedger {
        let runs = try Run.fetchAll(sdb, sql: "SELECT * FROM run ORDER BY id")
        for run in runs {
            let id = run.id!
            if run.status == .running {
                throw LedgerMergeError(
                    "run \(id) of \(path) is marked running: it is still being recorded, or its recorder died and no wattprint on its host has noticed yet; merge after it ends, or run `wattprint ledger mark-interrupted --ledger \(path)` on its host to mark a dead one interrupted (nothing was merged)"
                )
            }
            let check = try Ledger.verify(db: sdb, runID: id)
            if case let .mismatch(batch, row, table, reason) = check.outcome {
                let place = [batch.map { "batch \($0)" }, row.map { "row \($0)" }, table].compactMap { $0 }.joined(separator: ", ")
                throw LedgerMergeError(
                    "run \(id) of \(path) fails verification (\(reason)\(place.isEmpty ? "" : "; \(place)")); a tampered or damaged ledger is not merged (nothing was merged): see `wattprint verify --ledger \(path)`"
                )
            }
            if let other = present[run.genesisHash] {
                throw LedgerMergeError("run \(id) of \(path) is already in \(other) (the same genesis hash; nothing was merged)")
            }
            present[run.genesisHash] = "\(path) as run \(id): each ledger is merged once"
        }
        var hostIDs: [Int64: Int64] = [:]
        var hostNames: [String] = []
        for host in try HostRecord.fetchAll(sdb, sql: "SELECT * FROM host") {
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
        let genesisByID = Dictionary(runs.map { ($0.id!, $0.genesisHash) }, uniquingKeysWith: { a, _ in a })
        var result = MergedLedger(path: path, runs: [], hosts: hostNames, rows: 0)
        let insertBatch = try db.makeStatement(
            sql: "INSERT INTO batch (run_id, seq, committed_at, row_count, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)")
        let insertChannel = try db.makeStatement(
            sql: """
                INSERT INTO channel (run_id, idx, batch_seq, row_seq, device, domain, kind, role, unit, source, mode, resolution,
                wrap_range, uncertainty, row_hash, key, device_class, max_watts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertSample = try db.makeStatement(
            sql: "INSERT INTO sample (run_id, batch_seq, row_seq, channel, t_ns, value, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        let insertEvent = try db.makeStatement(
            sql: "INSERT INTO event (run_id, batch_seq, row_seq, t_ns, kind, payload, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for var run in runs {
            let sourceID = run.id!
            guard let host = hostIDs[run.hostID] else {
                throw LedgerMergeError(
                    "run \(sourceID) of \(path) names host \(run.hostID), which is not in that ledger (nothing was merged)")
            }
            // A run merged into the source before keeps the provenance it already has.
            if !run.isMerged {
                run.originRunID = sourceID
                run.originPreviousGenesis = run.previousRunID.flatMap { genesisByID[$0] }
                run.originLedger = origin
                run.mergedAt = mergedAt
            }
            run.id = nil
            run.hostID = host
            try run.insert(db)
            let id = db.lastInsertedRowID
            // Values are copied as stored (DatabaseValue), so every hash still matches its row.
            func copyRows(_ sql: String, _ insert: Statement, _ columns: [String]) throws {
                let rows = try Row.fetchCursor(sdb, sql: sql, arguments: [sourceID])
                while let row = try rows.next() {
                    try insert.execute(
                        arguments: StatementArguments(
                            [id.databaseValue] + columns.map { row.hasColumn($0) ? row[$0] as DatabaseValue : .null }))
                    result.rows += 1
                }
            }
            try copyRows(
                "SELECT * FROM batch WHERE run_id = ?", insertBatch, ["seq", "committed_at", "row_count", "prev_hash", "hash"])
            result.rows -= try Int.fetchOne(sdb, sql: "SELECT COUNT(*) FROM batch WHERE run_id = ?", arguments: [sourceID]) ?? 0
            try copyRows(
                "SELECT * FROM channel WHERE run_id = ?", insertChannel,
                [
                    "idx", "batch_seq", "row_seq", "device", "domain", "kind", "role", "unit", "source", "mode", "resolution", "wrap_range",
                    "uncertainty", "row_hash", "key", "device_class", "max_watts",
                ])
            try copyRows(
                "SELECT batch_seq, row_seq, channel, t_ns, value, row_hash FROM sample WHERE run_id = ?", insertSample,
                ["batch_seq", "row_seq", "channel", "t_ns", "value", "row_hash"])
            try copyRows(
                "SELECT * FROM event WHERE run_id = ?", insertEvent, ["batch_seq", "row_seq", "t_ns", "kind", "payload", "row_hash"])
            result.runs.append((sourceID, id))
        }
        return result
    }
}
