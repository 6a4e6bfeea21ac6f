import Accounting
import Ledger
import ArgumentParser
import Benchmarks
import Foundation
import Reports

/// `wattprint compare RUN|SPEC…`: workloads of recorded benchmark runs (and of specs, benchmarked first) side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare architectures side by side: parameters, FLOPs, tokens/s, J/token and g CO2e per phase, quality, grades.",
        discussion: """
            Each RUN is a benchmark run id (or `last`, the latest benchmark run, not counting the reruns that \
            measure its findings); each SPEC a workload or suite file, benchmarked first (as `wattprint \
            bench` would, recorded as its own run). Figures are recomputed from the ledger. Grades: J/token ÷ the frozen reference \
            workload small-gpt2's in the same run (so run it alongside), on the rating scale whose reference spec the run \
            recorded: v2 for the small suite today, v1 for runs from before it was lengthened.

            Examples:
              wattprint compare last
              wattprint compare 12 15 --target-loss 2.9
              wattprint compare Workloads/small/llama.json Workloads/small/gpt2.json --repeats 3
            """)

    @Argument(help: "Benchmark run ids, `last`, or workload/suite spec files to benchmark first.")
    var items: [String] = []
    // Numbers parse unconditionally, so a negative one reaches validation instead of reading as a flag.
    @Option(
        parsing: .unconditional,
        help: "Also report the training energy until the training loss (5-step mean) first reaches this, nats/token.")
    var targetLoss: Double?
    @Option(parsing: .unconditional, help: "Repeats when specs are benchmarked first (default: theirs, else 5).") var repeats: Int?
    @Option(help: "Where suites live, when specs are benchmarked first (as for bench).") var workloadsDirectory: String?
    @Option(
        name: .customLong("idle"), parsing: .unconditional,
        help: "Idle baseline when specs are benchmarked first, seconds (default: the suite's, else 10).")
    var idleSeconds: Double?
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var regionOption: RegionOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if items.isEmpty { throw ValidationError("name benchmark runs or specs, e.g. `wattprint compare last`") }
        if regionOption.region != nil, items.allSatisfy({ $0 == "last" || Int64($0) != nil }) {
            throw ValidationError(
                "--region applies to specs benchmarked here; recorded runs keep the region they recorded. To see a run at another grid: wattprint show N --region R (or wattprint report)"
            )
        }
        if let targetLoss, !(targetLoss > 0 && targetLoss.isFinite) {
            throw ValidationError("--target-loss must be a finite number above 0 nats/token")
        }
    }

    func run() throws {
        let carbon = try CarbonTables.load()
        let specs = items.filter { $0 != "last" && Int64($0) == nil }
        var analyses: [Int64: BenchAnalysis] = [:]
        if !specs.isEmpty {
            var arguments = specs + ["--ledger", ledger.resolvedPath, "--findings", "none", "--no-report"]
            if let repeats { arguments += ["--repeats", "\(repeats)"] }
            if let idleSeconds { arguments += ["--idle", "\(idleSeconds)"] }
            if let workloadsDirectory { arguments += ["--workloads-directory", workloadsDirectory] }
            if let region = regionOption.region { arguments += ["--region", region] }
            let (analysis, _, _) = try BenchCommand.parse(arguments).measure()
            analyses[analysis.runID] = analysis
        }
        let store = try ledger.open(create: false)
        var ids: [Int64] = []
        // A findings rerun is part of the benchmark before it, not a benchmark the user ran.
        let reruns = items.contains("last") ? try FindingsRerun.parents(in: store) : [:]
        for item in items {
            if item == "last" {
                guard let last = try store.runs().last(where: { try reruns[$0.id!] == nil ? isBenchmark($0.id!, store) : false })?.id
                else {
                    throw CLIError("the ledger has no benchmark run; run `wattprint bench small` first")
                }
                ids.append(last)
            } else if let id = Int64(item) {
                guard try store.runs().contains(where: { $0.id == id }) else {
                    throw CLIError("run \(id) is not in the ledger \(store.path); list the benchmark runs with `wattprint runs`")
                }
                ids.append(id)
            }
        }
        ids += analyses.keys.sorted()
        if let repeated = ids.first(where: { id in ids.filter { $0 == id }.count > 1 }) {
            throw CLIError(
                "run \(repeated) is named twice (\(items.joined(separator: " "))); a run compared with itself would be listed twice: name each run once"
            )
        }
        let computed = try ids.map { id -> BenchAnalysis in
            if let known = analyses[id] { return known }
            do { return try BenchAnalysis.compute(ledger: store, run: id, data: carbon) } catch let error as BenchError {
                throw CLIError(error.description)
            }
        }
        let comparison = try Comparison.build(ledger: store, runs: ids, analyses: computed, targetLoss: targetLoss)
        try output.emit(CompareReport.build(comparison))
    }

    func isBenchmark(_ id: Int64, _ store: Ledger) throws -> Bool {
        try store.events(run: id).contains { $0.kind == "bench_plan" }
    }
}
