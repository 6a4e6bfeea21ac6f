import Crypto
import Foundation
import XCTest

/// The engine's own work is recorded like any run: corpus identity, steps, tokens, and J/token.
final class ModelCLITests: XCTestCase {
    func testTrainingRecordsTheCorpusHashStepsAndTokens() throws {
        let dir = try scratchDirectory()
        let corpus = dir.appendingPathComponent("corpus.txt")
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60)
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["model", "train", "--corpus", corpus.path, "--layers", "1", "--width", "32", "--heads", "2", "--seq", "16",
                             "--batch", "2", "--steps", "3", "--ledger", ledger, "--region", "FR", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let expected = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(report["corpusSHA256"] as? String, expected)
        let runID = try XCTUnwrap(report["runID"] as? Int)
        let show = try XCTUnwrap(try json(try CLI.run(["show", "\(runID)", "--ledger", ledger, "--json"]).stdout) as? [String: Any])
        XCTAssertEqual(show["tokens"] as? Double, 3 * 2 * 16, "three steps of B×T = 2×16 tokens")
        XCTAssertGreaterThan(show["joulesPerToken"] as? Double ?? 0, 0)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testBenchRecordsItsTimedStepsAsAMeasurementWindow() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["model", "bench", "--layers", "1", "--width", "64", "--heads", "1", "--vocab", "256", "--context", "32",
                             "--seq", "16", "--batch", "2", "--steps", "2", "--ledger", ledger, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let record = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let energy = try XCTUnwrap(record["energy"] as? [String: Any])
        XCTAssertEqual(energy["tokens"] as? Int, 2 * 2 * 16)
        XCTAssertNotNil((energy["window"] as? [String: Any])?["totalJoules"])
        let bench = try XCTUnwrap(record["bench"] as? [String: Any])
        XCTAssertGreaterThan(bench["modelFLOPsUtilization"] as? Double ?? 0, 0)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }
}
