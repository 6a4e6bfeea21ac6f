import Foundation
import GRDB

/// The machine a run was recorded on, as it described itself when the run began.
public struct HostRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "host"
    public var id: Int64?
    public var hostname: String
    public var cpuModel: String
    public var cpuCores: Int
    public var memoryBytes: Int64
    public var kernel: String
    public var gpus: String
    public var toolVersion: String
    public var bootID: String

    public init(
        id: Int64? = nil, hostname: String, cpuModel: String, cpuCores: Int, memoryBytes: Int64,
        kernel: String, gpus: String, toolVersion: String, bootID: String
    ) {
        self.id = id; self.hostname = hostname; self.cpuModel = cpuModel; self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes; self.kernel = kernel; self.gpus = gpus
        self.toolVersion = toolVersion; self.bootID = bootID
    }

    enum CodingKeys: String, CodingKey {
        case id, hostname, cpuModel = "cpu_model", cpuCores = "cpu_cores", memoryBytes = "memory_bytes"
        case kernel, gpus, toolVersion = "tool_version", bootID = "boot_id"
    }

    /// Canonical text hashed into a run's genesis, so the host description is tamper-evident too.
    var canonical: String {
        Canonical.record("H", [hostname, cpuModel, "\(cpuCores)", "\(memoryBytes)", kernel, gpus, toolVersion, bootID])
    }
}
