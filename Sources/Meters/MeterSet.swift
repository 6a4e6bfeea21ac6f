import Foundation

/// Every meter this host offers, with roles assigned so the `total` channels never overlap.
///
/// The CPU boundary comes from the first of: RAPL via powercap, RAPL via perf (a cross-check when both are
/// readable), hwmon CPU energy drivers, the estimate. GPUs come from NVML. Memory is RAPL DRAM where it exists,
/// else the estimate. Platform meters (psys, ACPI power_meter) overlap all of these and are shown as detail.
public final class MeterSet {
    public let meters: [Meter]
    public let host: HostDescription
    /// What was tried and not found, e.g. "nvml: no NVIDIA driver".
    public let unavailable: [(meter: String, reason: String)]

    public init(meters: [Meter], host: HostDescription, unavailable: [(String, String)] = []) {
        self.meters = meters
        self.host = host
        self.unavailable = unavailable
    }

    public struct Options: Sendable {
        public var paths: SystemPaths
        public var processRoot: Int32?
        public var useLibsensors: Bool
        public var nvmlLibrary: String
        public init(
            paths: SystemPaths = .fromEnvironment(), processRoot: Int32? = nil, useLibsensors: Bool = true,
            nvmlLibrary: String = ProcessInfo.processInfo.environment["WATTPRINT_NVML_LIBRARY"] ?? "libnvidia-ml.so.1"
        ) {
            self.paths = paths; self.processRoot = processRoot; self.useLibsensors = useLibsensors; self.nvmlLibrary = nvmlLibrary
        }
    }

    /// Every meter this machine has: the hardware ones (or the node collector's, when `collector` is given: it reads
    /// them once for every run on the node) and the estimation model, which counts what no hardware channel measures
    /// and carries this run's process-tree CPU time for attribution.
    public static func discover(
        _ options: Options = Options(), perfOpener: PerfCounterOpener = KernelPerfCounterOpener(), collector: CollectorClient? = nil
    ) -> MeterSet {
        let host = HostDescription.current(paths: options.paths)
        var (meters, unavailable) =
            collector.map { client in
                let remote = RemoteMeter(client: client, openDirectly: { hardware(options, perfOpener: perfOpener).meters })
                return ([remote] as [Meter], client.hello.unavailable.map { ($0.meter, $0.reason) })
            }
            ?? hardware(options, perfOpener: perfOpener)
        let totals = meters.flatMap(\.channels).filter { $0.role == .total }
        // A measured CPU (RAPL through powercap or perf, or a hwmon sensor) or DRAM channel replaces its estimate.
        let cpuMeasured = totals.contains { !$0.key.hasPrefix("nvml:") }
        let dramMeasured = totals.contains { ($0.key.hasPrefix("rapl:") || $0.key.hasPrefix("perf:")) && $0.device.hasPrefix("dram") }
        meters.append(
            EstimationMeter(
                paths: options.paths, host: host, cpuCounts: !cpuMeasured, memoryCounts: !dramMeasured, processRoot: options.processRoot))
        return MeterSet(meters: meters, host: host, unavailable: unavailable)
    }

    /// The hardware meters found (powercap, perf, hwmon, NVML), and why each missing one is missing.
    public static func hardware(_ options: Options, perfOpener: PerfCounterOpener = KernelPerfCounterOpener()) -> (
        meters: [Meter], unavailable: [(String, String)]
    ) {
        var meters: [Meter] = []
        var unavailable: [(String, String)] = []

        let powercap = PowercapRAPLMeter(paths: options.paths)
        let perf = PerfPowerMeter(paths: options.paths, opener: perfOpener)
        let powercapCounts = powercap.channels.contains { $0.role == .total }
        if !powercap.channels.isEmpty || !powercap.blocked.isEmpty {
            meters.append(powercap)
        } else {
            unavailable.append(("powercap", "no RAPL zones under \(options.paths.sys("class/powercap"))"))
        }
        if perf.pmuType != nil {
            if powercapCounts {
                // A powercap zone without max_energy_range_uj cannot tell a wrap from a reset; perf's 64-bit
                // count of the same domain can, so perf counts it and powercap becomes its cross-check.
                let rangeless = Set(powercap.channels.filter { $0.role == .total && $0.wrapRange == nil }.map(\.device))
                let perfCounts = rangeless.intersection(perf.channels.filter { $0.role == .total }.map(\.device))
                perf.demoteToCrossCheck(keeping: perfCounts)
                powercap.yieldCounting(of: perfCounts, to: "perf")
            }
            meters.append(perf)
        } else {
            unavailable.append(("perf", "no perf power PMU at \(options.paths.sys("bus/event_source/devices/power"))"))
        }
        let raplCPU = powercapCounts || perf.channels.contains { $0.role == .total }

        if options.useLibsensors && !options.paths.isRealSysfs {
            // libsensors cannot be pointed at another root: beside a fake tree it would mix in this machine's chips.
            unavailable.append(("hwmon", "libsensors reads the real /sys only, and this run reads \(options.paths.sysfs)"))
        } else if options.useLibsensors {
            let hwmon = HwmonSensorsMeter(countsAsCPU: !raplCPU)
            if let err = hwmon.initError {
                unavailable.append(("hwmon", err))
            } else if hwmon.channels.isEmpty && hwmon.blocked.isEmpty {
                unavailable.append(("hwmon", "libsensors found no power or energy sensors"))
            }
            if !hwmon.channels.isEmpty || !hwmon.blocked.isEmpty { meters.append(hwmon) }
        }

        let nvml = NVMLMeter(libraryPath: options.nvmlLibrary)
        if let err = nvml.loadError {
            unavailable.append(("nvml", "\(err)"))
        } else if nvml.channels.isEmpty && nvml.blocked.isEmpty {
            unavailable.append(("nvml", "NVML found no GPU"))
        }
        if !nvml.channels.isEmpty || !nvml.blocked.isEmpty { meters.append(nvml) }
        return (meters, unavailable)
    }

    public var channels: [MeterChannel] { meters.flatMap(\.channels) }

    /// Records a process tree's CPU time from now on, for attribution; call before creating the sampler.
    public func attach(processRoot: Int32, isOurChild: Bool = false, attribution: ProcessAttribution = .processTree) {
        meters.compactMap { $0 as? EstimationMeter }.forEach {
            $0.attach(processRoot: processRoot, isOurChild: isOurChild, attribution: attribution)
        }
    }
    public var blocked: [BlockedChannel] { meters.flatMap(\.blocked) }
    /// What the meters skipped or decided about what counts (mirrored zones, a domain counted by another interface).
    public var decisions: [MeterDecision] { meters.flatMap(\.decisions) }

    /// The longest interval between reads that keeps every wrapping counter exact: half the time in which the
    /// fastest-wrapping counter could wrap once at its device's bound.
    public var maxSafeInterval: Double? {
        channels.compactMap { $0.wrapBoundSeconds.map { $0 * Wraparound.safetyMargin } }.min()
    }

    /// Reads every meter once, into one flat array in `channels` order.
    public func read(into values: inout [Double?]) {
        var offset = 0
        for meter in meters {
            meter.read(into: &values, at: offset)
            offset += meter.channels.count
        }
    }

    private var lastReadNs: [Int64] = []
    private var lastContextNs: [Int64] = []
    private var isContext: [Bool] = []
    /// How often context channels (temperature, utilisation, memory in use) are read.
    public static let contextPeriod = 1.0

    /// Reads the meters that are due at `nowNs` (all of them when `force`), marking in `read` which channels were
    /// read, so a meter skipped for its `period` is not mistaken for a gap.
    public func read(into values: inout [Double?], read: inout [Bool], nowNs: Int64, force: Bool) {
        if lastReadNs.count != meters.count {
            lastReadNs = Array(repeating: .min, count: meters.count)
            lastContextNs = lastReadNs
        }
        // Channels are fixed once sampling starts; rebuilt if one was added (a process tree attached) before then.
        if isContext.count != read.count { isContext = channels.map { $0.kind == .context } }
        var offset = 0
        for (m, meter) in meters.enumerated() {
            let n = meter.channels.count
            let due = force || lastReadNs[m] == .min || Double(nowNs - lastReadNs[m]) / 1e9 >= meter.period * 0.999
            let context = force || lastContextNs[m] == .min || Double(nowNs - lastContextNs[m]) / 1e9 >= Self.contextPeriod * 0.999
            if due {
                if force { meter.prepareForcedRead() }
                meter.read(into: &values, at: offset, context: context)
                lastReadNs[m] = nowNs
                if context { lastContextNs[m] = nowNs }
            }
            for i in offset..<(offset + n) { read[i] = due && (context || !isContext[i]) }
            offset += n
        }
    }
}
