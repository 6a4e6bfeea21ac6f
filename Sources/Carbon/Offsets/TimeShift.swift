import Measures
import Foundation

/// What starting the same work at another hour would have emitted: the run's own energy, hour by hour, moved later by
/// whole hours within a deadline, against an hourly intensity series. Average intensity, not marginal: it says how
/// clean the grid's mix was at that hour, not what the extra load caused.
public struct TimeShift: Codable, Sendable, Equatable {
    public var zone: String
    public var basis: String
    public var seriesYear: Int?
    /// Hours from the run's start within which it must finish.
    public var deadlineHours: Double
    public var runHours: Int
    /// The hour the run started, placed on the series' calendar (same month, day and UTC hour).
    public var actualStart: String
    public var actualGrams: Double
    public var bestStart: String
    public var bestGrams: Double
    public var savingGrams: Double
    public var savingShare: Double
    /// Over every day of the series, the best start's saving at the run's hour of day, as a share: median, P10, P90.
    public var days: Int
    public var medianDailySavingShare: Double
    public var p10DailySavingShare: Double
    public var p90DailySavingShare: Double

    /// - Parameters:
    ///   - energyPerHour: IT energy in each hour slot from the run's start hour, kWh (slot 0 holds its first hour).
    ///   - start: the run's start.
    /// - Throws: `CarbonError.invalidNumber` for a deadline shorter than the run or a series without the hours needed.
    public static func analyse(
        energyPerHour: [Double], start: Date, deadlineHours: Double, series: HourlyIntensitySeries, zone: String, seriesYear: Int?
    ) throws -> TimeShift {
        let runHours = max(1, energyPerHour.count)
        guard deadlineHours.isFinite, deadlineHours >= Double(runHours) else {
            throw CarbonError(
                .invalidNumber,
                "a deadline of \(deadlineHours) h is shorter than the run, which spans \(runHours) clock hour(s); give --deadline \(runHours)h or more"
            )
        }
        let latest = Int((deadlineHours - Double(runHours)).rounded(.down))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let first = series.points.first?.hour, let last = series.points.last?.hour else {
            throw CarbonError(.invalidNumber, "the hourly series for \(zone) is empty")
        }
        let year = calendar.component(.year, from: first)
        var parts = calendar.dateComponents([.month, .day, .hour], from: start)
        parts.year = year
        parts.timeZone = TimeZone(identifier: "UTC")
        guard var placed = calendar.date(from: parts) else {
            throw CarbonError(.invalidNumber, "cannot place \(start) on the series' calendar")
        }
        // A start too late in the series' year to fit the deadline moves back a day at a time.
        while placed.addingTimeInterval(Double(latest + runHours) * 3600) > last.addingTimeInterval(3600), placed > first {
            placed = placed.addingTimeInterval(-86_400)
        }
        func grams(_ from: Date, shift: Int) -> Double? {
            var total = 0.0
            for (i, kWh) in energyPerHour.enumerated() where kWh > 0 {
                guard let intensity = series.intensity(at: from.addingTimeInterval(Double(i + shift) * 3600)) else { return nil }
                total += kWh * intensity.gramsPerKilowattHour
            }
            return total
        }
        guard let actual = grams(placed, shift: 0) else {
            throw CarbonError(.invalidNumber, "the hourly series for \(zone) has no intensity for the run's hours on its calendar")
        }
        var best = (shift: 0, grams: actual)
        for k in 1...max(latest, 1) where k <= latest {
            if let g = grams(placed, shift: k), g < best.grams { best = (k, g) }
        }
        // The same question on every day of the series, at the run's hour of day.
        var shares: [Double] = []
        var day = calendar.date(bySettingHour: calendar.component(.hour, from: placed), minute: 0, second: 0, of: first)!
        while day.addingTimeInterval(Double(latest + runHours) * 3600) <= last.addingTimeInterval(3600) {
            if let base = grams(day, shift: 0), base > 0 {
                var lowest = base
                for k in 0...latest { if let g = grams(day, shift: k) { lowest = min(lowest, g) } }
                shares.append((base - lowest) / base)
            }
            day = day.addingTimeInterval(86_400)
        }
        shares.sort()
        func quantile(_ q: Double) -> Double {
            guard !shares.isEmpty else { return 0 }
            let position = q * Double(shares.count - 1), lower = Int(position.rounded(.down)), upper = min(lower + 1, shares.count - 1)
            return shares[lower] + (shares[upper] - shares[lower]) * (position - Double(lower))
        }
        let iso = ISO8601DateFormatter()
        return TimeShift(
            zone: zone, basis: "average intensity (the grid's mix at that hour), not marginal", seriesYear: seriesYear,
            deadlineHours: deadlineHours, runHours: runHours, actualStart: iso.string(from: placed), actualGrams: actual,
            bestStart: iso.string(from: placed.addingTimeInterval(Double(best.shift) * 3600)), bestGrams: best.grams,
            savingGrams: actual - best.grams, savingShare: actual > 0 ? (actual - best.grams) / actual : 0, days: shares.count,
            medianDailySavingShare: quantile(0.5), p10DailySavingShare: quantile(0.1), p90DailySavingShare: quantile(0.9))
    }

    /// A run's IT energy per clock hour from its start hour, kWh.
    public static func energyPerHour(_ profile: EnergyProfile) -> (start: Date, kWh: [Double]) {
        guard let first = profile.segments.map(\.start).min() else { return (Date(timeIntervalSince1970: 0), []) }
        let origin = Date(timeIntervalSince1970: (first.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        var slots: [Double] = []
        for s in profile.segments {
            let a = s.start.timeIntervalSince(origin), b = max(s.end.timeIntervalSince(origin), a)
            let kWh = s.energy.kilowattHours
            guard b > a else {
                let k = Int(a / 3600)
                while slots.count <= k { slots.append(0) }
                slots[k] += kWh
                continue
            }
            var k = Int(a / 3600)
            while Double(k) * 3600 < b {
                while slots.count <= k { slots.append(0) }
                let overlap = min(b, Double(k + 1) * 3600) - max(a, Double(k) * 3600)
                if overlap > 0 { slots[k] += kWh * overlap / (b - a) }
                k += 1
            }
        }
        return (first, slots)
    }
}
