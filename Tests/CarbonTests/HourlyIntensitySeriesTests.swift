import XCTest
@testable import Carbon

final class HourlyIntensitySeriesTests: XCTestCase {
    let small = """
        timestamp_utc,gco2e_per_kwh
        2024-03-01T00:00:00Z,100
        2024-03-01T01:00:00Z,200
        2024-03-01T03:00:00Z,400

        """

    func testParsesBothTimestampStyles() throws {
        let series = try HourlyIntensitySeries(
            csv: """
                timestamp_utc,gco2e_per_kwh,zone
                2022-01-01 00:00:00+00:00,222.3,CISO
                2022-01-01T01:00:00Z,260.9,CISO
                2022-01-01T02:00+0000,271.9,CISO
                """)
        XCTAssertEqual(series.zone, "CISO")
        XCTAssertEqual(series.points.map(\.intensity.gramsPerKilowattHour), [222.3, 260.9, 271.9])
        XCTAssertEqual(series.points[1].hour, Date(timeIntervalSince1970: 1_640_998_800))
    }

    func testSplitsSegmentsAcrossHoursAndFillsMissingHours() throws {
        let series = try HourlyIntensitySeries(csv: small)
        let fallback = CarbonIntensity(gramsPerKilowattHour: 50)
        let profile = try EnergyProfile(segments: [
            // 00:30–01:30, 2 kWh: 1 kWh in hour 0 at 100 g + 1 kWh in hour 1 at 200 g = 300 g
            .init(start: date("2024-03-01T00:30:00Z"), end: date("2024-03-01T01:30:00Z"), energy: .kilowattHours(2)),
            // 02:00–04:00, 4 kWh: hour 2 is missing → 2 kWh × 50 g (fallback) = 100 g; hour 3: 2 kWh × 400 g = 800 g
            .init(start: date("2024-03-01T02:00:00Z"), end: date("2024-03-01T04:00:00Z"), energy: .kilowattHours(4)),
        ])
        let result = series.emissions(for: profile, fallback: fallback)
        // 300 + 100 + 800 = 1200 g
        XCTAssertEqual(result.emissions.grams, 1_200, accuracy: 1e-9)
        XCTAssertEqual(result.energy.kilowattHours, 6, accuracy: 1e-12)
        XCTAssertEqual(result.hoursCovered, 4)
        XCTAssertEqual(result.hoursMissing, 1)
        XCTAssertEqual(result.energyInMissingHours.kilowattHours, 2, accuracy: 1e-12)
        // 1200 g / 6 kWh = 200 g/kWh
        XCTAssertEqual(result.effectiveIntensity.gramsPerKilowattHour, 200, accuracy: 1e-9)
    }

    func testSplitsProRataByTime() throws {
        let series = try HourlyIntensitySeries(csv: small)
        // 00:45–02:15 (1.5 h), 3 kWh: 0.25 h → 0.5 kWh × 100 g; 1 h → 2 kWh × 200 g; 0.25 h → 0.5 kWh × 50 g (missing)
        // = 50 + 400 + 25 = 475 g
        let profile = try EnergyProfile(segments: [
            .init(start: date("2024-03-01T00:45:00Z"), end: date("2024-03-01T02:15:00Z"), energy: .kilowattHours(3))
        ])
        let result = series.emissions(for: profile, fallback: CarbonIntensity(gramsPerKilowattHour: 50))
        XCTAssertEqual(result.emissions.grams, 475, accuracy: 1e-9)
        XCTAssertEqual(result.hoursMissing, 1)
        XCTAssertEqual(result.energyInMissingHours.kilowattHours, 0.5, accuracy: 1e-12)
    }

    func testProfilesRejectImpossibleSegments() {
        let t = date("2024-03-01T00:00:00Z")
        assertCarbonError(.invalidProfile) {
            try EnergyProfile(segments: [.init(start: t, end: t.addingTimeInterval(-1), energy: .joules(1))])
        }
        assertCarbonError(.invalidProfile) {
            try EnergyProfile(segments: [.init(start: t, end: t, energy: .joules(1))])
        }
        assertCarbonError(.invalidProfile) {
            try EnergyProfile(segments: [.init(start: t, end: t.addingTimeInterval(1), energy: .joules(-1))])
        }
    }

    func testRejectsBadFilesNamingTheLine() {
        let header = "timestamp_utc,gco2e_per_kwh\n"
        let cases: [(String, CarbonError.Code, String)] = [
            ("time,value\n2024-03-01T00:00:00Z,1\n", .malformedCSV, "line 1"),
            (header + "2024-03-01T00:00:00Z,1\n2024-03-01T01:00:00Z,abc\n", .malformedCSV, "line 3"),
            (header + "2024-13-01T00:00:00Z,1\n", .malformedCSV, "line 2"),
            (header + "2024-03-01T00:00:00+01:00,1\n", .malformedCSV, "line 2"),
            (header + "2024-03-01T00:30:00Z,1\n", .malformedCSV, "not on the hour"),
            (header + "2024-03-01T00:00:00Z,1,extra\n", .malformedCSV, "line 2"),
            (header + "2024-03-01T00:00:00Z,1\n2024-03-01T01:00:00Z,-5\n", .invalidNumber, "line 3"),
            (header + "2024-03-01T00:00:00Z,NaN\n", .invalidNumber, "line 2"),
            (header + "2024-03-01T00:00:00Z,\n", .malformedCSV, "line 2"),
            (header + "2024-03-01T01:00:00Z,1\n2024-03-01T00:00:00Z,2\n", .unsortedSeries, "line 2"),
            (header + "2024-03-01T00:00:00Z,1\n2024-03-01 00:00:00+00:00,2\n", .duplicateTimestamp, "line 2"),
            (
                "timestamp_utc,gco2e_per_kwh,zone\n2024-03-01T00:00:00Z,1,CISO\n2024-03-01T01:00:00Z,2,PJM\n",
                .mixedZones, "line 3"
            ),
            (header, .missingData, "no data rows"),
            (header + "\"2024-03-01T00:00:00Z,1\n", .malformedCSV, "unterminated"),
        ]
        for (text, code, fragment) in cases {
            let error = assertCarbonError(code) { try HourlyIntensitySeries(csv: text) }
            XCTAssertTrue(error?.description.contains(fragment) ?? false, "\(fragment): \(error?.description ?? "")")
        }
    }

    func testAllOrNothing() throws {
        let good = "timestamp_utc,gco2e_per_kwh\n2024-03-01T00:00:00Z,1\n2024-03-01T01:00:00Z,2\n"
        XCTAssertEqual(try HourlyIntensitySeries(csv: good).points.count, 2)
        // The same rows plus one bad last row give an error, never the two good rows.
        assertCarbonError(.invalidNumber) { try HourlyIntensitySeries(csv: good + "2024-03-01T02:00:00Z,-1\n") }
    }

    func testBalancingAuthorityLoaderFiltersAndCountsBlanks() throws {
        let text = """
            balancing_authority,timestamp_utc,wind_MWh,avg_ci_gco2e_per_kwh
            CISO,2022-01-01 00:00:00+00:00,1.0,222.5
            PJM,2022-01-01 00:00:00+00:00,1.0,380.0
            CISO,2022-01-01 01:00:00+00:00,,
            CISO,2022-01-01 02:00:00+00:00,1.0,271.0
            CISOX,2022-01-01 03:00:00+00:00,1.0,999.0

            """
        let ciso = try HourlyIntensitySeries(balancingAuthorityCSV: Data(text.utf8), balancingAuthority: "CISO")
        XCTAssertEqual(ciso.zone, "CISO")
        XCTAssertEqual(ciso.points.map(\.intensity.gramsPerKilowattHour), [222.5, 271])
        XCTAssertEqual(ciso.skippedBlankRows, 1)
        XCTAssertNil(ciso.intensity(at: date("2022-01-01T01:30:00Z")))
        XCTAssertEqual(ciso.intensity(at: date("2022-01-01T02:59:59Z"))?.gramsPerKilowattHour, 271)

        let missing = assertCarbonError(.missingData) {
            try HourlyIntensitySeries(balancingAuthorityCSV: Data(text.utf8), balancingAuthority: "ERCO")
        }
        XCTAssertTrue(missing?.description.contains("CISO, CISOX, PJM") ?? false, missing?.description ?? "")

        let negative = text.replacingOccurrences(of: "271.0", with: "-271.0")
        let error = assertCarbonError(.invalidNumber) {
            try HourlyIntensitySeries(balancingAuthorityCSV: Data(negative.utf8), balancingAuthority: "CISO")
        }
        XCTAssertTrue(error?.description.contains("line 5") ?? false, error?.description ?? "")
    }
}
