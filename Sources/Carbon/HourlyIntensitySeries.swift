import Foundation
import Measures

/// Grid intensity hour by hour for one zone; each value holds for the hour starting at its timestamp.
///
/// Two formats are read, all or nothing:
/// - wattprint's own: header `timestamp_utc,gco2e_per_kwh[,zone]`, one row per hour;
/// - the shared EIA-930-derived file (`balancing_authority,timestamp_utc,…,avg_ci_gco2e_per_kwh`), filtered to
///   one balancing authority; rows with a blank intensity (gaps in the EIA data) are skipped and counted.
public struct HourlyIntensitySeries: Hashable, Sendable {
    public struct Point: Hashable, Sendable {
        /// Start of the hour.
        public let hour: Date
        public let intensity: CarbonIntensity
    }

    public let zone: String?
    /// Sorted by hour, no duplicates.
    public let points: [Point]
    /// Rows skipped because their intensity was blank (shared-file loader only).
    public let skippedBlankRows: Int

    private let intensityByHour: [Int: Double]

    private init(zone: String?, hours: [(Int, Double)], skippedBlankRows: Int) {
        self.zone = zone
        self.points = hours.map {
            Point(
                hour: Date(timeIntervalSince1970: TimeInterval($0.0 * 3_600)),
                intensity: CarbonIntensity(gramsPerKilowattHour: $0.1))
        }
        self.skippedBlankRows = skippedBlankRows
        var map: [Int: Double] = [:]
        map.reserveCapacity(hours.count)
        for (hour, value) in hours { map[hour] = value }
        self.intensityByHour = map
    }

    /// A series from hours already read (a run's recorded slice of the series it was given).
    /// - Throws: `CarbonError` as `init(csv:)` for a time not on the hour, a negative or non-finite value, or hours
    ///   out of order.
    public init(zone: String?, hours: [(start: Date, gramsPerKilowattHour: Double)]) throws {
        var seen: [(Int, Double)] = []
        for (i, h) in hours.enumerated() {
            let seconds = h.start.timeIntervalSince1970
            guard seconds.truncatingRemainder(dividingBy: 3_600) == 0 else {
                throw CarbonError(.malformedCSV, "recorded hour \(i + 1) does not start on the hour")
            }
            guard h.gramsPerKilowattHour.isFinite, h.gramsPerKilowattHour >= 0 else {
                throw CarbonError(.invalidNumber, "recorded hour \(i + 1): intensity \(h.gramsPerKilowattHour) must be zero or more")
            }
            let hour = Int(seconds / 3_600)
            if let last = seen.last, hour <= last.0 {
                throw CarbonError(.unsortedSeries, "recorded hour \(i + 1) is not after the one before")
            }
            seen.append((hour, h.gramsPerKilowattHour))
        }
        self.init(zone: zone, hours: seen, skippedBlankRows: 0)
    }

    /// The hours of this series that overlap `start…end`, for recording with a run.
    public func hours(from start: Date, to end: Date) -> [Point] {
        let first = (start.timeIntervalSince1970 / 3_600).rounded(.down) * 3_600
        return points.filter { $0.hour.timeIntervalSince1970 >= first && $0.hour <= end }
    }

    /// Reads wattprint's hourly format.
    ///
    /// - Throws: `CarbonError` naming the line: `.malformedCSV` (header, field count, timestamp, number,
    ///   not on the hour), `.invalidNumber` (negative, NaN), `.unsortedSeries`, `.duplicateTimestamp`,
    ///   `.mixedZones`; `.missingData` when there are no rows.
    public init(csv text: String) throws {
        let what = "hourly series"
        let table = try CSVTable(parsing: text, what: what)
        let expected = ["timestamp_utc", "gco2e_per_kwh"]
        guard table.header == expected || table.header == expected + ["zone"] else {
            throw CarbonError(
                .malformedCSV,
                "\(what) line 1: header is '\(table.header.joined(separator: ","))'; expected 'timestamp_utc,gco2e_per_kwh' with an optional ',zone'"
            )
        }
        var builder = SeriesBuilder(what: what)
        var zone: (name: String, line: Int)? = nil
        for row in table.rows {
            let timestamp = row.fields[0].trimmingCharacters(in: .whitespaces)
            let value = row.fields[1].trimmingCharacters(in: .whitespaces)
            if row.fields.count == 3 {
                let name = row.fields[2].trimmingCharacters(in: .whitespaces)
                if let first = zone, first.name != name {
                    throw CarbonError(
                        .mixedZones,
                        "\(what) line \(row.line): zone '\(name)' differs from '\(first.name)' on line \(first.line); use one file per zone"
                    )
                }
                if zone == nil { zone = (name, row.line) }
            }
            try builder.add(timestamp: Array(timestamp.utf8)[...], value: Array(value.utf8)[...], line: row.line)
        }
        try builder.finish()
        self.init(zone: zone?.name, hours: builder.hours, skippedBlankRows: 0)
    }

    /// Reads the shared EIA-930-derived file, keeping the rows of `balancingAuthority` (e.g. "CISO").
    ///
    /// - Throws: as `init(csv:)`, plus `.missingData` listing the authorities present when none matches.
    public init(balancingAuthorityCSV data: Data, balancingAuthority: String) throws {
        let what = "hourly file"
        let bytes = [UInt8](data)
        var lines: [Range<Int>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
            lines.append(start..<i)
            start = i + 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        func trimmed(_ range: Range<Int>) -> ArraySlice<UInt8> {
            var r = range
            if let last = r.last, bytes[last] == UInt8(ascii: "\r") { r = r.lowerBound..<last }
            return bytes[r]
        }
        guard let headerRange = lines.first else {
            throw CarbonError(.missingData, "\(what) is empty; it needs a header line and data rows")
        }
        let header = String(decoding: trimmed(headerRange), as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(
            String.init)
        guard let baColumn = header.firstIndex(of: "balancing_authority"),
            let timeColumn = header.firstIndex(of: "timestamp_utc"),
            let valueColumn = header.firstIndex(of: "avg_ci_gco2e_per_kwh")
        else {
            throw CarbonError(
                .malformedCSV,
                "\(what) line 1: needs columns balancing_authority, timestamp_utc and avg_ci_gco2e_per_kwh")
        }
        let wanted = Array(balancingAuthority.utf8)
        var builder = SeriesBuilder(what: what)
        let comma = UInt8(ascii: ",")
        var skipped = 0
        for (index, range) in lines.enumerated().dropFirst() {
            let line = trimmed(range)
            if line.isEmpty { continue }
            // Most rows belong to other authorities; when the authority is the first column, skip them
            // before splitting the line.
            if baColumn == 0
                && !(line.starts(with: wanted) && line.count > wanted.count
                    && line[line.startIndex + wanted.count] == comma)
            {
                continue
            }
            let fields = line.split(separator: comma, omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw CarbonError(.malformedCSV, "\(what) line \(index + 1): \(fields.count) fields, expected \(header.count)")
            }
            guard fields[baColumn].elementsEqual(wanted) else { continue }
            if fields[valueColumn].isEmpty {
                skipped += 1
                continue
            }
            try builder.add(timestamp: fields[timeColumn], value: fields[valueColumn], line: index + 1)
        }
        if builder.hours.isEmpty && skipped == 0 {
            var present = Set<String>()
            for range in lines.dropFirst() {
                let line = trimmed(range)
                let fields = line.split(separator: comma, omittingEmptySubsequences: false)
                if fields.count > baColumn { present.insert(String(decoding: fields[baColumn], as: UTF8.self)) }
            }
            throw CarbonError(
                .missingData,
                "\(what) has no rows for balancing authority '\(balancingAuthority)'; present: \(present.sorted().joined(separator: ", "))")
        }
        try builder.finish()
        self.init(zone: balancingAuthority, hours: builder.hours, skippedBlankRows: skipped)
    }

    /// The intensity for the hour containing `date`, if the series has it.
    public func intensity(at date: Date) -> CarbonIntensity? {
        let hour = Int(floor(date.timeIntervalSince1970 / 3_600))
        return intensityByHour[hour].map { CarbonIntensity(gramsPerKilowattHour: $0) }
    }

    /// Σ energy in each hour × that hour's intensity.
    ///
    /// A segment that spans hour boundaries is split pro rata by time. Hours the series lacks use `fallback`
    /// (normally the zone's annual figure) and are counted in `hoursMissing`, so a report can say how much of
    /// the result rests on the annual figure.
    public func emissions(for profile: EnergyProfile, fallback: CarbonIntensity) -> HourlyEmissions {
        var grams = 0.0
        var covered = Set<Int>()
        var missing = Set<Int>()
        var missingJoules = 0.0
        for segment in profile.segments {
            let start = segment.start.timeIntervalSince1970
            let end = segment.end.timeIntervalSince1970
            let duration = end - start
            guard duration > 0 else { continue }
            let first = Int(floor(start / 3_600))
            let last = Int(ceil(end / 3_600)) - 1
            guard first <= last else { continue }
            for hour in first...last {
                let overlap = min(end, Double(hour + 1) * 3_600) - max(start, Double(hour) * 3_600)
                guard overlap > 0 else { continue }
                let joules = segment.energy.joules * overlap / duration
                covered.insert(hour)
                let value: Double
                if let known = intensityByHour[hour] {
                    value = known
                } else {
                    value = fallback.gramsPerKilowattHour
                    missing.insert(hour)
                    missingJoules += joules
                }
                grams += joules / EnergyUnit.kilowattHours.joulesPerUnit * value
            }
        }
        return HourlyEmissions(
            emissions: CarbonMass(grams: grams), energy: profile.totalEnergy,
            hoursCovered: covered.count, hoursMissing: missing.count,
            energyInMissingHours: .joules(missingJoules), fallback: fallback)
    }

    /// The series as an `IntensityFigure` for an estimate: the energy-weighted intensity of `result`.
    public func figure(for result: HourlyEmissions, year: Int?, basis: IntensityBasis, source: DataSource) -> IntensityFigure {
        IntensityFigure(
            intensity: result.effectiveIntensity, year: year, basis: basis, source: source, origin: .hourly,
            label:
                "hourly series\(zone.map { " for \($0)" } ?? "") (\(result.hoursMissing) of \(result.hoursCovered) hours from the annual figure)"
        )
    }
}

/// Checks rows in file order and collects (hour, intensity) pairs.
private struct SeriesBuilder {
    let what: String
    var hours: [(Int, Double)] = []
    var previous: (hour: Int, line: Int)? = nil

    init(what: String) {
        self.what = what
    }

    mutating func add(timestamp: ArraySlice<UInt8>, value: ArraySlice<UInt8>, line: Int) throws {
        let stamp = String(decoding: timestamp, as: UTF8.self)
        guard let seconds = UTCTimestamp.parse(timestamp) else {
            throw CarbonError(
                .malformedCSV,
                "\(what) line \(line): timestamp '\(stamp)' is not ISO 8601 UTC; write e.g. 2022-01-01T00:00:00Z")
        }
        guard seconds % 3_600 == 0 else {
            throw CarbonError(.malformedCSV, "\(what) line \(line): timestamp '\(stamp)' is not on the hour; give hour starts")
        }
        let text = String(decoding: value, as: UTF8.self)
        let lower = text.lowercased()
        if lower.contains("nan") || lower.contains("inf") {
            throw CarbonError(.invalidNumber, "\(what) line \(line): intensity '\(text)' is not a finite number")
        }
        guard let number = StrictNumber.parse(value) else {
            throw CarbonError(.malformedCSV, "\(what) line \(line): intensity '\(text)' is not a number; give gCO2e/kWh, e.g. 231.5")
        }
        guard number >= 0 else {
            throw CarbonError(.invalidNumber, "\(what) line \(line): intensity \(text) is negative; intensities are zero or more")
        }
        let hour = seconds / 3_600
        if let last = previous {
            if hour == last.hour {
                throw CarbonError(
                    .duplicateTimestamp,
                    "\(what) line \(line): timestamp '\(stamp)' repeats line \(last.line); keep one row per hour")
            }
            if hour < last.hour {
                throw CarbonError(
                    .unsortedSeries,
                    "\(what) line \(line): timestamp '\(stamp)' is earlier than line \(last.line); sort the rows by time")
            }
        }
        previous = (hour, line)
        hours.append((hour, number))
    }

    func finish() throws {
        guard !hours.isEmpty else {
            throw CarbonError(.missingData, "\(what) has no data rows; add rows of timestamp_utc,gco2e_per_kwh")
        }
    }
}
