import Accounting
import Foundation
import XCTest

/// The lines a measured program writes to $WATTPRINT_EVENTS: each shape read as its typed event, every malformed one
/// named with its line and reason, and a file read a complete line at a time as it grows.
final class ProgramEventsTests: XCTestCase {
    func events(_ line: String) -> [RunEvent]? { try? ProgramEvents.parse(line, number: 1).get().events }

    func problem(_ line: String) -> String? {
        if case let .failure(m) = ProgramEvents.parse(line, number: 7) { return m.problem }
        return nil
    }

    func testEachShapeIsItsTypedEvent() throws {
        XCTAssertEqual(events(#"{"tokens":128,"phase":"decode"}"#), [.tokens(TokenCount(count: 128, phase: "decode"))])
        XCTAssertEqual(events(#"{"tokens":3}"#), [.tokens(TokenCount(count: 3))])
        XCTAssertEqual(events(#"{"phase":"prefill","event":"start"}"#), [.phaseStart(PhaseMark(name: "prefill"))])
        XCTAssertEqual(events(#"{"phase":"prefill","event":"end"}"#), [.phaseEnd(PhaseMark(name: "prefill"))])
        XCTAssertEqual(events(#"{"step":1,"loss":2.31}"#), [.step(StepRecord(index: 1, loss: 2.31))])
        XCTAssertEqual(
            events(#"{"step":2,"loss":2.2,"tokens":512,"phase":"train"}"#),
            [.step(StepRecord(index: 2, tokens: 512, loss: 2.2)), .tokens(TokenCount(count: 512, phase: "train"))])
        let now = (Date().timeIntervalSince1970 * 4).rounded() / 4
        let timed = try ProgramEvents.parse("{\"tokens\":1,\"time\":\(now)}", number: 1).get()
        XCTAssertEqual(timed.time, now)
        XCTAssertFalse(timed.isPhaseEdge)
    }

    func testMalformedLinesSayWhy() {
        XCTAssertEqual(problem("tokens: 5"), "not a JSON object")
        XCTAssertEqual(problem(#"{"tokens": -1}"#), "tokens must be 0 or more")
        XCTAssertEqual(problem(#"{"tokens": "many"}"#), "time, tokens, step and loss must be finite numbers")
        XCTAssertEqual(problem(#"{"tokens": true}"#), "time, tokens, step and loss must be finite numbers")
        XCTAssertEqual(problem(#"{"tokens": 1, "phase": 3}"#), "phase and event must be strings")
        XCTAssertEqual(problem(#"{"event": "start"}"#), "a start or end needs the phase it marks")
        XCTAssertEqual(problem(#"{"phase": "x", "event": "begin"}"#), "event must be \"start\" or \"end\"")
        XCTAssertEqual(problem(#"{"loss": 2.3}"#), "neither tokens, a step, nor a phase start or end")
        XCTAssertEqual(problem(#"{"tokens": 4, "loss": 2.3}"#), "loss belongs to a step: add \"step\"")
        XCTAssertEqual(problem(#"{"step": 1.5}"#), "step must be a whole number")
        XCTAssertEqual(problem(#"{"tokens": 1.5}"#), "tokens must be a whole number up to 10^15")
        XCTAssertEqual(problem(#"{"tokens": 1e30}"#), "tokens must be a whole number up to 10^15")
        XCTAssertTrue(
            problem(#"{"tokens": 1, "time": 1000000000000}"#)?.hasPrefix("time 1000000000000.0 is not within a day of now") == true)
        XCTAssertTrue(problem(#"{"loss": NaN, "step": 1}"#)?.contains("NaN and Infinity are not JSON") == true)
        XCTAssertTrue(problem(#"{"tokenz": 4}"#)?.hasPrefix("unknown key 'tokenz'") == true)
        if case let .failure(m) = ProgramEvents.parse(String(repeating: "x", count: 500), number: 7) {
            XCTAssertEqual(m.line, 7)
            XCTAssertEqual(m.text.count, 200, "kept as written, up to 200 characters")
        } else {
            XCTFail("accepted")
        }
    }

    func testTailReadsCompleteLinesAsTheFileGrows() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let tail = ProgramEvents.Tail(path: path)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        handle.write(Data("{\"tokens\":1}\n\n{\"tok".utf8))
        XCTAssertEqual(tail.read().map(\.text), [#"{"tokens":1}"#], "the half-written line waits; a blank one is skipped")
        handle.write(Data("ens\":2}\n{\"tokens\":3}".utf8))
        XCTAssertEqual(tail.read().map(\.number), [3])
        XCTAssertEqual(
            tail.read(final: true).map { "\($0.number) \($0.text)" }, [#"4 {"tokens":3}"#], "at the end, a last line without newline")
    }
}
