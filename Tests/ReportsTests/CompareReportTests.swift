import Benchmarks
import Foundation
import Reports
import XCTest

/// The comparison's footnote names the rating scale its grades are on, both scales when runs were graded on two.
final class CompareReportTests: XCTestCase {
    private func comparison(scales: [Int?], caveats: [String]? = nil) throws -> Comparison {
        let rows = scales.enumerated().map { i, scale -> String in
            let version = scale.map(String.init) ?? "null"
            let graded =
                scale.map { _ in #", "grade": "C""# + (caveats.map { #", "gradeCaveats": ["\#($0.joined(separator: "\", \""))"]"# } ?? "") }
                ?? ""
            return """
                {"run": \(i + 1), "workload": "small-gpt2", "architecture": "gpt2", "parameters": 10, "activeParameters": 10,
                 "standard": true, "precision": "fp32", "flags": 0, "ratingScale": \(version),
                 "phases": [{"phase": "train", "tokensPerSecond": 1, "joulesPerToken": 1, "energySource": "estimated"\(graded)}]}
                """
        }
        let json = """
            {"rows": [\(rows.joined(separator: ","))], "ratingScale": \(scales.compactMap { $0 }.max() ?? 2),
             "reference": "small-gpt2", "notes": []}
            """
        return try JSONDecoder().decode(Comparison.self, from: Data(json.utf8))
    }

    private func footnote(_ c: Comparison) throws -> String {
        let text = try TextRenderer().render(CompareReport.build(c))
        return try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("* best in its column") }.map(String.init), text)
    }

    func testOneScaleIsNamed() throws {
        XCTAssertTrue(try footnote(comparison(scales: [2, 2])).contains("Grades: rating scale v2, J/token"))
        XCTAssertTrue(try footnote(comparison(scales: [nil])).contains("Grades: rating scale v2, J/token"))
    }

    /// A grade whose windows (or the reference's) carry a flag a report would not rank on is marked, and a footnote says
    /// which flags and what settles them; without such flags neither appears.
    func testGradesOnUnrankableWindowsAreMarked() throws {
        let flagged = try TextRenderer().render(
            CompareReport.build(comparison(scales: [2], caveats: ["shortWindow", "disagreeingRepeat"])))
        XCTAssertTrue(flagged.contains(" C †"), flagged)
        XCTAssertTrue(flagged.contains("† the phase's windows, or the reference's, carry shortWindow or disagreeingRepeat"), flagged)
        let plain = try TextRenderer().render(CompareReport.build(comparison(scales: [2])))
        XCTAssertTrue(plain.contains(" C ") && !plain.contains("†"), plain)
    }

    func testRunsOnTwoScalesNameBoth() throws {
        let line = try footnote(comparison(scales: [1, 2, nil]))
        XCTAssertTrue(line.contains("Grades: rating scales v1 and v2 (each run on its recorded reference's; the same bands)"), line)
    }
}
