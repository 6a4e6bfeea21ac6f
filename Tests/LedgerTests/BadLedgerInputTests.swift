import Foundation
import GRDB
import XCTest
@testable import Ledger

final class BadLedgerInputTests: XCTestCase {
    func testAFileThatIsNotSQLiteIsRefusedAndLeftUntouched() throws {
        let url = try temporaryDirectory().appendingPathComponent("notes.txt")
        let content = Data("these are my notes, not a database\n".utf8)
        try content.write(to: url)
        XCTAssertThrowsError(try Ledger(path: url.path)) { XCTAssertEqual($0 as? LedgerError, .notADatabase(path: url.path)) }
        XCTAssertEqual(try Data(contentsOf: url), content)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path + "-wal"))
    }

    func testAnotherProgramsDatabaseIsRefusedAndLeftUntouched() throws {
        let url = try temporaryDirectory().appendingPathComponent("other.sqlite")
        try DatabaseQueue(path: url.path).write {
            try $0.execute(sql: "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('ada')")
        }
        let before = try Data(contentsOf: url)
        XCTAssertThrowsError(try Ledger(path: url.path)) { XCTAssertEqual($0 as? LedgerError, .notAWattprintLedger(path: url.path)) }
        XCTAssertEqual(try Data(contentsOf: url), before)
    }

    func testALedgerFromANewerSchemaIsRefusedAndLeftUntouched() throws {
        let url = try temporaryDirectory().appendingPathComponent("l.sqlite")
        do { try recordRun(try Ledger(path: url.path)) }
        let queue = try DatabaseQueue(path: url.path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9: from the future')") }
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        let before = try Data(contentsOf: url)
        XCTAssertThrowsError(try Ledger(path: url.path)) { error in
            guard case let .newerSchema(_, unknown) = error as? LedgerError else { return XCTFail("\(error)") }
            XCTAssertEqual(unknown, ["v9: from the future"])
            XCTAssertTrue("\(error)".contains("Upgrade wattprint"))
        }
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try DatabaseQueue(path: url.path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample") }, 15)
    }

    func testAnUnwritableLocationGivesAClearError() throws {
        let file = try temporaryDirectory().appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let path = file.appendingPathComponent("ledger.sqlite").path
        XCTAssertThrowsError(try Ledger(path: path)) { error in
            guard case .cannotCreate = error as? LedgerError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("--ledger"))
        }
        XCTAssertThrowsError(try Ledger(path: try temporaryDirectory().path)) { error in
            guard case .cannotCreate = error as? LedgerError else { return XCTFail("\(error)") }
        }
    }

    /// A zero-byte file (a ledger truncated to nothing) is not taken for a new, empty ledger by a reader, nor given a
    /// schema; a writer may start a ledger in it.
    func testReadingAnEmptyFileSaysSoAndLeavesItEmpty() throws {
        let path = try temporaryDirectory().appendingPathComponent("empty.sqlite").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        XCTAssertThrowsError(try Ledger(path: path, create: false)) { XCTAssertEqual($0 as? LedgerError, .empty(path: path)) }
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue, 0)
        XCTAssertTrue(LedgerError.empty(path: path).description.contains("restore it from a backup"))
        XCTAssertNoThrow(try Ledger(path: path, create: true))
    }

    func testReadingAMissingLedgerDoesNotCreateOne() throws {
        let path = try temporaryDirectory().appendingPathComponent("none.sqlite").path
        XCTAssertThrowsError(try Ledger(path: path, create: false)) { XCTAssertEqual($0 as? LedgerError, .missing(path: path)) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
