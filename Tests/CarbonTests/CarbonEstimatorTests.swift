import Measures
import XCTest
@testable import Carbon

final class CarbonEstimatorTests: XCTestCase {
    let estimator = CarbonEstimator(data: Bundled.data)

    func region(_ flag: String?) -> RegionResolution {
        RegionResolution.resolve(flag: flag, environment: [:], configValue: nil)
    }

    func testUserIntensityHandWorked() throws {
        // 1287 MWh × PUE 1.0 × 429 g/kWh = 552 123 000 g = 552.123 t
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: .megawattHours(1287), region: region(nil), usageYear: 2026,
                intensity: .userSupplied(CarbonIntensity(gramsPerKilowattHour: 429)),
                pue: 1.0))
        XCTAssertEqual(e.locationBased.grams, 552_123_000, accuracy: 1e-3)
        XCTAssertEqual(e.total, e.locationBased)
        XCTAssertEqual(e.embodied, .zero)
        // Energy ±5 %: ln(1/0.95) = 0.051293 below, ln(1.05) = 0.048790 above; intensity e^±0.20; PUE exact.
        // below √(0.051293² + 0.2²) = 0.206473, above √(0.048790² + 0.2²) = 0.205866
        XCTAssertEqual(e.interval.low.grams, 552_123_000 * exp(-(pow(log(1 / 0.95), 2) + 0.04).squareRoot()), accuracy: 1)
        XCTAssertEqual(e.interval.high.grams, 552_123_000 * exp((pow(log(1.05), 2) + 0.04).squareRoot()), accuracy: 1)
        XCTAssertEqual(e.dominantContributor, CarbonEstimator.Contributor.intensity)
        XCTAssertTrue(e.flags.contains { $0.description.contains("supplied by the user") })
        XCTAssertFalse(e.flags.contains { $0.isHeadline }, "the world figure is not used")
        XCTAssertEqual(e.intensity.origin, .userSupplied)
    }

    func testCountryWithPUEOverride() throws {
        // 1287 MWh × 1.1 = 1415.7 MWh; × 383.55 g/kWh (US, Ember 2024) = 1 415 700 × 383.55 = 542 991 735 g
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: .megawattHours(1287), region: region("US"), usageYear: 2024,
                pue: 1.1))
        XCTAssertEqual(e.facilityEnergy.kilowattHours, 1_415_700, accuracy: 1e-6)
        XCTAssertEqual(e.locationBased.grams, 542_991_735, accuracy: 1e-2)
        XCTAssertEqual(e.intensity.year, 2024)
        XCTAssertEqual(e.intensity.licence, "CC-BY-4.0")
        XCTAssertEqual(e.attribution.count, 1)
        XCTAssertTrue(e.attribution[0].contains("Ember"))
        XCTAssertTrue(e.pue.isOverride)
        XCTAssertTrue(e.flags.isEmpty, "\(e.flags)")
    }

    func testDefaultedRegionIsFlaggedAndWide() throws {
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(100), region: region(nil), usageYear: 2024,
                site: SiteType.none))
        XCTAssertTrue(e.region.isDefaulted)
        guard case .regionDefaulted? = e.flags.first else { return XCTFail("\(e.flags)") }
        XCTAssertEqual(e.flags.first?.description.hasPrefix("REGION DEFAULTED TO WORLD AVERAGE"), true)
        XCTAssertEqual(e.intensity.origin, .worldDefault)
        // 100 kWh × 472.94 g = 47 294 g
        XCTAssertEqual(e.total.grams, 47_294, accuracy: 1e-6)
        let widths = Bundled.data.grid.unknownLocationLogWidths
        XCTAssertEqual(
            e.intensity.band.low.gramsPerKilowattHour,
            472.94 * exp(-(0.04 + widths.below * widths.below).squareRoot()), accuracy: 1e-9)
        XCTAssertEqual(e.dominantContributor, CarbonEstimator.Contributor.intensity)
    }

    func testCloudRegionsPickProviderPUEAndFigure() throws {
        let gcp = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(10), region: region("gcp:us-central1"),
                usageYear: 2025))
        // 10 kWh × 1.10 × 430 g = 4730 g
        XCTAssertEqual(gcp.total.grams, 4_730, accuracy: 1e-9)
        XCTAssertEqual(gcp.pue.site, .gcp)
        XCTAssertEqual(gcp.intensity.origin, .provider)
        XCTAssertEqual(gcp.intensity.zone, "US-MIDW-MISO")
        XCTAssertNotNil(gcp.intensity.why)
        XCTAssertFalse(gcp.flags.contains { $0.description.contains("PUE not given") })

        let aws = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(10), region: region("aws:us-east-1"),
                usageYear: 2025))
        // 10 kWh × 1.14 × 418 g = 4765.2 g
        XCTAssertEqual(aws.total.grams, 4_765.2, accuracy: 1e-9)
        XCTAssertEqual(aws.intensity.zone, "US-MIDA-PJM")
        XCTAssertEqual(aws.intensity.origin, .zone)
    }

    func testOnPremisesDefaultIsFlagged() throws {
        let e = try estimator.estimate(EstimateRequest(itEnergy: .kilowattHours(10), region: region("FR"), usageYear: 2024))
        XCTAssertEqual(e.pue.site, .onPremises)
        XCTAssertEqual(e.pue.value, 1.56)
        XCTAssertTrue(e.flags.contains { $0.description.contains("PUE not given") })
    }

    func testEmbodiedIsAddedAndNamed() throws {
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(12), region: region("FR"), usageYear: 2024, site: SiteType.none,
                hardware: try HardwareReservation(hardware: "h100", count: 8, hours: 24)))
        // operational 12 kWh × 44.18 g = 530.16 g; embodied 281.3 × 8 × 24 / 35 040 kg = 1541.370 g
        XCTAssertEqual(e.locationBased.grams, 530.16, accuracy: 1e-9)
        XCTAssertEqual(e.embodied.grams, 281.3 * 8 * 24 / 35_040 * 1_000, accuracy: 1e-9)
        XCTAssertEqual(e.total.grams, 530.16 + 1_541.369_863, accuracy: 1e-3)
        XCTAssertEqual(e.embodiedShare, e.embodied.grams / e.total.grams, accuracy: 1e-12)
        XCTAssertEqual(e.dominantContributor, CarbonEstimator.Contributor.embodied)
        XCTAssertTrue(e.contributions.contains { $0.name == CarbonEstimator.Contributor.lifetime })
        XCTAssertTrue(e.flags.contains { $0.description.contains("DERIVED") })
        XCTAssertEqual(e.hardware?.count, 8)
    }

    func testMarketBasedIsReportedBesideTheTotal() throws {
        let instruments = try ContractualInstruments(coveredShare: 0.5, residualMixFactor: CarbonIntensity(gramsPerKilowattHour: 60))
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(40), region: region("FR"), usageYear: 2024,
                site: SiteType.none, instruments: instruments))
        // 40 kWh × (0.5 × 0 + 0.5 × 60) = 1200 g; location 40 × 44.18 = 1767.2 g stays the total
        XCTAssertEqual(e.marketBased?.emissions.grams ?? 0, 1_200, accuracy: 1e-9)
        XCTAssertEqual(e.total.grams, 1_767.2, accuracy: 1e-9)
    }

    func testOldAndDirectDataWidenAndFlag() throws {
        let current = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(10), region: region("US-CAL-CISO"),
                usageYear: 2025, site: SiteType.none))
        let old = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(10), region: region("US-CAL-CISO"),
                usageYear: 2029, site: SiteType.none))
        XCTAssertGreaterThan(old.interval.high, current.interval.high)
        XCTAssertTrue(old.flags.contains { $0.description.contains("4 years before") })
        XCTAssertTrue(current.flags.isEmpty, "\(current.flags)")

        let state = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(10), region: region("US-CA"),
                usageYear: 2016, site: SiteType.none))
        XCTAssertTrue(state.flags.contains { $0.description.contains("not lifecycle") })
        XCTAssertTrue(state.flags.contains { $0.description.contains("US-CA:") })
    }

    func testHourlyFigureFeedsTheEstimate() throws {
        let series = try HourlyIntensitySeries(
            csv: "timestamp_utc,gco2e_per_kwh,zone\n2022-06-01T00:00:00Z,100,CISO\n2022-06-01T01:00:00Z,300,CISO\n")
        let profile = try EnergyProfile.constant(watts: 1_000, from: date("2022-06-01T00:00:00Z"), duration: 7_200)
        let hourly = series.emissions(for: profile, fallback: CarbonIntensity(gramsPerKilowattHour: 208))
        let ciso = try Bundled.data.grid.resolve("US-CAL-CISO").zone
        let figure = series.figure(
            for: hourly, year: 2022, basis: IntensityBasis("lifecycle, production-based (EIA-930 mix)"),
            source: ciso.source)
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: hourly.energy, region: region("US-CAL-CISO"), usageYear: 2022,
                intensity: .figure(figure), site: SiteType.none))
        // 1 kWh × 100 + 1 kWh × 300 = 400 g
        XCTAssertEqual(e.total.grams, 400, accuracy: 1e-9)
        XCTAssertEqual(e.intensity.origin, .hourly)
    }

    func testErrorsPassThrough() {
        assertCarbonError(.unknownRegion) {
            try estimator.estimate(EstimateRequest(itEnergy: .kilowattHours(1), region: region("FRR"), usageYear: 2024))
        }
        assertCarbonError(.unknownHardware) {
            try estimator.estimate(
                EstimateRequest(
                    itEnergy: .kilowattHours(1), region: region("FR"), usageYear: 2024,
                    hardware: try HardwareReservation(hardware: "b200", count: 1, hours: 1)))
        }
        assertCarbonError(.invalidNumber) {
            try estimator.estimate(EstimateRequest(itEnergy: .kilowattHours(1), region: region("FR"), usageYear: 2024, pue: 0.5))
        }
        assertCarbonError(.invalidUncertainty) {
            try estimator.estimate(
                EstimateRequest(
                    itEnergy: .kilowattHours(1), region: region("FR"), usageYear: 2024,
                    energyRelativeUncertainty: 2))
        }
    }

    func testEstimateEncodesAsStableJSON() throws {
        let e = try estimator.estimate(
            EstimateRequest(
                itEnergy: .kilowattHours(12), region: region("aws:eu-west-3"), usageYear: 2025,
                hardware: try HardwareReservation(hardware: "a100", count: 4, hours: 2)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(e)
        XCTAssertEqual(try JSONDecoder().decode(CarbonEstimate.self, from: data), e)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in [
            "locationBased", "embodied", "total", "interval", "dominantContributor", "intensity", "pue", "flags",
            "attribution", "region",
        ] {
            XCTAssertNotNil(object[key], key)
        }
        XCTAssertEqual(try encoder.encode(e), data, "same input, same bytes")
    }
}
