import Accounting
import ArgumentParser
import Benchmarks
import Carbon
import Engine
import Foundation
import Reports

/// `wattprint bench SUITE|SPEC…`: the reference suite (or given workloads), measured with an idle baseline, repeats
/// and validity checks, recorded, summarised, and checked for waste.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kWh per token on a reference workload suite: idle baseline, repeats, intervals, findings.",
        discussion: """
            A suite is Workloads/NAME/suite.json (tiny: seconds; small: every architecture at similar size, the main job; \
            base: the ~124 M models, long); a SPEC is one workload file (schema in Workloads/README.md).

            Measures the idle baseline before and after (dynamic energy = total − idle power × duration; drift between \
            the two is flagged), then each workload's phases (train, prefill, decode) in windows that exclude warm-up, \
            repeats interleaved across workloads, and reports medians with an interval, the coefficient of variation, \
            MFU against the in-run sgemm and FMA peaks, g CO2e per 1k tokens and the SCI per token. Everything goes into \
            the ledger; `wattprint verify` recomputes the summary from the raw samples.

            Examples:
              wattprint bench small --region FR
              wattprint bench tiny --repeats 3 --idle 2 --json
              wattprint bench Workloads/small/llama.json --sweep batch=1,2,4,8,16
              wattprint bench small --sweep seq=64,128,256,512
            """)

    @Argument(help: "Suite names (tiny, small, base, variants) or workload spec files.")
    var workloads: [String] = []

    // Numbers parse unconditionally, so a negative one reaches validation (which names the range) instead of reading as
    // a flag ("Missing value").
    @Option(parsing: .unconditional, help: "Repeats of each workload (default: the suite's, else 5).") var repeats: Int?
    @Option(
        name: .customLong("idle"), parsing: .unconditional,
        help: "Idle baseline before and after, seconds (default: the suite's, else 10; 0: none).")
    var idleSeconds: Double?
    @Flag(help: "Refuse a corpus whose SHA-256 differs from the spec's, instead of recording the run as non-standard.")
    var strict = false
    @Option(help: "Where suites live (default: $WATTPRINT_WORKLOADS, ./Workloads, or the repository's beside the binary).")
    var workloadsDirectory: String?
    @Option(
        help: ArgumentHelp(
            "Run each workload at several batch sizes (batch=1,2,4,8,16), or serve each one's model at several prompt lengths (seq=64,128,256,512,1024: prefill and decode only, with J/token and attention's share of the FLOPs per length).",
            valueName: "batch=LIST|seq=LIST"))
    var sweep: String?
    /// A findings rerun of one batch-sweep variant: only the swept batches, not the spec's own beside them.
    @Flag(help: ArgumentHelp("Run only the swept batch sizes, not the spec's own beside them.", visibility: .hidden))
    var sweepOnly = false
    @Option(help: "Efficiency findings: measure (run each alternative once), predict (no extra runs) or none.")
    var findings: FindingsMode = .measure
    @Option(help: "Folder for the run's signed sustainability report (Markdown, HTML, JSON, CSV).") var reports = "Reports"
    @Option(parsing: .unconditional, help: "Refuse a plan whose arithmetic alone would take longer than this many hours at 1 TFLOP/s.")
    var maxHours: Double = 24
    @Flag(help: "Write no report.") var noReport = false

    @OptionGroup var threads: ThreadOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var regionOption: RegionOption
    @OptionGroup var facility: FacilityOptions
    @OptionGroup var hardwareOptions: HardwareOptions
    @OptionGroup var output: OutputOptions

    enum FindingsMode: String, ExpressibleByArgument, CaseIterable { case measure, predict, none }

    func validate() throws {
        if workloads.isEmpty { throw ValidationError("name a suite or spec, e.g. `wattprint bench small`") }
        if let repeats, repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if let idleSeconds, !(idleSeconds >= 0 && idleSeconds <= 3600) { throw ValidationError("--idle must be 0 to 3600 seconds") }
        if let repeats, repeats > 1000 { throw ValidationError("--repeats must be at most 1000") }
        if !(maxHours > 0) { throw ValidationError("--max-hours must be above 0") }
        _ = try sweepValues()
        if !noReport { try ReportWriter.checkFolderName(reports, option: "--reports") }
    }

    /// The swept batch sizes or prompt lengths, from `--sweep batch=LIST` or `--sweep seq=LIST`.
    func sweepValues() throws -> (batches: [Int], sequences: [Int]) {
        guard let sweep else { return ([], []) }
        let parts = sweep.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["batch", "seq"].contains(parts[0]),
            case let values = parts[1].split(separator: ",").map({ Int($0) }), !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 })
        else {
            throw ValidationError(
                "--sweep takes batch=LIST or seq=LIST of values ≥ 1, e.g. --sweep batch=1,2,4,8,16 or --sweep seq=64,128,256,512,1024")
        }
        return parts[0] == "batch" ? (values.map { $0! }, []) : ([], values.map { $0! })
    }

    func run() throws {
        let (analysis, found, contextSweep) = try measure()
        var comparison: Comparison?
        if analysis.workloads.count > 1 {
            comparison = try Comparison.build(
                ledger: try ledger.open(create: false), runs: [analysis.runID], analyses: [analysis], targetLoss: nil)
        }
        try output.emit(
            BenchSuiteReport.build(.init(analysis: analysis, findings: found, comparison: comparison, contextSweep: contextSweep)))
        if !noReport {
            let paths = try ReportWriter.write(
                .init(kind: .run, runs: [analysis.runID]), stem: "bench-run-\(analysis.runID)", ledger: try ledger.open(create: false),
                output: reports, formats: ["md", "html", "json", "csv"])
            FileHandle.standardError.write(Data("wattprint: report written: \(paths.joined(separator: ", "))\n".utf8))
        }
    }

    /// Plans, runs and records the benchmark; returns its recomputed figures and findings.
    func measure() throws -> (BenchAnalysis, [EfficiencyFinding], ContextSweep?) {
        let region = try regionOption.resolution()
        let carbon = try CarbonTables.load()
        try CarbonTables.checkRegion(region, data: carbon)
        // Everything is read and checked before anything is recorded.
        let plan = try CLIError.wrapping {
            try BenchPlan.make(
                arguments: workloads, workloadsDirectory: workloadsDirectory ?? Self.defaultWorkloads(), repeats: repeats,
                idleSeconds: idleSeconds, strict: strict, sweepBatches: try sweepValues().batches,
                sweepSequences: try sweepValues().sequences, sweepKeepsSpecBatch: !sweepOnly,
                availableBytes: ProcessMemory.availableBytes(),
                maximumHours: maxHours)
        }
        let threadCount = threads.threads ?? Parallel.hardwareThreads()
        let settings = FootprintSettings(
            region: region, site: facility.siteType(region: region.isDefaulted ? nil : region.query), pue: facility.pue,
            hardware: hardwareOptions.choice)
        let store = try ledger.open(create: true)
        let session = try CLIError.wrapping {
            try MeasuredSession(
                ledger: store, command: "wattprint " + CommandLine.arguments.dropFirst().joined(separator: " "), settings: settings,
                processRoot: getpid(), configuration: .init(toolVersion: Wattprint.version))
        }
        FileHandle.standardError.write(Data(RunReport.notices(session.start()).utf8))
        let display = BenchProgressDisplay(quiet: output.isJSON && !BenchProgressDisplay.isTerminal)
        do {
            try SuiteRunner.run(plan, threads: threadCount, recorder: session, progress: display.show)
        } catch {
            display.finish()
            // The work failed: a closed run with exit code 1; every window recorded so far stays.
            _ = try? session.finish(status: .complete, exitCode: 1)
            throw error
        }
        display.finish()
        var analysis: BenchAnalysis?
        var found: [EfficiencyFinding] = []
        try session.finish { ledger, id in
            let computed = try BenchAnalysis.compute(ledger: ledger, run: id, data: carbon)
            analysis = computed
            found = self.efficiencyFindings(computed, plan: plan, region: region)
            return [.benchSummary(try JSONValue(encoding: computed)), .benchFindings(try JSONValue(encoding: found))]
        }
        return (analysis!, found, plan.contextSweep.isEmpty ? nil : ContextSweep.build(analysis: analysis!, plan: plan))
    }

    /// Findings from the figures; with `--findings measure`, each alternative is one more `wattprint bench` of the first
    /// training workload, recorded as its own run.
    func efficiencyFindings(_ analysis: BenchAnalysis, plan: BenchPlan, region: RegionResolution) -> [EfficiencyFinding] {
        guard findings != .none else { return [] }
        var runner: EfficiencyProbe.Runner?
        if findings == .measure {
            runner = { alternative in
                guard let w = plan.workloads.first(where: { $0.name == alternative.workload }) else {
                    throw CLIError("no workload \(alternative.workload) to rerun")
                }
                FileHandle.standardError.write(
                    Data(
                        "… measuring the alternative: \(alternative.environment.map { "\($0.key)=\($0.value ?? "")" }.joined(separator: " "))\(alternative.threads.map { " --threads \($0)" } ?? "")\n"
                            .utf8))
                // A batch sweep's variant is rerun as that variant, so the rerun holds a workload of the name measured.
                let variant = plan.sweep[alternative.workload].map { ["--sweep", "batch=\($0.batch)", "--sweep-only"] } ?? []
                return try self.rerun(w.file, alternative: alternative, region: region, extra: variant)
            }
        }
        var result = EfficiencyProbe.findings(analysis: analysis, cpuVectorBits: ComputePeakProbe.vectorFloats * 32, runAlternative: runner)
        if !plan.sweep.isEmpty {
            result += EfficiencyProbe.batchFindings(analysis: analysis, sweep: plan.sweep, specBatches: plan.specBatches)
        }
        return result
    }

    /// One repeat of one spec in a child wattprint with the alternative's environment and threads, into the same ledger;
    /// `extra` arguments after the spec (a sweep variant's `--sweep batch=B --sweep-only`).
    func rerun(_ spec: String, alternative: EfficiencyProbe.Alternative, region: RegionResolution, extra: [String] = []) throws
        -> BenchAnalysis
    {
        var arguments =
            [spec] + extra + [
                "--repeats", "1", "--idle", "0", "--findings", "none", "--no-report", "--json", "--ledger", ledger.resolvedPath,
            ]
        if !region.isDefaulted { arguments += ["--region", region.query] }
        if let threads = alternative.threads ?? threads.threads { arguments += ["--threads", "\(threads)"] }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in alternative.environment { environment[key] = value }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath())
        process.arguments = ["bench"] + arguments
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("the alternative run exited \(process.terminationStatus)") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(BenchSuiteReport.Record.self, from: data).analysis
    }

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// $WATTPRINT_WORKLOADS, ./Workloads, or the nearest Workloads folder above the binary: the repository's for a
    /// build's binary, whose real path is .build/<triple>/release/wattprint (.build/release is a link to it).
    static func defaultWorkloads() -> String {
        if let set = ProcessInfo.processInfo.environment["WATTPRINT_WORKLOADS"] { return set }
        if FileManager.default.fileExists(atPath: "Workloads") { return "Workloads" }
        var folder = URL(fileURLWithPath: executablePath()).deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent("Workloads")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            folder = folder.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: executablePath()).deletingLastPathComponent().appendingPathComponent("Workloads").path
    }
}
