import Foundation

/// One RAPL power domain as the powercap framework shows it under `/sys/class/powercap`.
public struct RAPLDomain: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case package, core, uncore, dram, psys, unknown
    }

    /// Directory name, e.g. `intel-rapl:0`, `intel-rapl:0:1`, `intel-rapl-mmio:0`.
    public var zone: String
    /// Contents of the zone's `name` file: `package-0`, `core`, `dram`, `psys`, …
    public var name: String
    public var kind: Kind
    /// Socket (package id) the domain belongs to; nil for psys, which spans the platform.
    public var socket: Int?
    /// Die within the socket, where RAPL is per die (the kernel names such zones `package-N-die-M`).
    public var die: Int?
    /// True for `intel-rapl-mmio:*` zones, the MMIO interface to the same package counter.
    public var isMMIO: Bool
    /// Indices from the zone name: `intel-rapl:0:1` → [0, 1].
    public var indices: [Int]
    /// `max_energy_range_uj`, or nil when the file is missing or unreadable.
    public var maxEnergyRangeUJ: UInt64?
    public var energyPath: String
    /// Why `energy_uj` cannot be read, or nil when it can.
    public var unreadable: KernelFileError?

    public var isTopLevel: Bool { indices.count == 1 }

    /// Where the domain sits: socket, and die where RAPL is per die (`0`, `0-die-1`).
    public var placeKey: String { "\(socket ?? -1)" + (die.map { "-die-\($0)" } ?? "") }
}

/// Finds RAPL domains in a powercap tree and decides which of them add up without double counting.
public enum PowercapDiscovery {
    public struct Result: Sendable {
        public var domains: [RAPLDomain]
        /// Zones that were present but not understood, with why (e.g. `intel-rapl:a`).
        public var skipped: [(zone: String, reason: String)]
    }

    public static func discover(paths: SystemPaths) -> Result {
        let classDir = paths.sys("class/powercap")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: classDir) else {
            return Result(domains: [], skipped: [])
        }
        var domains: [RAPLDomain] = []
        var skipped: [(String, String)] = []
        for zone in entries.sorted() {
            let isMMIO: Bool
            let suffix: Substring
            if zone.hasPrefix("intel-rapl-mmio:") {
                isMMIO = true; suffix = zone.dropFirst("intel-rapl-mmio:".count)
            } else if zone.hasPrefix("intel-rapl:") {
                isMMIO = false; suffix = zone.dropFirst("intel-rapl:".count)
            } else { continue }
            let parts = suffix.split(separator: ":", omittingEmptySubsequences: false)
            let indices = parts.compactMap { Int($0) }
            guard !parts.isEmpty, indices.count == parts.count, indices.count <= 2 else {
                skipped.append((zone, "zone name does not end in :N or :N:M"))
                continue
            }
            let dir = (classDir as NSString).appendingPathComponent(zone)
            guard let name = try? KernelFile.trimmed((dir as NSString).appendingPathComponent("name")) else {
                skipped.append((zone, "no readable name file"))
                continue
            }
            let energyPath = (dir as NSString).appendingPathComponent("energy_uj")
            var unreadable: KernelFileError?
            do { _ = try KernelFile.uint64(energyPath) } catch let e as KernelFileError { unreadable = e } catch {}
            let range = try? KernelFile.uint64((dir as NSString).appendingPathComponent("max_energy_range_uj"))
            domains.append(RAPLDomain(zone: zone, name: name, kind: kind(of: name), socket: nil, die: nil, isMMIO: isMMIO,
                                      indices: indices, maxEnergyRangeUJ: range, energyPath: energyPath, unreadable: unreadable))
        }
        // A subzone belongs to its parent's socket; a package names its own.
        for i in domains.indices {
            let d = domains[i]
            guard d.kind == .package else { continue }
            let numbers = packageNumbers(d.name)
            domains[i].socket = numbers?.socket ?? d.indices[0]
            domains[i].die = numbers?.die
        }
        for i in domains.indices where !domains[i].isTopLevel {
            let parent = domains.first { $0.isTopLevel && $0.isMMIO == domains[i].isMMIO && $0.indices[0] == domains[i].indices[0] }
            domains[i].socket = parent?.socket
            domains[i].die = parent?.die
        }
        return Result(domains: domains, skipped: skipped)
    }

    static func kind(of name: String) -> RAPLDomain.Kind {
        if name.hasPrefix("package") { return .package }
        switch name {
        case "core": return .core
        case "uncore": return .uncore
        case "dram": return .dram
        case "psys": return .psys
        default: return .unknown
        }
    }

    /// `package-1` → (1, nil); `package-0-die-1` → (0, 1), as the kernel names per-die domains.
    static func packageNumbers(_ name: String) -> (socket: Int, die: Int?)? {
        guard name.hasPrefix("package-") else { return nil }
        let parts = name.dropFirst("package-".count).split(separator: "-")
        guard let socket = parts.first.flatMap({ Int($0) }) else { return nil }
        if parts.count == 3, parts[1] == "die", let die = Int(parts[2]) { return (socket, die) }
        return parts.count == 1 ? (socket, nil) : nil
    }

    /// Chooses the non-overlapping set: every socket's package and DRAM count; core and uncore are inside the
    /// package; psys (the whole platform) contains the package, so it is detail; an MMIO zone that duplicates a
    /// package read through MSR is detail, unless the MSR zone is unreadable and the MMIO one is all there is.
    /// Returns the role of each domain, in order.
    public static func roles(_ domains: [RAPLDomain]) -> [ChannelRole] {
        func readableMSR(_ kind: RAPLDomain.Kind) -> Set<String> {
            Set(domains.filter { $0.kind == kind && !$0.isMMIO && $0.unreadable == nil }.map(\.placeKey))
        }
        let msrPackages = readableMSR(.package), msrDRAM = readableMSR(.dram)
        return domains.map { d in
            switch d.kind {
            case .package: return (d.isMMIO && msrPackages.contains(d.placeKey)) ? .detail : .total
            case .dram: return (d.isMMIO && msrDRAM.contains(d.placeKey)) ? .detail : .total
            case .core, .uncore, .psys, .unknown: return .detail
            }
        }
    }
}
