import ArgumentParser
import Foundation
import Ledger
import Reporting

/// `wattprint show RUN`: a run's energy, recomputed from its raw samples.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one run's energy, recomputed from the raw samples in the ledger.",
        discussion: "Examples:\n  wattprint show 3 --json\n  wattprint show last --hourly hourly.csv")

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: ArgumentHelp("The run's id, as listed by `wattprint runs`, or `last` for the newest run.", valueName: "run"))
    var selector: String
    @OptionGroup var facility: FacilityOptions
    @OptionGroup var hourlyOptions: HourlyOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let store = try ledger.open(create: false)
        let runID: Int64
        if selector == "last" {
            guard let newest = try store.runs().last?.id else { throw CLIError("no runs in \(store.path) yet. Record one with: wattprint run -- COMMAND") }
            runID = newest
        } else if let id = Int64(selector) {
            runID = id
        } else {
            throw ValidationError("'\(selector)' is not a run id; pass a number from `wattprint runs`, or `last`")
        }
        do {
            let region = try store.run(runID).region
            let hourly = try hourlyOptions.load()
            let footprint = try RunFootprint.compute(ledger: store, run: runID, data: try CarbonTables.load(),
                                                     site: facility.siteType(region: region), pue: facility.pue, hourly: hourly)
            if json { try JSONOutput.print(footprint) } else { print(RunSummaryText.render(footprint)) }
        } catch let error as CustomStringConvertible & Error { throw CLIError(error.description) }
    }
}
