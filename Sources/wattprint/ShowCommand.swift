import ArgumentParser
import Foundation
import Ledger
import Reporting

/// `wattprint show RUN`: a run's energy, recomputed from its raw samples.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one run's energy, recomputed from the raw samples in the ledger.",
        discussion: "Example:\n  wattprint show 3 --json")

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: ArgumentHelp("The run's id, as listed by `wattprint runs`.", valueName: "run")) var runID: Int64
    @OptionGroup var facility: FacilityOptions
    @OptionGroup var hourlyOptions: HourlyOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let store = try ledger.open(create: false)
        do {
            let region = try store.run(runID).region
            let hourly = try hourlyOptions.load()
            let footprint = try RunFootprint.compute(ledger: store, run: runID, data: try CarbonTables.load(),
                                                     site: facility.siteType(region: region), pue: facility.pue, hourly: hourly)
            if json { try JSONOutput.print(footprint) } else { print(RunSummaryText.render(footprint)) }
        } catch let error as CustomStringConvertible & Error { throw CLIError(error.description) }
    }
}
