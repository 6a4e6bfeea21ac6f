import Foundation
import GRDB
import GRDBSQLite
#if canImport(Glibc)
    import Glibc
    import Measures
#endif

/// The embedded SQLite store of runs, samples and events, hash-chained per run.
///
/// Opening never damages a file it does not understand: a non-SQLite file, another program's database,
/// or a ledger from a newer wattprint is refused with a `LedgerError` before anything is written.
public final class Ledger: @unchecked Sendable {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if `create`) the ledger at `path`, migrating an older schema forward.
    public init(path: String, create: Bool = true) throws {
        self.path = path
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists && isDir.boolValue {
            throw LedgerError.cannotCreate(path: path, reason: "it is a directory")
        }
        if exists {
            // SQLite takes an empty file for a new database: a command that only reads must not turn a truncated ledger
            // into a fresh, empty one that reads as "no runs yet".
            if !create, ((try? fm.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue == 0 {
                throw LedgerError.empty(path: path)
            }
            try Ledger.checkHeader(path: path)
            try Ledger.inspectReadOnly(path: path)
        } else {
            guard create else { throw LedgerError.missing(path: path) }
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty {
                do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                    throw LedgerError.cannotCreate(path: path, reason: "cannot create directory \(dir) (\(Ledger.reason(error)))")
                }
            }
            if access(dir.isEmpty ? "." : dir, W_OK) != 0 {
                throw LedgerError.cannotCreate(path: path, reason: "directory \(dir) is not writable")
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = "wattprint-ledger"
        pool = try Ledger.openPool(path: path, configuration: config)
        try migrate()
    }

    /// Switching a new file to WAL takes a lock that SQLite's busy timeout does not wait for; a second process
    /// creating the same ledger at that instant retries.
    private static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        do { return try retryingWhileBusy { try DatabasePool(path: path, configuration: configuration) } } catch {
            throw LedgerError.cannotCreate(path: path, reason: Ledger.reason(error))
        }
    }

    /// Retries `body` for up to about a second while another process holds a lock SQLite's busy timeout cannot wait on.
    private static func retryingWhileBusy<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do { return try body() } catch let error as DatabaseError
                where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && attempt < 50
            {
                attempt += 1
                usleep(20_000)
            }
        }
    }

    /// Two processes may create the same new ledger at once; the loser of that race finds the schema already
    /// applied when it tries again.
    private func migrate() throws {
        try mappingSQLiteErrors {
            var attempt = 0
            while true {
                do { return try Schema.migrator.migrate(pool) } catch is DatabaseError where attempt < 5 {
                    attempt += 1
                    usleep(useconds_t(20_000 * attempt))
                }
            }
        }
    }

    /// Looks at an existing file through a read-only connection, so a file we refuse is never written to
    /// (a read-write WAL connection would rewrite its header).
    static func inspectReadOnly(path: String) throws {
        var config = Configuration()
        config.readonly = true
        let migrator = Schema.migrator
        let state: (superseded: Bool, foreign: Bool, unknown: [String])
        do {
            state = try retryingWhileBusy {
                let queue = try DatabaseQueue(path: path, configuration: config)
                defer { try? queue.close() }
                return try queue.read { db in
                    let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                    let hasMigrations = tables.contains("grdb_migrations")
                    guard hasMigrations else { return (false, !tables.isEmpty, []) }
                    let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                    let known = Set(migrator.migrations)
                    return (try migrator.hasBeenSuperseded(db), false, applied.filter { !known.contains($0) })
                }
            }
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_NOTADB { throw LedgerError.notADatabase(path: path) }
            if error.resultCode == .SQLITE_CORRUPT { throw LedgerError.damaged(path: path, detail: error.message ?? "corrupt") }
            throw LedgerError.cannotCreate(path: path, reason: Ledger.reason(error))
        }
        if state.foreign { throw LedgerError.notAWattprintLedger(path: path) }
        if state.superseded { throw LedgerError.newerSchema(path: path, unknownMigrations: state.unknown) }
    }

    /// SQLite files start with these 16 bytes; anything else is refused before SQLite touches it.
    static func checkHeader(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LedgerError.cannotCreate(path: path, reason: "it is not readable")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        if head.isEmpty { return }
        if head != Data("SQLite format 3\0".utf8) { throw LedgerError.notADatabase(path: path) }
    }

    static func reason(_ error: Error) -> String {
        if let db = error as? DatabaseError { return db.message ?? "\(db.resultCode)" }
        if let ns = error as NSError?, let under = ns.userInfo[NSUnderlyingErrorKey] as? NSError {
            return under.localizedDescription
        }
        return (error as NSError).localizedDescription
    }

    /// Runs `body`, turning SQLite errors into a ledger error that names this file.
    func mappingSQLiteErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as LedgerError { throw error } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_NOTADB { throw LedgerError.notADatabase(path: path) }
            if error.resultCode == .SQLITE_CORRUPT { throw LedgerError.damaged(path: path, detail: error.message ?? "corrupt") }
            if error.resultCode == .SQLITE_READONLY || error.resultCode == .SQLITE_CANTOPEN || error.resultCode == .SQLITE_PERM {
                throw LedgerError.cannotCreate(path: path, reason: error.message ?? "\(error.resultCode)")
            }
            throw LedgerError.storage(path: path, problem: Ledger.explain(error))
        }
    }

    /// SQLite's failures in words a user can act on.
    static func explain(_ error: DatabaseError) -> String {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "another process held the ledger's write lock for over 30 s"
        case .SQLITE_FULL: return "the disk is full"
        case .SQLITE_IOERR: return "an I/O error occurred (\(error.message ?? "disk"))"
        case .SQLITE_CORRUPT: return "the database file is corrupt (\(error.message ?? ""))"
        case .SQLITE_CONSTRAINT: return "a row broke the schema's rules (\(error.message ?? ""))"
        default: return error.message ?? "\(error.resultCode)"
        }
    }

    // MARK: Writing

    /// Starts a run and returns the recorder that appends its batches.
    public func beginRun(
        host: HostRecord, command: String, region: String?,
        startedAt: Date = Date(), monotonicOriginNs: Int64 = MonotonicClock.nowNs(),
        pid: Int32 = getpid()
    ) throws -> RunRecorder {
        let (run, genesis) = try mappingSQLiteErrors {
            try pool.write { db -> (Run, Data) in
                var host = host
                if let existing = try HostRecord.filter(
                    sql: """
                        hostname = ? AND cpu_model = ? AND cpu_cores = ? AND memory_bytes = ? AND kernel = ?
                        AND gpus = ? AND tool_version = ? AND boot_id = ?
                        """,
                    arguments: [
                        host.hostname, host.cpuModel, host.cpuCores, host.memoryBytes, host.kernel,
                        host.gpus, host.toolVersion, host.bootID,
                    ]
                ).fetchOne(db) {
                    host = existing
                } else {
                    host.id = nil
                    try host.insert(db)
                    host.id = db.lastInsertedRowID
                }
                let previous = try Row.fetchOne(db, sql: "SELECT id, genesis_hash FROM run ORDER BY id DESC LIMIT 1")
                var run = Run(
                    id: nil, hostID: host.id!, startedAt: LedgerClock.utcString(startedAt), endedAt: nil,
                    command: command, region: region, status: .running, pid: pid,
                    recorderStartTicks: LedgerClock.processStartTicks(pid) ?? 0,
                    previousRunID: previous?["id"], monotonicOriginNs: monotonicOriginNs, exitCode: nil,
                    genesisHash: Data(), sealHash: nil, originRunID: nil, originPreviousGenesis: nil, originLedger: nil, mergedAt: nil)
                try run.insert(db)
                run.id = db.lastInsertedRowID
                let genesis = HashChain.genesis(run.genesisCanonical(host: host, previousGenesis: previous?["genesis_hash"]))
                run.genesisHash = genesis
                try run.update(db)
                return (run, genesis)
            }
        }
        return RunRecorder(ledger: self, runID: run.id!, genesis: genesis)
    }

    /// Moves everything committed from the write-ahead log into the database file itself (SQLite's
    /// `wal_checkpoint(TRUNCATE)`), so the file alone, copied elsewhere, holds every run.
    /// - Throws: `LedgerError` when the ledger cannot be written.
    public func checkpoint() throws {
        try mappingSQLiteErrors { try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) } }
    }

    // MARK: Reading

    public func run(_ id: Int64) throws -> Run {
        guard let run = try mappingSQLiteErrors({ try pool.read { try Run.fetchOne($0, key: id) } }) else {
            throw LedgerError.unknownRun(id)
        }
        return run
    }

    public func host(_ id: Int64) throws -> HostRecord? {
        try mappingSQLiteErrors { try pool.read { try HostRecord.fetchOne($0, key: id) } }
    }

    public func runs() throws -> [Run] {
        try mappingSQLiteErrors { try pool.read { try Run.order(Column("id")).fetchAll($0) } }
    }

    public func channels(run: Int64) throws -> [ChannelRecord] {
        try mappingSQLiteErrors {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM channel WHERE run_id = ? ORDER BY idx", arguments: [run]).map {
                    try Ledger.channel(from: $0, run: run)
                }
            }
        }
    }

    /// All samples of a run in the order they were recorded: tick by tick, so each channel's in time order.
    ///
    /// Read in the table's own order (no index lookups) and stepped with SQLite's API (a long run has millions of
    /// rows); the storage classes are checked, so a row altered to hold text where a number belongs is `corruptRow`,
    /// never a silent conversion.
    public func samples(run: Int64) throws -> [SampleRecord] {
        try mappingSQLiteErrors {
            try pool.read { db in
                var out: [SampleRecord] = []
                let statement = try db.makeStatement(
                    sql: "SELECT channel, t_ns, value FROM sample WHERE run_id = ? ORDER BY batch_seq, row_seq")
                try statement.setArguments([run])
                try SQLiteRows.step(statement) { raw in
                    guard sqlite3_column_type(raw, 0) == SQLITE_INTEGER, sqlite3_column_type(raw, 1) == SQLITE_INTEGER,
                        [SQLITE_FLOAT, SQLITE_INTEGER].contains(sqlite3_column_type(raw, 2))
                    else {
                        throw LedgerError.corruptRow(run: run, table: "sample", column: "channel, t_ns or value")
                    }
                    out.append(
                        SampleRecord(
                            channel: Int(sqlite3_column_int64(raw, 0)), tNs: sqlite3_column_int64(raw, 1),
                            value: sqlite3_column_double(raw, 2)))
                }
                return out
            }
        }
    }

    public func events(run: Int64) throws -> [EventRecord] {
        try mappingSQLiteErrors {
            try pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT run_id, t_ns, kind, payload FROM event WHERE run_id = ? ORDER BY t_ns, batch_seq, row_seq",
                    arguments: [run]
                ).map { try Self.event($0).event }
            }
        }
    }

    /// Every run's events of one kind, or only `runs`' (a report's), by run and then in time order: for questions
    /// across runs (which benchmark measured a findings rerun). SQLite reads the whole event table for it (events have
    /// no index on their kind), which is small beside the samples; rows of other runs are not decoded.
    /// - Throws: `LedgerError.corruptRow` for an event row whose fields do not read; SQLite's errors, mapped.
    public func events(kind: String, runs: [Int64]? = nil) throws -> [(run: Int64, event: EventRecord)] {
        // Run ids are integers, so listing them in the SQL is safe, and it has no bound-parameter limit.
        let only = runs.map { " AND run_id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
        return try mappingSQLiteErrors {
            try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT run_id, t_ns, kind, payload FROM event WHERE kind = ?\(only) ORDER BY run_id, t_ns, batch_seq, row_seq",
                    arguments: [kind]
                ).map(Self.event)
            }
        }
    }

    /// An event row read as (run_id, t_ns, kind, payload).
    /// - Throws: `LedgerError.corruptRow` when a field does not read as its type.
    private static func event(_ row: Row) throws -> (run: Int64, event: EventRecord) {
        let run = Int64.fromDatabaseValue(row[0] as DatabaseValue)
        guard let run, let t = Int64.fromDatabaseValue(row[1] as DatabaseValue), let k = String.fromDatabaseValue(row[2] as DatabaseValue),
            let p = String.fromDatabaseValue(row[3] as DatabaseValue)
        else {
            throw LedgerError.corruptRow(run: run ?? 0, table: "event", column: "run_id, t_ns, kind or payload")
        }
        return (run, EventRecord(tNs: t, kind: k, payload: p))
    }

    /// How many batches a run has committed.
    public func batchCount(run: Int64) throws -> Int {
        try mappingSQLiteErrors {
            try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM batch WHERE run_id = ?", arguments: [run]) ?? 0 }
        }
    }

    /// The status to show: a `running` run whose recorder is gone is `interrupted`.
    public func effectiveStatus(of run: Run) throws -> Run.Status {
        guard run.status == .running else { return run.status }
        guard let host = try host(run.hostID) else { return .interrupted }
        return Ledger.recorderAlive(run: run, host: host) ? .running : .interrupted
    }

    /// Marks the runs whose recorder died as interrupted. Their data stays as it was; only the status changes.
    @discardableResult
    public func markInterruptedRuns() throws -> [Int64] {
        // A merged run is another ledger's record, kept as it was merged.
        let stale = try runs().filter { $0.status == .running && !$0.isMerged }.filter { (try? effectiveStatus(of: $0)) == .interrupted }
        let ids = stale.compactMap(\.id)
        guard !ids.isEmpty else { return [] }
        try mappingSQLiteErrors {
            try pool.write { db in
                for id in ids {
                    try db.execute(sql: "UPDATE run SET status = 'interrupted' WHERE id = ? AND status = 'running'", arguments: [id])
                }
            }
        }
        return ids
    }

    static func recorderAlive(run: Run, host: HostRecord) -> Bool {
        guard host.bootID == LedgerClock.bootID(), host.hostname == ProcessInfo.processInfo.hostName else { return false }
        // A pid can be reused (a container's PID 1 always is): the process must also have started when the recorder did.
        if let ticks = LedgerClock.processStartTicks(run.pid), run.recorderStartTicks != 0, ticks != run.recorderStartTicks { return false }
        if kill(run.pid, 0) == 0 { return !isZombie(run.pid) }
        return errno == EPERM
    }

    private static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// A channel row as a record; a kind, role, mode or class this build does not know (a newer wattprint's) is
    /// refused by name rather than guessed.
    static func channel(from row: Row, run: Int64) throws -> ChannelRecord {
        func known<T: RawRepresentable>(_ column: String, _ type: T.Type) throws -> T where T.RawValue == String {
            let text: String = row[column]
            guard let value = T(rawValue: text) else { throw LedgerError.unknownValue(run: run, column: column, value: text) }
            return value
        }
        let deviceClass: String? = row["device_class"]
        return ChannelRecord(
            index: row["idx"], device: row["device"], domain: row["domain"], kind: try known("kind", ChannelKind.self),
            role: try known("role", ChannelRole.self), unit: row["unit"], source: row["source"],
            mode: try known("mode", MeasurementMode.self), resolution: row["resolution"], wrapRange: row["wrap_range"],
            uncertainty: row["uncertainty"], key: row["key"],
            deviceClass: try deviceClass.map { _ in try known("device_class", DeviceClass.self) },
            maxWatts: row["max_watts"])
    }
}
