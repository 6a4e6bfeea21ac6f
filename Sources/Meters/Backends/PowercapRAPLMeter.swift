import Foundation
import Measures

/// Reads RAPL energy counters through the powercap sysfs interface (`/sys/class/powercap/intel-rapl*`).
///
/// AMD Zen exposes the same tree (`amd_energy` aside) since Linux 5.8. Counters are microjoules that wrap at
/// `max_energy_range_uj`; the sampler's interval is bounded so that at most one wrap can occur between reads.
public final class PowercapRAPLMeter: Meter {
    public let name = "powercap"
    public let domains: [RAPLDomain]
    public private(set) var channels: [MeterChannel] = []
    public private(set) var blocked: [BlockedChannel] = []
    public let skipped: [(zone: String, reason: String)]
    public private(set) var decisions: [MeterDecision] = []
    private var readable: [RAPLDomain] = []

    /// RAPL's energy accuracy: we take ±5 % as the 90 % band for package and DRAM counters. Hähnel et al.
    /// (2012) and Khan et al. (ACM TOMPECS 2018) found RAPL package readings track external meters within a few
    /// per cent on Haswell and later; DRAM on pre-Haswell client parts is modelled, not measured, so it is wider.
    static let packageUncertainty = 0.05
    static let dramUncertainty = 0.10

    public init(paths: SystemPaths) {
        let found = PowercapDiscovery.discover(paths: paths)
        domains = found.domains
        skipped = found.skipped
        var roles = PowercapDiscovery.roles(found.domains)
        let mirrorOf = PowercapDiscovery.mirrors(found.domains, roles: roles, paths: paths)
        for (mirror, primary) in mirrorOf.sorted(by: { $0.key < $1.key }) {
            roles[mirror] = .detail
            decisions.append(
                MeterDecision(
                    kind: .mirrored, subject: "rapl:\(found.domains[mirror].zone)", counterpart: "rapl:\(found.domains[primary].zone)",
                    reason:
                        "\(found.domains[mirror].name) read the same value as \(found.domains[primary].name) in every reading at discovery and the CPU topology shows no separate die for it: one counter shown twice, counted once"
                ))
        }
        decisions += found.skipped.map { MeterDecision(kind: .skipped, subject: paths.sys("class/powercap/\($0.zone)"), reason: $0.reason) }
        for (index, (domain, role)) in zip(found.domains, roles).enumerated() {
            if let why = domain.unreadable {
                blocked.append(
                    BlockedChannel(
                        device: Self.device(domain), source: domain.energyPath,
                        reason: "\(why)", fixes: Self.fixes(for: why, path: domain.energyPath)))
                continue
            }
            readable.append(domain)
            let range = domain.maxEnergyRangeUJ.map { Double($0) }
            var note =
                range == nil
                ? "max_energy_range_uj missing: wraps are detected as resets and the interval is bounded by a 32-bit counter"
                : "RAPL counter; ±\(Int((domain.kind == .dram ? Self.dramUncertainty : Self.packageUncertainty) * 100)) % accuracy band"
            if let primary = mirrorOf[index] { note += "; reads the same counter as \(found.domains[primary].zone), counted there" }
            channels.append(
                MeterChannel(
                    key: "rapl:\(domain.zone)", device: Self.device(domain), domain: domain.name, kind: .energy, unit: "uJ",
                    resolution: 1, wrapRange: range, source: domain.energyPath, mode: .measured, role: role,
                    uncertainty: domain.kind == .dram ? Self.dramUncertainty : Self.packageUncertainty, uncertaintyNote: note,
                    deviceClass: Self.deviceClass(domain.kind), maxWatts: Self.maxWatts(domain.kind)))
        }
    }

    static func device(_ d: RAPLDomain) -> String {
        let via = d.isMMIO ? " (mmio)" : ""
        let place = "\(d.socket ?? 0)" + (d.die.map { "-die-\($0)" } ?? "")
        switch d.kind {
        case .package: return "cpu-package-\(place)\(via)"
        case .dram: return "dram-\(place)\(via)"
        case .core: return "cpu-cores-\(place)\(via)"
        case .uncore: return "cpu-uncore-\(place)\(via)"
        case .psys: return "platform\(via)"
        case .unknown: return "rapl-\(d.name)-\(d.zone)"
        }
    }

    static func deviceClass(_ kind: RAPLDomain.Kind) -> DeviceClass {
        switch kind {
        case .package: return .cpuPackage
        case .core, .uncore: return .cpuSubdomain
        case .dram: return .dram
        case .psys: return .platform
        case .unknown: return .other
        }
    }

    static func maxWatts(_ kind: RAPLDomain.Kind) -> Double {
        switch kind {
        case .package, .core, .uncore: return PowerBound.cpuPackage
        case .dram: return PowerBound.dram
        case .psys, .unknown: return PowerBound.platform
        }
    }

    /// Least-privilege ways to read `energy_uj`, which is root-only since CVE-2020-8694 (Platypus).
    static func fixes(for error: KernelFileError, path: String) -> [String] {
        guard case .permissionDenied = error else { return [] }
        return [
            "udev rule giving one group read access: SUBSYSTEM==\"powercap\", ACTION==\"add\", RUN+=\"/bin/chgrp -R wattprint /sys%p\", RUN+=\"/bin/chmod -R g+r /sys%p\" in /etc/udev/rules.d/90-wattprint-rapl.rules, then add yourself to group wattprint",
            "or read the perf power PMU instead: sudo setcap cap_perfmon=ep $(command -v wattprint) (Linux ≥ 5.8), or kernel.perf_event_paranoid ≤ 0",
        ]
    }

    /// Makes these devices' counters detail, because another interface counts them (perf, where
    /// `max_energy_range_uj` is missing and powercap could not tell a wrap from a reset).
    public func yieldCounting(of devices: Set<String>, to counter: String) {
        for i in channels.indices where channels[i].role == .total && devices.contains(channels[i].device) {
            channels[i].role = .detail
            channels[i].uncertaintyNote += "; \(counter) counts this domain instead"
            decisions.append(
                MeterDecision(
                    kind: .countedElsewhere, subject: channels[i].key, counterpart: counter,
                    reason:
                        "max_energy_range_uj is missing, so this zone cannot tell a wrap from a reset; \(counter)'s 64-bit count of the same domain counts instead"
                ))
        }
    }

    public func read(into values: inout [Double?], at offset: Int) {
        for (i, domain) in readable.enumerated() {
            values[offset + i] = (try? KernelFile.uint64(domain.energyPath)).map { Double($0) }
        }
    }

    /// The longest safe interval between reads over all readable counters (a 32-bit µJ counter when the range is unknown).
    public var maxSafeInterval: Double? {
        channels.compactMap { $0.wrapBoundSeconds.map { $0 * Wraparound.safetyMargin } }.min()
    }
}
