import Foundation

/// The node collector's protocol: JSON lines over a Unix socket. On connecting, a client receives `CollectorHello`;
/// then each `CollectorRequest` line is answered by one line (`CollectorReading` or `CollectorStatus`).
public enum CollectorProtocol {
    /// Raised when the protocol changes incompatibly; a client refuses a collector of another version.
    public static let version = 1
}

/// What a collector shares with every client: its channels, the meters' findings, and how often it reads.
public struct CollectorHello: Codable, Sendable, Equatable {
    public struct Unavailable: Codable, Sendable, Equatable {
        public var meter: String
        public var reason: String
    }

    public var version: Int
    public var pid: Int32
    public var intervalSeconds: Double
    public var channels: [MeterChannel]
    public var blocked: [BlockedChannel]
    public var decisions: [MeterDecision]
    public var unavailable: [Unavailable]
}

/// The ranks of a distributed job, as the launcher (SLURM, torchrun) sets them in the environment.
public struct JobIdentity: Codable, Sendable, Equatable {
    public var slurmJobID: String?
    public var slurmProcID: String?
    public var rank: String?
    public var localRank: String?
    public var worldSize: String?

    /// nil when none of `SLURM_JOB_ID`, `SLURM_PROCID`, `RANK`, `LOCAL_RANK`, `WORLD_SIZE` is set.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> JobIdentity? {
        let id = JobIdentity(
            slurmJobID: env["SLURM_JOB_ID"], slurmProcID: env["SLURM_PROCID"], rank: env["RANK"], localRank: env["LOCAL_RANK"],
            worldSize: env["WORLD_SIZE"])
        return [id.slurmJobID, id.slurmProcID, id.rank, id.localRank, id.worldSize].allSatisfy { $0 == nil } ? nil : id
    }

    /// True when the launcher says this job has several processes (`WORLD_SIZE` or `SLURM_NTASKS` above 1), so ranks
    /// may share this node.
    public static func expectsSeveralRanks(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        [env["WORLD_SIZE"], env["LOCAL_WORLD_SIZE"], env["SLURM_NTASKS"], env["SLURM_STEP_NUM_TASKS"]].contains {
            ($0.flatMap(Int.init) ?? 0) > 1
        }
    }
}

/// One line a client sends.
public struct CollectorRequest: Codable, Sendable, Equatable {
    /// Ask for the latest reading; `fresh` reads the meters now (a run's first and last reading, a window's edge).
    public var read: Bool?
    public var fresh: Bool?
    /// Say who this client is (once, after the hello).
    public var attach: Attach?
    /// Ask how many readings the collector took and how many clients it served.
    public var status: Bool?
    /// The run's energy so far, for the exporter's per-run series (no answer).
    public var progress: RunProgress?

    public struct Attach: Codable, Sendable, Equatable {
        public var pid: Int32
        public var command: String
        public var job: JobIdentity?

        public init(pid: Int32, command: String, job: JobIdentity?) {
            self.pid = pid; self.command = command; self.job = job
        }
    }

    public static func reading(fresh: Bool) -> CollectorRequest { CollectorRequest(read: true, fresh: fresh) }
    public static func reporting(_ progress: RunProgress) -> CollectorRequest { CollectorRequest(progress: progress) }
    public static let statusRequest = CollectorRequest(status: true)
}

/// A run's energy so far, as its own sampler integrates it: what it counted on the host, and the CPU energy its
/// process tree's share of the host's busy CPU time attributes to it (`RunEnergy`'s rule, over the run so far).
public struct RunProgress: Codable, Sendable, Equatable {
    public var countedJoules: Double
    public var hostCPUJoules: Double
    public var attributedCPUJoules: Double
    public var seconds: Double

    public init(countedJoules: Double, hostCPUJoules: Double, attributedCPUJoules: Double, seconds: Double) {
        self.countedJoules = countedJoules; self.hostCPUJoules = hostCPUJoules; self.attributedCPUJoules = attributedCPUJoules
        self.seconds = seconds
    }
}

/// A run attached to the collector, and its latest progress.
public struct AttachedRun: Codable, Sendable, Equatable {
    public var run: CollectorRequest.Attach
    public var progress: RunProgress?
}

/// The latest reading: the collector's sample time (`CLOCK_MONOTONIC`, ns) and one value per channel of the hello
/// (nil where the read failed).
public struct CollectorReading: Codable, Sendable, Equatable {
    public var tNs: Int64
    public var values: [Double?]
}

/// The collector's own account.
public struct CollectorStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    /// Readings of the hardware meters taken so far (its own ticks and fresh reads).
    public var readings: Int
    /// Clients connected now, and ever.
    public var clients: Int
    public var clientsEver: Int
    public var attached: [AttachedRun]
    public var uptimeSeconds: Double
}
