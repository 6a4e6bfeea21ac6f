import Foundation
import GRDB
import XCTest
@testable import Ledger

final class LedgerRoundTripTests: XCTestCase {
    func testMigratesAnEmptyFileAndRecordsARunThatReadsBackExactly() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("nested/dir/ledger.sqlite").path
        let ledger = try Ledger(path: path)
        let recorder = try ledger.beginRun(host: testHost, command: "python train.py", region: "aws:us-east-1")
        let a = recorder.addChannel(energyChannel("package-0"))
        let b = recorder.addChannel(energyChannel("dram-0"))
        let samples = (0..<50).map {
            SampleRecord(channel: $0 % 2 == 0 ? a : b, tNs: Int64($0) * 1_000_000, value: Double($0) * 0.1 + 1e-9)
        }
        recorder.record(samples: samples)
        recorder.record(EventRecord(tNs: 5, kind: "phase_start", payload: "{\"name\":\"train\"}"))
        XCTAssertEqual(try recorder.flush(), 0)
        XCTAssertNil(try recorder.flush(), "an empty flush writes no batch")
        try recorder.close(status: .complete, exitCode: 0)

        let reopened = try Ledger(path: path, create: false)
        let run = try reopened.run(recorder.runID)
        XCTAssertEqual(run.status, .complete)
        XCTAssertEqual(run.command, "python train.py")
        XCTAssertEqual(run.region, "aws:us-east-1")
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertNotNil(run.sealHash)
        XCTAssertEqual(try reopened.channels(run: recorder.runID).map(\.device), ["package-0", "dram-0"])
        let back = try reopened.samples(run: recorder.runID)
        XCTAssertEqual(
            back.sorted { ($0.channel, $0.tNs) < ($1.channel, $1.tNs) },
            samples.sorted { ($0.channel, $0.tNs) < ($1.channel, $1.tNs) })
        XCTAssertEqual(try reopened.events(run: recorder.runID).first?.payload, "{\"name\":\"train\"}")
        XCTAssertEqual(try reopened.verify(run: recorder.runID).outcome, .ok)

        let applied = try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(
            applied,
            [
                "v1: hosts, runs, channels, samples, events, batches", "v2: channel key, device class and power bound",
                "v3: provenance of runs merged from other ledgers",
            ])
        let journal = try DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(journal, "wal")
    }

    /// One kind of event across runs: every run's, by run and then in time, and no other kind.
    func testEventsOfOneKindAcrossRuns() throws {
        let ledger = try Ledger(path: try temporaryDirectory().appendingPathComponent("l.sqlite").path)
        var ids: [Int64] = []
        for run in 0..<3 {
            let recorder = try ledger.beginRun(host: testHost, command: "test \(run)", region: "FR")
            recorder.record(EventRecord(tNs: 9, kind: "bench_findings", payload: "[\(run), 2]"))
            recorder.record(EventRecord(tNs: 5, kind: "phase_start", payload: "{}"))
            if run != 1 { recorder.record(EventRecord(tNs: 3, kind: "bench_findings", payload: "[\(run), 1]")) }
            try recorder.close(status: .complete, exitCode: 0)
            ids.append(recorder.runID)
        }
        let found = try ledger.events(kind: "bench_findings")
        XCTAssertEqual(found.map(\.run), [ids[0], ids[0], ids[1], ids[2], ids[2]])
        XCTAssertEqual(found.map(\.event.payload), ["[0, 1]", "[0, 2]", "[1, 2]", "[2, 1]", "[2, 2]"])
        XCTAssertTrue(found.allSatisfy { $0.event.kind == "bench_findings" })
        XCTAssertEqual(try ledger.events(kind: "no_such_kind").count, 0)
    }

    func testAClosedRunRefusesMoreRows() throws {
        let ledger = try Ledger(path: try temporaryDirectory().appendingPathComponent("l.sqlite").path)
        let recorder = try recordRun(ledger)
        recorder.record(SampleRecord(channel: 0, tNs: 1, value: 1))
        XCTAssertThrowsError(try recorder.flush()) { XCTAssertEqual($0 as? LedgerError, .runClosed(recorder.runID)) }
    }

    func testDefaultLocationFollowsXDG() {
        XCTAssertEqual(LedgerLocation.resolve(explicit: "/x/l.sqlite", environment: ["WATTPRINT_LEDGER": "/y"]), "/x/l.sqlite")
        XCTAssertEqual(LedgerLocation.resolve(explicit: nil, environment: ["WATTPRINT_LEDGER": "/y/l.sqlite"]), "/y/l.sqlite")
        XCTAssertEqual(
            LedgerLocation.resolve(explicit: nil, environment: ["XDG_DATA_HOME": "/d", "HOME": "/h"]), "/d/wattprint/ledger.sqlite")
        XCTAssertEqual(LedgerLocation.resolve(explicit: nil, environment: ["HOME": "/h"]), "/h/.local/share/wattprint/ledger.sqlite")
    }

    /// Two writers with their own connections (as two processes have) record runs at the same time; no row is lost.
    func testConcurrentWritersLoseNoRows() throws {
        let path = try temporaryDirectory().appendingPathComponent("l.sqlite").path
        _ = try Ledger(path: path)
        let group = DispatchGroup()
        let failures = FailureLog()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                do {
                    let ledger = try Ledger(path: path)
                    for _ in 0..<10 { try recordRun(ledger, batches: 5, perBatch: 20) }
                } catch { failures.append(error) }
            }
        }
        group.wait()
        XCTAssertTrue(failures.errors.isEmpty, "\(failures.errors)")
        let ledger = try Ledger(path: path)
        let runs = try ledger.runs()
        XCTAssertEqual(runs.count, 20)
        for run in runs {
            XCTAssertEqual(try ledger.samples(run: run.id!).count, 100)
            let v = try ledger.verify(run: run.id!)
            XCTAssertEqual(v.outcome, .ok)
            XCTAssertEqual(v.batches, 5)
        }
    }
}

private final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Error] = []
    func append(_ error: Error) { lock.lock(); stored.append(error); lock.unlock() }
    var errors: [Error] { lock.lock(); defer { lock.unlock() }; return stored }
}
