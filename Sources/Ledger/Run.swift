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
    /// `CLOCK_MONOTONIC` at `startedAt`, so sample times (monotonic ns) map to wall-clock time.
    public var monotonicOriginNs: Int64
    public var exitCode: Int32?
    public var genesisHash: Data
    public var sealHash: Data?

    enum CodingKeys: String, CodingKey {
        case id, hostID = "host_id", startedAt = "started_at", endedAt = "ended_at", command, region, status, pid
        case monotonicOriginNs = "monotonic_origin_ns", exitCode = "exit_code"
        case genesisHash = "genesis_hash", sealHash = "seal_hash"
    }

    /// Canonical text of the run's header, the first link of its chain.
    func genesisCanonical(host: HostRecord) -> String {
        "R|\(id ?? -1)|\(startedAt)|\(command)|\(region ?? "")|\(pid)|\(monotonicOriginNs)|" + host.canonical
    }
}
