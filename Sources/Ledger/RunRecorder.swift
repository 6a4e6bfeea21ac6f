import Foundation
import GRDB

/// Appends one run's channels, samples and events to the ledger in hash-chained batches.
///
/// Rows are buffered in memory and committed by `flush()` in one transaction per batch; the chain only
/// advances once SQLite has committed, so a failed or interrupted flush leaves the chain consistent and the
/// rows still buffered for the next try. Safe to call from the sampler thread and the main thread at once.
public final class RunRecorder: @unchecked Sendable {
    public let runID: Int64
    private let ledger: Ledger
    private let lock = NSLock()
    private var previousHash: Data
    private var nextSeq: Int64 = 0
    private var nextChannel = 0
    private var pending: [PendingRow] = []
    private var closed = false

    enum PendingRow {
        case channel(ChannelRecord)
        case sample(SampleRecord)
        case event(EventRecord)

        var canonical: String {
            switch self {
            case let .channel(c): return c.canonical
            case let .sample(s): return s.canonical
            case let .event(e): return e.canonical
            }
        }
    }

    init(ledger: Ledger, runID: Int64, genesis: Data) {
        self.ledger = ledger
        self.runID = runID
        self.previousHash = genesis
    }

    /// Registers a channel and returns its index for `record(sample:)`. The index in `channel` is ignored.
    public func addChannel(_ channel: ChannelRecord) -> Int {
        lock.lock(); defer { lock.unlock() }
        var channel = channel
        channel.index = nextChannel
        nextChannel += 1
        pending.append(.channel(channel))
        return channel.index
    }

    public func record(_ sample: SampleRecord) {
        lock.lock(); pending.append(.sample(sample)); lock.unlock()
    }

    public func record(samples: [SampleRecord]) {
        lock.lock(); pending.append(contentsOf: samples.map(PendingRow.sample)); lock.unlock()
    }

    public func record(_ event: EventRecord) {
        lock.lock(); pending.append(.event(event)); lock.unlock()
    }

    /// Rows waiting for the next batch.
    public var pendingCount: Int { lock.lock(); defer { lock.unlock() }; return pending.count }

    /// Commits everything buffered as one batch. Returns the batch's sequence number, or nil if nothing was pending.
    @discardableResult
    public func flush() throws -> Int64? {
        lock.lock(); defer { lock.unlock() }
        return try flushLocked()
    }

    private func flushLocked() throws -> Int64? {
        if closed { throw LedgerError.runClosed(runID) }
        guard !pending.isEmpty else { return nil }
        let rows = pending
        let seq = nextSeq
        let runID = runID
        let rowHashes = rows.map { HashChain.rowHash($0.canonical) }
        let hash = HashChain.batchHash(previous: previousHash, runID: runID, seq: seq, rowHashes: rowHashes)
        let previous = previousHash
        try ledger.mappingSQLiteErrors {
            try ledger.pool.write { db in
                // Cached statements: the sampler flushes every few seconds, so compiling SQL each row would dominate.
                let insertSample = try db.cachedStatement(
                    sql: "INSERT INTO sample (run_id, batch_seq, row_seq, channel, t_ns, value, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
                let insertEvent = try db.cachedStatement(
                    sql: "INSERT INTO event (run_id, batch_seq, row_seq, t_ns, kind, payload, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
                for (i, row) in rows.enumerated() {
                    let rowHash = rowHashes[i]
                    switch row {
                    case let .channel(c):
                        try db.execute(
                            sql: """
                                INSERT INTO channel (run_id, idx, batch_seq, row_seq, device, domain, kind, role, unit, source, mode,
                                                     resolution, wrap_range, uncertainty, key, device_class, max_watts, row_hash)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                """,
                            arguments: [
                                runID, c.index, seq, i, c.device, c.domain, c.kind.rawValue, c.role.rawValue, c.unit,
                                c.source, c.mode.rawValue, c.resolution, c.wrapRange, c.uncertainty, c.key,
                                c.deviceClass?.rawValue, c.maxWatts, rowHash,
                            ])
                    case let .sample(s):
                        try insertSample.execute(arguments: [runID, seq, i, s.channel, s.tNs, s.value, rowHash])
                    case let .event(e):
                        try insertEvent.execute(arguments: [runID, seq, i, e.tNs, e.kind, e.payload, rowHash])
                    }
                }
                try db.execute(
                    sql: "INSERT INTO batch (run_id, seq, committed_at, row_count, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [runID, seq, LedgerClock.utcString(), rows.count, previous, hash])
            }
        }
        pending.removeAll(keepingCapacity: true)
        previousHash = hash
        nextSeq += 1
        return seq
    }

    /// Flushes what is left and seals the chain. The run takes no rows afterwards.
    public func close(status: Run.Status = .complete, exitCode: Int32? = nil, endedAt: Date = Date()) throws {
        lock.lock(); defer { lock.unlock() }
        if closed { return }
        _ = try flushLocked()
        let ended = LedgerClock.utcString(endedAt)
        let seal = HashChain.seal(last: previousHash, status: status.rawValue, endedAt: ended, exitCode: exitCode)
        let runID = runID
        try ledger.mappingSQLiteErrors {
            try ledger.pool.write { db in
                try db.execute(
                    sql: "UPDATE run SET ended_at = ?, status = ?, exit_code = ?, seal_hash = ? WHERE id = ?",
                    arguments: [ended, status.rawValue, exitCode, seal, runID])
            }
        }
        closed = true
    }
}
