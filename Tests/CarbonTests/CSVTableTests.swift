import XCTest
@testable import Carbon

final class CSVTableTests: XCTestCase {
    func testReadsQuotedFields() throws {
        let table = try CSVTable(parsing: "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n1,2,3", what: "t")
        XCTAssertEqual(table.header, ["a", "b", "c"])
        XCTAssertEqual(table.rows.map(\.fields), [["x, y", "say \"hi\"", "two\nlines"], ["1", "2", "3"]])
        XCTAssertEqual(table.rows.map(\.line), [2, 5])
    }

    func testRejectsRaggedAndUnterminatedRows() {
        let ragged = assertCarbonError(.malformedCSV) { try CSVTable(parsing: "a,b\n1,2\n3\n", what: "t") }
        XCTAssertTrue(ragged?.description.contains("line 3") ?? false)
        assertCarbonError(.malformedCSV) { try CSVTable(parsing: "a,b\n\"1,2\n", what: "t") }
        assertCarbonError(.malformedCSV) { try CSVTable(parsing: "a,b\n\"1\"x,2\n", what: "t") }
        assertCarbonError(.malformedCSV) { try CSVTable(parsing: "", what: "t") }
    }

    func testStrictNumbersRefuseWhatDoubleAccepts() {
        XCTAssertEqual(StrictNumber.parse("1.5e3"), 1_500)
        XCTAssertEqual(StrictNumber.parse(" -2 "), -2)
        for text in ["nan", "inf", "0x1p3", "1e", "", ".", "1.2.3", "1e400"] {
            XCTAssertNil(StrictNumber.parse(text), text)
        }
    }

    func testTimestamps() {
        XCTAssertEqual(UTCTimestamp.parse("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(UTCTimestamp.parse("2022-01-01 00:00:00+00:00"), 1_640_995_200)
        XCTAssertEqual(UTCTimestamp.parse("2024-02-29T12:00Z"), 1_709_208_000)
        for text in [
            "2023-02-29T00:00:00Z", "2022-01-01T24:00:00Z", "2022-01-01T00:00:00+01:00", "2022-01-01T00:00:00",
            "2022-1-01T00:00:00Z", "2022-01-01T00:00:00.5Z",
        ] {
            XCTAssertNil(UTCTimestamp.parse(Substring(text)), text)
        }
    }

    func testEditDistance() {
        XCTAssertEqual(EditDistance.between("kitten", "sitting"), 3)
        XCTAssertEqual(EditDistance.between("", "abc"), 3)
        XCTAssertEqual(EditDistance.closest(to: "frr", in: ["DE", "FR", "US"], limit: 2), ["FR"])
        XCTAssertEqual(EditDistance.closest(to: "zzzzzz", in: ["DE", "FR"], limit: 1).count, 1, "always offers something")
    }
}
