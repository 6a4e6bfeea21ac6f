import Foundation
import Measures
import Meters

/// A run's attributed CPU energy while it runs, by `RunEnergy`'s rule (the host's counted CPU energy times the
/// process tree's share of the host's busy CPU time, over the run so far), from the sampler's own stream: what a
/// run reports to the node's collector for the exporter's per-run series. The sealed figure is `RunEnergy`'s.
public final class LiveAttribution: SampleSink, @unchecked Sendable {
    private let lock = NSLock()
    private var isCPUEnergy: [Bool] = []
    private var treeChannel: Int?
    private var hostChannel: Int?
    private var firstTree: Double?, lastTree: Double?, firstHost: Double?, lastHost: Double?
    private var counted = 0.0
    private var cpu = 0.0
    private var firstNs: Int64?, lastNs: Int64?

    public init() {}

    public func register(_ channels: [MeterChannel]) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        let base = isCPUEnergy.count
        for (k, c) in channels.enumerated() {
            isCPUEnergy.append((c.deviceClass == .cpuPackage || c.deviceClass == .hostCPU) && c.kind != .cpuTime && c.kind != .context)
            if c.kind == .cpuTime && c.deviceClass == .processTree && treeChannel == nil { treeChannel = base + k }
            if c.kind == .cpuTime && c.deviceClass == .hostCPU && hostChannel == nil { hostChannel = base + k }
        }
        return channels.indices.map { base + $0 }
    }

    public func record(channel: Int, tNs: Int64, value: Double) {
        lock.lock(); defer { lock.unlock() }
        if firstNs == nil { firstNs = tNs }
        lastNs = tNs
        if channel == treeChannel {
            if firstTree == nil { firstTree = value }
            lastTree = value
        } else if channel == hostChannel {
            if firstHost == nil { firstHost = value }
            lastHost = value
        }
    }

    public func energy(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double) {
        lock.lock(); defer { lock.unlock() }
        self.counted += counted
        if isCPUEnergy[channel] { cpu += counted }
    }

    public func event(tNs: Int64, _ event: SamplerEvent) {}
    public func flush() throws {}

    public var progress: RunProgress {
        lock.lock(); defer { lock.unlock() }
        let tree = (lastTree ?? 0) - (firstTree ?? 0), host = (lastHost ?? 0) - (firstHost ?? 0)
        let share = host > 0 ? min(max(tree / host, 0), 1) : 0
        return RunProgress(
            countedJoules: counted, hostCPUJoules: cpu, attributedCPUJoules: cpu * share,
            seconds: Double((lastNs ?? 0) - (firstNs ?? 0)) / 1e9)
    }
}
