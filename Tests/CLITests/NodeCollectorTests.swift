import Accounting
import Foundation
import Ledger
import TestSupport
import XCTest

/// Four ranks of a job on one machine: the first `wattprint run` starts the node's collector, the others attach;
/// the RAPL counter is read by the collector alone, each run attributes its own share, and the host's energy is
/// counted once across them.
final class NodeCollectorTests: XCTestCase {
    func testFourRanksShareOneCollectorAndCountTheHostOnce() throws {
        let dir = try scratchDirectory()
        let tree = try FakeSystemTree()
        try tree.zone("intel-rapl:0", name: "package-0")
        let counter = tree.advance("intel-rapl:0")
        defer { counter.stop() }
        let runtime = shortRuntimeDirectory()
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        // The real /proc, so process trees and host CPU time are real; the RAPL zone is the fake tree's.
        let env = ["WATTPRINT_SYSFS_ROOT": tree.paths.sysfs, "XDG_RUNTIME_DIR": runtime, "WORLD_SIZE": "4"]
        let busy = "i=0; while [ $i -lt 1500000 ]; do i=$((i+1)); done"
        var ranks: [(Process, Pipe, Pipe)] = []
        for rank in 0..<4 {
            var rankEnv = env
            rankEnv["RANK"] = "\(rank)"
            rankEnv["LOCAL_RANK"] = "\(rank)"
            ranks.append(
                try CLI.start(
                    [
                        "run", "--region", "FR", "--no-cgroup", "--ledger", dir.appendingPathComponent("rank\(rank).sqlite").path, "--",
                        "sh",
                        "-c", busy,
                    ], env: rankEnv))
        }
        for (p, _, err) in ranks {
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, stderr)
            XCTAssertFalse(stderr.contains("reading the meters directly"), stderr)
        }
        let status = try CLI.run(["collector", "--status"], env: env)
        let logs =
            (try? FileManager.default.contentsOfDirectory(atPath: runtime + "/wattprint"))?.filter { $0.hasSuffix(".log") }
            .compactMap { try? String(contentsOfFile: runtime + "/wattprint/" + $0, encoding: .utf8) } ?? []
        XCTAssertEqual(
            status.status, 0,
            status.stderr + " collector log: \(logs) \((try? FileManager.default.subpathsOfDirectory(atPath: runtime)) ?? [])")
        let collector = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        let collectorPID = collector["pid"] as! Int
        XCTAssertEqual(collector["clientsEver"] as? Int, 5, "four ranks and this status request: \(status.stdout)")

        var attributed = 0.0, hostTotals = 0.0, runReadings = 0
        var first = Double.infinity, last = -Double.infinity
        for rank in 0..<4 {
            let ledger = try Ledger(path: dir.appendingPathComponent("rank\(rank).sqlite").path, create: false)
            let run = try XCTUnwrap(try ledger.runs().first?.id)
            let job = try ledger.events(run: run).compactMap { e -> JobRecord? in
                if case let .job(j) = RunEvent(e) { return j }
                return nil
            }.first
            XCTAssertEqual(job?.identity?.rank, "\(rank)")
            XCTAssertEqual(job?.identity?.worldSize, "4")
            XCTAssertEqual(job?.collectorPID.map(Int.init), collectorPID, "every rank read through the same collector")
            let rapl = try XCTUnwrap(try ledger.channels(run: run).first { $0.key == "rapl:intel-rapl:0" })
            XCTAssertTrue(rapl.source.contains("via collector pid \(collectorPID)"), rapl.source)
            let samples = try ledger.samples(run: run).filter { $0.channel == rapl.index }
            runReadings += samples.count
            first = min(first, samples.map(\.value).min()!)
            last = max(last, samples.map(\.value).max()!)
            let energy = try RunEnergy.compute(ledger: ledger, run: run)
            hostTotals += energy.channels.first { $0.key == "rapl:intel-rapl:0" }!.joules
            attributed += try XCTUnwrap(energy.attribution?.attributedCPUJoules)
        }
        // The counter was read by one process at its own rate: its readings are its ticks over its life (10 a second)
        // plus the runs' fresh reads at their edges, whatever the runs' overlap; the runs' own ticks add up to more.
        let readings = collector["readings"] as! Int
        let uptime = collector["uptimeSeconds"] as! Double
        XCTAssertLessThanOrEqual(Double(readings), uptime * 10 * 1.1 + 4 * 3 + 2, "collector \(readings) readings in \(uptime) s")
        XCTAssertLessThan(readings, runReadings, "collector \(readings) readings, runs \(runReadings) ticks")
        // The collector is no rank's child: its CPU time is nobody's attribution.
        let parent = try String(contentsOfFile: "/proc/\(collectorPID)/stat", encoding: .utf8).split(separator: ")").last!
            .split(separator: " ")[1]
        XCTAssertFalse(ranks.map { "\($0.0.processIdentifier)" }.contains(String(parent)), "collector's parent \(parent)")
        kill(Int32(collectorPID), SIGTERM)
        // The package's energy over the four runs' span, once; the runs' attributed shares add up to at most that,
        // while their whole-host figures count it about four times.
        let union = (last - first) / 1e6
        print(
            "host RAPL over the ranks' span \(union) J; attributed across ranks \(attributed) J; whole-host figures summed \(hostTotals) J")
        XCTAssertGreaterThan(union, 20)
        XCTAssertLessThanOrEqual(attributed, union * 1.02)
        XCTAssertGreaterThan(attributed, union * 0.2, "the four busy loops are most of the host's CPU time")
        XCTAssertGreaterThan(hostTotals, union * 2, "each rank alone sees the whole host")
    }

    /// A collector killed during a run: the run opens the meters itself and goes on measuring, and says so.
    func testARunOutlivesItsCollector() throws {
        let tree = try FakeSystemTree()
        try tree.zone("intel-rapl:0", name: "package-0")
        let counter = tree.advance("intel-rapl:0")
        defer { counter.stop() }
        let dir = try scratchDirectory()

        let runtime = shortRuntimeDirectory()
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        let env = ["WATTPRINT_SYSFS_ROOT": tree.paths.sysfs, "XDG_RUNTIME_DIR": runtime]
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let (run, _, err) = try CLI.start(
            ["run", "--region", "FR", "--collector", "always", "--ledger", ledger, "--", "sleep", "3"], env: env)
        Thread.sleep(forTimeInterval: 1.2)
        let status = try CLI.run(["collector", "--status"], env: env)
        let pid = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["pid"] as? Int)
        kill(Int32(pid), SIGKILL)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("the node's collector stopped answering") && stderr.contains("read the meters itself"), stderr)
        let store = try Ledger(path: ledger, create: false)
        let energy = try RunEnergy.compute(ledger: store, run: 1)
        let package = try XCTUnwrap(energy.channels.first { $0.key == "rapl:intel-rapl:0" })
        // 50 W (less the writer's own delays) for 3 s, but for the one tick of the failure.
        XCTAssertGreaterThan(package.joules, 0.7 * 50 * 3 * 0.6, "\(package.joules) J")
        let jobs = try store.events(run: 1).filter { $0.kind == "job" }
        XCTAssertEqual(jobs.count, 2)
        XCTAssertTrue(jobs.last!.payload.contains("lost during the run"), jobs.last!.payload)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }
}
