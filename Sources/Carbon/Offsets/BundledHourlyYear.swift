import Foundation

/// The hourly intensity year wattprint ships: nine US balancing authorities, 2022 (EIA-930 via the shared data,
/// `Data/hourly_us_ba_2022.csv`, one row per authority and UTC day). Average intensities, not marginal ones.
public enum BundledHourlyYear {
    public static let year = 2022
    public static let source =
        "EIA-930 hourly generation by source, 2022, intensity by fuel (shared/data/grid/hourly_carbon_intensity_us_ba_2022.csv)"

    /// The balancing authorities it covers.
    public static func authorities() throws -> [String] {
        let table = try CSVTable(parsing: try BundledData.text("hourly_us_ba_2022"), what: "hourly_us_ba_2022.csv")
        return Array(Set(table.rows.map { $0.fields[0] })).sorted()
    }

    /// The series of a grid zone whose id ends in a covered authority ("US-CAL-CISO" → CISO), nil for any other zone.
    /// - Throws: `CarbonError` for a damaged table.
    public static func series(forZone zone: String) throws -> HourlyIntensitySeries? {
        let authority = String(zone.split(separator: "-").last ?? "")
        let table = try CSVTable(parsing: try BundledData.text("hourly_us_ba_2022"), what: "hourly_us_ba_2022.csv")
        var hours: [(start: Date, gramsPerKilowattHour: Double)] = []
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        for row in table.rows where row.fields[0] == authority {
            guard let start = day.date(from: row.fields[1]) else {
                throw CarbonError(.malformedCSV, "hourly_us_ba_2022.csv line \(row.line): bad date \(row.fields[1])")
            }
            for h in 0..<24 {
                guard let value = StrictNumber.parse(row.fields[2 + h]) else { continue }
                hours.append((start.addingTimeInterval(Double(h) * 3600), value))
            }
        }
        guard !hours.isEmpty else { return nil }
        return try HourlyIntensitySeries(zone: zone, hours: hours)
    }
}
