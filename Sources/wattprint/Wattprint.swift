import ArgumentParser
import Engine
import Foundation

/// The root command: configuration only; each subcommand lives in its own file.
@main
struct Wattprint: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "wattprint",
        abstract: "Measure the energy and carbon footprint of machine-learning work, and prove the numbers.",
        discussion: """
            Every run is recorded in an embedded, hash-chained SQLite ledger, so any figure can be recomputed \
            from the raw samples and checked for tampering.

              wattprint sensors                      what can be measured on this machine
              wattprint run --region FR -- CMD ...   measure a command
              wattprint model train Workloads/train/gpt2.json --region FR
                                                     train the reference workload, measured
              wattprint runs                         list recorded runs
              wattprint show 1                       one run's energy and footprint
              wattprint verify                       re-check every run's hash chain
            """,
        version: version,
        subcommands: [
            Sensors.self, RunCommand.self, Runs.self, Show.self, Verify.self, BenchCommand.self, CompareCommand.self, ReportCommand.self,
            OffsetsCommand.self,
            RecomputeBenchmark.self, GridCommand.self,
            EstimateCommand.self,
            ModelCommand.self,
            ServeCommand.self, LedgerCommand.self, CollectorCommand.self,
        ])

    /// Checks the engine's kernel variables before any command runs: a misspelt value would otherwise run the default
    /// kernel silently, and a benchmark would record figures for a kernel nobody asked for. Help and the version still
    /// print, so the help that explains the variables can be read.
    static func main() {
        // Each line of the report goes out whole, so what goes to stderr (progress, "report written") lands between its
        // lines when both streams share one pipe (`2>&1 | tee`), not inside one.
        setvbuf(stdout, nil, _IOLBF, 0)
        // Flags before a wrapped command's `--`, or `help` as the subcommand; not an option's value such as `--prompt help`.
        let arguments = CommandLine.arguments.dropFirst().prefix { $0 != "--" }
        let asksForHelp = arguments.first == "help" || arguments.contains { ["--help", "-h", "--version"].contains($0) }
        let problems = KernelEnvironment.problems(in: ProcessInfo.processInfo.environment)
        if !asksForHelp && !problems.isEmpty {
            exit(withError: ModelCommandError(problem: problems.joined(separator: "\n")))
        }
        main(NegativeValues.joined(Array(CommandLine.arguments.dropFirst())))
    }
}
