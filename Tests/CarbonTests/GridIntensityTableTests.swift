import XCTest
@testable import Carbon

final class GridIntensityTableTests: XCTestCase {
    let grid = Bundled.data.grid

    func testBundledTablesLoad() {
        XCTAssertEqual(grid.zones.filter { $0.kind == .country }.count, 220)
        XCTAssertEqual(grid.zones.filter { $0.kind == .aggregate }.count, 13)
        XCTAssertGreaterThanOrEqual(grid.zones.filter { $0.kind == .subnational }.count, 147)
        XCTAssertEqual(grid.cloudRegions.count, 109)
        XCTAssertEqual(grid.world.intensity.gramsPerKilowattHour, 472.94)
        XCTAssertEqual(grid.world.year, 2024)
    }

    func testLooksUpCountriesByAlpha2Alpha3AndNameIgnoringCase() throws {
        for query in ["FR", "fr", "FRA", "fra", "France", " france "] {
            XCTAssertEqual(try grid.resolve(query).zone.id, "FR", query)
        }
        let us = try grid.resolve("US")
        XCTAssertEqual(us.figure.intensity.gramsPerKilowattHour, 383.55)
        XCTAssertEqual(us.figure.year, 2024)
        XCTAssertEqual(us.figure.basis.text, "lifecycle, production-based")
        XCTAssertEqual(us.figure.source.licence, "CC-BY-4.0")
        XCTAssertTrue(us.figure.source.attribution.contains("Ember"))
    }

    func testLooksUpSubnationalZones() throws {
        let ciso = try grid.resolve("us-cal-ciso")
        XCTAssertEqual(ciso.zone.id, "US-CAL-CISO")
        XCTAssertEqual(ciso.zone.parent, "US")
        XCTAssertEqual(ciso.figure.intensity.gramsPerKilowattHour, 208)
        XCTAssertEqual(ciso.figure.year, 2025)
        XCTAssertEqual(ciso.figure.basis.text, "lifecycle, consumption-based")
        for id in ["CA-QC", "IN-NO", "SE-SE1", "JP-TK", "AU-NSW", "NO-NO5", "US-TEX-ERCO"] {
            XCTAssertEqual(try grid.resolve(id).zone.kind, .subnational, id)
        }
    }

    func testUSStatesAreOldDirectFallbacks() throws {
        let california = try grid.resolve("US-CA").zone
        XCTAssertEqual(california.year, 2016)
        XCTAssertEqual(california.basis.scope, .directCombustion)
        XCTAssertNotNil(california.note)
        // Alaska and Hawaii have Electricity Maps zones with the same id; those win.
        XCTAssertEqual(try grid.resolve("US-AK").zone.basis.scope, .lifecycle)
    }

    func testSharedNamesPreferTheCountry() throws {
        XCTAssertEqual(try grid.resolve("Georgia").zone.id, "GE")
        XCTAssertEqual(try grid.resolve("US-GA").zone.name, "Georgia")
        XCTAssertEqual(try grid.resolve("world").zone.id, "WORLD")
    }

    func testCloudRegionsUseTheirZoneOrGooglesOwnFigure() throws {
        let virginia = try grid.resolve("AWS:US-EAST-1")
        XCTAssertEqual(virginia.cloudRegion?.id, "aws:us-east-1")
        XCTAssertEqual(virginia.zone.id, "US-MIDA-PJM")
        XCTAssertEqual(virginia.figure.origin, .zone)
        XCTAssertEqual(virginia.figure.intensity.gramsPerKilowattHour, 418)

        let iowa = try grid.resolve("gcp:us-central1")
        XCTAssertEqual(iowa.zone.id, "US-MIDW-MISO")
        XCTAssertEqual(iowa.figure.origin, .provider)
        XCTAssertEqual(iowa.figure.intensity.gramsPerKilowattHour, 430)
        XCTAssertEqual(iowa.figure.year, 2023)

        XCTAssertEqual(try grid.resolve("azure:westeurope").zone.id, "NL")
    }

    func testCloudRegionRuleIsConsistent() {
        for region in grid.cloudRegions {
            XCTAssertEqual(region.id, region.id.lowercased())
            XCTAssertNotNil(grid.zone(id: region.zoneID), region.id)
            XCTAssertFalse(region.why.isEmpty, region.id)
            // Only Google publishes its own recent location-based figure per region; everyone else uses the zone.
            XCTAssertEqual(region.used, region.provider == "gcp" ? .provider : .zone, region.id)
            if region.used == .provider {
                XCTAssertEqual(region.published?.source.key, "google-2023", region.id)
            }
        }
    }

    func testUnknownRegionListsClosestMatches() {
        let frr = assertCarbonError(.unknownRegion) { try grid.resolve("FRR") }
        XCTAssertEqual(frr?.suggestions.first, "FR")
        XCTAssertTrue(frr?.description.contains("FR (France)") ?? false, frr?.description ?? "")
        XCTAssertTrue(frr?.description.contains("grid list") ?? false)

        let ciso = assertCarbonError(.unknownRegion) { try grid.resolve("us-cal-cisoo") }
        XCTAssertEqual(ciso?.suggestions.first, "US-CAL-CISO")

        let aws = assertCarbonError(.unknownRegion) { try grid.resolve("aws:us-east-l") }
        XCTAssertEqual(aws?.suggestions.first, "aws:us-east-1")

        assertCarbonError(.unknownRegion) { try grid.resolve("   ") }
    }

    /// ISO 3166-1's reserved codes for countries with another code resolve to that country, in any case.
    func testReservedCountryCodesResolveToTheirCountries() throws {
        for (code, country) in [("UK", "GB"), ("uk", "GB"), ("EL", "GR"), ("FX", "FR"), (" fx ", "FR")] {
            let resolved = try grid.resolve(code)
            XCTAssertEqual(resolved.zone.id, country, code)
            XCTAssertEqual(resolved.figure.intensity, try grid.resolve(country).figure.intensity, code)
        }
        for (code, country) in GridIntensityTable.reservedCountryCodes {
            XCTAssertNil(grid.zone(id: code), "\(code) is a zone of its own: the reserved code would hide it")
            XCTAssertNotNil(grid.zone(id: country), country)
        }
    }

    func testSuggestionsNameEachPlaceOnce() {
        let suggestions = grid.closestMatches(to: "FRA1")
        XCTAssertEqual(suggestions.filter { $0 == "FR" }.count, 1)
        XCTAssertFalse(suggestions.contains("FRA"), "the alias is the same place as FR")
    }

    func testSearchMatchesIdsNamesAndLocations() {
        let california = grid.search("california")
        XCTAssertTrue(california.zones.contains { $0.id == "US-CA" })
        XCTAssertTrue(california.zones.contains { $0.id == "US-CAL-BANC" })
        XCTAssertTrue(california.cloudRegions.contains { $0.id == "azure:westus" })
        let all = grid.search(nil)
        XCTAssertEqual(all.zones.count, grid.zones.count)
        XCTAssertEqual(all.cloudRegions.count, grid.cloudRegions.count)
        XCTAssertTrue(grid.search("no-such-place").zones.isEmpty)
    }

    func testUnknownLocationWidthsSpanCountryFigures() {
        // 5th and 95th percentiles of the 220 country figures (linear interpolation): 30.629 and 784.899 g/kWh.
        let widths = grid.unknownLocationLogWidths
        XCTAssertEqual(widths.below, log(472.94 / 30.629), accuracy: 1e-4)
        XCTAssertEqual(widths.above, log(784.899 / 472.94), accuracy: 1e-4)
    }

    func testRegionResolutionPrecedence() {
        let env = [RegionResolution.environmentVariable: "DE"]
        XCTAssertEqual(
            RegionResolution.resolve(flag: "FR", environment: env, configValue: "SE"),
            RegionResolution(query: "FR", origin: .flag))
        XCTAssertEqual(
            RegionResolution.resolve(flag: nil, environment: env, configValue: "SE"),
            RegionResolution(query: "DE", origin: .environment))
        XCTAssertEqual(
            RegionResolution.resolve(flag: "  ", environment: [:], configValue: "SE"),
            RegionResolution(query: "SE", origin: .configFile))
        let none = RegionResolution.resolve(
            flag: nil, environment: [RegionResolution.environmentVariable: ""],
            configValue: nil)
        XCTAssertTrue(none.isDefaulted)
        XCTAssertEqual(none.query, "WORLD")
    }

    func testDefaultedResolutionIsTheFlaggedWorldAverage() throws {
        let world = try grid.resolve(RegionResolution.resolve(flag: nil, environment: [:], configValue: nil))
        XCTAssertEqual(world.zone.id, "WORLD")
        XCTAssertEqual(world.figure.origin, .worldDefault)
        XCTAssertEqual(world.figure.intensity.gramsPerKilowattHour, 472.94)
    }

    func testMalformedTablesFailWhole() {
        let sources = "key,citation,licence,attribution\nember,c,CC-BY-4.0,a\n"
        let header = "id,alias,name,kind,parent,gco2e_per_kwh,year,basis,source,licence,note\n"
        let world = "WORLD,,World,aggregate,,472.94,2024,\"lifecycle, production-based\",ember,CC-BY-4.0,\n"
        let regions =
            "id,location,zone,zone_why,provider_gco2e_per_kwh,provider_year,provider_basis,provider_source,provider_original_source,used,why\n"
        XCTAssertNoThrow(try GridIntensityTable(zonesCSV: header + world, cloudRegionsCSV: regions, sourcesCSV: sources))
        let bad = header + world + "FR,FRA,France,country,,-1,2024,lifecycle,ember,CC-BY-4.0,\n"
        let error = assertCarbonError(.malformedCSV) {
            try GridIntensityTable(zonesCSV: bad, cloudRegionsCSV: regions, sourcesCSV: sources)
        }
        XCTAssertTrue(error?.description.contains("line 3") ?? false, error?.description ?? "")
        assertCarbonError(.malformedCSV) {
            try GridIntensityTable(
                zonesCSV: header + world, cloudRegionsCSV: regions + "aws:x,X,NOPE,,,,,,,zone,w\n",
                sourcesCSV: sources)
        }
    }
}
