import Foundation
import XCTest
@testable import Carbon

/// Finds the shared reference data: `<repo>/../shared` first, then `/work/shared`.
enum SharedData {
    static func gridFile(_ name: String, filePath: String = #filePath) throws -> URL {
        let repo = URL(fileURLWithPath: filePath)
            .deletingLastPathComponent() // CarbonTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // repository root
        let candidates = [
            repo.deletingLastPathComponent().appendingPathComponent("shared/data/grid/\(name)"),
            URL(fileURLWithPath: "/work/shared/data/grid/\(name)"),
        ]
        for url in candidates where FileManager.default.fileExists(atPath: url.path) {
            return url
        }
        let reason = "shared data \(name) not found at \(candidates.map(\.path).joined(separator: " or ")); skipping"
        print(reason)
        throw XCTSkip(reason)
    }
}

/// Asserts that `body` throws a `CarbonError` with `code`, and returns it for further checks.
@discardableResult
func assertCarbonError<T>(
    _ code: CarbonError.Code, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> T
) -> CarbonError? {
    do {
        let value = try body()
        XCTFail("expected \(code), got \(value)", file: file, line: line)
    } catch let error as CarbonError {
        XCTAssertEqual(error.code, code, "message: \(error.description)", file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "errors are one line", file: file, line: line)
        return error
    } catch {
        XCTFail("expected CarbonError.\(code), got \(error)", file: file, line: line)
    }
    return nil
}

/// Bundled data, loaded once per test run.
enum Bundled {
    static let data: CarbonData = {
        do {
            return try CarbonData.bundled()
        } catch {
            fatalError("bundled tables failed to load: \(error)")
        }
    }()
}

func date(_ text: String) -> Date {
    Date(timeIntervalSince1970: TimeInterval(UTCTimestamp.parse(Substring(text))!))
}
