import Foundation
import XCTest
@testable import Ledger

final class TamperEvidenceTests: XCTestCase {
    private func ledgerWithRuns() throws -> (Ledger, String) {
        let path = try temporaryDirectory().appendingPathComponent("l.sqlite").path
        let ledger = try Ledger(path: path)
        try recordRun(ledger)
        try recordRun(ledger)
        return (ledger, path)
    }

    func testChangingOneSampleValueNamesRunBatchAndRow() throws {
        let (ledger, path) = try ledgerWithRuns()
        XCTAssertTrue(try ledger.verifyAll().allSatisfy { $0.outcome == .ok })
        try sqlite3(path, "UPDATE sample SET value = value + 1 WHERE run_id = 2 AND batch_seq = 1 AND row_seq = 3;")
        let results = try Ledger(path: path).verifyAll()
        XCTAssertEqual(results[0].outcome, .ok)
        guard case let .mismatch(batch, row, table, _) = results[1].outcome else { return XCTFail("tampering not detected") }
        XCTAssertEqual(results[1].runID, 2)
        XCTAssertEqual(batch, 1)
        XCTAssertEqual(row, 3)
        XCTAssertEqual(table, "sample")
    }

    func testRewritingTheRowHashToo_breaksTheBatchHash() throws {
        let (_, path) = try ledgerWithRuns()
        // An attacker who understands the row hash recomputes it; the batch hash still gives them away.
        let ledger = try Ledger(path: path)
        let s = try ledger.samples(run: 1)[2]
        let forged = SampleRecord(channel: s.channel, tNs: s.tNs, value: s.value * 2)
        let hash = HashChain.rowHash(forged.canonical).hex
        try sqlite3(path, "UPDATE sample SET value = \(forged.value), row_hash = X'\(hash)' WHERE run_id = 1 AND t_ns = \(s.tNs);")
        guard case let .mismatch(batch, _, table, _) = try ledger.verify(run: 1).outcome else { return XCTFail("forgery not detected") }
        XCTAssertEqual(batch, 0)
        XCTAssertEqual(table, "batch")
    }

    func testDeletingARowOrABatchOrChangingTheEndIsDetected() throws {
        var (_, path) = try ledgerWithRuns()
        try sqlite3(path, "DELETE FROM event WHERE run_id = 1 AND batch_seq = 2;")
        XCTAssertFalse(try Ledger(path: path).verify(run: 1).isIntact)

        (_, path) = try ledgerWithRuns()
        try sqlite3(path, "DELETE FROM batch WHERE run_id = 1 AND seq = 1;")
        XCTAssertFalse(try Ledger(path: path).verify(run: 1).isIntact)

        (_, path) = try ledgerWithRuns()
        try sqlite3(path, "UPDATE run SET exit_code = 1 WHERE id = 1;")
        XCTAssertFalse(try Ledger(path: path).verify(run: 1).isIntact)

        (_, path) = try ledgerWithRuns()
        try sqlite3(path, "UPDATE run SET region = 'SE' WHERE id = 2;")
        guard case let .mismatch(_, _, table, _) = try Ledger(path: path).verify(run: 2).outcome else { return XCTFail() }
        XCTAssertEqual(table, "run")

        (_, path) = try ledgerWithRuns()
        try sqlite3(path, "UPDATE channel SET mode = 'measured', source = 'forged' WHERE run_id = 2;")
        XCTAssertFalse(try Ledger(path: path).verify(run: 2).isIntact)
    }

    func testAnUnclosedRunWhoseRecorderIsGoneIsInterruptedButIntact() throws {
        let path = try temporaryDirectory().appendingPathComponent("l.sqlite").path
        let ledger = try Ledger(path: path)
        let live = try recordRun(ledger, batches: 2, close: false)
        XCTAssertEqual(try ledger.verify(run: live.runID).outcome, .recording, "this process is alive")
        // A recorder whose process has exited without closing its run.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let recorder = try ledger.beginRun(host: testHost, command: "died", region: nil, pid: child.processIdentifier)
        _ = recorder.addChannel(energyChannel())
        for b in 0..<4 { recorder.record(SampleRecord(channel: 0, tNs: Int64(b), value: 1)); try recorder.flush() }
        XCTAssertEqual(try ledger.verify(run: recorder.runID).outcome, .interrupted)
        XCTAssertEqual(try ledger.verify(run: recorder.runID).batches, 4)
        XCTAssertEqual(try ledger.markInterruptedRuns(), [recorder.runID])
        XCTAssertEqual(try ledger.run(recorder.runID).status, .interrupted)
        XCTAssertEqual(try ledger.verify(run: recorder.runID).outcome, .interrupted)
    }

    func testACompleteRunTruncatedAndRelabelledInterruptedIsCaught() throws {
        let (_, path) = try ledgerWithRuns()
        try sqlite3(
            path,
            """
            DELETE FROM batch WHERE run_id = 1 AND seq = 2; DELETE FROM sample WHERE run_id = 1 AND batch_seq = 2;
            DELETE FROM event WHERE run_id = 1 AND batch_seq = 2; UPDATE run SET status = 'interrupted' WHERE id = 1;
            """)
        guard case let .mismatch(_, _, table, reason) = try Ledger(path: path).verify(run: 1).outcome else { return XCTFail("not caught") }
        XCTAssertEqual(table, "run")
        XCTAssertTrue(reason.contains("seal"))
    }

    func testRowsOutsideTheChainAreCaughtWhateverTheirBatchNumber() throws {
        for seq in ["-1", "7", "'x'"] {
            let (_, path) = try ledgerWithRuns()
            try sqlite3(path, "INSERT INTO event VALUES (1, \(seq), 0, 5, 'tokens', '{\"count\":1e9}', x'00');")
            XCTAssertFalse(try Ledger(path: path).verify(run: 1).isIntact, "batch_seq \(seq)")
        }
    }

    func testAValueOfTheWrongTypeIsAMismatchNotACrash() throws {
        let (_, path) = try ledgerWithRuns()
        try sqlite3(path, "UPDATE sample SET value = 'x' WHERE run_id = 2 AND batch_seq = 1 AND row_seq = 0;")
        guard case let .mismatch(_, row, table, _) = try Ledger(path: path).verify(run: 2).outcome else { return XCTFail("not caught") }
        XCTAssertEqual(table, "sample")
        XCTAssertEqual(row, 0)
        XCTAssertThrowsError(try Ledger(path: path).samples(run: 2)) {
            guard case .corruptRow = $0 as? LedgerError else { return XCTFail("\($0)") }
        }
    }

    /// Each run's genesis includes the previous run's, so deleting a run breaks the next one's chain.
    func testDeletingAWholeRunIsCaughtByTheNextRun() throws {
        let (ledger, path) = try ledgerWithRuns()
        try recordRun(ledger)
        try sqlite3(
            path,
            """
            DELETE FROM sample WHERE run_id = 2; DELETE FROM event WHERE run_id = 2; DELETE FROM channel WHERE run_id = 2;
            DELETE FROM batch WHERE run_id = 2; DELETE FROM run WHERE id = 2;
            """)
        let results = try Ledger(path: path).verifyAll()
        XCTAssertEqual(results.map(\.runID), [1, 3])
        XCTAssertEqual(results[0].outcome, .ok)
        guard case let .mismatch(_, _, _, reason) = results[1].outcome else { return XCTFail("deletion not caught") }
        XCTAssertTrue(reason.contains("run 2"), reason)
    }

    func testFieldsCannotBeShiftedAcrossABoundary() {
        XCTAssertNotEqual(Canonical.record("R", ["sh -c a | b", "FR"]), Canonical.record("R", ["sh -c a ", " b|FR"]))
        XCTAssertNotEqual(
            EventRecord(tNs: 1, kind: "a|b", payload: "c").canonical, EventRecord(tNs: 1, kind: "a", payload: "b|c").canonical)
    }
}
