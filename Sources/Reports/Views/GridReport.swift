import Carbon
import Foundation
import Measures

/// Grid intensity figures: one region with its source, or a listing.
public enum GridReport {
    /// One region's figure, year, basis, source and licence.
    public static func region(_ resolved: ResolvedRegion, defaulted: Bool) -> Report {
        var blocks: [Block] = []
        if defaulted {
            blocks.append(.line("WARNING: no region given (--region, \(RegionResolution.environmentVariable)); showing the world average"))
        }
        let zone = resolved.zone
        var fields: [Field] = []
        if let region = resolved.cloudRegion {
            blocks.append(.line("\(region.id) — \(region.location)"))
            fields.append(Field("Zone", "\(zone.id) — \(zone.name) (\(region.zoneWhy))"))
            fields.append(Field("Zone figure", "\(zone.intensity) · \(zone.year) · \(zone.basis) · \(zone.source.key)"))
            if let published = region.published {
                fields.append(
                    Field(
                        "Published figure",
                        "\(published.intensity) · \(published.year.map(String.init) ?? "year not stated") · \(published.basis) · \(published.source.key)"
                    ))
                fields.append(Field("Published source", published.originalSource))
            }
            fields.append(Field("Used", "\(region.used.rawValue) — \(region.why)"))
        } else {
            var title = "\(zone.id) — \(zone.name) (\(zone.kind.rawValue)"
            if let parent = zone.parent { title += ", in \(parent)" }
            if let alias = zone.alias { title += ", also \(alias)" }
            blocks.append(.line(title + ")"))
        }
        let figure = resolved.figure
        fields.append(Field("Intensity", figure.intensity.description))
        fields.append(Field("Year", figure.year.map(String.init) ?? "not stated"))
        fields.append(Field("Basis", figure.basis.text))
        fields.append(Field("Source", figure.source.citation))
        fields.append(Field("Licence", figure.source.licence))
        if !figure.source.attribution.isEmpty { fields.append(Field("Attribution", figure.source.attribution)) }
        if resolved.cloudRegion == nil, let note = zone.note { fields.append(Field("Note", note)) }
        blocks.append(.fields(fields))
        return Report(blocks: blocks, data: resolved)
    }

    /// One row of a listing's JSON; sources are listed once, by key.
    public struct ZoneRow: Codable, Sendable {
        let id: String
        let alias: String?
        let name: String
        let kind: GridZone.Kind
        let parent: String?
        let intensity: CarbonIntensity
        let year: Int
        let basis: String
        let source: String
        let licence: String
        let note: String?
    }

    public struct RegionRow: Codable, Sendable {
        let id: String
        let location: String
        let zone: String
        let used: CloudRegion.FigureChoice
        let intensity: CarbonIntensity
        let why: String
    }

    public struct Listing: Codable, Sendable {
        let zones: [ZoneRow]
        let cloudRegions: [RegionRow]
        let sources: [String: DataSource]
    }

    /// Zones and cloud regions matching a search, with the attribution their sources require.
    /// - Throws: `CarbonError` when a cloud region's zone is missing from the table.
    public static func listing(_ table: GridIntensityTable, search: String?) throws -> Report {
        let found = table.search(search)
        let regions = try found.cloudRegions.map { region -> (CloudRegion, ResolvedRegion) in (region, try table.resolve(region.id)) }
        let keys = Set(found.zones.map(\.source.key)).union(regions.map(\.1.figure.source.key))
        let data = Listing(
            zones: found.zones.map {
                ZoneRow(
                    id: $0.id, alias: $0.alias, name: $0.name, kind: $0.kind, parent: $0.parent, intensity: $0.intensity,
                    year: $0.year, basis: $0.basis.text, source: $0.source.key, licence: $0.licence, note: $0.note)
            },
            cloudRegions: regions.map {
                RegionRow(
                    id: $0.0.id, location: $0.0.location, zone: $0.0.zoneID, used: $0.0.used, intensity: $0.1.figure.intensity,
                    why: $0.0.why)
            },
            sources: table.sources.filter { keys.contains($0.key) })
        if found.zones.isEmpty && regions.isEmpty {
            return Report(blocks: [.line("No zone or cloud region matches '\(search ?? "")'; try a shorter --search text.")], data: data)
        }
        var blocks: [Block] = []
        if !found.zones.isEmpty {
            let rows = found.zones.map { zone in
                [
                    zone.id, zone.kind.rawValue, QuantityFormat.decimals(zone.intensity.gramsPerKilowattHour, 2), String(zone.year),
                    zone.basis.text, zone.source.key, zone.name,
                ]
            }
            blocks.append(.table(Table(header: ["ZONE", "KIND", "G/KWH", "YEAR", "BASIS", "SOURCE", "NAME"], rows: rows)))
        }
        if !regions.isEmpty {
            if !blocks.isEmpty { blocks.append(.blank) }
            let rows = regions.map { region, resolved in
                [
                    region.id, region.zoneID, region.used.rawValue,
                    QuantityFormat.decimals(resolved.figure.intensity.gramsPerKilowattHour, 2),
                    resolved.figure.year.map(String.init) ?? "", region.location,
                ]
            }
            blocks.append(.table(Table(header: ["CLOUD REGION", "ZONE", "USED", "G/KWH", "YEAR", "LOCATION"], rows: rows)))
        }
        let attributions = table.sources.values.filter { keys.contains($0.key) && !$0.attribution.isEmpty }.map(\.attribution).sorted()
        if !attributions.isEmpty {
            blocks.append(.blank)
            blocks += attributions.map(Block.line)
        }
        return Report(blocks: blocks, data: data)
    }
}
