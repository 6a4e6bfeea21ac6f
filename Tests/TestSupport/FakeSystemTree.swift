import Foundation
import Meters

/// A fake `/sys` + `/proc` tree in a temporary folder, laid out as real kernels lay them out; removed with the tree.
public final class FakeSystemTree {
    public let root: URL
    public var paths: SystemPaths {
        SystemPaths(sysfs: root.appendingPathComponent("sys").path, procfs: root.appendingPathComponent("proc").path)
    }
    /// The environment that points wattprint at this tree.
    public var environment: [String: String] {
        ["WATTPRINT_SYSFS_ROOT": paths.sysfs, "WATTPRINT_PROCFS_ROOT": paths.procfs]
    }

    public init(_ name: String = #function) throws {
        root = try TestScratch.folder("fake-\(name)")
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes a file in place, as a kernel file changes (a reader may see it half written).
    public func write(_ relative: String, _ content: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: url, atomically: false, encoding: .utf8)
    }

    /// Writes a file whole, by rename: a reader sees the old content or the new, never half.
    public func replace(_ relative: String, _ content: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try TestScratch.replace(url, with: content)
    }

    public func remove(_ relative: String) throws { try FileManager.default.removeItem(at: root.appendingPathComponent(relative)) }

    /// A powercap zone as the flat `/sys/class/powercap/<zone>` view shows it.
    public func zone(_ zone: String, name: String, energy: UInt64 = 0, range: UInt64? = 262_143_328_850) throws {
        try write("sys/class/powercap/\(zone)/name", name + "\n")
        try write("sys/class/powercap/\(zone)/energy_uj", "\(energy)\n")
        if let range { try write("sys/class/powercap/\(zone)/max_energy_range_uj", "\(range)\n") }
    }

    public func setEnergy(_ zone: String, _ value: UInt64) throws { try replace("sys/class/powercap/\(zone)/energy_uj", "\(value)\n") }

    /// A zone whose counter a background thread advances by `microjoules` every 10 ms (0.5 J: 50 W, less the thread's
    /// own delays), written whole as a kernel counter is read, until the returned handle stops it.
    public func advance(_ zone: String, microjoules: UInt64 = 500_000) -> RunningCounter {
        let counter = RunningCounter()
        let thread = Thread { [self] in
            var uj: UInt64 = 0
            while counter.isRunning {
                uj += microjoules
                try? setEnergy(zone, uj)
                usleep(10_000)
            }
        }
        thread.start()
        return counter
    }

    public func proc(
        cpuModel: String = "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", cpus: Int = 4, sockets: Int = 1, hypervisor: Bool = false,
        busy: UInt64 = 1000, idle: UInt64 = 9000, memTotalKB: UInt64 = 16_000_000, memAvailableKB: UInt64 = 12_000_000
    ) throws {
        var cpuinfo = ""
        for i in 0..<cpus {
            cpuinfo +=
                "processor\t: \(i)\nmodel name\t: \(cpuModel)\nphysical id\t: \(i % sockets)\nflags\t\t: fpu sse2\(hypervisor ? " hypervisor" : "")\n\n"
        }
        try write("proc/cpuinfo", cpuinfo)
        try setCPU(busy: busy, idle: idle)
        try write("proc/meminfo", "MemTotal:       \(memTotalKB) kB\nMemFree:         1000 kB\nMemAvailable:   \(memAvailableKB) kB\n")
    }

    /// `/proc/stat` with `busy` ticks split over user and system.
    public func setCPU(busy: UInt64, idle: UInt64) throws {
        try write("proc/stat", "cpu  \(busy / 2) 0 \(busy - busy / 2) \(idle) 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n")
    }

    /// A thread's children list, as kernels with CONFIG_PROC_CHILDREN show it.
    public func children(pid: Int32, tid: Int32? = nil, _ children: [Int32]) throws {
        try write("proc/\(pid)/task/\(tid ?? pid)/children", children.map { "\($0) " }.joined())
    }

    public func process(pid: Int32, ppid: Int32, comm: String = "python (train) x", utime: UInt64, stime: UInt64 = 0, cutime: UInt64 = 0)
        throws
    {
        // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
        try write("proc/\(pid)/stat", "\(pid) (\(comm)) S \(ppid) 1 1 0 -1 0 0 0 0 0 \(utime) \(stime) \(cutime) 0 20 0 1 0 0 0 0\n")
    }
}

/// Layouts seen on real machines, from `shared/data/hardware/rapl_layouts/` (file named per case).
public enum RAPLLayouts {
    /// 07: Intel client, package with core and uncore, psys.
    public static func intelClientCoreUncorePsys(_ t: FakeSystemTree) throws {
        try t.zone("intel-rapl:0", name: "package-0")
        try t.zone("intel-rapl:0:0", name: "core")
        try t.zone("intel-rapl:0:1", name: "uncore")
        try t.zone("intel-rapl:1", name: "psys")
    }
    /// 06: i7-8550U laptop: package with core, uncore, dram; psys top-level.
    public static func laptopPsysDRAM(_ t: FakeSystemTree) throws {
        try t.zone("intel-rapl:0", name: "package-0")
        try t.zone("intel-rapl:0:0", name: "core")
        try t.zone("intel-rapl:0:1", name: "uncore")
        try t.zone("intel-rapl:0:2", name: "dram")
        try t.zone("intel-rapl:1", name: "psys")
    }
    /// 10: two-socket Xeon Gold 5118: package and DRAM per socket (DRAM with its own 15.3 µJ-unit range).
    public static func twoSocketXeon(_ t: FakeSystemTree) throws {
        try t.zone("intel-rapl:0", name: "package-0")
        try t.zone("intel-rapl:0:0", name: "dram", range: 65_712_999_613)
        try t.zone("intel-rapl:1", name: "package-1")
        try t.zone("intel-rapl:1:0", name: "dram", range: 65_712_999_613)
    }
    /// 15 (Kepler's synthetic fixture): an MMIO duplicate of package-0 and a malformed zone index.
    public static func mmioDuplicate(_ t: FakeSystemTree) throws {
        try t.zone("intel-rapl:0", name: "package-0", energy: 240_422_366_267)
        try t.zone("intel-rapl:0:0", name: "core", energy: 118_821_284_256)
        try t.zone("intel-rapl-mmio:0", name: "package-0", energy: 240_422_366_267)
        try t.zone("intel-rapl:a", name: "package-10", energy: 240_422_366_267)
    }
    /// 12: AMD Zen (Linux ≥ 5.8 exposes the same tree): package and core.
    public static func amdZen(_ t: FakeSystemTree) throws {
        try t.zone("intel-rapl:0", name: "package-0")
        try t.zone("intel-rapl:0:0", name: "core")
    }
}

/// Stops a counter `FakeSystemTree.advance` runs.
public final class RunningCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }
    public func stop() { lock.lock(); running = false; lock.unlock() }
}
