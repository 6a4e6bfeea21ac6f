import ArgumentParser
import Foundation
import Ledger
import Measures
import Meters
import Reports
import Accounting

/// `wattprint run -- COMMAND`: measure any program from start to exit.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command while sampling every energy meter, and record it in the ledger.",
        discussion: """
            The command's own output passes through untouched; wattprint's summary goes to standard error \
            (with --json, a JSON summary goes to standard output after the command ends). wattprint exits \
            with the command's exit status.

            Example:
              wattprint run --region aws:us-east-1 -- python train.py --epochs 3
            """)

    @OptionGroup var ledger: LedgerOptions

    @OptionGroup var regionOption: RegionOption
    @OptionGroup var facility: FacilityOptions
    @OptionGroup var hourlyOptions: HourlyOptions
    @OptionGroup var instrumentOptions: InstrumentOptions
    @OptionGroup var hardwareOptions: HardwareOptions

    @Option(
        help: ArgumentHelp(
            "Seconds between readings; shortened automatically if a counter could wrap twice in that time.", valueName: "seconds"))
    var interval: Double = 0.1

    @Option(
        help: ArgumentHelp(
            "Tokens the command produced, for a program that cannot write them to $WATTPRINT_EVENTS.", valueName: "n"))
    var tokens: Double?

    @OptionGroup var output: OutputOptions

    @Flag(
        name: .customLong("no-cgroup"),
        help:
            "Attribute CPU time by the command's process tree from /proc (wattprint adopting its orphans) instead of creating a cgroup v2 for it."
    )
    var noCgroup = false

    @Option(
        help: ArgumentHelp(
            "Read the hardware meters through the node's collector (one reader for every rank on the node): auto (when one runs, or the launcher says the job has several processes), always, or never. Default: $WATTPRINT_COLLECTOR, else auto.",
            valueName: "policy"))
    var collector: CollectorPolicy?

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    /// `--collector`, else `$WATTPRINT_COLLECTOR`, else auto.
    func collectorPolicy() throws -> CollectorPolicy {
        if let collector { return collector }
        guard let value = ProcessInfo.processInfo.environment["WATTPRINT_COLLECTOR"], !value.isEmpty else { return .auto }
        guard let policy = CollectorPolicy(rawValue: value) else {
            throw CLIError("WATTPRINT_COLLECTOR is '\(value)'; set it to auto, always or never (or unset it)")
        }
        return policy
    }

    func validate() throws {
        if command.isEmpty { throw ValidationError("Name the command to measure after --, e.g. wattprint run -- sleep 5") }
        if let tokens, !(tokens >= 0 && tokens.isFinite) { throw ValidationError("--tokens must be a count of 0 or more") }
        guard interval > 0, interval <= 60 else {
            throw ValidationError("--interval must be above 0 and at most 60 seconds, e.g. --interval 0.1")
        }
    }

    func run() throws {
        let argv = command
        let region = try regionOption.resolution()
        let carbon = try CarbonTables.load()
        try CarbonTables.checkRegion(region, data: carbon)
        let hourly = try hourlyOptions.load()
        let settings = FootprintSettings(
            region: region, site: facility.siteType(region: region.isDefaulted ? nil : region.query), pue: facility.pue,
            hourly: hourly?.reference, instruments: try CLIError.wrapping { try instrumentOptions.instruments() },
            hardware: hardwareOptions.choice)
        let store = try ledger.open(create: true)
        let policy = try collectorPolicy()
        let shared = NodeCollectorAccess.connect(policy: policy, options: MeterSet.Options(), interval: interval)
        if let problem = shared.problem {
            FileHandle.standardError.write(Data("wattprint: reading the meters directly: \(problem)\n".utf8))
        }
        // Meters are found and the run opened before the command starts, so its first instant is measured.
        let live = LiveAttribution()
        let session = try CLIError.wrapping {
            try MeasuredSession(
                ledger: store, command: argv.joined(separator: " "), settings: settings,
                configuration: .init(
                    interval: interval, sinks: shared.client == nil ? [] : [live], toolVersion: Wattprint.version, collector: shared.client)
            )
        }
        let job = JobIdentity.fromEnvironment()
        if job != nil || shared.client != nil || shared.problem != nil {
            session.record(.job(JobRecord(identity: job, collectorPID: shared.client?.hello.pid, collectorUnavailable: shared.problem)))
        }
        if let client = shared.client {
            try? client.attach(.init(pid: getpid(), command: argv.joined(separator: " "), job: job))
        }

        // The command may report tokens, phases and steps as JSON lines in the file $WATTPRINT_EVENTS names.
        let feed = try ProgramEventsFeed(session: session)

        // Ctrl-C at the terminal reaches the command (same process group) and ends it; wattprint ignores it and
        // outlives the command just long enough to close the run. TERM and HUP sent to wattprint are passed on.
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        // Processes the command detaches (setsid, a double fork) still count: a cgroup of its own where the kernel
        // allows one, else wattprint adopts its orphans as a child subreaper.
        var scope: CgroupScope?
        var unavailable: String?
        if noCgroup {
            unavailable = "--no-cgroup"
        } else {
            do { scope = try CgroupScope.create(paths: .fromEnvironment()) } catch { unavailable = "\(error)" }
        }
        // As a subreaper wattprint also reaps the command's orphans when they exit, so none lingers as a zombie.
        let subreaper = ProcessAttribution.becomeChildSubreaper()
        let child: ChildProcess
        var attribution = subreaper ? ProcessAttribution.subreaper(parent: getpid()) : .processTree
        do {
            if let cgroup = scope {
                do {
                    child = try cgroup.spawnInside { try ChildProcess(argv) }
                    attribution = .cgroup(cgroup)
                } catch let error as CgroupScope.Unavailable {
                    cgroup.remove()
                    scope = nil
                    unavailable = error.description
                    child = try ChildProcess(argv)
                }
            } else {
                child = try ChildProcess(argv)
            }
        } catch {
            // As a shell does: a command that cannot be started exits 127, and the run records that.
            feed.finish()
            try session.finish(status: .complete, exitCode: 127)
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode(127)
        }
        let forward = SignalHandlers([SIGTERM, SIGHUP]) { child.send($0) }
        defer { withExtendedLifetime(forward) {} }
        session.attach(processRoot: child.pid, isOurChild: true, attribution: attribution, cgroupUnavailable: unavailable)
        FileHandle.standardError.write(Data(RunReport.notices(session.start()).utf8))
        feed.start()
        // The run's energy so far, each second, for the collector's exporter (`wattprint serve`'s per-run series).
        let progress = shared.client.map { client -> DispatchSourceTimer in
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + 1, repeating: 1)
            timer.setEventHandler { try? client.report(live.progress) }
            timer.resume()
            return timer
        }
        let status = child.wait()
        progress?.cancel()
        if let remote = session.meters.meters.compactMap({ $0 as? RemoteMeter }).first, let lost = remote.lost {
            let how =
                lost.readingDirectly
                ? "this run read the meters itself from then on (the tick it failed is a gap)"
                : "the meters here offer other channels, so the hardware channels are a gap from then on"
            FileHandle.standardError.write(Data("wattprint: the node's collector stopped answering (\(lost.reason)); \(how)\n".utf8))
            session.record(
                .job(
                    JobRecord(
                        identity: job, collectorPID: shared.client?.hello.pid,
                        collectorUnavailable: "lost during the run: \(lost.reason); \(how)")))
        }
        feed.finish()
        if let tokens { session.record(.tokens(TokenCount(count: tokens))) }
        session.stop()
        if let first = feed.malformed.first {
            FileHandle.standardError.write(
                Data(
                    "wattprint: \(QuantityFormat.counted(feed.malformed.count, "line")) of $WATTPRINT_EVENTS could not be read and were kept as written (first, line \(first.line): \(first.problem)); \(feed.recorded) were recorded\n"
                        .utf8))
        }
        ProcessAttribution.reapExitedChildren()
        let outlived = scope?.remove() ?? []
        if !outlived.isEmpty {
            FileHandle.standardError.write(
                Data(
                    "wattprint: \(outlived.count) process(es) the command started were still running when it exited (\(outlived.map(String.init).joined(separator: ", "))); their CPU time until then is counted, not after\n"
                        .utf8))
        }
        for problem in session.flushErrors {
            FileHandle.standardError.write(Data("wattprint: a ledger write was retried: \(problem)\n".utf8))
        }
        do {
            if let hourly {
                let start = LedgerClock.parseUTC(try store.run(session.runID).startedAt) ?? Date()
                session.record(
                    .hourlyIntensity(RecordedHourlyIntensity(series: hourly.reference, intensities: hourly.series, from: start, to: Date()))
                )
            }
            try session.finish(status: .complete, exitCode: status)
        } catch {
            FileHandle.standardError.write(
                Data("wattprint: \(error)\nThe command exited with status \(status); its committed samples stay in the ledger.\n".utf8))
            throw ExitCode(status == 0 ? 1 : status)
        }

        let footprint = try CLIError.wrapping { try RunFootprint.compute(ledger: store, run: session.runID, data: carbon) }
        // The command owns standard output: the summary goes to standard error, and a report in another format to
        // standard output (or --output) after the command is done with it.
        let report = RunReport.build(footprint)
        if output.resolved != .text || output.output != nil { try output.emit(report) }
        FileHandle.standardError.write(Data((try TextRenderer().render(report) + "\n").utf8))
        throw ExitCode(status)
    }
}
