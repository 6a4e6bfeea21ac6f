import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Ledger

/// Ledgers of several hosts merged into one: every run keeps its original chain (it verifies after the merge),
/// its host, and its rows; tampered sources, runs still recording and runs merged twice are refused with nothing
/// written.
final class LedgerMergeTests: XCTestCase {
    func node(_ name: String, _ dir: URL, runs: Int) throws -> String {
        let path = dir.appendingPathComponent("\(name).sqlite").path
        let ledger = try Ledger(path: path)
        var host = testHost
        host.hostname = name
        host.bootID = "boot-\(name)"
        for _ in 0..<runs {
            let recorder = try ledger.beginRun(host: host, command: "train on \(name)", region: "FR")
            let ch = recorder.addChannel(energyChannel())
            for t in 1...20 { recorder.record(SampleRecord(channel: ch, tNs: Int64(t) * 100_000_000, value: Double(t * 1000))) }
            try recorder.flush()
            recorder.record(EventRecord(tNs: 2_000_000_000, kind: "step", payload: "{\"step\":1}"))
            try recorder.close(status: .complete, exitCode: 0)
        }
        return path
    }

    func testMergedRunsKeepTheirChainsHostsAndRows() throws {
        let dir = try TestScratch.folder(name)
        let a = try node("node-a", dir, runs: 2), b = try node("node-b", dir, runs: 3)
        let fleet = try Ledger(path: dir.appendingPathComponent("fleet.sqlite").path)
        let merged = try fleet.merge(from: [a, b])
        XCTAssertEqual(merged.map { $0.runs.map(\.source) }, [[1, 2], [1, 2, 3]])
        XCTAssertEqual(merged.flatMap { $0.runs.map(\.merged) }, [1, 2, 3, 4, 5])
        XCTAssertEqual(merged.map(\.hosts), [["node-a"], ["node-b"]])
        let runs = try fleet.runs()
        XCTAssertEqual(runs.map(\.originRunID), [1, 2, 1, 2, 3])
        XCTAssertEqual(runs.map(\.originLedger), [a, a, b, b, b])
        XCTAssertEqual(try runs.map { try fleet.host($0.hostID)!.hostname }, ["node-a", "node-a", "node-b", "node-b", "node-b"])
        XCTAssertEqual(try fleet.samples(run: 4), try Ledger(path: b, create: false).samples(run: 2))
        XCTAssertEqual(try fleet.events(run: 4).map(\.kind), try Ledger(path: b, create: false).events(run: 2).map(\.kind))
        for check in try fleet.verifyAll() { XCTAssertEqual(check.outcome, .ok, "run \(check.runID)") }
        XCTAssertEqual(
            try fleet.verifyAll().map(\.seal), try [a, b].flatMap { try Ledger(path: $0, create: false).verifyAll().map(\.seal) })

        // A run recorded into the fleet ledger afterwards has a chain of its own, linked to the last merged run.
        try recordRun(fleet)
        XCTAssertTrue(try fleet.verifyAll().allSatisfy(\.isIntact))

        // Merged again into a second fleet ledger, provenance is kept and every chain still verifies.
        let region = try Ledger(path: dir.appendingPathComponent("region.sqlite").path)
        try region.merge(from: [fleet.path])
        XCTAssertEqual(try region.runs().map(\.originLedger), [a, a, b, b, b, fleet.path])
        let checks = try region.verifyAll()
        XCTAssertTrue(checks.allSatisfy { $0.outcome == .ok }, "\(checks)")
    }

    func testAMergedChainStillShowsTampering() throws {
        let dir = try TestScratch.folder(name)
        let a = try node("node-a", dir, runs: 2)
        let fleetPath = dir.appendingPathComponent("fleet.sqlite").path
        try Ledger(path: fleetPath).merge(from: [a])
        try sqlite3(fleetPath, "UPDATE sample SET value = value + 1 WHERE run_id = 2 AND row_seq = 3")
        var checks = try Ledger(path: fleetPath, create: false).verifyAll()
        XCTAssertEqual(checks[0].outcome, .ok)
        guard case let .mismatch(_, row, table, _) = checks[1].outcome else { return XCTFail("\(checks)") }
        XCTAssertEqual(row, 3)
        XCTAssertEqual(table, "sample")

        try sqlite3(fleetPath, "UPDATE sample SET value = value - 1 WHERE run_id = 2 AND row_seq = 3")
        try sqlite3(
            fleetPath,
            "DELETE FROM sample WHERE run_id = 1; DELETE FROM event WHERE run_id = 1; DELETE FROM channel WHERE run_id = 1; DELETE FROM batch WHERE run_id = 1; DELETE FROM run WHERE id = 1"
        )
        checks = try Ledger(path: fleetPath, create: false).verifyAll()
        XCTAssertEqual(checks.count, 1)
        guard case let .mismatch(_, _, _, reason) = checks[0].outcome else { return XCTFail("\(checks)") }
        XCTAssertTrue(reason.contains("run 1 of \(a)") && reason.contains("not in this ledger"), reason)
    }

    /// A run copied under a new id, given the origin that makes its chain hash the same, is found: one genesis, one run.
    func testACopiedRunIsFound() throws {
        let dir = try TestScratch.folder(name)
        let a = try node("node-a", dir, runs: 2)
        let fleetPath = dir.appendingPathComponent("fleet.sqlite").path
        try Ledger(path: fleetPath).merge(from: [a])
        try sqlite3(
            fleetPath,
            """
            DROP INDEX run_by_genesis;
            INSERT INTO run SELECT 100, host_id, started_at, ended_at, command, region, status, pid, recorder_start_ticks, previous_run_id,
              monotonic_origin_ns, exit_code, genesis_hash, seal_hash, origin_run_id, origin_previous_genesis, origin_ledger, merged_at
              FROM run WHERE id = 2;
            INSERT INTO batch SELECT 100, seq, committed_at, row_count, prev_hash, hash FROM batch WHERE run_id = 2;
            INSERT INTO channel SELECT 100, idx, batch_seq, row_seq, device, domain, kind, role, unit, source, mode, resolution, wrap_range,
              uncertainty, row_hash, key, device_class, max_watts FROM channel WHERE run_id = 2;
            INSERT INTO sample SELECT 100, batch_seq, row_seq, channel, t_ns, value, row_hash FROM sample WHERE run_id = 2;
            INSERT INTO event SELECT 100, batch_seq, row_seq, t_ns, kind, payload, row_hash FROM event WHERE run_id = 2;
            """)
        let checks = try Ledger(path: fleetPath, create: false).verifyAll()
        XCTAssertEqual(checks.count, 3)
        for check in checks.dropFirst() {
            guard case let .mismatch(_, _, _, reason) = check.outcome else { return XCTFail("\(checks)") }
            XCTAssertTrue(reason.contains("same genesis hash"), reason)
        }
    }

    /// A fleet of more ledgers than SQLite attaches at once (10).
    func testTwelveLedgersMergeInOneGo() throws {
        let dir = try TestScratch.folder(name)
        let nodes = try (0..<12).map { try node("node-\($0)", dir, runs: 1) }
        let fleet = try Ledger(path: dir.appendingPathComponent("fleet.sqlite").path)
        XCTAssertEqual(try fleet.merge(from: nodes).count, 12)
        XCTAssertEqual(try fleet.runs().count, 12)
        XCTAssertTrue(try fleet.verifyAll().allSatisfy { $0.outcome == .ok })
    }

    func testTamperedRecordingAndRepeatedSourcesAreRefusedWithNothingWritten() throws {
        let dir = try TestScratch.folder(name)
        let a = try node("node-a", dir, runs: 2), b = try node("node-b", dir, runs: 1)
        let fleetPath = dir.appendingPathComponent("fleet.sqlite").path
        let fleet = try Ledger(path: fleetPath)

        try sqlite3(b, "UPDATE sample SET value = 7 WHERE run_id = 1 AND row_seq = 2")
        XCTAssertThrowsError(try fleet.merge(from: [a, b])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("run 1 of \(b) fails verification") && text.contains("nothing was merged"), text)
        }
        XCTAssertEqual(try fleet.runs().count, 0, "a refused merge writes nothing, not even the sources before the bad one")

        XCTAssertThrowsError(try fleet.merge(from: [a, a])) { error in
            XCTAssertTrue("\(error)".contains("is named twice"), "\(error)")
        }
        try fleet.merge(from: [a])
        XCTAssertThrowsError(try fleet.merge(from: [a])) { error in
            XCTAssertTrue("\(error)".contains("already in \(fleetPath)") && "\(error)".contains("merged before"), "\(error)")
        }
        XCTAssertEqual(try fleet.runs().count, 2)
        XCTAssertThrowsError(try fleet.merge(from: [fleetPath])) { error in
            XCTAssertTrue("\(error)".contains("the ledger being merged into"), "\(error)")
        }

        let live = dir.appendingPathComponent("live.sqlite").path
        let recorder = try recordRun(try Ledger(path: live), close: false)
        XCTAssertThrowsError(try fleet.merge(from: [live])) { error in
            XCTAssertTrue("\(error)".contains("run 1 of \(live) is marked running"), "\(error)")
        }
        try recorder.close(status: .complete, exitCode: 0)
        XCTAssertEqual(try fleet.merge(from: [live]).first?.runs.count, 1)
    }
}
