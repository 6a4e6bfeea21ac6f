import ArgumentParser
import Carbon
import Foundation
import Measures

/// `wattprint grid`: look up the carbon intensity figures wattprint uses.
struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Show the grid carbon intensity figures wattprint uses, with their sources.",
        discussion: """
            Regions are countries (FR, FRA), sub-national zones (US-CAL-CISO, CA-QC, IN-NO, SE-SE1), \
            aggregates (WORLD, EU) and cloud regions (aws:us-east-1, gcp:us-central1, azure:westeurope); \
            lookups ignore case.

            Examples:
              wattprint grid show FR
              wattprint grid show gcp:us-central1 --json
              wattprint grid list --search california
            """,
        subcommands: [Show.self, List.self])

    init() {}

    /// `wattprint grid show [REGION]`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one region's intensity, year, basis, source and licence.",
            discussion: """
                Without REGION, shows the region an estimate would use: \(RegionResolution.environmentVariable), \
                else the world average (flagged).

                Example:
                  wattprint grid show aws:us-east-1
                """)

        @Argument(help: "Country, zone or cloud region, e.g. FR, US-CAL-CISO, aws:us-east-1.")
        var region: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        init() {}

        func run() throws {
            let table = try GridIntensityTable.bundled()
            let resolution = RegionResolution.resolve(flag: region, environment: ProcessInfo.processInfo.environment,
                                                      configValue: try UserConfig.load().region)
            let resolved = try table.resolve(resolution)
            if json {
                try JSONOutput.print(resolved)
                return
            }
            print(Self.render(resolved, defaulted: resolution.isDefaulted))
        }

        static func render(_ resolved: ResolvedRegion, defaulted: Bool) -> String {
            var lines: [String] = []
            if defaulted {
                lines.append("WARNING: no region given (--region, \(RegionResolution.environmentVariable)); showing the world average")
            }
            let zone = resolved.zone
            var pairs: [(String, String)] = []
            if let region = resolved.cloudRegion {
                lines.append("\(region.id) — \(region.location)")
                pairs.append(("Zone", "\(zone.id) — \(zone.name) (\(region.zoneWhy))"))
                pairs.append(("Zone figure", "\(zone.intensity) · \(zone.year) · \(zone.basis) · \(zone.source.key)"))
                if let published = region.published {
                    pairs.append(("Published figure", "\(published.intensity) · \(published.year.map(String.init) ?? "year not stated") · \(published.basis) · \(published.source.key)"))
                    pairs.append(("Published source", published.originalSource))
                }
                pairs.append(("Used", "\(region.used.rawValue) — \(region.why)"))
            } else {
                var title = "\(zone.id) — \(zone.name) (\(zone.kind.rawValue)"
                if let parent = zone.parent { title += ", in \(parent)" }
                if let alias = zone.alias { title += ", also \(alias)" }
                lines.append(title + ")")
            }
            let figure = resolved.figure
            pairs.append(("Intensity", figure.intensity.description))
            pairs.append(("Year", figure.year.map(String.init) ?? "not stated"))
            pairs.append(("Basis", figure.basis.text))
            pairs.append(("Source", figure.source.citation))
            pairs.append(("Licence", figure.source.licence))
            if !figure.source.attribution.isEmpty {
                pairs.append(("Attribution", figure.source.attribution))
            }
            if resolved.cloudRegion == nil, let note = zone.note {
                pairs.append(("Note", note))
            }
            lines.append(TextTable.fields(pairs))
            return lines.joined(separator: "\n")
        }
    }

    /// `wattprint grid list [--search TEXT]`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List zones and cloud regions with their intensity.",
            discussion: """
                Example:
                  wattprint grid list --search us-cal
                """)

        @Option(help: "Keep rows whose id, name or location contains TEXT (ignoring case).")
        var search: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        init() {}

        /// One row of `--json` output; sources are listed once, by key.
        struct ZoneRow: Codable {
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

        struct RegionRow: Codable {
            let id: String
            let location: String
            let zone: String
            let used: CloudRegion.FigureChoice
            let intensity: CarbonIntensity
            let why: String
        }

        struct Listing: Codable {
            let zones: [ZoneRow]
            let cloudRegions: [RegionRow]
            let sources: [String: DataSource]
        }

        func run() throws {
            let table = try GridIntensityTable.bundled()
            let found = table.search(search)
            let regions = try found.cloudRegions.map { region -> (CloudRegion, ResolvedRegion) in
                (region, try table.resolve(region.id))
            }
            if json {
                let zones = found.zones.map {
                    ZoneRow(id: $0.id, alias: $0.alias, name: $0.name, kind: $0.kind, parent: $0.parent,
                            intensity: $0.intensity, year: $0.year, basis: $0.basis.text, source: $0.source.key,
                            licence: $0.licence, note: $0.note)
                }
                let rows = regions.map {
                    RegionRow(id: $0.0.id, location: $0.0.location, zone: $0.0.zoneID, used: $0.0.used,
                              intensity: $0.1.figure.intensity, why: $0.0.why)
                }
                var keys = Set(found.zones.map(\.source.key))
                keys.formUnion(regions.map(\.1.figure.source.key))
                try JSONOutput.print(Listing(zones: zones, cloudRegions: rows,
                                             sources: table.sources.filter { keys.contains($0.key) }))
                return
            }
            if found.zones.isEmpty && regions.isEmpty {
                print("No zone or cloud region matches '\(search ?? "")'; try a shorter --search text.")
                return
            }
            var sections: [String] = []
            if !found.zones.isEmpty {
                let rows = found.zones.map { zone in
                    [zone.id, zone.kind.rawValue, QuantityFormat.decimals(zone.intensity.gramsPerKilowattHour, 2), String(zone.year),
                     zone.basis.text, zone.source.key, zone.name]
                }
                sections.append(TextTable(header: ["ZONE", "KIND", "G/KWH", "YEAR", "BASIS", "SOURCE", "NAME"], rows: rows).render())
            }
            if !regions.isEmpty {
                let rows = regions.map { region, resolved in
                    [region.id, region.zoneID, region.used.rawValue, QuantityFormat.decimals(resolved.figure.intensity.gramsPerKilowattHour, 2),
                     resolved.figure.year.map(String.init) ?? "", region.location]
                }
                sections.append(TextTable(header: ["CLOUD REGION", "ZONE", "USED", "G/KWH", "YEAR", "LOCATION"], rows: rows).render())
            }
            print(sections.joined(separator: "\n\n"))
            let keys = Set(found.zones.map(\.source.key)).union(regions.map(\.1.figure.source.key))
            let attributions = table.sources.values.filter { keys.contains($0.key) && !$0.attribution.isEmpty }
                .map(\.attribution).sorted()
            if !attributions.isEmpty {
                print("\n" + attributions.joined(separator: "\n"))
            }
        }
    }
}
