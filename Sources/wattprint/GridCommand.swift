import ArgumentParser
import Carbon
import Foundation
import Reports
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

        @OptionGroup var output: OutputOptions

        init() {}

        func run() throws {
            let table = try GridIntensityTable.bundled()
            let resolution = RegionResolution.resolve(
                flag: region, environment: ProcessInfo.processInfo.environment,
                configValue: try UserConfig.load().region)
            let resolved = try table.resolve(resolution)
            try output.emit(GridReport.region(resolved, defaulted: resolution.isDefaulted))
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

        @OptionGroup var output: OutputOptions

        init() {}

        func run() throws {
            try output.emit(try GridReport.listing(try GridIntensityTable.bundled(), search: search))
        }
    }
}
