import ArgumentParser
import Carbon
import Foundation
import Ledger
import Reports
import Accounting

/// `wattprint show RUN`: a run's energy, recomputed from its raw samples.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one run's energy, recomputed from the raw samples in the ledger.",
        discussion: "Examples:\n  wattprint show 3 --json\n  wattprint show last --hourly hourly.csv")

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: ArgumentHelp("The run's id, as listed by `wattprint runs`, or `last` for the newest run.", valueName: "run"))
    var selector: String
    @Option(help: "A region to price the run in instead of the one it recorded (labelled as an override).")
    var region: String?
    @OptionGroup var facility: FacilityOptions
    @OptionGroup var hourlyOptions: HourlyOptions
    @OptionGroup var instrumentOptions: InstrumentOptions
    @OptionGroup var hardwareOptions: HardwareOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        // Here, not in run(), so the message comes with `show`'s usage rather than the tool's.
        guard selector == "last" || Int64(selector) != nil else {
            throw ValidationError("'\(selector)' is not a run id; pass a number from `wattprint runs`, or `last`")
        }
        if let id = Int64(selector), id < 1 {
            throw ValidationError(
                "'\(selector)' is not a run id: ids count from 1; pass a number from `wattprint runs`, or `last` for the newest")
        }
    }

    func run() throws {
        let store = try ledger.open(create: false)
        let runID: Int64
        if selector == "last" {
            guard let newest = try store.runs().last?.id else {
                throw CLIError("no runs in \(store.path) yet. Record one with: wattprint run -- COMMAND")
            }
            runID = newest
        } else if let id = Int64(selector) {
            runID = id
        } else {
            throw ValidationError("'\(selector)' is not a run id; pass a number from `wattprint runs`, or `last`")
        }
        try CLIError.wrapping {
            let data = try CarbonTables.load()
            // Flags given here replace what the run recorded, each labelled as an override in the output.
            let regionOverride = region.map { RegionResolution(query: $0, origin: .flag) }
            if let regionOverride { try CarbonTables.checkRegion(regionOverride, data: data) }
            let overrides = FootprintOverrides(
                region: regionOverride, site: facility.site.map(\.siteType), pue: facility.pue, hourly: try hourlyOptions.load(),
                instruments: try instrumentOptions.instruments(), hardware: hardwareOptions.choice)
            let footprint = try RunFootprint.compute(ledger: store, run: runID, data: data, overrides: overrides)
            try output.emit(RunReport.build(footprint))
            if let broken = try ReportVerification.firstBrokenChain(runs: [runID], ledger: store) {
                FileHandle.standardError.write(
                    Data(
                        "wattprint: WARNING: \(broken), so the figures above may not be what was recorded; `wattprint verify \(runID)` says more\n"
                            .utf8))
            }
        }
    }
}
