import Carbon
import Foundation
import Measures
import TestSupport
import XCTest

/// Reductions and offsets: a time shift worked by hand, region counterfactuals against `estimate`, and a plan that
/// conserves the residual, moves to removals and durable storage, keeps currencies apart and is never netted.
final class OffsetsTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_640_995_200) // 2022-01-01T00:00:00Z

    /// Two days of hours whose intensity is 100 g/kWh except hours 2–3 of each day at 10 and hour 5 at 400.
    func series() throws -> HourlyIntensitySeries {
        let hours = (0..<48).map { h -> (start: Date, gramsPerKilowattHour: Double) in
            let hourOfDay = h % 24
            return (t0.addingTimeInterval(Double(h) * 3600), hourOfDay == 2 || hourOfDay == 3 ? 10 : hourOfDay == 5 ? 400 : 100)
        }
        return try HourlyIntensitySeries(zone: "TEST", hours: hours)
    }

    func testTimeShiftWorkedByHand() throws {
        // A 2-hour run starting at 00:00 using 1 kWh then 2 kWh: at 00:00 it emits 1×100 + 2×100 = 300 g. Within a
        // 5-hour deadline it may start at 00:00…03:00; starting 02:00 gives 1×10 + 2×10 = 30 g, the least.
        let shift = try TimeShift.analyse(
            energyPerHour: [1, 2], start: t0, deadlineHours: 5, series: try series(), zone: "TEST", seriesYear: 2022)
        XCTAssertEqual(shift.actualGrams, 300)
        XCTAssertEqual(shift.bestGrams, 30)
        XCTAssertEqual(shift.savingShare, 0.9, accuracy: 1e-12)
        XCTAssertEqual(shift.bestStart, "2022-01-01T02:00:00Z")
        XCTAssertEqual(shift.days, 2, "both days of the series, at the run's hour of day")
        XCTAssertEqual(shift.medianDailySavingShare, 0.9, accuracy: 1e-12)
        XCTAssertTrue(shift.basis.contains("not marginal"))
        XCTAssertThrowsError(
            try TimeShift.analyse(
                energyPerHour: [1, 1, 1], start: t0, deadlineHours: 2, series: try series(), zone: "TEST", seriesYear: nil)
        ) { XCTAssertTrue("\($0)".contains("shorter than the run"), "\($0)") }
    }

    func testHourlyEnergyOfAProfile() throws {
        let profile = try EnergyProfile(segments: [
            .init(start: t0.addingTimeInterval(1800), end: t0.addingTimeInterval(5400), energy: .joules(3.6e6))
        ])
        let (start, kWh) = TimeShift.energyPerHour(profile)
        XCTAssertEqual(start, t0.addingTimeInterval(1800))
        XCTAssertEqual(kWh, [0.5, 0.5], "half of the hour-long segment falls in each clock hour")
    }

    func testShippedYearCoversTheNineAuthorities() throws {
        XCTAssertEqual(try BundledHourlyYear.authorities().count, 9)
        let ciso = try XCTUnwrap(try BundledHourlyYear.series(forZone: "US-CAL-CISO"))
        XCTAssertGreaterThan(ciso.points.count, 8_000)
        XCTAssertNil(try BundledHourlyYear.series(forZone: "FR"))
    }

    func testRegionCounterfactualsMatchEstimate() throws {
        let data = try CarbonData.bundled()
        let energy = Energy(joules: 3.6e7)
        let alternatives = try RegionAlternative.compare(
            itEnergy: energy, regions: ["FR", "aws:eu-north-1"], actualGrams: 1000, site: nil, usageYear: 2026, data: data)
        for alternative in alternatives {
            let site = alternative.region.contains(":") ? SiteType.aws : nil
            let estimate = try CarbonEstimator(data: data).estimate(
                EstimateRequest(
                    itEnergy: energy, region: RegionResolution.resolve(flag: alternative.region, environment: [:], configValue: nil),
                    usageYear: 2026,
                    site: site))
            XCTAssertEqual(alternative.grams, estimate.locationBased.grams, accuracy: 1e-9, alternative.region)
            XCTAssertEqual(alternative.savingGrams, 1000 - estimate.locationBased.grams, accuracy: 1e-9)
        }
        let cleanest = try RegionAlternative.cleanest(3, provider: "gcp", data: data)
        XCTAssertEqual(cleanest.count, 3)
        XCTAssertThrowsError(try RegionAlternative.cleanest(3, provider: "ibm", data: data))
        XCTAssertThrowsError(
            try RegionAlternative.compare(itEnergy: energy, regions: ["Atlantis"], actualGrams: 0, site: nil, usageYear: 2026, data: data))
    }

    /// Any residual and length: every year's tonnes add up to the residual, removals and durable storage only grow,
    /// each currency's cost range is ordered, and nothing in the plan reads or writes an emission figure.
    func testPlanPropertiesHoldForAnyResidualAndLength() throws {
        let tables = try OffsetTables.bundled()
        var rng = SplitMix(seed: 31)
        for _ in 0..<200 {
            let residual = Double(rng.nextInt(below: 1_000_000)) / 1000, years = 1 + rng.nextInt(below: 30)
            var allowed = Set(OffsetTables.Tier.allCases.filter { _ in rng.nextInt(below: 3) > 0 })
            if allowed.isEmpty { allowed = [.durableRemoval] }
            let plan = try OffsetPlan.make(residualTonnesPerYear: residual, years: years, tables: tables, startYear: 2026, allowed: allowed)
            XCTAssertEqual(plan.years.count, years)
            var lastRemoval = -1.0, lastDurable = -1.0
            for y in plan.years {
                XCTAssertEqual(y.tonnes.values.reduce(0, +), residual, accuracy: 1e-9 * max(1, residual))
                XCTAssertGreaterThanOrEqual(y.removalShare, lastRemoval)
                XCTAssertGreaterThanOrEqual(y.durableShareOfRemovals, lastDurable)
                lastRemoval = y.removalShare; lastDurable = y.durableShareOfRemovals
                for tier in OffsetTables.Tier.allCases where !allowed.contains(tier) { XCTAssertEqual(y.tonnes[tier.rawValue] ?? 0, 0) }
                for (currency, range) in y.cost {
                    XCTAssertTrue(["USD", "EUR"].contains(currency))
                    XCTAssertLessThanOrEqual(range[0], range[1])
                }
            }
            XCTAssertEqual(plan.years.last?.removalShare, 1, "removals only by the plan's end")
            XCTAssertFalse(plan.wording.lowercased().contains("neutral"))
        }
        XCTAssertThrowsError(try OffsetPlan.make(residualTonnesPerYear: -1, years: 3, tables: tables, startYear: 2026))
        XCTAssertThrowsError(try OffsetPlan.make(residualTonnesPerYear: 1, years: 0, tables: tables, startYear: 2026))
    }
}
