import Foundation
import Measures

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
        /// Entries that were present but not understood, with why (a zone of another control type, a malformed name).
        public var skipped: [(zone: String, reason: String)]
    }

    public static func discover(paths: SystemPaths) -> Result {
        let classDir = paths.sys("class/powercap")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: classDir) else {
            return Result(domains: [], skipped: [])
        }
        var domains: [RAPLDomain] = []
        var skipped: [(String, String)] = []
        for zone in entries {
            // A name without ':' is a control type (`intel-rapl`, `intel-rapl-mmio`, `dtpm`), not a zone.
            guard let colon = zone.firstIndex(of: ":") else { continue }
            let isMMIO: Bool
            switch zone[..<colon] {
            case "intel-rapl-mmio": isMMIO = true
            case "intel-rapl": isMMIO = false
            default:
                skipped.append(
                    (
                        zone,
                        "a zone of control type '\(zone[..<colon])', which wattprint does not read (it reads intel-rapl and intel-rapl-mmio)"
                    ))
                continue
            }
            guard let indices = zoneIndices(zone[zone.index(after: colon)...]) else {
                skipped.append((zone, "zone name does not end in :N or :N:M with hexadecimal N and M, as the kernel writes them"))
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
            domains.append(
                RAPLDomain(
                    zone: zone, name: name, kind: kind(of: name), socket: nil, die: nil, isMMIO: isMMIO,
                    indices: indices, maxEnergyRangeUJ: range, energyPath: energyPath, unreadable: unreadable))
        }
        domains.sort { a, b in a.isMMIO != b.isMMIO ? !a.isMMIO : a.indices.lexicographicallyPrecedes(b.indices) }
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
        return Result(domains: domains, skipped: skipped.sorted { $0.0 < $1.0 })
    }

    /// `0`, `a`, `10:0`, `a:1` → [0], [10], [16, 0], [10, 1]: the kernel names zones with `%x` (powercap's
    /// `dev_set_name(..., "%s:%x", ...)`), so ids from 10 on are hexadecimal.
    static func zoneIndices(_ suffix: Substring) -> [Int]? {
        let parts = suffix.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        let indices = parts.compactMap { part -> Int? in
            guard !part.isEmpty, part.allSatisfy(\.isHexDigit), part == part.lowercased() else { return nil }
            return Int(part, radix: 16)
        }
        return indices.count == parts.count ? indices : nil
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

    /// Per-die zones of one socket that read one counter: on some kernels an AMD server shows a
    /// `package-S-die-D` zone per CCD and every zone of a socket reads the same package counter, while Intel's
    /// multi-die parts (Cascade Lake-AP) have a counter per die. Zones of one kind and socket whose values are
    /// identical in each of `reads` readings (`spacingMicroseconds` apart) mirror the first of them, unless the CPU
    /// topology shows at least as many dies in that package as there are zones (then they are distinct dies whose
    /// counters happen to agree, as idle zeros do).
    /// - Returns: for each mirroring domain's index, the index of the domain it mirrors.
    public static func mirrors(
        _ domains: [RAPLDomain], roles: [ChannelRole], paths: SystemPaths, reads: Int = 3,
        spacingMicroseconds: UInt32 = 2_000
    ) -> [Int: Int] {
        var groups: [String: [Int]] = [:]
        for (i, d) in domains.enumerated() where d.die != nil && d.unreadable == nil && roles[i] == .total {
            groups["\(d.kind.rawValue)|\(d.socket ?? -1)|\(d.isMMIO)", default: []].append(i)
        }
        let candidates = groups.values.filter { $0.count > 1 }
        guard !candidates.isEmpty else { return [:] }
        let dies = diesPerPackage(paths: paths)
        var readings: [Int: [UInt64?]] = [:]
        for r in 0..<reads {
            if r > 0 { usleep(spacingMicroseconds) }
            for group in candidates { for i in group { readings[i, default: []].append(try? KernelFile.uint64(domains[i].energyPath)) } }
        }
        var mirrorOf: [Int: Int] = [:]
        for group in candidates {
            if let socket = domains[group[0]].socket, let known = dies[socket], known >= group.count { continue }
            var primaries: [Int] = []
            for i in group {
                let values = readings[i] ?? []
                if let primary = primaries.first(where: { readings[$0] == values && !values.contains(nil) }) {
                    mirrorOf[i] = primary
                } else {
                    primaries.append(i)
                }
            }
        }
        return mirrorOf
    }

    /// Distinct die ids per physical package, from `/sys/devices/system/cpu/cpu*/topology`; empty without topology.
    static func diesPerPackage(paths: SystemPaths) -> [Int: Int] {
        let dir = paths.sys("devices/system/cpu")
        guard let cpus = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [:] }
        var dies: [Int: Set<UInt64>] = [:]
        for cpu in cpus where cpu.hasPrefix("cpu") && cpu.dropFirst(3).allSatisfy(\.isNumber) && cpu.count > 3 {
            let topology = dir + "/" + cpu + "/topology"
            guard let package = try? KernelFile.uint64(topology + "/physical_package_id"),
                let die = try? KernelFile.uint64(topology + "/die_id")
            else { continue }
            dies[Int(package), default: []].insert(die)
        }
        return dies.mapValues(\.count)
    }
}
