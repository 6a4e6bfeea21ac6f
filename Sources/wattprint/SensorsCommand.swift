import ArgumentParser
import Foundation
import Ledger
import Measures
import Meters
import Reports

/// `wattprint sensors`: what can be measured here, and what is blocked and how to fix it.
struct Sensors: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every energy channel this machine offers: source, kind, measured or estimated, current power.",
        discussion: """
            Channels marked `total` add up to the run's energy without double counting; `detail` channels overlap \
            one of them (core inside package, package inside psys) and are shown for comparison.

            Examples:
              wattprint sensors
              wattprint sensors --json
              wattprint sensors --overhead --seconds 10
            """)

    @OptionGroup var output: OutputOptions
    @Flag(help: "Also measure the sampler's own CPU cost at 10 Hz and 100 Hz, and a workload's throughput with and without sampling.")
    var overhead = false
    @Option(help: "Seconds per overhead measurement.") var seconds: Double = 5

    func validate() throws {
        guard seconds >= 0.5, seconds <= 600 else { throw ValidationError("--seconds must be between 0.5 and 600, e.g. --seconds 5") }
    }

    func run() throws {
        let meters = MeterSet.discover()
        let view = SensorsReport.View(
            meters: meters, watts: currentPower(meters),
            overhead: overhead ? try OverheadBenchmark(seconds: seconds).run() : nil)
        try output.emit(SensorsReport.build(view))
    }

    /// Power over a short window: counters by difference, gauges and estimates by their latest value. The window is
    /// 1 s where a GPU counter is read, since NVML's counter only advances every 100 ms.
    func currentPower(_ meters: MeterSet) -> [Double?] {
        let n = meters.channels.count
        var a = [Double?](repeating: nil, count: n), b = a
        meters.read(into: &a)
        let t0 = MonotonicClock.nowNs()
        usleep(meters.channels.contains { $0.kind == .energy && $0.key.hasPrefix("nvml:") } ? 1_000_000 : 250_000)
        meters.read(into: &b)
        let dt = Double(MonotonicClock.nowNs() - t0) / 1e9
        return meters.channels.enumerated().map { i, c in
            guard let v1 = b[i] else { return nil }
            switch c.kind {
            case .energy:
                guard let v0 = a[i] else { return nil }
                var acc = EnergyAccumulator(channel: c)
                acc.add(tNs: 0, value: v0)
                let joules = acc.add(tNs: Int64(dt * 1e9), value: v1)
                return acc.anomalies.isEmpty ? joules / dt : nil
            case .power, .intervalPower: return v1 * c.toSI
            case .cpuTime, .context: return nil
            }
        }
    }
}
