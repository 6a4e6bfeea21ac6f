import Foundation
import Measures
import Meters
import Prometheus

/// The grid intensity the exporter prices energy at: a region's figure from the carbon tables, with its source.
public struct GridIntensityFigure: Sendable, Equatable {
    /// The region as resolved (`FR`, `US-CAL-CISO`, `aws:us-east-1`).
    public var region: String
    /// g CO2e per kWh, location-based.
    public var gramsPerKilowattHour: Double
    /// Where the figure comes from (table, year).
    public var source: String

    public init(region: String, gramsPerKilowattHour: Double, source: String) {
        self.region = region; self.gramsPerKilowattHour = gramsPerKilowattHour; self.source = source
    }
}

/// The sampler's readings as Prometheus metrics: a `SampleSink` beside the ledger's, publishing once per completed
/// tick so a scrape never sees half of one.
///
/// Series (every one labelled `host`):
/// - `wattprint_energy_joules_total{channel, device, domain, role, mode}`: each energy channel's own integration
///   since the exporter started, J (`role="detail"` channels are contained in a `total` one: never add them).
/// - `wattprint_power_watts{…same}`: each channel's mean power over its latest reading interval, W.
/// - `wattprint_counted_energy_joules_total{mode}`: what the host total counts (no channel twice), J, by
///   `measured` / `estimated`; `wattprint_counted_power_watts`: its latest interval's power, W.
/// - `wattprint_grid_intensity_grams_per_kwh{region, source}`, `wattprint_emissions_grams_total{region}` and
///   `wattprint_emissions_grams_per_second{region}`: counted energy priced at that intensity.
/// - `wattprint_sampler_last_reading_seconds`: the monotonic clock (`CLOCK_MONOTONIC`, the ledger's sample times) of
///   the latest published tick, s, so an interval between two scrapes can be found in the ledger;
///   `wattprint_sampler_ticks_total`, `wattprint_sampler_cpu_seconds_total`, `wattprint_sampler_interval_seconds`
///   and `wattprint_sampler_core_share` (sampler CPU ÷ wall time: the share of one core it uses).
/// - `wattprint_scrapes_total`: answered scrapes of /metrics.
///
/// Prometheus counters never fall: energy the integration rules take back (a stray reading, negative `counted`) is
/// held back from later increments instead of subtracted.
public final class NodeMetrics: SampleSink, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let host: String
    public let intensity: GridIntensityFigure?
    private let lock = NSLock()
    private var channels: [MeterChannel] = []
    private var energyCounters: [Counter?] = []
    private var powerGauges: [Gauge?] = []
    private var pendingJoules: [Double] = []
    private var channelDebt: [Double] = []
    private var pendingPower: [Double?] = []
    private var pendingCounted: [MeasurementMode: Double] = [:]
    private var countedDebt: [MeasurementMode: Double] = [:]
    private var pendingCountedWatts: Double?
    private var countedWatts: [Int: Double] = [:]
    private var counted: [MeasurementMode: Counter] = [:]
    private let countedPower: Gauge
    private let lastReading: Gauge
    private let ticks: Counter
    private let samplerCPU: Counter
    private let samplerInterval: Gauge
    private let samplerShare: Gauge
    private let scrapes: Counter
    private var publishedCPUSeconds = 0.0
    private let emissions: Counter?
    private let emissionsRate: Gauge?

    /// - Parameters:
    ///   - host: the `host` label on every series (the ledger's host name).
    ///   - intensity: the grid figure emissions are priced at; nil leaves the emissions series out.
    public init(host: String, intensity: GridIntensityFigure?) {
        self.host = host
        self.intensity = intensity
        let h = [("host", host)]
        for mode in [MeasurementMode.measured, .estimated] {
            counted[mode] = registry.makeCounter(
                name: "wattprint_counted_energy_joules_total", labels: h + [("mode", mode.rawValue)],
                help: "Energy the host total counts (no channel twice), joules, since the exporter started")
        }
        countedPower = registry.makeGauge(
            name: "wattprint_counted_power_watts", labels: h,
            help: "Power of the counted channels over their latest reading interval, watts")
        lastReading = registry.makeGauge(
            name: "wattprint_sampler_last_reading_seconds", labels: h,
            help: "CLOCK_MONOTONIC time of the latest published reading (the ledger's sample clock), seconds")
        ticks = registry.makeCounter(name: "wattprint_sampler_ticks_total", labels: h, help: "Readings the sampler has taken")
        samplerCPU = registry.makeCounter(
            name: "wattprint_sampler_cpu_seconds_total", labels: h, help: "CPU time of the sampler thread, seconds")
        samplerInterval = registry.makeGauge(
            name: "wattprint_sampler_interval_seconds", labels: h, help: "Seconds between the sampler's readings")
        samplerShare = registry.makeGauge(
            name: "wattprint_sampler_core_share", labels: h, help: "Sampler CPU time divided by wall time: the share of one core it uses")
        scrapes = registry.makeCounter(name: "wattprint_scrapes_total", labels: h, help: "Scrapes of /metrics answered")
        if let intensity {
            let labels = h + [("region", intensity.region)]
            registry.makeGauge(
                name: "wattprint_grid_intensity_grams_per_kwh", labels: labels + [("source", intensity.source)],
                help: "Location-based grid intensity emissions are priced at, gCO2e/kWh"
            ).set(intensity.gramsPerKilowattHour)
            emissions = registry.makeCounter(
                name: "wattprint_emissions_grams_total", labels: labels,
                help: "Counted energy priced at the grid intensity, gCO2e, since the exporter started")
            emissionsRate = registry.makeGauge(
                name: "wattprint_emissions_grams_per_second", labels: labels, help: "Counted power priced at the grid intensity, gCO2e/s")
        } else {
            emissions = nil
            emissionsRate = nil
        }
    }

    public func register(_ channels: [MeterChannel]) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        let base = self.channels.count
        for c in channels {
            let carriesEnergy = c.kind == .energy || c.kind == .power || c.kind == .intervalPower
            let labels = [
                ("host", host), ("channel", c.key), ("device", c.device), ("domain", c.domain), ("role", c.role.rawValue),
                ("mode", c.mode.rawValue),
            ]
            energyCounters.append(
                carriesEnergy
                    ? registry.makeCounter(
                        name: "wattprint_energy_joules_total", labels: labels,
                        help: "Energy of each channel, joules, since the exporter started")
                    : nil)
            powerGauges.append(
                carriesEnergy
                    ? registry.makeGauge(
                        name: "wattprint_power_watts", labels: labels, help: "Power of each channel over its latest reading interval, watts"
                    )
                    : nil)
            pendingJoules.append(0)
            channelDebt.append(0)
            pendingPower.append(nil)
        }
        self.channels += channels
        return channels.indices.map { base + $0 }
    }

    public func record(channel: Int, tNs: Int64, value: Double) {}

    public func energy(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double) {
        lock.lock(); defer { lock.unlock() }
        pendingJoules[channel] += joules
        let seconds = Double(toNs - fromNs) / 1e9
        if seconds > 0 { pendingPower[channel] = max(0, joules) / seconds }
        if counted != 0 { pendingCounted[channels[channel].mode, default: 0] += counted }
        // The counted power is that of the channels counting now: one that stopped (handed over, or a take-back) leaves.
        if counted > 0, seconds > 0 { countedWatts[channel] = counted / seconds } else { countedWatts[channel] = nil }
    }

    public func tickFinished(tNs: Int64) {
        lock.lock(); defer { lock.unlock() }
        for i in channels.indices {
            // As for the counted total: energy taken back is held back from later increments.
            let net = pendingJoules[i] - channelDebt[i]
            if net > 0 {
                energyCounters[i]?.increment(by: net)
                channelDebt[i] = 0
            } else {
                channelDebt[i] = -net
            }
            if let p = pendingPower[i] { powerGauges[i]?.set(p) }
            pendingJoules[i] = 0
            pendingPower[i] = nil
        }
        var tickJoules = 0.0
        for (mode, joules) in pendingCounted {
            // Owed energy (taken back earlier) comes off before anything is added.
            let net = joules - countedDebt[mode, default: 0]
            if net > 0 {
                counted[mode]?.increment(by: net)
                countedDebt[mode] = 0
                tickJoules += net
            } else {
                countedDebt[mode] = -net
            }
        }
        pendingCounted.removeAll(keepingCapacity: true)
        let watts = countedWatts.values.reduce(0, +)
        countedPower.set(watts)
        if let intensity {
            if tickJoules > 0 { emissions?.increment(by: tickJoules * intensity.gramsPerKilowattHour / 3.6e6) }
            emissionsRate?.set(watts * intensity.gramsPerKilowattHour / 3.6e6)
        }
        lastReading.set(Double(tNs) / 1e9)
        ticks.increment()
    }

    public func event(tNs: Int64, _ event: SamplerEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .started(start): samplerInterval.set(start.intervalSeconds)
        case let .channelGap(channel, _): countedWatts[channel] = nil
        default: break
        }
    }

    public func flush() throws {}

    /// Brings the sampler's own cost up to date (call before rendering a scrape).
    public func update(overhead: SamplerOverhead) {
        lock.lock(); defer { lock.unlock() }
        if overhead.cpuSeconds > publishedCPUSeconds {
            samplerCPU.increment(by: overhead.cpuSeconds - publishedCPUSeconds)
            publishedCPUSeconds = overhead.cpuSeconds
        }
        samplerShare.set(overhead.fractionOfOneCore)
    }

    /// Runs attached to this node's collector, by pid, and their series.
    private var runGauges: [Int32: (attributed: Gauge, counted: Gauge)] = [:]

    /// Publishes the runs attached to the node's collector as `wattprint_run_attributed_energy_joules` (CPU energy
    /// attributed to the run's process tree so far) and `wattprint_run_host_energy_joules` (what the host counted while
    /// it ran), labelled `pid`, `command` (the program's name, not its arguments), `job_id` (SLURM_JOB_ID: `job` is Prometheus's scrape job), `rank`; a run's series go when it detaches.
    public func update(runs: [AttachedRun]) {
        lock.lock(); defer { lock.unlock() }
        var present = Set<Int32>()
        for run in runs {
            guard let progress = run.progress else { continue }
            present.insert(run.run.pid)
            if runGauges[run.run.pid] == nil {
                let job = run.run.job
                let labels = [
                    ("host", host), ("pid", "\(run.run.pid)"), ("command", Self.program(run.run.command)),
                    ("job_id", job?.slurmJobID ?? ""), ("rank", job?.rank ?? job?.slurmProcID ?? ""),
                ]
                runGauges[run.run.pid] = (
                    registry.makeGauge(
                        name: "wattprint_run_attributed_energy_joules", labels: labels,
                        help: "CPU energy attributed to a run in progress (its process tree's share of the host's busy CPU time), joules"),
                    registry.makeGauge(
                        name: "wattprint_run_host_energy_joules", labels: labels,
                        help: "Energy the host counted while a run in progress ran, joules (shared by concurrent runs)")
                )
            }
            runGauges[run.run.pid]?.attributed.set(progress.attributedCPUJoules)
            runGauges[run.run.pid]?.counted.set(progress.countedJoules)
        }
        for (pid, gauges) in runGauges where !present.contains(pid) {
            registry.unregisterGauge(gauges.attributed)
            registry.unregisterGauge(gauges.counted)
            runGauges[pid] = nil
        }
    }

    /// A command's program name only: its arguments (paths, tokens, keys) stay out of the series.
    static func program(_ command: String) -> String {
        let first = command.split(separator: " ").first.map(String.init) ?? ""
        return (first as NSString).lastPathComponent
    }

    /// Prometheus's text exposition format (version 0.0.4) of every series, as of the latest complete tick; counts
    /// the scrape.
    public func render() -> [UInt8] {
        lock.lock(); defer { lock.unlock() }
        scrapes.increment()
        return registry.emitToBuffer()
    }
}
