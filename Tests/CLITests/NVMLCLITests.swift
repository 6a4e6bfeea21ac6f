import Foundation
import TestSupport
import XCTest

/// `wattprint` with the fake libnvidia-ml.so.1 in place of the driver: what a user sees on a GPU machine.
final class NVMLCLITests: XCTestCase {
    private func env(_ settings: [String: String]) throws -> [String: String] {
        settings.merging(["WATTPRINT_NVML_LIBRARY": try FakeNVML.library()]) { a, _ in a }
    }

    func testSensorsNamesEachGPUItsMethodAndItsCrossChecks() throws {
        let env = try env(["FAKE_NVML_GPUS": "2"])
        let r = try CLI.run(["sensors", "--json"], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let gpus = try XCTUnwrap(report["gpus"] as? [[String: Any]])
        XCTAssertEqual(gpus.map { $0["uuid"] as? String }, [FakeNVML.uuid0, "GPU-fa4e0000-0000-0000-0000-000000000001"])
        XCTAssertEqual(gpus.map { $0["method"] as? String }, ["energy counter", "energy counter"])
        XCTAssertEqual(gpus[0]["crossChecks"] as? [String], ["POWER_INSTANT field", "GetPowerUsage"])
        XCTAssertEqual(gpus[0]["powerLimitWatts"] as? Double, 700)
        let channels = try XCTUnwrap(report["channels"] as? [[String: Any]])
        let counted = try XCTUnwrap(channels.first { $0["key"] as? String == "nvml:\(FakeNVML.uuid0)" })
        XCTAssertEqual(counted["role"] as? String, "total")
        XCTAssertEqual(counted["mode"] as? String, "measured")
        // Current power over 1 s from a counter that steps every 100 ms: within one step of the true 300 W.
        XCTAssertEqual(try XCTUnwrap(counted["watts"] as? Double), FakeNVML.defaultWatts, accuracy: FakeNVML.defaultWatts * 0.11)
        XCTAssertNil((report["unavailable"] as? [String: String])?["nvml"])

        let text = try CLI.run(["sensors"], env: env)
        XCTAssertTrue(
            text.stdout.contains(
                "GPU 0: Fake H100 80GB HBM3 (\(FakeNVML.uuid0)), power limit 700 W; energy from the energy counter; cross-checked by POWER_INSTANT field and GetPowerUsage"
            ), text.stdout)
    }

    func testARunCountsTheGPUCounterAndCrossChecksItAgainstIntegratedPower() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(
            ["run", "--ledger", ledger, "--region", "FR", "--interval", "0.05", "--json", "--", "sleep", "1"],
            env: try env([:]))
        XCTAssertEqual(r.status, 0, r.stderr)
        let energy = try XCTUnwrap((try json(r.stdout) as? [String: Any])?["energy"] as? [String: Any])
        let channels = try XCTUnwrap(energy["channels"] as? [[String: Any]])
        let gpu = try XCTUnwrap(channels.first { $0["device"] as? String == "gpu-0" && $0["role"] as? String == "total" })
        XCTAssertEqual(gpu["mode"] as? String, "measured")
        XCTAssertEqual(try XCTUnwrap(gpu["meanWatts"] as? Double), FakeNVML.defaultWatts, accuracy: FakeNVML.defaultWatts * 0.15)
        let checks = try XCTUnwrap(energy["crossChecks"] as? [[String: Any]])
        XCTAssertEqual(
            checks.compactMap { $0["checkSource"] as? String }.sorted(),
            ["nvml GetPowerUsage (\(FakeNVML.uuid0))", "nvml POWER_INSTANT field (\(FakeNVML.uuid0))"])
        for c in checks {
            XCTAssertLessThan(abs(try XCTUnwrap(c["relativeDifference"] as? Double)), 0.15, "\(c)")
        }
        let measured = try XCTUnwrap(energy["measuredJoules"] as? Double), total = try XCTUnwrap(energy["totalJoules"] as? Double)
        XCTAssertGreaterThan(measured / total, 0.95, "the GPU counts as measured; the estimated CPU is a sliver beside it")
        XCTAssertEqual(gpu["joules"] as? Double, measured, "detail channels never add into the total")

        let v = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
    }

    func testAGPULostMidRunIsReportedAsAGapAndTheRunStillVerifies() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(
            ["run", "--ledger", ledger, "--region", "FR", "--", "sleep", "2"],
            env: try env(["FAKE_NVML_GPUS": "2", "FAKE_NVML_LOST_AFTER": "6"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("gap: gpu-0 stopped answering at"), r.stderr)
        XCTAssertFalse(r.stderr.contains("gap: gpu-1"), r.stderr)
        let shown = try XCTUnwrap(
            (try json(try CLI.run(["show", "last", "--ledger", ledger, "--json"]).stdout) as? [String: Any])?["energy"] as? [String: Any])
        let gaps = try XCTUnwrap(shown["gaps"] as? [[String: Any]])
        XCTAssertEqual(Set(gaps.compactMap { $0["device"] as? String }), ["gpu-0"])
        XCTAssertTrue(gaps.allSatisfy { !($0["resumedAtSeconds"] is Double) }, "it never came back")
        let channels = try XCTUnwrap(shown["channels"] as? [[String: Any]])
        let joules = { (device: String) in
            channels.first { $0["device"] as? String == device && $0["role"] as? String == "total" }?["joules"] as? Double ?? 0
        }
        XCTAssertGreaterThan(joules("gpu-0"), 0, "energy before the loss is kept")
        XCTAssertGreaterThan(joules("gpu-1"), 2 * joules("gpu-0"), "GPU 1 draws twice the power for longer")
        let v = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
    }

    func testADriverThatWillNotInitialiseIsNamedNotHidden() throws {
        let r = try CLI.run(["sensors"], env: try env(["FAKE_NVML_INIT_RC": "9"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("nvml: nvmlInit_v2 failed with NVML error 9 (driver not loaded)"), r.stdout)
    }
}
