import Foundation

/// Annual grid intensities by zone, and cloud regions mapped onto zones, as bundled in `Data/`.
///
/// Lookups accept a zone id ("FR", "US-CAL-CISO"), an ISO alpha-3 code ("FRA"), a cloud region
/// ("aws:us-east-1") or a zone name ("France"), all case-insensitive. Names shared by several zones resolve
/// to the country first, then the aggregate, then the sub-national zone ("Georgia" is the country; the US
/// state is "US-GA").
public struct GridIntensityTable: Sendable {
    public let zones: [GridZone]
    public let cloudRegions: [CloudRegion]
    /// Sources by key, as cited in the tables.
    public let sources: [String: DataSource]

    private enum Target: Hashable, Sendable {
        case zone(Int)
        case region(Int)
    }

    private let byKey: [String: Target]
    private let byName: [String: Target]
    private let zoneIndex: [String: Int]

    /// The id of the zone used when no region is known.
    public static let worldZoneID = "WORLD"

    /// Codes ISO 3166-1 reserves for countries that have another alpha-2 code, which users type for them: UK for the
    /// United Kingdom (GB) and EL for Greece (GR), both exceptionally reserved (the EU uses EL and UK), and FX,
    /// transitionally reserved for metropolitan France (FR) since 1997 (ISO 3166 Maintenance Agency, "reserved code
    /// elements"). A zone or alias with one of these ids would come first.
    public static let reservedCountryCodes = ["UK": "GB", "EL": "GR", "FX": "FR"]

    /// Loads the tables bundled with the module.
    ///
    /// - Throws: `CarbonError.missingData` if a table is missing from the bundle, `CarbonError.malformedCSV`
    ///   if one does not parse.
    public static func bundled() throws -> GridIntensityTable {
        try GridIntensityTable(
            zonesCSV: BundledData.text("grid_zones"),
            cloudRegionsCSV: BundledData.text("cloud_regions"),
            sourcesCSV: BundledData.text("sources"))
    }

    /// Builds a table from the text of `grid_zones.csv`, `cloud_regions.csv` and `sources.csv`.
    ///
    /// - Throws: `CarbonError.malformedCSV` naming the table and line of the first bad row; nothing is
    ///   returned half-built.
    public init(zonesCSV: String, cloudRegionsCSV: String, sourcesCSV: String) throws {
        let sources = try Self.parseSources(sourcesCSV)
        let zones = try Self.parseZones(zonesCSV, sources: sources)
        var zoneIndex: [String: Int] = [:]
        for (i, zone) in zones.enumerated() { zoneIndex[zone.id] = i }
        guard zoneIndex[Self.worldZoneID] != nil else {
            throw CarbonError(.malformedCSV, "grid_zones.csv has no \(Self.worldZoneID) row; rebuild it with build_tables.py")
        }
        let regions = try Self.parseRegions(cloudRegionsCSV, sources: sources, zoneIDs: Set(zoneIndex.keys))

        var byKey: [String: Target] = [:]
        func index(_ key: String, _ target: Target) throws {
            let lower = key.lowercased()
            if let existing = byKey[lower], existing != target {
                throw CarbonError(.malformedCSV, "grid tables: '\(key)' names two places; ids and aliases must be unique")
            }
            byKey[lower] = target
        }
        for (i, zone) in zones.enumerated() {
            try index(zone.id, .zone(i))
            if let alias = zone.alias { try index(alias, .zone(i)) }
        }
        for (i, region) in regions.enumerated() { try index(region.id, .region(i)) }

        var byName: [String: Target] = [:]
        let rank: [GridZone.Kind: Int] = [.country: 0, .aggregate: 1, .subnational: 2]
        for (i, zone) in zones.enumerated() {
            let key = zone.name.lowercased()
            if case .zone(let j)? = byName[key], rank[zones[j].kind]! <= rank[zone.kind]! { continue }
            byName[key] = .zone(i)
        }

        self.zones = zones
        self.cloudRegions = regions
        self.sources = sources
        self.byKey = byKey
        self.byName = byName
        self.zoneIndex = zoneIndex
    }

    /// The zone with exactly this id.
    public func zone(id: String) -> GridZone? {
        zoneIndex[id].map { zones[$0] }
    }

    /// The world average zone (Ember "World").
    public var world: GridZone { zones[zoneIndex[Self.worldZoneID]!] }

    /// Looks up a zone or cloud region.
    ///
    /// - Throws: `CarbonError.unknownRegion` with the closest matches by edit distance in `suggestions`.
    public func resolve(_ query: String) throws -> ResolvedRegion {
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw CarbonError(.unknownRegion, "region is empty; give a country (FR), zone (US-CAL-CISO) or cloud region (aws:us-east-1)")
        }
        let key = trimmed.lowercased()
        if let target = byKey[key] ?? byName[key] ?? Self.reservedCountryCodes[trimmed.uppercased()].flatMap({ byKey[$0.lowercased()] }) {
            return resolved(target, query: trimmed)
        }
        let matches = closestMatches(to: trimmed)
        let listed = matches.map { display($0) }.joined(separator: ", ")
        throw CarbonError(
            .unknownRegion,
            "unknown region '\(trimmed)'; closest: \(listed); see `wattprint grid list --search TEXT`",
            suggestions: matches)
    }

    /// Resolves the outcome of `RegionResolution`: the named region, or the world average when defaulted.
    ///
    /// - Throws: `CarbonError.unknownRegion` when the named region is not known.
    public func resolve(_ resolution: RegionResolution) throws -> ResolvedRegion {
        guard !resolution.isDefaulted else {
            let world = self.world
            let figure = IntensityFigure(
                intensity: world.intensity, year: world.year, basis: world.basis,
                source: world.source, origin: .worldDefault,
                label: "\(world.id) (\(world.name) average; no region given)")
            return ResolvedRegion(query: world.id, zone: world, cloudRegion: nil, figure: figure)
        }
        return try resolve(resolution.query)
    }

    /// Up to `limit` ids of zones and cloud regions nearest to `query` by edit distance, one per place.
    public func closestMatches(to query: String, limit: Int = 5) -> [String] {
        var candidates: [String] = zones.map(\.id)
        candidates += zones.compactMap(\.alias)
        candidates += cloudRegions.map(\.id)
        var seen = Set<Target>()
        var result: [String] = []
        for name in EditDistance.closest(to: query, in: candidates, limit: candidates.count) {
            guard let target = byKey[name.lowercased()], seen.insert(target).inserted else { continue }
            result.append(canonicalID(target))
            if result.count == limit { break }
        }
        return result
    }

    /// Zones and cloud regions whose id, alias, name or location contains `text` (case-insensitive);
    /// everything when `text` is nil or empty.
    public func search(_ text: String?) -> (zones: [GridZone], cloudRegions: [CloudRegion]) {
        guard let needle = text?.trimmingCharacters(in: .whitespaces).lowercased(), !needle.isEmpty else {
            return (zones, cloudRegions)
        }
        let z = zones.filter { zone in
            [zone.id, zone.alias ?? "", zone.name].contains { $0.lowercased().contains(needle) }
        }
        let r = cloudRegions.filter { region in
            [region.id, region.location, region.zoneID].contains { $0.lowercased().contains(needle) }
        }
        return (z, r)
    }

    /// Log half-widths (below, above) of the world average as a stand-in for an unknown location: from the
    /// world figure down to the 5th and up to the 95th percentile of the country figures (countries equally
    /// weighted, linear interpolation). With the bundled data: 30.6 and 784.9 g/kWh around 472.94.
    public var unknownLocationLogWidths: (below: Double, above: Double) {
        let values = zones.filter { $0.kind == .country }.map(\.intensity.gramsPerKilowattHour).sorted()
        guard values.count > 1 else { return (0, 0) }
        func percentile(_ p: Double) -> Double {
            let x = p * Double(values.count - 1)
            let i = Int(x)
            let j = min(i + 1, values.count - 1)
            return values[i] + (values[j] - values[i]) * (x - Double(i))
        }
        let world = self.world.intensity.gramsPerKilowattHour
        let low = max(percentile(0.05), 1e-9)
        let high = percentile(0.95)
        return (max(0, log(world / low)), max(0, log(high / world)))
    }

    private func resolved(_ target: Target, query: String) -> ResolvedRegion {
        switch target {
        case .zone(let i):
            let zone = zones[i]
            return ResolvedRegion(query: query, zone: zone, cloudRegion: nil, figure: zone.figure)
        case .region(let i):
            let region = cloudRegions[i]
            let zone = zones[zoneIndex[region.zoneID]!]
            let figure: IntensityFigure
            if region.used == .provider, let published = region.published {
                figure = IntensityFigure(
                    intensity: published.intensity, year: published.year, basis: published.basis,
                    source: published.source, origin: .provider,
                    label: "\(region.id) (\(region.location))")
            } else {
                let zoneFigure = zone.figure
                figure = IntensityFigure(
                    intensity: zoneFigure.intensity, year: zoneFigure.year, basis: zoneFigure.basis,
                    source: zoneFigure.source, origin: .zone,
                    label: "\(region.id) (\(region.location)) via zone \(zone.id)")
            }
            return ResolvedRegion(query: query, zone: zone, cloudRegion: region, figure: figure)
        }
    }

    private func canonicalID(_ target: Target) -> String {
        switch target {
        case .zone(let i): return zones[i].id
        case .region(let i): return cloudRegions[i].id
        }
    }

    private func display(_ id: String) -> String {
        switch byKey[id.lowercased()] {
        case .zone(let i)?: return "\(id) (\(zones[i].name))"
        case .region(let i)?: return "\(id) (\(cloudRegions[i].location))"
        case nil: return id
        }
    }

    private static func parseSources(_ text: String) throws -> [String: DataSource] {
        let what = "sources.csv"
        let table = try CSVTable(parsing: text, what: what)
        let c = try table.columns(["key", "citation", "licence", "attribution"], what: what)
        var sources: [String: DataSource] = [:]
        for row in table.rows {
            let f = row.fields
            sources[f[c["key"]!]] = DataSource(
                key: f[c["key"]!], citation: f[c["citation"]!],
                licence: f[c["licence"]!], attribution: f[c["attribution"]!])
        }
        return sources
    }

    private static func parseZones(_ text: String, sources: [String: DataSource]) throws -> [GridZone] {
        let what = "grid_zones.csv"
        let table = try CSVTable(parsing: text, what: what)
        let c = try table.columns(
            [
                "id", "alias", "name", "kind", "parent", "gco2e_per_kwh", "year", "basis",
                "source", "licence", "note",
            ], what: what)
        return try table.rows.map { row in
            let f = row.fields
            func field(_ name: String) -> String { f[c[name]!] }
            func optional(_ name: String) -> String? { field(name).isEmpty ? nil : field(name) }
            guard let kind = GridZone.Kind(rawValue: field("kind")) else {
                throw CarbonError(
                    .malformedCSV, "\(what) line \(row.line): kind '\(field("kind"))' is not country, subnational or aggregate")
            }
            guard let value = StrictNumber.parse(field("gco2e_per_kwh")), value >= 0 else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): intensity '\(field("gco2e_per_kwh"))' is not a number ≥ 0")
            }
            guard let year = Int(field("year")) else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): year '\(field("year"))' is not a whole number")
            }
            guard let source = sources[field("source")] else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): source '\(field("source"))' is not in sources.csv")
            }
            return GridZone(
                id: field("id"), alias: optional("alias"), name: field("name"), kind: kind,
                parent: optional("parent"), intensity: CarbonIntensity(gramsPerKilowattHour: value),
                year: year, basis: IntensityBasis(field("basis")), source: source,
                licence: field("licence"), note: optional("note"))
        }
    }

    private static func parseRegions(_ text: String, sources: [String: DataSource], zoneIDs: Set<String>) throws -> [CloudRegion] {
        let what = "cloud_regions.csv"
        let table = try CSVTable(parsing: text, what: what)
        let c = try table.columns(
            [
                "id", "location", "zone", "zone_why", "provider_gco2e_per_kwh", "provider_year",
                "provider_basis", "provider_source", "provider_original_source", "used", "why",
            ],
            what: what)
        return try table.rows.map { row in
            let f = row.fields
            func field(_ name: String) -> String { f[c[name]!] }
            guard zoneIDs.contains(field("zone")) else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): zone '\(field("zone"))' is not in grid_zones.csv")
            }
            guard let used = CloudRegion.FigureChoice(rawValue: field("used")) else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): used '\(field("used"))' is not zone or provider")
            }
            var published: CloudRegion.PublishedFigure? = nil
            if !field("provider_gco2e_per_kwh").isEmpty {
                guard let value = StrictNumber.parse(field("provider_gco2e_per_kwh")), value >= 0 else {
                    throw CarbonError(.malformedCSV, "\(what) line \(row.line): provider intensity is not a number ≥ 0")
                }
                guard let source = sources[field("provider_source")] else {
                    throw CarbonError(.malformedCSV, "\(what) line \(row.line): source '\(field("provider_source"))' is not in sources.csv")
                }
                published = CloudRegion.PublishedFigure(
                    intensity: CarbonIntensity(gramsPerKilowattHour: value), year: Int(field("provider_year")),
                    basis: IntensityBasis(field("provider_basis")), source: source,
                    originalSource: field("provider_original_source"))
            }
            if used == .provider, published == nil {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): used is provider but there is no provider figure")
            }
            return CloudRegion(
                id: field("id"), location: field("location"), zoneID: field("zone"),
                zoneWhy: field("zone_why"), published: published, used: used, why: field("why"))
        }
    }
}
