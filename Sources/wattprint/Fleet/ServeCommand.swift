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

            Examples:
              wattprint serve --region FR
              wattprint serve --listen 0.0.0.0:9464 --allow-remote --region aws:eu-west-3
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
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var regionOption: RegionOption

    func validate() throws {
        guard interval > 0, interval <= 60 else {
            throw ValidationError("--interval must be between 0 and 60 seconds, e.g. --interval 0.1")
        }
        if let duration, !(duration > 0 && duration.isFinite) { throw ValidationError("--duration must be a number of seconds above 0") }
    }

    func run() throws {
        let address = try CLIError.wrapping { try ListenAddress(parsing: listen) }
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
        let session = try CLIError.wrapping {
            try MeasuredSession(
                ledger: store, command: "wattprint serve --listen \(address)", settings: settings,
                configuration: .init(interval: interval, sinks: [metrics], toolVersion: Wattprint.version))
        }
        let endpoint = try CLIError.wrapping {
            try MetricsEndpoint(
                address: address, metrics: metrics,
                beforeScrape: { if let overhead = session.sampler?.overheadSoFar() { metrics.update(overhead: overhead) } })
        }
        for caveat in session.start() { FileHandle.standardError.write(Data("wattprint: \(caveat)\n".utf8)) }
        let bound: ListenAddress
        do {
            bound = try Blocking.await { try await endpoint.start() }
        } catch {
            _ = try? session.finish(status: .complete, exitCode: 1)
            throw CLIError("\(error)")
        }
        FileHandle.standardError.write(
            Data(
                "wattprint: serving http://\(bound)/metrics — run \(session.runID) in \(store.path); stop with Ctrl-C or SIGTERM\n".utf8))

        let stop = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM, SIGHUP].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        if let duration { _ = stop.wait(timeout: .now() + duration) } else { stop.wait() }

        Blocking.await { await endpoint.stop() }
        let energy = try CLIError.wrapping { try session.finish(status: .complete, exitCode: 0) }
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
}
