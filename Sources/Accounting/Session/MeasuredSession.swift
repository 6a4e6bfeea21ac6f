import Foundation
import Ledger
import Measures
import Meters

/// One measured run from its beginning to its seal, for a wrapped command (`wattprint run`) and for work wattprint
/// does itself (training, benchmarks) alike: discover the meters, begin the run in the ledger with the settings its
/// footprint depends on, attach the measured process, start the sampler, record events, stop, commit, record the
/// energy result into the chain and seal it.
///
/// System paths, the environment's NVML library, the clock and extra sinks (a live exporter, a progress display)
/// come in through `Configuration`, so tests drive a session over fake trees on a manual clock.
public final class MeasuredSession {
    public struct Configuration {
        public var paths: SystemPaths
        public var nvmlLibrary: String
        public var useLibsensors: Bool
        public var perfOpener: PerfCounterOpener
        /// Seconds between readings requested (shortened by the wrap rule where needed).
        public var interval: Double
        public var flushInterval: Double
        public var clock: SamplerClock
        /// Sinks beside the ledger's.
        public var sinks: [SampleSink]
        /// The version recorded as the host's tool.
        public var toolVersion: String
        /// The node's collector, when this run reads the hardware meters through it (one reader for every run on the
        /// node); nil: the run reads them itself.
        public var collector: CollectorClient?

        public init(
            paths: SystemPaths = .fromEnvironment(),
            nvmlLibrary: String = ProcessInfo.processInfo.environment["WATTPRINT_NVML_LIBRARY"] ?? "libnvidia-ml.so.1",
            useLibsensors: Bool = true, perfOpener: PerfCounterOpener = KernelPerfCounterOpener(), interval: Double = 0.1,
            flushInterval: Double = 2, clock: SamplerClock = SystemClock(), sinks: [SampleSink] = [], toolVersion: String,
            collector: CollectorClient? = nil
        ) {
            self.paths = paths; self.nvmlLibrary = nvmlLibrary; self.useLibsensors = useLibsensors; self.perfOpener = perfOpener
            self.interval = interval; self.flushInterval = flushInterval; self.clock = clock; self.sinks = sinks
            self.toolVersion = toolVersion; self.collector = collector
        }
    }

    public let ledger: Ledger
    public let meters: MeterSet
    public let recorder: RunRecorder
    public let configuration: Configuration
    public private(set) var sampler: Sampler?
    public private(set) var monitor: EnergyMonitor?
    public var runID: Int64 { recorder.runID }

    /// Marks runs whose recorder died as interrupted, discovers the meters and begins the run, before the measured
    /// work starts so that its first instant is measured.
    /// - Parameter processRoot: a process already running whose tree is the measured work (wattprint itself, for
    ///   its own jobs); a wrapped command is attached after it starts, with `attach`.
    /// - Throws: `LedgerError` when the ledger cannot be written.
    public init(
        ledger: Ledger, command: String, settings: FootprintSettings, processRoot: Int32? = nil,
        configuration: Configuration
    ) throws {
        self.ledger = ledger
        self.configuration = configuration
        try ledger.markInterruptedRuns()
        meters = MeterSet.discover(
            .init(
                paths: configuration.paths, processRoot: processRoot, useLibsensors: configuration.useLibsensors,
                nvmlLibrary: configuration.nvmlLibrary), perfOpener: configuration.perfOpener, collector: configuration.collector)
        recorder = try ledger.beginRun(
            host: meters.ledgerHost(toolVersion: configuration.toolVersion), command: command,
            region: settings.region.isDefaulted ? nil : settings.region.query)
        // Everything the footprint depends on goes into the run's chain, so `show` reproduces what the run printed.
        record(.footprintSettings(settings))
        if let processRoot {
            record(
                .attribution(
                    AttributionRecord(
                        method: ProcessAttribution.processTree.method, detail: "process tree of wattprint itself (pid \(processRoot))",
                        cgroupUnavailable: nil)))
        }
    }

    /// Attributes host energy to a process started after the session began, and records how.
    public func attach(processRoot: Int32, isOurChild: Bool, attribution: ProcessAttribution, cgroupUnavailable: String?) {
        meters.attach(processRoot: processRoot, isOurChild: isOurChild, attribution: attribution)
        record(
            .attribution(AttributionRecord(method: attribution.method, detail: attribution.summary, cgroupUnavailable: cgroupUnavailable)))
    }

    /// Starts sampling; returns what the chosen interval costs in accuracy, for the user to hear before the work.
    @discardableResult
    public func start() -> [String] {
        let sampler = Sampler(
            meters: meters, interval: configuration.interval, flushInterval: configuration.flushInterval,
            sinks: [LedgerSink(recorder: recorder)] + configuration.sinks, clock: configuration.clock)
        self.sampler = sampler
        monitor = EnergyMonitor(sampler: sampler)
        sampler.start()
        return sampler.caveats
    }

    /// Records an event at the current time.
    public func record(_ event: RunEvent) {
        recorder.record(event.record(at: configuration.clock.nowNs()))
    }

    /// Stops sampling after one last reading; returns the sampler's cost (nil if it was not running). Ledger
    /// writes it had to retry are in `flushErrors`.
    @discardableResult
    public func stop() -> SamplerOverhead? {
        guard !stopped, let sampler else { return nil }
        stopped = true
        let overhead = sampler.stop()
        stoppedAt = Date()
        return overhead
    }
    private var stopped = false
    /// When sampling stopped (after its last reading): the run's end.
    private var stoppedAt: Date?

    public var flushErrors: [String] { sampler?.flushErrors ?? [] }

    /// Commits everything sampled, records the run's energy result into its chain (`verify` recomputes it from the
    /// samples) and seals the run. Stops the sampler first if it still runs. The run ends when sampling stopped: time
    /// `summarize` takes afterwards (a benchmark's findings, whose rerun is a run of its own) is not this run's, so it
    /// adds nothing to its duration or to the embodied carbon reserved for that duration.
    /// - Throws: `LedgerError` when the ledger cannot be written; what `RunEnergy.compute` throws. Committed samples
    ///   stay in the ledger either way.
    /// - Parameter summarize: figures computed from the committed samples (a benchmark's summary), recorded into the
    ///   chain before the result so `verify` can recompute them too.
    @discardableResult
    public func finish(
        status: Run.Status = .complete, exitCode: Int32 = 0, summarize: ((Ledger, Int64) throws -> [RunEvent])? = nil
    ) throws -> RunEnergy {
        stop()
        try recorder.flush()
        if let summarize {
            for event in try summarize(ledger, runID) { record(event) }
            try recorder.flush()
        }
        let energy = try RunEnergy.compute(ledger: ledger, run: runID)
        record(.result(RecordedResult(energy)))
        try recorder.close(status: status, exitCode: exitCode, endedAt: stoppedAt ?? Date())
        return energy
    }
}
