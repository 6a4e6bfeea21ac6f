import Foundation

/// Stands in where no counter exists: CPU power from utilisation (`CPUPowerModel`) and memory power from memory in
/// use (`MemoryPowerModel`), both flagged `estimated`, plus the raw CPU-time counters they are computed from, so a
/// report can recompute the estimate and attribute host energy to a process tree.
///
/// Each estimate is the mean power over the interval since the previous read (kind `intervalPower`), so its energy
/// is an exact rectangle sum. The first read has no interval yet and reports 0 W: the rectangle rule never uses a
/// series' first value, so it only marks where the first interval begins.
public final class EstimationMeter: Meter {
    public let name = "estimate"
    public private(set) var channels: [MeterChannel] = []
    public let blocked: [BlockedChannel] = []
    public let cpuModel: CPUPowerModel
    /// Refreshed once a second whatever the sampler's rate. Nothing is lost: the model is linear in utilisation, so
    /// the energy over any span is the same however it is cut into intervals (Σ(P_idle + k·u_i)·Δt_i = P_idle·T +
    /// k·busy CPU-seconds ÷ CPUs); measurement windows force a read at their edges. Reading `/proc` more often only
    /// costs CPU (the kernel builds `/proc/stat` and `/proc/meminfo` afresh on each read).
    public let period = 1.0
    /// Estimates come from a model whose output is bounded by construction; the bound only has to exceed it.
    static let bound = PowerBound.platform
    let paths: SystemPaths
    let statPath: String
    let meminfoPath: String
    private(set) var tree: ProcessTreeCPU?
    private(set) var cgroup: CgroupScope?
    private var last: ProcStat.HostTimes?
    private var lastUtilisation = 0.0

    /// - Parameters:
    ///   - cpuCounts: whether the CPU estimate is part of the total (no measured CPU channel exists).
    ///   - memoryCounts: whether the memory estimate is part of the total (no measured DRAM channel exists).
    ///   - processRoot: a process whose tree's CPU time is recorded for attribution.
    public init(
        paths: SystemPaths, host: HostDescription, cpuCounts: Bool, memoryCounts: Bool, processRoot: Int32? = nil,
        table: CPUTDPTable = .bundled
    ) {
        self.paths = paths
        statPath = paths.proc("stat")
        meminfoPath = paths.proc("meminfo")
        cpuModel = CPUPowerModel.forHost(host, table: table)
        channels = [
            MeterChannel(
                key: "estimate:cpu", device: "host-cpu", domain: "cpu-utilisation-model", kind: .intervalPower, unit: "W",
                source: "estimate from \(paths.proc("stat")): \(cpuModel.basis)", mode: .estimated,
                role: cpuCounts ? .total : .detail, uncertainty: cpuModel.uncertainty, uncertaintyNote: cpuModel.basis,
                deviceClass: .hostCPU, maxWatts: Self.bound),
            MeterChannel(
                key: "estimate:memory", device: "host-memory", domain: "memory-in-use-model", kind: .intervalPower, unit: "W",
                source: "estimate from \(paths.proc("meminfo")): 0.392 W/GB in use (Cloud Carbon Footprint)", mode: .estimated,
                role: memoryCounts ? .total : .detail, uncertainty: MemoryPowerModel.uncertainty,
                uncertaintyNote: "0.392 W per GB in use (CCF), ±50 %", deviceClass: .hostMemory, maxWatts: Self.bound),
            MeterChannel(
                key: "procfs:host-busy", device: "host-cpu", domain: "busy-cpu-seconds", kind: .cpuTime, unit: "s",
                resolution: 1 / ProcStat.ticksPerSecond, source: paths.proc("stat"), mode: .measured, role: .context,
                uncertainty: 0, uncertaintyNote: "kernel CPU accounting", deviceClass: .hostCPU, maxWatts: Self.bound),
        ]
        if let processRoot { attach(processRoot: processRoot) }
    }

    /// Starts recording a process tree's CPU time, for a process launched after discovery (so that meter start-up
    /// never delays the measured program's first instructions being sampled). Call before the sampler starts.
    /// - Parameter attribution: how the tree is found: the command's cgroup, or `/proc` (with this process a child
    ///   subreaper, whose adopted orphans belong to the tree).
    public func attach(processRoot: Int32, isOurChild: Bool = false, attribution: ProcessAttribution = .processTree) {
        let source: String
        switch attribution {
        case let .cgroup(scope):
            cgroup = scope
            tree = nil
            source = scope.path + "/cpu.stat usage_usec (cgroup v2 of the command)"
        case let .subreaper(parent):
            cgroup = nil
            tree = ProcessTreeCPU(root: processRoot, paths: paths, isOurChild: isOurChild, adoptiveParent: parent)
            source = paths.proc("\(processRoot)/stat") + " and descendants, with orphans re-parented to wattprint (child subreaper)"
        case .processTree:
            cgroup = nil
            tree = ProcessTreeCPU(root: processRoot, paths: paths, isOurChild: isOurChild)
            source = paths.proc("\(processRoot)/stat") + " and descendants"
        }
        channels.removeAll { $0.kind == .cpuTime && $0.deviceClass == .processTree }
        channels.append(
            MeterChannel(
                key: "procfs:tree-\(processRoot)", device: "process-tree-\(processRoot)", domain: "busy-cpu-seconds",
                kind: .cpuTime, unit: "s", resolution: 1 / ProcStat.ticksPerSecond, source: source, mode: .measured,
                role: .context, uncertainty: 0, uncertaintyNote: "kernel CPU accounting",
                deviceClass: .processTree, maxWatts: Self.bound))
    }

    /// A forced read (the run's last, a window's edge) finds every descendant, not only those known at the last scan.
    public func prepareForcedRead() { tree?.rescanOnNextRead() }

    public func read(into values: inout [Double?], at offset: Int) {
        guard let now = try? ProcStat.host(path: statPath) else { return }
        values[offset + 2] = now.busy
        if let cgroup { values[offset + 3] = cgroup.usageSeconds() } else if let tree { values[offset + 3] = tree.seconds() }
        defer { last = now }
        guard let last else {
            values[offset + 0] = 0
            values[offset + 1] = 0
            return
        }
        // Under one kernel tick (10 ms) since the last read, /proc/stat has not moved: keep the last utilisation.
        let u = now.total > last.total ? (now.busy - last.busy) / (now.total - last.total) : lastUtilisation
        lastUtilisation = u
        values[offset + 0] = cpuModel.watts(utilisation: u)
        values[offset + 1] = memoryInUseGB().map { $0 * MemoryPowerModel.wattsPerGB }
    }

    /// MemTotal − MemAvailable from the first three lines of `/proc/meminfo` (MemTotal, MemFree, MemAvailable on
    /// Linux ≥ 3.14), parsed in place.
    func memoryInUseGB() -> Double? {
        KernelFile.withPrefix(meminfoPath, maxBytes: 256) { bytes -> Double? in
            var f = ByteFields(bytes)
            var total: UInt64?, available: UInt64?
            for line in 0..<3 {
                let labelStart = f.position
                f.skip()
                let isAvailable = f.position - labelStart >= 4 && bytes[f.position - 2] == 101 && bytes[labelStart + 3] == 65 // "MemA…e:"
                guard let v = f.next() else { return nil }
                if line == 0 { total = v }
                if line == 2 && isAvailable { available = v }
                while f.position < bytes.count && bytes[f.position] != 10 { f.position += 1 }
                f.position += 1
            }
            guard let total, let available, total >= available else { return nil }
            return Double(total - available) * 1024 / 1e9
        }
    }
}
