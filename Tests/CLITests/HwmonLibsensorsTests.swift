import Foundation
import XCTest

/// libsensors reads the real `/sys`, so these tests give it a private one: in a new mount namespace (`unshare -m`,
/// as root), a tmpfs over `/sys/class` holds hwmon chips written by the test, and `wattprint sensors` runs inside.
final class HwmonLibsensorsTests: XCTestCase {
    private func sensorsInNamespace(chips: [String: [String: String]]) throws -> [String: Any] {
        try XCTSkipUnless(geteuid() == 0, "mounting a private /sys/class needs root (CI runs as root)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "unshare (util-linux) is not installed")
        var script = "mount -t tmpfs none /sys/class || { echo WATTPRINT-MOUNT-REFUSED >&2; exit 99; }\nset -e\n"
        for (i, (name, files)) in chips.sorted(by: { $0.key < $1.key }).enumerated() {
            script += "mkdir -p /sys/class/hwmon/hwmon\(i)\necho \(name) > /sys/class/hwmon/hwmon\(i)/name\n"
            for (file, value) in files { script += "echo '\(value)' > /sys/class/hwmon/hwmon\(i)/\(file)\n" }
        }
        script += "exec \"$@\"\n"
        let r = try CLI.run(["-m", "sh", "-c", script, "sh", CLI.binary.path, "sensors", "--json"],
                            env: ["WATTPRINT_SYSFS_ROOT": "/nonexistent-sysfs"], executable: URL(fileURLWithPath: "/usr/bin/unshare"))
        if r.status != 0 && (r.stderr.contains("unshare") || r.stderr.contains("WATTPRINT-MOUNT-REFUSED")) {
            throw XCTSkip("a private mount namespace was refused here: \(r.stderr)")
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        return try json(r.stdout) as! [String: Any]
    }

    func testLibsensorsFindsPowerEnergyAndTemperatureOfAPlatformMeter() throws {
        let report = try sensorsInNamespace(chips: ["power_meter": ["power1_input": "12500000", "energy1_input": "3000000", "temp1_input": "45000"]])
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
        let report = try sensorsInNamespace(chips: ["amd_energy": [
            "energy1_input": "5000000", "energy1_label": "Ecore000", "energy2_input": "6000000", "energy2_label": "Ecore001",
            "energy3_input": "9000000", "energy3_label": "Esocket0"]])
        let channels = report["channels"] as! [[String: Any]]
        let socket = try XCTUnwrap(channels.first { ($0["device"] as? String) == "cpu-package-0 (amd_energy)" })
        XCTAssertEqual(socket["role"] as? String, "total")
        XCTAssertEqual(socket["mode"] as? String, "measured")
        XCTAssertEqual(channels.filter { ($0["device"] as? String)?.contains("Ecore") == true }.map { $0["role"] as? String }, ["detail", "detail"])
        XCTAssertEqual(channels.first { $0["key"] as? String == "estimate:cpu" }?["role"] as? String, "detail")
    }
}
