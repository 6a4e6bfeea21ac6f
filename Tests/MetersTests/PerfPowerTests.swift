import Foundation
import TestSupport
import XCTest
@testable import Meters

/// Stands in for the kernel's perf_event_open: counts grow by a fixed step per read.
final class FakePerfOpener: PerfCounterOpener, @unchecked Sendable {
    var failWith: Int32?
    var opened: [(type: UInt32, config: UInt64, cpu: Int32)] = []
    var counts: [Int32: UInt64] = [:]
    let step: UInt64
    init(step: UInt64 = 1 << 32, failWith: Int32? = nil) { self.step = step; self.failWith = failWith }
    func open(type: UInt32, config: UInt64, cpu: Int32) -> Result<Int32, PerfOpenError> {
        if let e = failWith { return .failure(PerfOpenError(errno: e)) }
        opened.append((type, config, cpu))
        let fd = Int32(100 + opened.count)
        counts[fd] = 0
        return .success(fd)
    }
    func read(_ handle: Int32) -> UInt64? { counts[handle]! += step; return counts[handle] }
    func close(_ handle: Int32) {}
}

final class PerfPowerTests: XCTestCase {
    /// The PMU as `arch/x86/events/rapl.c` describes it (shared/data/hardware/rapl_layouts/perf_power_pmu_events.json).
    private func pmu(_ t: FakeSystemTree, cpumask: String = "0,28") throws {
        let dir = "sys/bus/event_source/devices/power"
        try t.write("\(dir)/type", "23\n")
        try t.write("\(dir)/cpumask", cpumask + "\n")
        for (name, cfg) in [("energy-pkg", "0x02"), ("energy-ram", "0x03"), ("energy-cores", "0x01")] {
            try t.write("\(dir)/events/\(name)", "event=\(cfg)\n")
            try t.write("\(dir)/events/\(name).scale", "2.3283064365386962890625e-10\n")
            try t.write("\(dir)/events/\(name).unit", "Joules\n")
        }
    }

    func testDiscoversEventsPerSocketAndScalesCountsToJoules() throws {
        let t = try FakeSystemTree()
        try pmu(t)
        let opener = FakePerfOpener()
        let m = PerfPowerMeter(paths: t.paths, opener: opener)
        XCTAssertEqual(m.pmuType, 23)
        XCTAssertEqual(Set(m.events.map(\.config)), [1, 2, 3])
        XCTAssertEqual(Set(opener.opened.map(\.cpu)), [0, 28])
        XCTAssertEqual(
            m.channels.filter { $0.role == .total }.map(\.device).sorted(), ["cpu-package-0", "cpu-package-1", "dram-0", "dram-1"])
        var values = [Double?](repeating: nil, count: m.channels.count)
        m.read(into: &values, at: 0)
        // One read adds 2^32 counts = exactly 1 J at scale 2^-32.
        XCTAssertEqual(values.compactMap { $0 }, Array(repeating: 1.0, count: 6))
    }

    func testPermissionDeniedIsBlockedWithTheCapabilityFix() throws {
        let t = try FakeSystemTree()
        try pmu(t, cpumask: "0")
        let m = PerfPowerMeter(paths: t.paths, opener: FakePerfOpener(failWith: EACCES))
        XCTAssertTrue(m.channels.isEmpty)
        XCTAssertEqual(m.blocked.count, 3)
        XCTAssertTrue(m.blocked[0].fixes[0].contains("cap_perfmon"))
    }

    func testPerfIsACrossCheckWhenPowercapIsReadable() throws {
        let t = try FakeSystemTree()
        try pmu(t, cpumask: "0")
        try RAPLLayouts.amdZen(t)
        try t.proc()
        let set = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"),
            perfOpener: FakePerfOpener())
        let totals = set.channels.filter { $0.role == .total }.map(\.key)
        XCTAssertTrue(totals.contains("rapl:intel-rapl:0"))
        XCTAssertFalse(totals.contains { $0.hasPrefix("perf:") })
        XCTAssertFalse(totals.contains("estimate:cpu"), "a measured CPU counter replaces the estimate")
        XCTAssertTrue(totals.contains("estimate:memory"), "no DRAM counter on this layout, so memory stays estimated")
    }

    /// Sockets come from each CPU's topology, not its place in the mask; psys is one counter, opened once.
    func testSocketsComeFromTopologyAndPsysIsOpenedOnce() throws {
        let t = try FakeSystemTree()
        try pmu(t, cpumask: "0,28")
        try t.write("sys/bus/event_source/devices/power/events/energy-psys", "event=0x05\n")
        for (cpu, package) in [(0, 1), (28, 0)] {
            try t.write("sys/devices/system/cpu/cpu\(cpu)/topology/physical_package_id", "\(package)\n")
            try t.write("sys/devices/system/cpu/cpu\(cpu)/topology/die_id", "0\n")
        }
        let opener = FakePerfOpener()
        let m = PerfPowerMeter(paths: t.paths, opener: opener)
        XCTAssertEqual(m.channels.first { $0.domain == "energy-pkg" && $0.source.hasSuffix("cpu 0") }?.device, "cpu-package-1")
        XCTAssertEqual(m.channels.filter { $0.device == "platform" }.count, 1)
        XCTAssertEqual(opener.opened.filter { $0.config == 5 }.count, 1)

        // Two listed CPUs in one package: RAPL is per die.
        try t.write("sys/devices/system/cpu/cpu28/topology/physical_package_id", "1\n")
        try t.write("sys/devices/system/cpu/cpu28/topology/die_id", "1\n")
        let perDie = PerfPowerMeter(paths: t.paths, opener: FakePerfOpener())
        XCTAssertEqual(
            perDie.channels.filter { $0.role == .total && $0.domain == "energy-pkg" }.map(\.device).sorted(),
            ["cpu-package-1-die-0", "cpu-package-1-die-1"])
    }

    /// Without max_energy_range_uj powercap cannot tell a wrap from a reset; perf's 64-bit count of the same
    /// package counts instead, and powercap becomes its cross-check.
    func testPerfCountsAPackageWhosePowercapZoneLacksItsRange() throws {
        let t = try FakeSystemTree()
        try pmu(t, cpumask: "0")
        try t.zone("intel-rapl:0", name: "package-0", range: nil)
        try t.zone("intel-rapl:0:0", name: "dram")
        try t.proc()
        let set = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"),
            perfOpener: FakePerfOpener())
        let totals = set.channels.filter { $0.role == .total }.map(\.key).sorted()
        XCTAssertTrue(totals.contains("perf:energy-pkg:0"), "\(totals)")
        XCTAssertTrue(totals.contains("rapl:intel-rapl:0:0"), "the DRAM zone has its range: powercap still counts it")
        XCTAssertFalse(totals.contains("rapl:intel-rapl:0"))
        XCTAssertFalse(totals.contains("perf:energy-ram:0"))
        XCTAssertEqual(set.channels.filter { $0.role == .total && $0.device == "cpu-package-0" }.count, 1)
    }

    func testCPUListParsing() {
        XCTAssertEqual(PerfPowerMeter.parseCPUList("0,28"), [0, 28])
        XCTAssertEqual(PerfPowerMeter.parseCPUList("0-3,8"), [0, 1, 2, 3, 8])
        XCTAssertEqual(PerfPowerMeter.parseConfig("event=0x02"), 2)
        XCTAssertEqual(PerfPowerMeter.parseConfig("umask=1,event=5"), 5)
    }
}

final class NVMLLoaderTests: XCTestCase {
    func testAbsentLibraryIsACleanNoDriverMessage() {
        let m = NVMLMeter(libraryPath: "/nonexistent/libnvidia-ml.so.1")
        XCTAssertTrue(m.channels.isEmpty)
        guard case .libraryAbsent = m.loadError else { return XCTFail("\(String(describing: m.loadError))") }
        XCTAssertTrue("\(m.loadError!)".hasPrefix("no NVIDIA driver"))
    }

    func testALibraryWithoutNVMLSymbolsIsRefused() {
        let m = NVMLMeter(libraryPath: "libc.so.6")
        XCTAssertEqual(m.loadError, .symbolMissing("nvmlInit_v2"))
    }
}
