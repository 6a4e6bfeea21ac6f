import Foundation
import TestSupport
import XCTest
@testable import Meters

final class EstimationTests: XCTestCase {
    func testTDPLookupNormalisesVendorStrings() {
        let table = CPUTDPTable.bundled
        XCTAssertEqual(table.lookup("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz")?.tdpWatts, 150)
        XCTAssertEqual(table.lookup("AMD EPYC 7763 64-Core Processor")?.tdpWatts, 280)
        XCTAssertNil(table.lookup("AMD EPYC"), "a family name alone must not pick one model")
        XCTAssertNil(table.lookup("Mystery CPU 9000X"))
    }

    /// Bare metal, two sockets of a 150 W part: max = 2 × 150 = 300 W, idle = 0.74/3.5 × 300 = 63.43 W,
    /// so at 50 % utilisation P = 63.43 + (300 − 63.43) × 0.5 = 181.71 W.
    func testKnownModelOnBareMetalUsesTDPTimesSockets() {
        let host = HostDescription(
            hostname: "h", cpuModel: "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", logicalCPUs: 80, sockets: 2,
            isVirtualMachine: false, memoryBytes: 0, kernel: "")
        let m = CPUPowerModel.forHost(host)
        XCTAssertEqual(m.maxWatts, 300)
        XCTAssertEqual(m.idleWatts, 300 * 0.74 / 3.5, accuracy: 1e-9)
        XCTAssertEqual(m.watts(utilisation: 0.5), 181.714_285_714, accuracy: 1e-6)
        XCTAssertEqual(m.uncertainty, 0.30)
    }

    /// A VM with 8 of an EPYC 7763's 128 threads: max = 280 × 8/128 = 17.5 W.
    func testKnownModelInAVMUsesItsShareOfThreads() {
        let host = HostDescription(
            hostname: "h", cpuModel: "AMD EPYC 7763 64-Core Processor", logicalCPUs: 8, sockets: 1,
            isVirtualMachine: true, memoryBytes: 0, kernel: "")
        XCTAssertEqual(CPUPowerModel.forHost(host).maxWatts, 17.5, accuracy: 1e-9)
    }

    /// Unknown model, 2 vCPUs: 2 × 0.74 = 1.48 W idle, 2 × 3.5 = 7 W at full load, ±50 %.
    func testUnknownModelFallsBackToTheDocumentedPerVCPUDefault() {
        let host = HostDescription(
            hostname: "h", cpuModel: "AMD EPYC", logicalCPUs: 2, sockets: 1, isVirtualMachine: true, memoryBytes: 0, kernel: "")
        let m = CPUPowerModel.forHost(host)
        XCTAssertEqual(m.idleWatts, 1.48, accuracy: 1e-12)
        XCTAssertEqual(m.maxWatts, 7)
        XCTAssertEqual(m.uncertainty, 0.5)
        XCTAssertTrue(m.basis.contains("not in the TDP table"))
    }

    func testEstimationMeterReadsUtilisationAndMemoryFromProc() throws {
        let t = try FakeSystemTree()
        try t.proc(
            cpuModel: "Mystery CPU", cpus: 2, hypervisor: true, busy: 1000, idle: 9000, memTotalKB: 10_000_000, memAvailableKB: 5_000_000)
        let m = EstimationMeter(paths: t.paths, host: HostDescription.current(paths: t.paths), cpuCounts: true, memoryCounts: true)
        var v = [Double?](repeating: nil, count: m.channels.count)
        m.read(into: &v, at: 0)
        XCTAssertEqual(v[0], 0, "no interval yet: a 0 W marker the rectangle rule never uses")
        XCTAssertEqual(v[2], 1000 / ProcStat.ticksPerSecond)
        try t.setCPU(busy: 1300, idle: 9100) // 300 busy of 400 ticks: u = 0.75
        v = [Double?](repeating: nil, count: m.channels.count)
        m.read(into: &v, at: 0)
        XCTAssertEqual(v[0]!, 1.48 + (7 - 1.48) * 0.75, accuracy: 1e-9)
        // 5,000,000 kB in use = 5.12 GB × 0.392 W/GB.
        XCTAssertEqual(v[1]!, 5_000_000 * 1024 / 1e9 * 0.392, accuracy: 1e-9)
        XCTAssertTrue(m.channels.allSatisfy { $0.mode == .estimated || $0.kind == .cpuTime })
    }

    /// Property behind `EstimationMeter.period`: P is linear in utilisation, so integrating the estimate over a span
    /// gives the same energy however coarsely the span is cut into reading intervals.
    func testEstimatedEnergyDoesNotDependOnHowOftenItIsRead() {
        var rng = SplitMix(seed: 3)
        let model = CPUPowerModel(maxWatts: 7, idleWatts: 1.48, uncertainty: 0.5, basis: "test")
        let cpus = 2.0
        for _ in 0..<50 {
            // Cumulative (busy, total) CPU-seconds at 10 ms steps; wall time advances by Δtotal ÷ CPUs.
            var busy = 0.0, total = 0.0
            var points: [(t: Double, busy: Double, total: Double)] = [(0, 0, 0)]
            for _ in 0..<Int.random(in: 20...200, using: &rng) {
                let dt = 0.01
                busy += Double.random(in: 0...1, using: &rng) * dt * cpus
                total += dt * cpus
                points.append((total / cpus, busy, total))
            }
            func energy(every stride: Int) -> Double {
                var acc = EnergyAccumulator(kind: .intervalPower, toSI: 1, wrapRange: nil)
                var last = points[0]
                acc.add(tNs: 0, value: 0)
                var indices = Array(Swift.stride(from: stride, to: points.count, by: stride))
                if indices.last != points.count - 1 { indices.append(points.count - 1) }
                for i in indices {
                    let p = points[i]
                    acc.add(
                        tNs: Int64((p.t * 1e9).rounded()), value: model.watts(utilisation: (p.busy - last.busy) / (p.total - last.total)))
                    last = p
                }
                return acc.energy.joules
            }
            XCTAssertEqual(energy(every: 1), energy(every: 25), accuracy: 1e-6)
            XCTAssertEqual(energy(every: 1), energy(every: 100), accuracy: 1e-6)
        }
    }

    func testProcessTreeCPUSumsDescendantsAndNeverDecreases() throws {
        let t = try FakeSystemTree()
        try t.process(pid: 100, ppid: 1, utime: 100)
        try t.process(pid: 101, ppid: 100, comm: "worker) (odd", utime: 50, stime: 50)
        try t.process(pid: 200, ppid: 1, utime: 999)
        let tree = ProcessTreeCPU(root: 100, paths: t.paths)
        XCTAssertEqual(tree.seconds(), 200 / ProcStat.ticksPerSecond, accuracy: 1e-12)
        try t.remove("proc/101") // exited, not yet reaped into the parent's cutime
        XCTAssertEqual(tree.seconds(), 200 / ProcStat.ticksPerSecond, accuracy: 1e-12)
        try t.process(pid: 100, ppid: 1, utime: 110, cutime: 100)
        XCTAssertEqual(tree.seconds(), 210 / ProcStat.ticksPerSecond, accuracy: 1e-12)
    }

    /// With the kernel's children lists the tree is walked from its root: a process elsewhere is never read, a
    /// child forked by a worker thread (listed under that thread) is found, and a reused pid is not taken.
    func testTheTreeIsWalkedThroughTheKernelsChildrenLists() throws {
        let t = try FakeSystemTree()
        try t.process(pid: 100, ppid: 1, utime: 100)
        try t.process(pid: 101, ppid: 100, utime: 10)
        try t.process(pid: 102, ppid: 100, utime: 20)
        try t.process(pid: 103, ppid: 101, utime: 40)
        try t.process(pid: 200, ppid: 1, utime: 999)
        try t.children(pid: 100, [101])
        try t.children(pid: 100, tid: 150, [102]) // forked by thread 150 of process 100
        try t.children(pid: 101, [103, 400])
        try t.process(pid: 400, ppid: 1, utime: 7000) // listed, but its pid was reused by another parent's child
        try t.children(pid: 102, [])
        try t.children(pid: 103, [])
        // A stat claiming process 100 as parent that the children lists do not name is not walked into: the lists
        // are what is read.
        try t.process(pid: 300, ppid: 100, utime: 5000)
        let tree = ProcessTreeCPU(root: 100, paths: t.paths)
        XCTAssertEqual(tree.seconds(), 170 / ProcStat.ticksPerSecond, accuracy: 1e-12)
        XCTAssertEqual(Set(ProcessTreeCPU.walk(100, paths: t.paths)?.map(\.pid) ?? []), [100, 101, 102, 103])
        XCTAssertNil(ProcessTreeCPU.walk(200, paths: t.paths), "no children list: the full scan is used")
    }

    /// Between full scans only known members are read; a forced read (the run's last) finds a worker started since.
    func testAForcedReadFindsAWorkerStartedSinceTheLastScan() throws {
        let t = try FakeSystemTree()
        try t.proc()
        try t.process(pid: 100, ppid: 1, utime: 100)
        let meter = EstimationMeter(
            paths: t.paths, host: HostDescription.current(paths: t.paths), cpuCounts: true, memoryCounts: true,
            processRoot: 100)
        var values = [Double?](repeating: nil, count: meter.channels.count)
        meter.read(into: &values, at: 0)
        XCTAssertEqual(values[3] ?? 0, 100 / ProcStat.ticksPerSecond, accuracy: 1e-12)
        try t.process(pid: 102, ppid: 100, utime: 300)
        meter.read(into: &values, at: 0)
        XCTAssertEqual(values[3] ?? 0, 100 / ProcStat.ticksPerSecond, accuracy: 1e-12, "not rescanned yet (every 5 s)")
        meter.prepareForcedRead()
        meter.read(into: &values, at: 0)
        XCTAssertEqual(values[3] ?? 0, 400 / ProcStat.ticksPerSecond, accuracy: 1e-12)
    }

    /// The fast normaliser against the plain Foundation one it replaced, over every bundled row and odd names.
    func testModelNamesNormaliseAsTheReferenceDoes() {
        func reference(_ model: String) -> String {
            var s = model.lowercased()
            for noise in ["(r)", "(tm)", "®", "™"] { s = s.replacingOccurrences(of: noise, with: " ") }
            if let at = s.range(of: "@") { s = String(s[..<at.lowerBound]) }
            var words = s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            words.removeAll { ["cpu", "processor", "with", "radeon", "graphics"].contains($0) || $0.hasSuffix("-core") }
            return words.joined(separator: " ")
        }
        let names =
            CPUTDPTable.bundled.entries.map(\.model) + [
                "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", "AMD EPYC 7763 64-Core Processor", "Intel® Core™ i7-8650U",
                "AMD Ryzen 7 PRO 4750U with Radeon Graphics", "Xeon(TM)(R)  \tE5-2690", "(r)", "@", "", "  cpu  ", "Foo(RX) 12",
            ]
        XCTAssertGreaterThan(names.count, 5000)
        for name in names { XCTAssertEqual(CPUTDPTable.normalise(name), reference(name), name) }
    }

    func testHostDescriptionFromProc() throws {
        let t = try FakeSystemTree()
        try t.proc(cpus: 8, sockets: 2)
        let h = HostDescription.current(paths: t.paths)
        XCTAssertEqual(h.logicalCPUs, 8)
        XCTAssertEqual(h.sockets, 2)
        XCTAssertFalse(h.isVirtualMachine)
        XCTAssertEqual(h.memoryBytes, 16_000_000 * 1024)
    }

    func testPathsComeFromTheEnvironment() {
        let p = SystemPaths.fromEnvironment(["WATTPRINT_SYSFS_ROOT": "/tmp/s", "WATTPRINT_PROCFS_ROOT": "/tmp/p"])
        XCTAssertEqual(p.sys("class/powercap"), "/tmp/s/class/powercap")
        XCTAssertEqual(p.proc("stat"), "/tmp/p/stat")
        XCTAssertEqual(SystemPaths.fromEnvironment([:]), SystemPaths())
    }
}

/// Orphans re-parented to wattprint (a child subreaper) belong to the measured tree.
final class SubreaperTreeTests: XCTestCase {
    func testOrphansAdoptedByTheSubreaperAreCountedWithTheTree() throws {
        let t = try FakeSystemTree()
        try t.process(pid: 50, ppid: 1, utime: 9_000) // wattprint itself: never counted
        try t.process(pid: 100, ppid: 50, utime: 100) // the command
        try t.process(pid: 101, ppid: 100, utime: 50)
        try t.process(pid: 200, ppid: 50, utime: 300) // a detached worker, adopted
        try t.process(pid: 201, ppid: 200, utime: 20)
        try t.process(pid: 300, ppid: 1, utime: 7_000) // someone else's
        try t.children(pid: 50, [100, 200])
        try t.children(pid: 100, [101])
        try t.children(pid: 101, [])
        try t.children(pid: 200, [201])
        try t.children(pid: 201, [])
        let adopted = ProcessTreeCPU(root: 100, paths: t.paths, adoptiveParent: 50)
        XCTAssertEqual(adopted.seconds(), 470 / ProcStat.ticksPerSecond, accuracy: 1e-9)
        XCTAssertEqual(
            ProcessTreeCPU(root: 100, paths: t.paths).seconds(), 150 / ProcStat.ticksPerSecond, accuracy: 1e-9,
            "without adoption the worker is lost")
    }
}
