import Foundation
import Measures
import TestSupport
import XCTest

/// The measurement faults end to end: `wattprint run` over a fake `/sys` whose counters a thread drives while the run
/// goes, and the stand-in NVML library; the summary says what was decided and `verify` recomputes the same.
final class MeasurementFaultCLITests: XCTestCase {
    /// Drives one powercap package zone at `watts`, writing `glitch` instead during `glitchWindow` (seconds since start).
    private final class ZoneDriver: @unchecked Sendable {
        let file: URL
        let watts: Double
        let glitchWindow: Range<Double>
        let glitch: String
        private let lock = NSLock()
        private var stopped = false
        private var thread: Thread?

        init(file: URL, watts: Double, glitchWindow: Range<Double>, glitch: String) {
            self.file = file; self.watts = watts; self.glitchWindow = glitchWindow; self.glitch = glitch
        }

        func start() {
            let begin = Date()
            let t = Thread { [self] in
                while true {
                    lock.lock(); let stop = stopped; lock.unlock()
                    if stop { break }
                    let elapsed = Date().timeIntervalSince(begin)
                    let value = glitchWindow.contains(elapsed) ? glitch : String(UInt64(1_000_000_000 + elapsed * watts * 1e6))
                    try? TestScratch.replace(file, with: value + "\n") // by rename: never a half-written file
                    usleep(5_000)
                }
            }
            thread = t
            t.start()
        }

        func stop() { lock.lock(); stopped = true; lock.unlock(); usleep(20_000) }
    }

    private func fakeSys(_ dir: URL) throws -> URL {
        let zone = dir.appendingPathComponent("sys/class/powercap/intel-rapl:0")
        try FileManager.default.createDirectory(at: zone, withIntermediateDirectories: true)
        try "package-0\n".write(to: zone.appendingPathComponent("name"), atomically: false, encoding: .utf8)
        try "262143328850\n".write(to: zone.appendingPathComponent("max_energy_range_uj"), atomically: false, encoding: .utf8)
        try "1000000000\n".write(to: zone.appendingPathComponent("energy_uj"), atomically: false, encoding: .utf8)
        return zone.appendingPathComponent("energy_uj")
    }

    /// One package at 50 W whose energy_uj reads 18446744073447456768 for a quarter of a second: 262 kJ "measured"
    /// before; now the readings are failed reads, said in the summary, and the package's mean power stays 50 W.
    func testAnImpossibleRAPLReadingIsAnAnomalyNotEnergy() throws {
        let dir = try scratchDirectory()
        let energy = try fakeSys(dir)
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let driver = ZoneDriver(file: energy, watts: 50, glitchWindow: 1.5..<1.75, glitch: "18446744073447456768")
        driver.start()
        let r = try CLI.run(
            ["run", "--ledger", ledger, "--region", "FR", "--interval", "0.05", "--json", "--", "sleep", "3"],
            env: ["WATTPRINT_SYSFS_ROOT": dir.appendingPathComponent("sys").path])
        driver.stop()
        XCTAssertEqual(r.status, 0, r.stderr)
        let energyReport = try XCTUnwrap((try json(r.stdout) as? [String: Any])?["energy"] as? [String: Any])
        let channels = try XCTUnwrap(energyReport["channels"] as? [[String: Any]])
        let package = try XCTUnwrap(channels.first { $0["device"] as? String == "cpu-package-0" })
        XCTAssertEqual(try XCTUnwrap(package["meanWatts"] as? Double), 50, accuracy: 2.5)
        XCTAssertEqual(package["wraps"] as? Int, 0)
        XCTAssertLessThan(try XCTUnwrap(package["countedJoules"] as? Double), 50 * 4)
        let anomalies = try XCTUnwrap(energyReport["anomalies"] as? [[String: Any]])
        XCTAssertFalse(anomalies.isEmpty)
        for a in anomalies {
            let decision = try XCTUnwrap(a["decision"] as? [String: Any])
            XCTAssertEqual(decision["kind"] as? String, "out-of-range")
            XCTAssertEqual(
                try XCTUnwrap(decision["value"] as? Double), 18_446_744_073_447_456_768, accuracy: 1e7, "JSON readers round the last bits")
        }
        XCTAssertTrue(r.stderr.contains("anomaly at"), r.stderr)
        XCTAssertTrue(r.stderr.contains("out-of-range reading 18446744073447456768"), r.stderr)
        let v = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.contains("= recomputed from raw samples"), v.stdout)
        let show = try CLI.run(["show", "last", "--ledger", ledger])
        XCTAssertTrue(show.stdout.contains("out-of-range"), "show recomputes the same decisions: \(show.stdout)")
    }

    /// An NVML counter that answers but never advances: the cross-check is printed although the counter saw 0 J, and
    /// counting moves to POWER_INSTANT, so the GPU's energy is what it drew.
    func testAStuckGPUCounterIsShownAndReplaced() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(
            ["run", "--ledger", ledger, "--region", "FR", "--json", "--", "sleep", "2"],
            env: ["WATTPRINT_NVML_LIBRARY": try FakeNVML.library(), "FAKE_NVML_COUNTER_STUCK": "1", "FAKE_NVML_WATTS": "250"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let energy = try XCTUnwrap((try json(r.stdout) as? [String: Any])?["energy"] as? [String: Any])
        let channels = try XCTUnwrap(energy["channels"] as? [[String: Any]])
        let instant = try XCTUnwrap(channels.first { $0["key"] as? String == "nvml:\(FakeNVML.uuid0):instant" })
        let span = try XCTUnwrap(energy["seconds"] as? Double)
        XCTAssertEqual(try XCTUnwrap(instant["countedJoules"] as? Double), 250 * span, accuracy: 250 * span * 0.15)
        XCTAssertTrue(r.stderr.contains("stuck"), r.stderr)
        XCTAssertTrue(r.stderr.contains("the counted reading saw no energy"), r.stderr)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }
}
