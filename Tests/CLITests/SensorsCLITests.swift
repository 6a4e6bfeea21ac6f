import Foundation
import XCTest

final class SensorsCLITests: XCTestCase {
    private func fakeTree(_ dir: URL, unreadable: Bool = false) throws {
        func write(_ rel: String, _ s: String) throws {
            let u = dir.appendingPathComponent(rel)
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            try s.write(to: u, atomically: false, encoding: .utf8)
        }
        for (zone, name) in [
            ("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "dram"), ("intel-rapl:1", "package-1"), ("intel-rapl:1:0", "dram"),
        ] {
            try write("sys/class/powercap/\(zone)/name", name + "\n")
            try write("sys/class/powercap/\(zone)/energy_uj", "1000\n")
            try write("sys/class/powercap/\(zone)/max_energy_range_uj", "262143328850\n")
            if unreadable { chmod(dir.appendingPathComponent("sys/class/powercap/\(zone)/energy_uj").path, 0o400) }
        }
        try write("proc/stat", "cpu  100 0 100 1000 0 0 0 0 0 0\n")
        try write("proc/meminfo", "MemTotal: 1000000 kB\nMemFree: 400000 kB\nMemAvailable: 500000 kB\n")
        try write(
            "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 5118 CPU @ 2.30GHz\nphysical id\t: 0\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 5118 CPU @ 2.30GHz\nphysical id\t: 1\n"
        )
        for sub in ["", "sys", "sys/class", "sys/class/powercap", "proc"] { chmod(dir.appendingPathComponent(sub).path, 0o755) }
    }

    func testSensorsListsAFakeTwoSocketHostAsMeasured() throws {
        let dir = try scratchDirectory()
        try fakeTree(dir)
        let env = [
            "WATTPRINT_SYSFS_ROOT": dir.appendingPathComponent("sys").path,
            "WATTPRINT_PROCFS_ROOT": dir.appendingPathComponent("proc").path,
        ]
        let r = try CLI.run(["sensors", "--json"], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try json(r.stdout) as! [String: Any]
        let channels = report["channels"] as! [[String: Any]]
        let totals = channels.filter { $0["role"] as? String == "total" }.map { $0["device"] as! String }.sorted()
        XCTAssertEqual(totals, ["cpu-package-0", "cpu-package-1", "dram-0", "dram-1"])
        XCTAssertEqual(channels.first { $0["key"] as? String == "estimate:cpu" }?["role"] as? String, "detail")
        let text = try CLI.run(["sensors"], env: env)
        XCTAssertTrue(text.stdout.contains("cpu-package-1"))
        XCTAssertFalse(text.stdout.contains("ESTIMATED"))
    }

    /// `energy_uj` is root-only since CVE-2020-8694: an unprivileged user is told what is blocked and the least-privilege fixes.
    func testUnreadableCountersAreBlockedWithFixesForAnUnprivilegedUser() throws {
        let dir = try scratchDirectory()
        try fakeTree(dir, unreadable: true)
        var asUser: [String] = []
        if geteuid() == 0 {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv (util-linux) is needed to drop root")
            asUser = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", try CLI.copyReachableByAnyone().path]
        } else {
            asUser = [CLI.binary.path]
        }
        let env = [
            "WATTPRINT_SYSFS_ROOT": dir.appendingPathComponent("sys").path,
            "WATTPRINT_PROCFS_ROOT": dir.appendingPathComponent("proc").path,
            "HOME": dir.path,
        ]
        let r = try CLI.run(Array(asUser.dropFirst()) + ["sensors"], env: env, executable: URL(fileURLWithPath: asUser[0]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Blocked:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("not readable by this user"))
        XCTAssertTrue(r.stdout.contains("udev rule"))
        XCTAssertTrue(r.stdout.contains("cap_perfmon"))
        XCTAssertFalse(r.stdout.contains("a+r"))
        XCTAssertTrue(r.stdout.contains("ESTIMATED"), "with every counter blocked the totals are estimates, and it says so")

        // A run under the same user records what it could not read, and its summary repeats the fixes.
        let ledgerDir = dir.appendingPathComponent("ledger")
        try FileManager.default.createDirectory(at: ledgerDir, withIntermediateDirectories: true)
        chmod(ledgerDir.path, 0o777)
        let run = try CLI.run(
            Array(asUser.dropFirst()) + [
                "run", "--ledger", ledgerDir.appendingPathComponent("l.sqlite").path, "--region", "FR", "--", "true",
            ],
            env: env, executable: URL(fileURLWithPath: asUser[0]))
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(
            run.stderr.contains("! not measured: cpu-package-0 (") && run.stderr.contains("is not readable by this user"), run.stderr)
        XCTAssertEqual(
            run.stderr.components(separatedBy: "fix: udev rule").count, 2,
            "each fix once, however many counters it unblocks:\n\(run.stderr)")
        XCTAssertFalse(run.stderr.contains("a+r"))
    }

    /// Zones that read one counter, and zones not understood, are printed with the decision: nothing silently.
    func testSensorsPrintsMirroredAndSkippedZones() throws {
        let dir = try scratchDirectory()
        func write(_ rel: String, _ text: String) throws {
            let u = dir.appendingPathComponent(rel)
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: u, atomically: false, encoding: .utf8)
        }
        for (zone, name) in [
            ("intel-rapl:0", "package-0-die-0"), ("intel-rapl:1", "package-0-die-1"), ("intel-rapl:g", "package-16"), ("dtpm:0", "soc"),
        ] {
            try write("sys/class/powercap/\(zone)/name", name + "\n")
            try write("sys/class/powercap/\(zone)/energy_uj", "4242\n")
            try write("sys/class/powercap/\(zone)/max_energy_range_uj", "262143328850\n")
        }
        let r = try CLI.run(["sensors"], env: ["WATTPRINT_SYSFS_ROOT": dir.appendingPathComponent("sys").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stdout.contains("Decided:\n  rapl:intel-rapl:1 → rapl:intel-rapl:0: package-0-die-1 read the same value as package-0-die-0"),
            r.stdout)
        XCTAssertTrue(r.stdout.contains("Skipped (present, not understood):"), r.stdout)
        XCTAssertTrue(r.stdout.contains("intel-rapl:g: zone name does not end in :N or :N:M with hexadecimal N and M"), r.stdout)
        XCTAssertTrue(r.stdout.contains("dtpm:0: a zone of control type 'dtpm'"), r.stdout)
    }
}
