import Foundation
import Reports
import XCTest

final class RendererTests: XCTestCase {
    private struct Figures: Encodable, Sendable {
        var ratio: Double
        var path: String
    }

    /// One JSON encoder for every report: a non-finite number is written as a string, not a failure; slashes stay.
    func testJSONWritesNonFiniteNumbersAsStringsAndKeepsSlashes() throws {
        let report = Report(blocks: [], data: Figures(ratio: .nan, path: "/sys/class/powercap"))
        let text = try JSONRenderer().render(report)
        XCTAssertTrue(text.contains(#""ratio" : "nan""#), text)
        XCTAssertTrue(text.contains(#""path" : "/sys/class/powercap""#), text)
    }

    /// Fields align on their longest label; tables pad columns and right-align the numeric ones; a prefix indents
    /// every line, blank ones included; findings are marked by severity.
    func testTextLaysOutFieldsTablesPrefixesAndFindings() throws {
        let report = Report(
            blocks: [
                .findings([Finding(.headline, "no region")]),
                .fields([Field("PUE", "1.2"), Field("Total", "3 g")]),
                .prefixed(
                    "  ",
                    [
                        .table(Table(header: ["device", "energy"], rows: [["cpu", "12.00 J"], ["gpu-0", "3.00 J"]], rightAligned: [1])),
                        .blank,
                    ]),
                .findings([Finding(.warning, "assumed PUE")]),
            ], data: [String]())
        XCTAssertEqual(
            try TextRenderer().render(report),
            """
            WARNING: no region
              PUE    1.2
              Total  3 g
              device   energy
              cpu     12.00 J
              gpu-0    3.00 J
              
            ! assumed PUE
            """)
    }
}
