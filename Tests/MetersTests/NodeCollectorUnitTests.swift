import Foundation
import Measures
import TestSupport
import XCTest

@testable import Meters

/// The collector's socket protocol on a manual clock: a client sees the hardware channels only, the latest reading
/// (or a fresh one, which forces a tick), a gap as nil, and its progress in the collector's status.
final class NodeCollectorUnitTests: XCTestCase {
    private func channel(_ key: String, kind: ChannelKind = .energy) -> MeterChannel {
        MeterChannel(
            key: key, device: "gpu-0", domain: "energy", kind: kind, unit: "J", source: "script", mode: .measured,
            role: .total, uncertainty: 0.05, uncertaintyNote: "", deviceClass: .gpu, maxWatts: PowerBound.legacy)
    }

    func testClientsReadTheLatestOrAFreshReadingAndGapsAsNil() throws {
        let clock = ManualClock()
        // Read 3 fails for "b": a gap.
        let meter = ScriptedMeter(channels: [channel("nvml:a"), channel("nvml:b"), channel("estimate:cpu")]) { read in
            [Double(read) * 10, read == 3 ? nil : Double(read), 1]
        }
        let set = MeterSet(meters: [meter], host: HostDescription.current(paths: SystemPaths()), unavailable: [("powercap", "none here")])
        let collector = NodeCollector(meters: set)
        let sampler = Sampler(meters: set, interval: 0.1, flushInterval: 1, sinks: [collector], clock: clock)
        collector.attach(sampler: sampler)
        sampler.start()
        clock.waitForSleeper()
        let path = "/tmp/wpc-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        try collector.listen(at: path)
        defer { collector.stop() }
        XCTAssertThrowsError(try NodeCollector().listen(at: path), "one collector per socket")

        let client = try CollectorClient(socketPath: path)
        XCTAssertEqual(client.hello.channels.map(\.key), ["nvml:a", "nvml:b"], "the estimation model stays with each run")
        XCTAssertEqual(client.hello.unavailable.first?.reason, "none here")
        XCTAssertEqual(client.hello.intervalSeconds, 0.1)
        var reading = try client.read(fresh: false)
        XCTAssertEqual(reading.values, [0, 0], "the start's forced reading")
        clock.advance(seconds: 0.1)
        clock.advance(seconds: 0.1)
        reading = try client.read(fresh: false)
        XCTAssertEqual(reading.values, [20, 2])
        XCTAssertEqual(reading.tNs, clock.nowNs())
        reading = try client.read(fresh: true)
        XCTAssertEqual(reading.values, [30, nil], "a fresh reading is a tick of its own; b failed in it")
        XCTAssertEqual(sampler.readings, 4)

        try client.attach(.init(pid: 42, command: "train", job: JobIdentity(slurmJobID: "7", slurmProcID: "1")))
        try client.report(RunProgress(countedJoules: 5, hostCPUJoules: 4, attributedCPUJoules: 1, seconds: 2))
        let status = try client.status()
        XCTAssertEqual(status.readings, 4)
        XCTAssertGreaterThanOrEqual(status.clients, 1)
        XCTAssertEqual(status.attached.first?.run.pid, 42)
        XCTAssertEqual(status.attached.first?.progress?.attributedCPUJoules, 1)
        XCTAssertNil(collector.idleSeconds, "a client is attached")
        sampler.stop()
    }

    func testTheSocketPathIsPerViewOfTheMachine() {
        let a = CollectorLocation(
            options: .init(paths: SystemPaths(sysfs: "/sys", procfs: "/proc")), environment: ["XDG_RUNTIME_DIR": "/run/user/1000"])
        let b = CollectorLocation(
            options: .init(paths: SystemPaths(sysfs: "/tmp/fake/sys", procfs: "/proc")), environment: ["XDG_RUNTIME_DIR": "/run/user/1000"])
        XCTAssertTrue(a.socketPath.hasPrefix("/run/user/1000/wattprint/collector-"))
        XCTAssertNotEqual(a.socketPath, b.socketPath)
        let explicit = CollectorLocation(options: .init(), environment: ["WATTPRINT_COLLECTOR_SOCKET": "/tmp/x.sock"])
        XCTAssertEqual(explicit.socketPath, "/tmp/x.sock")
        XCTAssertTrue(JobIdentity.expectsSeveralRanks(["WORLD_SIZE": "8"]))
        XCTAssertFalse(JobIdentity.expectsSeveralRanks(["WORLD_SIZE": "1", "RANK": "0"]))
        XCTAssertEqual(JobIdentity.fromEnvironment(["SLURM_JOB_ID": "9", "SLURM_PROCID": "3"])?.slurmProcID, "3")
        XCTAssertNil(JobIdentity.fromEnvironment(["PATH": "/bin"]))
    }
}
