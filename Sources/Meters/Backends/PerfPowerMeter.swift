import CSensors
import Foundation
import Measures

/// One event of the perf `power` PMU, as described in `/sys/bus/event_source/devices/power/events/`.
public struct PerfPowerEvent: Sendable, Equatable {
    /// `energy-pkg`, `energy-ram`, `energy-cores`, `energy-gpu`, `energy-psys`.
    public var name: String
    public var config: UInt64
    /// Joules per count (`2^-32` on current kernels).
    public var scale: Double
    public var unit: String
}

/// Opens and reads perf counters; a seam so tests can stand in for the kernel.
public protocol PerfCounterOpener: Sendable {
    /// Returns a readable handle or the errno of `perf_event_open`.
    func open(type: UInt32, config: UInt64, cpu: Int32) -> Result<Int32, PerfOpenError>
    func read(_ handle: Int32) -> UInt64?
    func close(_ handle: Int32)
}

public struct PerfOpenError: Error, Equatable, Sendable {
    public var errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}

/// The real kernel: `perf_event_open(2)` system-wide on one CPU of each package.
public struct KernelPerfCounterOpener: PerfCounterOpener {
    public init() {}
    public func open(type: UInt32, config: UInt64, cpu: Int32) -> Result<Int32, PerfOpenError> {
        let fd = wp_perf_event_open(type, config, cpu)
        return fd >= 0 ? .success(fd) : .failure(PerfOpenError(errno: errno))
    }
    public func read(_ handle: Int32) -> UInt64? {
        var value: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &value) { Glibc.read(handle, $0.baseAddress, 8) }
        return n == 8 ? value : nil
    }
    public func close(_ handle: Int32) { _ = Glibc.close(handle) }
}

/// Reads RAPL through the perf `power` PMU. The kernel accumulates the 32-bit MSR into a 64-bit count, so
/// there is no wrap to handle; it needs CAP_PERFMON (or perf_event_paranoid ≤ 0) rather than root-only sysfs.
public final class PerfPowerMeter: Meter {
    public let name = "perf"
    public private(set) var channels: [MeterChannel] = []
    public private(set) var blocked: [BlockedChannel] = []
    public let events: [PerfPowerEvent]
    public let pmuType: UInt32?
    private var opened: [(fd: Int32, scale: Double)] = []
    private let opener: PerfCounterOpener

    public init(paths: SystemPaths, opener: PerfCounterOpener = KernelPerfCounterOpener()) {
        self.opener = opener
        let dir = paths.sys("bus/event_source/devices/power")
        pmuType = (try? KernelFile.uint64(dir + "/type")).map { UInt32($0) }
        events = Self.parseEvents(dir: dir + "/events")
        guard let type = pmuType else { return }
        let cpus = (try? KernelFile.trimmed(dir + "/cpumask")).map(Self.parseCPUList) ?? [0]
        let places = Self.places(cpus: cpus, paths: paths)
        for event in events {
            // psys spans the platform: one counter, whichever CPU reads it.
            for (place, cpu) in zip(places, cpus).prefix(event.name == "energy-psys" ? 1 : cpus.count) {
                let source = "perf power/\(event.name)/ type \(type) config 0x\(String(event.config, radix: 16)) cpu \(cpu)"
                switch opener.open(type: type, config: event.config, cpu: Int32(cpu)) {
                case let .success(fd):
                    opened.append((fd, event.scale))
                    let (device, role) = Self.device(event.name, place: place)
                    let deviceClass = Self.deviceClass(event.name)
                    channels.append(
                        MeterChannel(
                            key: "perf:\(event.name):\(place)", device: device, domain: event.name, kind: .energy, unit: "J",
                            resolution: event.scale, wrapRange: nil, source: source, mode: .measured, role: role,
                            uncertainty: event.name == "energy-ram"
                                ? PowercapRAPLMeter.dramUncertainty : PowercapRAPLMeter.packageUncertainty,
                            uncertaintyNote: "RAPL counter via perf (kernel-accumulated, 64-bit)", deviceClass: deviceClass,
                            maxWatts: deviceClass == .dram
                                ? PowerBound.dram : deviceClass == .platform ? PowerBound.platform : PowerBound.cpuPackage))
                case let .failure(error):
                    blocked.append(
                        BlockedChannel(
                            device: Self.device(event.name, place: place).0, source: source,
                            reason: "perf_event_open failed: \(error.description)",
                            fixes: error.errno == EACCES || error.errno == EPERM
                                ? [
                                    "sudo setcap cap_perfmon=ep $(command -v wattprint) (Linux ≥ 5.8; cap_sys_admin before)",
                                    "or sudo sysctl kernel.perf_event_paranoid=0 (system-wide; weaker)",
                                ]
                                : []))
                }
            }
        }
    }

    deinit { opened.forEach { opener.close($0.fd) } }

    /// Where each CPU of the PMU's cpumask sits: its package id, with its die where several of the listed CPUs
    /// share a package (RAPL per die). Without topology files, the CPU's position in the mask.
    static func places(cpus: [Int], paths: SystemPaths) -> [String] {
        let topology = cpus.map { cpu -> (package: Int, die: Int?)? in
            let dir = paths.sys("devices/system/cpu/cpu\(cpu)/topology")
            guard let package = try? KernelFile.uint64(dir + "/physical_package_id") else { return nil }
            return (Int(package), (try? KernelFile.uint64(dir + "/die_id")).map { Int($0) })
        }
        let fallback = cpus.indices.map { "\($0)" }
        guard topology.allSatisfy({ $0 != nil }) else { return fallback }
        let known = topology.map { $0! }
        guard Set(known.map(\.package)).count < known.count else { return known.map { "\($0.package)" } }
        let places = known.map { "\($0.package)-die-\($0.die.map(String.init) ?? "?")" }
        // Dies that cannot be told apart (no die_id) fall back to the mask position rather than share a key.
        return Set(places).count == places.count && !places.contains { $0.hasSuffix("?") } ? places : fallback
    }

    static func device(_ event: String, place: String) -> (String, ChannelRole) {
        switch event {
        case "energy-pkg": return ("cpu-package-\(place)", .total)
        case "energy-ram": return ("dram-\(place)", .total)
        case "energy-cores": return ("cpu-cores-\(place)", .detail)
        case "energy-gpu": return ("igpu-\(place)", .detail)
        case "energy-psys": return ("platform", .detail)
        default: return ("perf-\(event)-\(place)", .detail)
        }
    }

    static func deviceClass(_ event: String) -> DeviceClass {
        switch event {
        case "energy-pkg": return .cpuPackage
        case "energy-ram": return .dram
        case "energy-cores": return .cpuSubdomain
        case "energy-gpu": return .integratedGPU
        case "energy-psys": return .platform
        default: return .other
        }
    }

    /// When powercap counts too, perf channels become detail (a cross-check), except for `devices`, where perf
    /// keeps counting because powercap cannot handle their wraps.
    public func demoteToCrossCheck(keeping devices: Set<String> = []) {
        for i in channels.indices where channels[i].role == .total && !devices.contains(channels[i].device) {
            channels[i].role = .detail
            channels[i].uncertaintyNote += "; cross-check of the powercap counter"
        }
    }

    /// Parses `event=0x02` config strings, `.scale` and `.unit` files.
    static func parseEvents(dir: String) -> [PerfPowerEvent] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.filter { !$0.contains(".") }.sorted().compactMap { name in
            guard let spec = try? KernelFile.trimmed(dir + "/" + name),
                let config = parseConfig(spec)
            else { return nil }
            let scale = (try? KernelFile.trimmed(dir + "/" + name + ".scale")).flatMap(Double.init) ?? 0x1p-32
            let unit = (try? KernelFile.trimmed(dir + "/" + name + ".unit")) ?? "Joules"
            return PerfPowerEvent(name: name, config: config, scale: scale, unit: unit)
        }
    }

    static func parseConfig(_ spec: String) -> UInt64? {
        for term in spec.split(separator: ",") {
            let kv = term.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0] == "event" else { continue }
            let v = kv[1].hasPrefix("0x") ? UInt64(kv[1].dropFirst(2), radix: 16) : UInt64(kv[1])
            return v
        }
        return nil
    }

    /// `0,28` or `0-3,8` → CPU numbers.
    static func parseCPUList(_ text: String) -> [Int] {
        text.split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
            return bounds.count == 1 ? bounds : []
        }
    }

    public func read(into values: inout [Double?], at offset: Int) {
        for (i, counter) in opened.enumerated() {
            values[offset + i] = opener.read(counter.fd).map { Double($0) * counter.scale }
        }
    }
}
