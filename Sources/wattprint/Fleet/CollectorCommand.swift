import ArgumentParser
import Foundation
import Measures
import Meters

/// `wattprint collector`: the node's one reader of the hardware meters, for every run on it (started by the first
/// rank of a job; `wattprint serve` is one too).
struct CollectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Read this node's hardware meters once for every run on it, over a Unix socket (started by `wattprint run` when needed).",
        discussion: """
            `wattprint run` starts one when the launcher says the job has several processes (WORLD_SIZE or SLURM_NTASKS \
            above 1), or always with --collector always; later ranks attach to it, each integrating the shared \
            readings on its own ticks with its own process attribution. It exits when no run has been attached for \
            --idle-exit seconds. The socket is $XDG_RUNTIME_DIR/wattprint/collector-*.sock (else /tmp/wattprint-UID/), \
            one per user and per system root. --status prints what a running collector has done.
            """)

    @Option(help: ArgumentHelp("Seconds between readings.", valueName: "seconds")) var interval: Double = 0.1
    @Option(help: ArgumentHelp("Exit after this many seconds with no run attached.", valueName: "seconds")) var idleExit: Double = 10
    @Flag(help: "Print the running collector's status (readings taken, runs attached) as JSON, and exit.") var status = false

    func validate() throws {
        guard interval > 0, interval <= 60 else { throw ValidationError("--interval must be above 0 and at most 60 seconds") }
        guard idleExit > 0 else { throw ValidationError("--idle-exit must be above 0 seconds") }
    }

    func run() throws {
        let options = MeterSet.Options()
        let location = CollectorLocation(options: options)
        if status {
            guard let client = try? CollectorClient(socketPath: location.socketPath) else {
                throw CLIError(
                    "no collector is running for this machine's view (\(location.socketPath)); one starts with a multi-rank `wattprint run`, `wattprint run --collector always`, or `wattprint serve`"
                )
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(try CLIError.wrapping { try client.status() }), as: UTF8.self))
            return
        }
        try CLIError.wrapping { try location.prepare() }
        let hardware = MeterSet.hardware(options)
        let meters = MeterSet(
            meters: hardware.meters, host: HostDescription.current(paths: options.paths), unavailable: hardware.unavailable)
        let collector = NodeCollector(meters: meters)
        let sampler = Sampler(meters: meters, interval: interval, sinks: [collector])
        collector.attach(sampler: sampler)
        sampler.start()
        do { try collector.listen(at: location.socketPath) } catch {
            sampler.stop()
            FileHandle.standardError.write(Data("wattprint collector: not serving: \(error)\n".utf8))
            return
        }
        FileHandle.standardError.write(
            Data(
                "wattprint collector: pid \(getpid()) serving \(QuantityFormat.counted(meters.channels.count, "channel")) at \(location.socketPath)\n"
                    .utf8))
        let stop = StopRequest()
        while !stop.wait(seconds: 0.5) {
            if let idle = collector.idleSeconds, idle >= idleExit { break }
        }
        collector.stop()
        let overhead = sampler.stop()
        let final = collector.status()
        FileHandle.standardError.write(
            Data(
                "wattprint collector: exiting after \(final.readings) readings for \(QuantityFormat.counted(final.clientsEver, "run")); sampler \(String(format: "%.3f", 100 * overhead.fractionOfOneCore)) % of one core\n"
                    .utf8))
    }
}
