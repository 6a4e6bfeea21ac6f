import Crypto
import Foundation
import GRDB
import GRDBSQLite

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
    /// The seal hash, for keeping outside the ledger: a chain rewritten end to end no longer ends in it.
    public var seal: Data?

    public var isIntact: Bool { if case .mismatch = outcome { return false }; return true }

    /// Where and why the chain broke, for a sentence ("batch 3, row 17 (sample): …"); nil for an intact run.
    public var mismatchDescription: String? {
        guard case let .mismatch(batch, row, table, reason) = outcome else { return nil }
        let place = [batch.map { "batch \($0)" }, row.map { "row \($0)" }].compactMap { $0 }.joined(separator: ", ")
        return (place.isEmpty ? "" : place + (table.map { " (\($0))" } ?? "") + ": ") + reason
    }
}

extension Ledger {
    /// Recomputes a run's chain from its raw rows.
    public func verify(run id: Int64) throws -> RunVerification {
        try mappingSQLiteErrors { try pool.read { db in try Ledger.verify(db: db, runID: id) } }
    }

    /// Verifies every run, oldest first.
    public func verifyAll() throws -> [RunVerification] {
        try runs().compactMap(\.id).map { try verify(run: $0) }
    }

    private struct WrongType: Error { let table: String; let rowSeq: Int64?; let column: String }

    /// A column's value, or `WrongType` when someone stored text where a number belongs (GRDB's subscript would trap).
    private static func column<T: DatabaseValueConvertible>(_ row: Row, _ name: String, _ table: String, _ rowSeq: Int64? = nil) throws -> T
    {
        guard let value = T.fromDatabaseValue(row[name] as DatabaseValue) else {
            throw WrongType(table: table, rowSeq: rowSeq, column: name)
        }
        return value
    }

    /// A nullable column's value: nil for NULL, `WrongType` for a value of another type.
    private static func optionalColumn<T: DatabaseValueConvertible>(_ row: Row, _ name: String, _ table: String, _ rowSeq: Int64? = nil)
        throws -> T?
    {
        let raw = row[name] as DatabaseValue
        if raw.isNull { return nil }
        guard let value = T.fromDatabaseValue(raw) else { throw WrongType(table: table, rowSeq: rowSeq, column: name) }
        return value
    }

    static func verify(db: Database, runID: Int64) throws -> RunVerification {
        guard let run = try Run.fetchOne(db, key: runID) else { throw LedgerError.unknownRun(runID) }
        var result = RunVerification(runID: runID, outcome: .ok, batches: 0, rows: 0, seal: run.sealHash)
        func fail(_ batch: Int64?, _ row: Int64?, _ table: String?, _ reason: String) -> RunVerification {
            result.outcome = .mismatch(batch: batch, row: row, table: table, reason: reason); return result
        }
        guard let host = try HostRecord.fetchOne(db, key: run.hostID) else {
            return fail(nil, nil, "host", "the run's host row \(run.hostID) is missing")
        }
        var previousGenesis: Data?
        if let previousID = run.previousRunID {
            if run.isMerged {
                // The run before it in its own ledger was merged with it: found by its genesis hash.
                guard let previous = run.originPreviousGenesis,
                    try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM run WHERE genesis_hash = ?)", arguments: [previous]) == true
                else {
                    return fail(
                        nil, nil, "run",
                        "run \(previousID) of \(run.originLedger ?? "its ledger"), which this merged run's chain links to, is not in this ledger"
                    )
                }
                previousGenesis = previous
            } else {
                guard let previous = try Data.fetchOne(db, sql: "SELECT genesis_hash FROM run WHERE id = ?", arguments: [previousID]) else {
                    return fail(nil, nil, "run", "run \(previousID), which this run's chain links to, was deleted")
                }
                previousGenesis = previous
            }
        }
        // A run copied under another id (or a merged run given a forged origin) keeps its genesis hash: one chain, one run.
        if let twin = try Int64.fetchOne(
            db, sql: "SELECT id FROM run WHERE genesis_hash = ? AND id != ? LIMIT 1", arguments: [run.genesisHash, runID])
        {
            return fail(nil, nil, "run", "run \(twin) has the same genesis hash: one of the two is a copy")
        }
        var previous = HashChain.genesis(run.genesisCanonical(host: host, previousGenesis: previousGenesis))
        if previous != run.genesisHash {
            return fail(nil, nil, "run", "the run header, its host description or the run before it was altered (genesis hash differs)")
        }
        let batches = try Row.fetchAll(db, sql: "SELECT * FROM batch WHERE run_id = ? ORDER BY seq", arguments: [runID])
        do {
            for (expectedSeq, batch) in batches.enumerated() {
                let seq: Int64 = try column(batch, "seq", "batch")
                if seq != Int64(expectedSeq) { return fail(Int64(expectedSeq), nil, "batch", "batch \(expectedSeq) is missing") }
                let prevHash: Data = try column(batch, "prev_hash", "batch")
                if prevHash != previous { return fail(seq, nil, "batch", "the link to the previous batch was altered") }
                var rows: [(rowSeq: Int64, table: String, digest: SHA256.Digest, matches: Bool)] = []
                func add(_ rowSeq: Int64, _ table: String, canonical: String, stored: Data) {
                    var text = canonical
                    let digest = text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
                    rows.append((rowSeq, table, digest, Data(digest) == stored))
                }
                for row in try Row.fetchAll(db, sql: "SELECT * FROM channel WHERE run_id = ? AND batch_seq = ?", arguments: [runID, seq]) {
                    let rs: Int64 = try column(row, "row_seq", "channel")
                    let canonical = ChannelRecord.canonical(
                        index: try column(row, "idx", "channel", rs), device: try column(row, "device", "channel", rs),
                        domain: try column(row, "domain", "channel", rs), kind: try column(row, "kind", "channel", rs),
                        role: try column(row, "role", "channel", rs), unit: try column(row, "unit", "channel", rs),
                        source: try column(row, "source", "channel", rs), mode: try column(row, "mode", "channel", rs),
                        resolution: try optionalColumn(row, "resolution", "channel", rs),
                        wrapRange: try optionalColumn(row, "wrap_range", "channel", rs),
                        uncertainty: try column(row, "uncertainty", "channel", rs),
                        key: try optionalColumn(row, "key", "channel", rs),
                        deviceClass: try optionalColumn(row, "device_class", "channel", rs),
                        maxWatts: try optionalColumn(row, "max_watts", "channel", rs))
                    add(rs, "channel", canonical: canonical, stored: try column(row, "row_hash", "channel", rs))
                }
                // Samples are most of a long run's rows: stepped with SQLite's API, storage classes checked.
                let samples = try db.makeStatement(
                    sql: "SELECT row_seq, channel, t_ns, value, row_hash FROM sample WHERE run_id = ? AND batch_seq = ?")
                try samples.setArguments([runID, seq])
                try SQLiteRows.step(samples) { raw in
                    let rs = sqlite3_column_type(raw, 0) == SQLITE_INTEGER ? sqlite3_column_int64(raw, 0) : nil
                    guard let rs, sqlite3_column_type(raw, 1) == SQLITE_INTEGER, sqlite3_column_type(raw, 2) == SQLITE_INTEGER,
                        [SQLITE_FLOAT, SQLITE_INTEGER].contains(sqlite3_column_type(raw, 3)), sqlite3_column_type(raw, 4) == SQLITE_BLOB
                    else { throw WrongType(table: "sample", rowSeq: rs, column: "a value") }
                    let digest = HashChain.sampleHash(
                        channel: Int(sqlite3_column_int64(raw, 1)), tNs: sqlite3_column_int64(raw, 2), value: sqlite3_column_double(raw, 3))
                    let storedBytes = Int(sqlite3_column_bytes(raw, 4))
                    let matches =
                        storedBytes == SHA256.byteCount
                        && digest.withUnsafeBytes { memcmp($0.baseAddress!, sqlite3_column_blob(raw, 4), SHA256.byteCount) == 0 }
                    rows.append((rs, "sample", digest, matches))
                }
                for row in try Row.fetchAll(db, sql: "SELECT * FROM event WHERE run_id = ? AND batch_seq = ?", arguments: [runID, seq]) {
                    let rs: Int64 = try column(row, "row_seq", "event")
                    let e = EventRecord(
                        tNs: try column(row, "t_ns", "event", rs), kind: try column(row, "kind", "event", rs),
                        payload: try column(row, "payload", "event", rs))
                    add(rs, "event", canonical: e.canonical, stored: try column(row, "row_hash", "event", rs))
                }
                rows.sort { $0.rowSeq < $1.rowSeq }
                var hashes: [SHA256.Digest] = []
                hashes.reserveCapacity(rows.count)
                for (expectedRow, row) in rows.enumerated() {
                    if row.rowSeq != Int64(expectedRow) {
                        return fail(seq, Int64(expectedRow), nil, "row \(expectedRow) is missing or duplicated")
                    }
                    if !row.matches {
                        return fail(seq, row.rowSeq, row.table, "the \(row.table) row's values do not match its recorded hash")
                    }
                    hashes.append(row.digest)
                }
                let count: Int = try column(batch, "row_count", "batch")
                if count != rows.count {
                    return fail(seq, nil, "batch", "the batch recorded \(count) rows but \(rows.count) are present")
                }
                let recomputed = HashChain.batchHash(previous: previous, runID: run.chainID ?? runID, seq: seq, rowDigests: hashes)
                let stored: Data = try column(batch, "hash", "batch")
                if recomputed != stored { return fail(seq, nil, "batch", "the batch hash does not match its rows") }
                previous = recomputed
                result.batches += 1
                result.rows += rows.count
            }
        } catch let wrong as WrongType {
            return fail(nil, wrong.rowSeq, wrong.table, "a \(wrong.table) row's \(wrong.column) is not of its recorded type")
        }
        // Rows that no batch of the chain covers (a batch number past the end, negative, or not a number at all).
        for table in ["channel", "sample", "event"] {
            if let orphan = try Row.fetchOne(
                db,
                sql: """
                    SELECT batch_seq FROM \(table) WHERE run_id = ? AND batch_seq NOT IN (SELECT seq FROM batch WHERE run_id = ?) LIMIT 1
                    """, arguments: [runID, runID])
            {
                let seq = Int64.fromDatabaseValue(orphan[0] as DatabaseValue)
                return fail(seq, nil, table, "\(table) rows claim batch \(seq.map(String.init) ?? "?"), which the chain does not contain")
            }
        }
        let sealed = run.sealHash != nil || run.endedAt != nil || run.exitCode != nil
        if sealed {
            guard let seal = run.sealHash, let ended = run.endedAt,
                HashChain.seal(last: previous, status: run.status.rawValue, endedAt: ended, exitCode: run.exitCode) == seal
            else {
                return fail(
                    nil, nil, "run",
                    "the run was closed but its seal no longer matches the chain and its end (batches removed, or status, end time or exit code altered)"
                )
            }
            if run.status == .interrupted { result.outcome = .interrupted }
            return result
        }
        if run.status == .complete { return fail(nil, nil, "run", "marked complete but never sealed") }
        result.outcome = (run.status == .running && Ledger.recorderAlive(run: run, host: host)) ? .recording : .interrupted
        return result
    }
}
