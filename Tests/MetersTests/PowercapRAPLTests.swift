import Foundation
import Measures
import TestSupport
import XCTest
@testable import Meters

final class PowercapRAPLTests: XCTestCase {
    private func roles(_ m: PowercapRAPLMeter) -> [String: ChannelRole] {
        Dictionary(uniqueKeysWithValues: m.channels.map { ($0.device, $0.role) })
    }

    func testIntelClientCountsPackageOnly_coreUncorePsysAreDetail() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.intelClientCoreUncorePsys(t)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertEqual(roles(m), ["cpu-package-0": .total, "cpu-cores-0": .detail, "cpu-uncore-0": .detail, "platform": .detail])
    }

    func testLaptopWithPsysAndDRAM_psysIsNeverAddedOnTopOfThePackage() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.laptopPsysDRAM(t)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertEqual(m.channels.filter { $0.role == .total }.map(\.device).sorted(), ["cpu-package-0", "dram-0"])
        XCTAssertEqual(roles(m)["platform"], .detail)
    }

    /// An MMIO package is a duplicate only of a package that can be read: with the MSR zone blocked it is the package.
    func testAnMMIOPackageCountsWhenItsMSRTwinIsUnreadable() {
        func domain(_ zone: String, mmio: Bool, unreadable: KernelFileError?) -> RAPLDomain {
            RAPLDomain(
                zone: zone, name: "package-0", kind: .package, socket: 0, die: nil, isMMIO: mmio, indices: [0],
                maxEnergyRangeUJ: 262_143_328_850, energyPath: "/x/\(zone)/energy_uj", unreadable: unreadable)
        }
        let msr = domain("intel-rapl:0", mmio: false, unreadable: nil), mmio = domain("intel-rapl-mmio:0", mmio: true, unreadable: nil)
        XCTAssertEqual(PowercapDiscovery.roles([msr, mmio]), [.total, .detail])
        let blocked = domain("intel-rapl:0", mmio: false, unreadable: .permissionDenied("/x"))
        XCTAssertEqual(PowercapDiscovery.roles([blocked, mmio]), [.total, .total], "the blocked one reads nothing, so nothing doubles")
    }

    /// The kernel names per-die domains `package-N-die-M` (multi-die packages, Cascade Lake-AP); each die is its own
    /// counter, so their readings differ.
    func testPerDieDomainsAreNamedBySocketAndDie() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0-die-0", energy: 1_000)
        try t.zone("intel-rapl:0:0", name: "dram")
        try t.zone("intel-rapl:1", name: "package-0-die-1", energy: 2_000)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertEqual(
            m.channels.filter { $0.role == .total }.map(\.device).sorted(), ["cpu-package-0-die-0", "cpu-package-0-die-1", "dram-0-die-0"])
        XCTAssertEqual(PowercapDiscovery.packageNumbers("package-3")?.socket, 3)
        XCTAssertNil(PowercapDiscovery.packageNumbers("package-x"))
    }

    func testTwoSocketXeonReadsEverySocketAndKeepsDRAMPerSocket() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.twoSocketXeon(t)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertEqual(
            m.channels.filter { $0.role == .total }.map(\.device).sorted(), ["cpu-package-0", "cpu-package-1", "dram-0", "dram-1"])
        XCTAssertEqual(m.channels.first { $0.device == "dram-1" }?.wrapRange, 65_712_999_613)
        XCTAssertEqual(m.domains.first { $0.zone == "intel-rapl:1:0" }?.socket, 1)
    }

    /// Kepler's fixture calls `intel-rapl:a` malformed, but the kernel names zones with `%x`: it is zone 10, the
    /// package it names. Names that are not hexadecimal, and zones of control types wattprint does not read, are
    /// skipped with a reason.
    func testMMIODuplicateIsOnePackage_HexZoneIdsAreZonesAndMalformedOnesAreSkippedWithAReason() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.mmioDuplicate(t)
        try t.zone("intel-rapl:g", name: "package-16")
        try t.zone("dtpm:0", name: "soc")
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertEqual(m.channels.filter { $0.role == .total }.map(\.key), ["rapl:intel-rapl:0", "rapl:intel-rapl:a"])
        XCTAssertEqual(m.domains.first { $0.zone == "intel-rapl:a" }?.indices, [10])
        XCTAssertEqual(m.channels.first { $0.key == "rapl:intel-rapl-mmio:0" }?.role, .detail)
        XCTAssertEqual(m.skipped.map(\.zone), ["dtpm:0", "intel-rapl:g"])
        XCTAssertEqual(
            m.decisions.filter { $0.kind == .skipped }.map(\.subject),
            [t.paths.sys("class/powercap/dtpm:0"), t.paths.sys("class/powercap/intel-rapl:g")])
        XCTAssertTrue(m.decisions.first { $0.subject.hasSuffix("intel-rapl:g") }?.reason.contains("hexadecimal") == true)
    }

    func testAMDZenUsesTheSameTree() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.amdZen(t)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertEqual(roles(m), ["cpu-package-0": .total, "cpu-cores-0": .detail])
    }

    func testMissingMaxEnergyRangeIsSaidAndBoundsTheIntervalAsA32BitCounter() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0", range: nil)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertNil(m.channels[0].wrapRange)
        XCTAssertTrue(m.channels[0].uncertaintyNote.contains("max_energy_range_uj missing"))
        XCTAssertEqual(m.maxSafeInterval!, Double(UInt32.max) * 1e-6 / PowerBound.cpuPackage * 0.5, accuracy: 1e-9)
    }

    func testUnreadableEnergyIsBlockedWithLeastPrivilegeFixesNeverChmodAPlusR() throws {
        try XCTSkipIf(geteuid() == 0, "root reads any file; the CLI test runs this case as an unprivileged user through setpriv")
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0")
        chmod(t.root.appendingPathComponent("sys/class/powercap/intel-rapl:0/energy_uj").path, 0o000)
        let m = PowercapRAPLMeter(paths: t.paths)
        XCTAssertTrue(m.channels.isEmpty)
        XCTAssertEqual(m.blocked.count, 1)
        XCTAssertTrue(m.blocked[0].fixes.joined().contains("udev"))
        XCTAssertTrue(m.blocked[0].fixes.joined().contains("cap_perfmon"))
        XCTAssertFalse(m.blocked[0].fixes.joined().contains("a+r"))
    }

    func testReadsCountersAndReportsAVanishedZoneAsMissing() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.twoSocketXeon(t)
        let m = PowercapRAPLMeter(paths: t.paths)
        try t.setEnergy("intel-rapl:1", 123_456)
        var values = [Double?](repeating: nil, count: m.channels.count)
        m.read(into: &values, at: 0)
        XCTAssertEqual(values[m.channels.firstIndex { $0.key == "rapl:intel-rapl:1" }!], 123_456)
        try t.remove("sys/class/powercap/intel-rapl:1")
        values = [Double?](repeating: nil, count: m.channels.count)
        m.read(into: &values, at: 0)
        XCTAssertNil(values[m.channels.firstIndex { $0.key == "rapl:intel-rapl:1" }!])
        XCTAssertNotNil(values[m.channels.firstIndex { $0.key == "rapl:intel-rapl:0" }!])
    }

    func testKernelFileParsesCountersAndNamesBadContent() throws {
        let t = try FakeSystemTree()
        try t.write("a", "18446744073709551615\n")
        try t.write("b", "12x\n")
        try t.write("c", "")
        XCTAssertEqual(try KernelFile.uint64(t.root.appendingPathComponent("a").path), UInt64.max)
        XCTAssertThrowsError(try KernelFile.uint64(t.root.appendingPathComponent("b").path)) {
            guard case .malformed = $0 as? KernelFileError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try KernelFile.uint64(t.root.appendingPathComponent("c").path))
        XCTAssertThrowsError(try KernelFile.uint64(t.root.appendingPathComponent("missing").path)) {
            XCTAssertEqual($0 as? KernelFileError, .missing(t.root.appendingPathComponent("missing").path))
        }
    }
}
