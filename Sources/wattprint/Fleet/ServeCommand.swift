import Accounting
import ArgumentParser
import Carbon
import Exporter
import Foundation
import Ledger
import Meters

/// `wattprint serve`: this node's meters as Prometheus metrics on /metrics, recorded in the ledger as one run.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Expose this machine's energy, power and emissions as Prometheus metrics on /metrics, recording the readings in the ledger.",
        discussion: """
            Samples every meter (as `wattprint run` does, for the whole machine) and answers Prometheus scrapes on \
            http://ADDRESS/metrics. The readings go to the ledger as one run, so any interval Prometheus shows can be \
            recomputed from raw samples (`wattprint verify`); the run is sealed when wattprint stops (Ctrl-C, SIGTERM, \
            or --duration). Listens on loopback only unless --allow-remote is given with a non-loopback --listen.

            --load-test measures the exporter itself: loopback only, a scraper in wattprint sends \
            --scrapes-per-second GETs of /metrics over one keep-alive connection for --duration seconds (30 by \
            default), then prints the scrapes answered, their latency and the sampler's share of one core.

            Examples:
              wattprint serve --region FR
              wattprint serve --listen 0.0.0.0:9464 --allow-remote --region aws:eu-west-3
              wattprint serve --load-test --scrapes-per-second 100 --duration 30
            """)

    @Option(help: ArgumentHelp("Address and port to listen on (port 0: any free one, printed at start).", valueName: "host:port"))
    var listen = ListenAddress.loopback.description
    @Flag(help: "Allow a --listen address other than loopback: every host that can reach it can read this machine's metrics.")
    var allowRemote = false
    @Option(
        help: ArgumentHelp(
            "Seconds between readings; shortened automatically if a counter could wrap twice in that time.", valueName: "seconds"))
    var interval: Double = 0.1
    @Option(help: ArgumentHelp("Stop after this many seconds (default: run until Ctrl-C or SIGTERM).", valueName: "seconds"))
    var duration: Double?
    @Flag(help: "Benchmark the exporter: scrape it from this process on loopback, then stop and report.")
    var loadTest = false
    @Option(help: ArgumentHelp("Scrapes a second in --load-test (1 to 1000).", valueName: "rate"))
    var scrapesPerSecond: Double = 100
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var regionOption: RegionOption

    func validate() throws {
        if loadTest {
            guard scrapesPerSecond >= 1, scrapesPerSecond <= 1000 else {
                throw ValidationError("--scrapes-per-second must be from 1 to 1000, e.g. --scrapes-per-second 100")
            }
            guard (duration ?? 30) <= 300 else { throw ValidationError("--load-test runs at most 300 s; give --duration 300 or less") }
            if allowRemote { throw ValidationError("--load-test scrapes over loopback only; drop --allow-remote") }
            if listen != ListenAddress.loopback.description {
                throw ValidationError("--load-test listens on a free loopback port of its own; drop --listen")
            }
        } else if scrapesPerSecond != 100 {
            throw ValidationError("--scrapes-per-second sets --load-test's rate; add --load-test, or drop it")
        }
        guard interval > 0, interval <= 60 else {
            throw ValidationError("--interval must be above 0 and at most 60 seconds, e.g. --interval 0.1")
        }
        if let duration, !(duration > 0 && duration.isFinite) { throw ValidationError("--duration must be a number of seconds above 0") }
    }

    func run() throws {
        var address = try CLIError.wrapping { try ListenAddress(parsing: listen) }
        if loadTest { address = ListenAddress(host: "127.0.0.1", port: 0, family: .ipv4) }
        if !address.isLoopback && !allowRemote {
            throw CLIError(
                "--listen \(address) is reachable from other machines, and would show them this machine's power and runs; add --allow-remote to mean it, or listen on 127.0.0.1"
            )
        }
        let region = try regionOption.resolution()
        let carbon = try CarbonTables.load()
        try CarbonTables.checkRegion(region, data: carbon)
        let figure = try CLIError.wrapping { try carbon.grid.resolve(region) }.figure
        let settings = FootprintSettings(region: region, site: nil, pue: nil)
        let store = try ledger.open(create: true)
        let hostName = ProcessInfo.processInfo.hostName
        let metrics = NodeMetrics(
            host: hostName,
            intensity: GridIntensityFigure(
                region: region.isDefaulted ? "world" : region.query, gramsPerKilowattHour: figure.intensity.gramsPerKilowattHour,
                source: figure.label))
        let collector = NodeCollector()
        // The address is bound first: a taken port costs nothing and records nothing.
        let sessionBox = SessionBox()
        let endpoint = try CLIError.wrapping {
            try MetricsEndpoint(
                address: address, metrics: metrics,
                beforeScrape: {
                    if let overhead = sessionBox.session?.sampler?.overheadSoFar() { metrics.update(overhead: overhead) }
                    metrics.update(runs: collector.status().attached)
                })
        }
        let bound: ListenAddress
        do { bound = try Blocking.await { try await endpoint.start() } } catch { throw CLIError("\(error)") }
        let session: MeasuredSession
        do {
            session = try CLIError.wrapping {
                try MeasuredSession(
                    ledger: store, command: (["wattprint"] + CommandLine.arguments.dropFirst()).joined(separator: " "), settings: settings,
                    configuration: .init(interval: interval, sinks: [metrics, collector], toolVersion: Wattprint.version))
            }
        } catch {
            Blocking.await { await endpoint.stop() }
            throw error
        }
        sessionBox.session = session
        collector.describe(session.meters)
        if region.isDefaulted {
            FileHandle.standardError.write(
                Data(
                    "wattprint: NO REGION given: emissions are priced at the world average (\(figure.label)); pass --region, or set WATTPRINT_REGION\n"
                        .utf8))
        }
        for caveat in session.start() { FileHandle.standardError.write(Data("wattprint: \(caveat)\n".utf8)) }
        // This node's collector too: runs on it read the hardware meters through this process.
        if let sampler = session.sampler { collector.attach(sampler: sampler) }
        let location = CollectorLocation(options: MeterSet.Options())
        do {
            try location.prepare()
            try collector.listen(at: location.socketPath)
        } catch {
            FileHandle.standardError.write(Data("wattprint: not serving as this node's collector: \(error)\n".utf8))
        }
        defer { collector.stop() }
        FileHandle.standardError.write(
            Data(
                "wattprint: serving http://\(bound)/metrics — run \(session.runID) in \(store.path); stop with Ctrl-C or SIGTERM\n".utf8))

        if loadTest {
            var usage0 = rusage(), usage1 = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage0)
            let overhead0 = session.sampler?.overheadSoFar()
            let load = ScrapeLoad(port: bound.port, rate: scrapesPerSecond, duration: duration ?? 30).run()
            getrusage(RUSAGE_SELF.rawValue, &usage1)
            let overhead1 = session.sampler?.overheadSoFar()
            func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            let processCPU = seconds(usage1.ru_utime) + seconds(usage1.ru_stime) - seconds(usage0.ru_utime) - seconds(usage0.ru_stime)
            FileHandle.standardError.write(Data("wattprint: load test done\n".utf8))
            print(
                Self.loadReport(
                    load, rate: scrapesPerSecond, processCPU: processCPU,
                    samplerCPU: (overhead1?.cpuSeconds ?? 0) - (overhead0?.cpuSeconds ?? 0),
                    interval: session.sampler?.interval ?? interval))
        }
        if !loadTest { StopRequest().wait(seconds: duration) }

        Blocking.await { await endpoint.stop() }
        let energy = try CLIError.wrapping { try session.finish(status: .complete, exitCode: 0) }
        // The whole run into the ledger file itself, so a copy of the file alone (for `ledger merge`) holds it.
        try? store.checkpoint()
        for problem in session.flushErrors {
            FileHandle.standardError.write(Data("wattprint: a ledger write was retried: \(problem)\n".utf8))
        }
        FileHandle.standardError.write(
            Data(
                String(
                    format: "wattprint: stopped; run %lld sealed: %.1f J over %.1f s (`wattprint show %lld`)\n", session.runID,
                    energy.totalJoules,
                    energy.seconds, session.runID
                ).utf8))
    }

    /// The load test's figures: scrapes, latency, and the CPU the exporter used (sampler thread; whole process less
    /// the scraper's own thread).
    static func loadReport(_ r: ScrapeLoad.Result, rate: Double, processCPU: Double, samplerCPU: Double, interval: Double) -> String {
        let served = processCPU - r.clientCPUSeconds
        var lines = [
            String(
                format: "scrapes: %d sent at %.0f/s for %.1f s, %d answered 200 (%.1f/s), %d failed, %d sent late (> 10 ms behind)",
                r.sent, rate, r.seconds, r.ok, Double(r.ok) / max(r.seconds, 1e-9), r.sent - r.ok, r.late),
            String(
                format: "latency: median %.2f ms, p99 %.2f ms, max %.2f ms; %d bytes a scrape", r.percentile(0.5), r.percentile(0.99),
                r.latencies.max() ?? .nan, r.bytes),
            String(
                format: "sampler at %g Hz: %.4f s CPU over %.1f s = %.3f %% of one core (target < 0.2 %%)", 1 / interval, samplerCPU,
                r.seconds, 100 * samplerCPU / max(r.seconds, 1e-9)),
            String(
                format: "exporter process less the scraper: %.3f s CPU = %.2f %% of one core (serving %.0f scrapes/s included)", served,
                100 * served / max(r.seconds, 1e-9), Double(r.ok) / max(r.seconds, 1e-9)),
        ]
        for f in r.failures { lines.append("failure: \(f)") }
        return lines.joined(separator: "\n")
    }
}

/// The session, for the scrape handler, which exists before it.
private final class SessionBox: @unchecked Sendable {
    var session: MeasuredSession?
}
