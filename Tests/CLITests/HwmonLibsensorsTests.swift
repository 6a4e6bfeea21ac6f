import Foundation
import XCTest

/// libsensors reads the real `/sys`, so these tests give it a private one: in a new mount namespace (`unshare -m`,
/// as root), a tmpfs over `/sys/class` holds hwmon chips written by the test, and `wattprint sensors` runs inside.
final class HwmonLibsensorsTests: XCTestCase {
    /// - Parameters:
    ///   - chips: hwmon chips in order (hwmon0, hwmon1, …): driver name and files.
    ///   - rootOnly: files made readable by root only, as amd_energy's are since the Platypus fix.
    ///   - asNobody: run wattprint as an unprivileged user (through setpriv).
    private func sensorsInNamespace(chips: [(String, [String: String])], rootOnly: [String] = [], asNobody: Bool = false) throws -> [String:
        Any]
    {
        try XCTSkipUnless(geteuid() == 0, "mounting a private /sys/class needs root (CI runs as root)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "unshare (util-linux) is not installed")
        var script = "mount -t tmpfs none /sys/class || { echo WATTPRINT-MOUNT-REFUSED >&2; exit 99; }\nset -e\n"
        for (i, (name, files)) in chips.enumerated() {
            script += "mkdir -p /sys/class/hwmon/hwmon\(i)\necho \(name) > /sys/class/hwmon/hwmon\(i)/name\n"
            for (file, value) in files { script += "echo '\(value)' > /sys/class/hwmon/hwmon\(i)/\(file)\n" }
        }
        script += "chmod -R a+rX /sys/class\n"
        for file in rootOnly { script += "chmod 0400 /sys/class/hwmon/\(file)\n" }
        script += "exec \"$@\"\n"
        var binary = CLI.binary.path, prefix: [String] = []
        if asNobody {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv (util-linux) is needed to drop root")
            binary = try CLI.copyReachableByAnyone().path
            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        // The real /sys, whose /sys/class is now the tmpfs above: hwmon chips only, no powercap zones.
        let r = try CLI.run(
            ["-m", "sh", "-c", script, "sh"] + prefix + [binary, "sensors", "--json"],
            executable: URL(fileURLWithPath: "/usr/bin/unshare"))
        if r.status != 0 && (r.stderr.contains("unshare") || r.stderr.contains("WATTPRINT-MOUNT-REFUSED")) {
            throw XCTSkip("a private mount namespace was refused here: \(r.stderr)")
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        return try json(r.stdout) as! [String: Any]
    }

    func testLibsensorsFindsPowerEnergyAndTemperatureOfAPlatformMeter() throws {
        let report = try sensorsInNamespace(chips: [
            ("power_meter", ["power1_input": "12500000", "energy1_input": "3000000", "temp1_input": "45000"])
        ])
        let channels = report["channels"] as! [[String: Any]]
        let power = try XCTUnwrap(channels.first { $0["domain"] as? String == "power1_input" })
        XCTAssertEqual(power["kind"] as? String, "power")
        XCTAssertEqual(power["watts"] as! Double, 12.5, accuracy: 1e-9, "libsensors scales µW to W")
        XCTAssertEqual(power["role"] as? String, "detail", "a whole-platform meter overlaps the CPU and GPU meters")
        XCTAssertEqual(channels.first { $0["domain"] as? String == "energy1_input" }?["kind"] as? String, "energy")
        XCTAssertEqual(channels.first { $0["domain"] as? String == "temp1_input" }?["role"] as? String, "context")
    }

    func testAMDEnergyCountsAsTheCPUWhenNoRAPLIsReadable() throws {
        // Layout of shared/data/hardware/hwmon_examples/02: per-core counters beside the socket's; only the socket adds up.
        let report = try sensorsInNamespace(chips: [
            (
                "amd_energy",
                [
                    "energy1_input": "5000000", "energy1_label": "Ecore000", "energy2_input": "6000000", "energy2_label": "Ecore001",
                    "energy3_input": "9000000", "energy3_label": "Esocket0",
                ]
            )
        ])
        let channels = report["channels"] as! [[String: Any]]
        let socket = try XCTUnwrap(channels.first { ($0["device"] as? String) == "cpu-package-0 (amd_energy)" })
        XCTAssertEqual(socket["role"] as? String, "total")
        XCTAssertEqual(socket["mode"] as? String, "measured")
        XCTAssertEqual(
            channels.filter { ($0["device"] as? String)?.contains("Ecore") == true }.map { $0["role"] as? String }, ["detail", "detail"])
        XCTAssertEqual(channels.first { $0["key"] as? String == "estimate:cpu" }?["role"] as? String, "detail")
    }

    /// amd_energy's counters are root-only since CVE-2020-8694: an unprivileged user is told so, with a udev fix.
    func testARootOnlyEnergyCounterIsBlockedWithAUdevFix() throws {
        let report = try sensorsInNamespace(
            chips: [("amd_energy", ["energy1_input": "9000000", "energy1_label": "Esocket0"])],
            rootOnly: ["hwmon0/energy1_input"], asNobody: true)
        let blocked = try XCTUnwrap(report["blocked"] as? [[String: Any]])
        let socket = try XCTUnwrap(blocked.first { ($0["device"] as? String) == "amd_energy:Esocket0" }, "\(blocked)")
        XCTAssertTrue((socket["reason"] as? String)?.hasSuffix("energy1_input is not readable by this user") ?? false, "\(socket)")
        let fixes = try XCTUnwrap(socket["fixes"] as? [String])
        XCTAssertTrue(fixes.first?.contains("SUBSYSTEM==\"hwmon\"") ?? false, "\(fixes)")
        XCTAssertFalse(fixes.joined().contains("a+r"))
    }

    /// zenpower registers one chip per socket; its rail labels (SVI2_P_Core) hold digits that are not sockets.
    func testZenpowerSocketsComeFromChipOrderNotLabels() throws {
        let rails = ["power1_input": "40000000", "power1_label": "SVI2_P_Core", "power2_input": "15000000", "power2_label": "SVI2_P_SoC"]
        let report = try sensorsInNamespace(chips: [("zenpower", rails), ("zenpower", rails)])
        let totals = (report["channels"] as! [[String: Any]]).filter {
            $0["role"] as? String == "total" && ($0["device"] as? String)?.contains("zenpower") == true
        }
        XCTAssertEqual(
            Set(totals.compactMap { $0["device"] as? String }),
            [
                "cpu-package-0 (zenpower SVI2_P_Core)", "cpu-package-0 (zenpower SVI2_P_SoC)",
                "cpu-package-1 (zenpower SVI2_P_Core)", "cpu-package-1 (zenpower SVI2_P_SoC)",
            ])
    }

    /// A power feature with only a cap (no input or average) is understood as nothing to read: said, not dropped.
    func testAPowerFeatureWithNothingToReadIsListedAsSkipped() throws {
        let report = try sensorsInNamespace(chips: [("power_meter", ["power1_cap": "100000000", "power2_input": "5000000"])])
        let decisions = try XCTUnwrap(report["decisions"] as? [[String: Any]])
        let skipped = try XCTUnwrap(decisions.first { ($0["subject"] as? String)?.hasSuffix("/power1") == true }, "\(decisions)")
        XCTAssertEqual(skipped["kind"] as? String, "skipped")
        XCTAssertTrue((skipped["reason"] as? String)?.contains("no input or average") ?? false)
        XCTAssertNotNil((report["channels"] as? [[String: Any]])?.first { $0["domain"] as? String == "power2_input" })
    }
}
