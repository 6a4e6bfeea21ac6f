import Accounting
import ArgumentParser
import Carbon
import Foundation
import Ledger
import Reports

/// `wattprint offsets`: reductions first (time shift, region, measured efficiency), then an offset plan for what
/// remains, apart from the emissions it never changes. The same section every report carries.
struct OffsetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Reductions first, then an offset plan (a contribution, never netted against emissions).",
        discussion: """
            Reductions come from the run's own measured power profile: starting it at another hour within --deadline \
            (against the shipped 2022 hourly intensity of nine US balancing authorities, or --hourly CSV; average \
            intensity, not marginal), running the same IT energy in other regions (location-based against \
            location-based), and efficiency changes a benchmark measured. The plan follows the Oxford Offsetting \
            Principles: a removal share rising over --plan-years, durable storage later in the plan, ICVCM-labelled \
            credits, dated price ranges per credit type in the currency quoted.

            Examples:
              wattprint offsets last
              wattprint offsets last --deadline 24h          (a run in a region with an hourly series, or with --hourly CSV)
              wattprint offsets 12 --regions FR,SE,aws:eu-north-1 --plan-years 10
              wattprint offsets --since 2026-11-01 --cleanest 3 --provider gcp --runs-per-year 52
            """)

    @Argument(help: ArgumentHelp("The run (an id or `last`).", valueName: "run")) var subject: String?
    @Option(help: "A period's first day (YYYY-MM-DD or a time with Z or a UTC offset).") var since: String?
    @Option(help: "The period's end, exclusive: a day (its UTC midnight) or a time, as --since.") var until: String?
    @Option(help: ArgumentHelp("The run must finish within this of its start: 24h, 90m, 2d.", valueName: "duration")) var deadline: String?
    @OptionGroup var hourlyOptions: HourlyOptions
    @Option(help: ArgumentHelp("Regions to compare, comma-separated: FR,US-CAL-CISO,aws:eu-north-1.", valueName: "list")) var regions:
        String?
    // Numbers parse unconditionally, so a negative one reaches validation instead of reading as a flag.
    @Option(parsing: .unconditional, help: "Also compare this many of a provider's cleanest regions.") var cleanest: Int?
    @Option(help: "The provider for --cleanest: aws, gcp or azure (default: the run's).") var provider: String?
    @Option(parsing: .unconditional, help: "Years of the offset plan.") var planYears = 5
    @Option(parsing: .unconditional, help: "How often the work recurs in a year, to size the plan.") var runsPerYear: Double = 1
    @Option(
        parsing: .upToNextOption,
        help: "Credit types the plan may buy: avoidance, nature-based-removal, durable-removal (default all).")
    var creditType: [String] = []
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if subject == nil && since == nil && until == nil { throw ValidationError("give a run (or last), or --since/--until") }
        if subject != nil && (since != nil || until != nil) {
            throw ValidationError("give a run (or last) or a period (--since/--until), not both")
        }
        try Self.checkPeriod(since: since, until: until)
        if let deadline, Self.hours(deadline) == nil { throw ValidationError("--deadline takes a duration like 24h, 90m or 2d") }
        if !(runsPerYear > 0 && runsPerYear.isFinite) { throw ValidationError("--runs-per-year must be above 0") }
        if planYears < 1 { throw ValidationError("--plan-years must be at least 1") }
        if let cleanest, cleanest < 1 { throw ValidationError("--cleanest must be at least 1") }
        if let provider, SiteType.cloudProvider(provider) == nil {
            throw ValidationError("unknown provider '\(provider)' for --provider: use aws, gcp or azure")
        }
        _ = try tiers()
    }

    /// The `--credit-type` names as tiers.
    func tiers() throws -> Set<OffsetTables.Tier> {
        guard !creditType.isEmpty else { return Set(OffsetTables.Tier.allCases) }
        return Set(
            try creditType.map { name in
                let names: [String: OffsetTables.Tier] = [
                    "avoidance": .avoidance, "nature-based-removal": .natureBasedRemoval, "durable-removal": .durableRemoval,
                ]
                guard let tier = names[name] else {
                    throw ValidationError("unknown credit type '\(name)'; use avoidance, nature-based-removal or durable-removal")
                }
                return tier
            })
    }

    static func hours(_ text: String) -> Double? {
        guard let unit = text.last, let value = Double(text.dropLast()), value > 0 else { return nil }
        switch unit {
        case "h": return value
        case "m": return value / 60
        case "d": return value * 24
        default: return nil
        }
    }

    func run() throws {
        let store = try ledger.open(create: false)
        let ids: [Int64]
        if let subject {
            if subject == "last" {
                guard let last = try store.runs().last?.id else { throw CLIError("the ledger has no runs yet") }
                ids = [last]
            } else if let id = Int64(subject), try store.runs().contains(where: { $0.id == id }) {
                ids = [id]
            } else {
                throw CLIError("run '\(subject)' is not in the ledger \(store.path); list the runs with `wattprint runs`")
            }
        } else {
            let from = try since.map(Self.periodBound) ?? "", to = try until.map(Self.periodBound) ?? "\u{10FFFF}"
            ids = try store.runs().filter { $0.startedAt >= from && $0.startedAt < to }.compactMap(\.id)
            if ids.isEmpty {
                throw CLIError("no run started between \(since ?? "the beginning") and \(until ?? "now"); widen --since/--until")
            }
        }
        let hourly = try hourlyOptions.load()
        let options = OffsetAdvice.Options(
            deadlineHours: deadline.flatMap(Self.hours), hourly: hourly?.series, hourlyName: hourly?.reference.name,
            regions: regions.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [], cleanest: cleanest,
            provider: provider, planYears: planYears, runsPerYear: runsPerYear, creditTypes: try tiers())
        let advice = try CLIError.wrapping {
            try OffsetAdvice.build(ledger: store, runs: ids, data: try CarbonTables.load(), options: options)
        }
        try output.emit(OffsetReport.build(advice))
    }
}
