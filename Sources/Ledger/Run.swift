import Foundation
import GRDB

/// One recorded piece of work: a benchmark, a wrapped command, a measurement window.
public struct Run: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run"

    public enum Status: String, Codable, Sendable, DatabaseValueConvertible {
        /// The recorder is (or was, until it died) writing this run.
        case running
        /// Closed normally; the chain is sealed.
        case complete
        /// The recorder died before closing; the batches written up to then are intact.
        case interrupted
    }

    public var id: Int64?
    public var hostID: Int64
    public var startedAt: String
    public var endedAt: String?
    public var command: String
    public var region: String?
    public var status: Status
    public var pid: Int32
    /// The recorder's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): with the pid and boot id it
    /// tells a live recorder from a reused pid.
    public var recorderStartTicks: Int64
    /// The run recorded just before this one in this ledger, whose genesis hash this run's genesis includes, so
    /// deleting a run breaks the next run's chain.
    public var previousRunID: Int64?
    /// `CLOCK_MONOTONIC` at `startedAt`, so sample times (monotonic ns) map to wall-clock time.
    public var monotonicOriginNs: Int64
    public var exitCode: Int32?
    public var genesisHash: Data
    public var sealHash: Data?
    /// For a run merged from another ledger (`Ledger.merge`): its id there, which its chain was hashed with; the
    /// genesis hash of the run before it there (`previousRunID` is that ledger's id); the ledger it came from; when.
    /// Nil for runs recorded here.
    public var originRunID: Int64?
    public var originPreviousGenesis: Data?
    public var originLedger: String?
    public var mergedAt: String?

    /// The id the run's chain was hashed with: its own, or its id in the ledger it was merged from.
    public var chainID: Int64? { originRunID ?? id }
    public var isMerged: Bool { originRunID != nil }

    enum CodingKeys: String, CodingKey {
        case id, hostID = "host_id", startedAt = "started_at", endedAt = "ended_at", command, region, status, pid
        case recorderStartTicks = "recorder_start_ticks", previousRunID = "previous_run_id"
        case monotonicOriginNs = "monotonic_origin_ns", exitCode = "exit_code"
        case genesisHash = "genesis_hash", sealHash = "seal_hash"
        case originRunID = "origin_run_id", originPreviousGenesis = "origin_previous_genesis", originLedger = "origin_ledger"
        case mergedAt = "merged_at"
    }

    /// Canonical text of the run's header, the first link of its chain.
    func genesisCanonical(host: HostRecord, previousGenesis: Data?) -> String {
        Canonical.record(
            "R",
            [
                "\(chainID ?? -1)", startedAt, command, region ?? "", "\(pid)", "\(recorderStartTicks)",
                "\(monotonicOriginNs)", previousRunID.map { "\($0)" } ?? "", previousGenesis?.hex ?? "", host.canonical,
            ])
    }
}
