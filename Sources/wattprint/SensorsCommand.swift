import ArgumentParser
import Foundation
import Ledger
import Measures
import Meters

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

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also measure the sampler's own CPU cost at 10 Hz and 100 Hz, and a workload's throughput with and without sampling.")
    var overhead = false
    @Option(help: "Seconds per overhead measurement.") var seconds: Double = 5

    struct ChannelRow: Codable {
        var key: String
        var device: String
        var domain: String
        var kind: String
        var role: String
        var mode: String
        var unit: String
        var source: String
        var watts: Double?
        var uncertainty: Double
        var note: String
    }

    struct Report: Codable {
        var host: HostDescription
        var channels: [ChannelRow]
        var gpus: [NVMLMeter.GPUInfo]
        var blocked: [BlockedChannel]
        var decisions: [MeterDecision]
        var unavailable: [String: String]
        var wrapBoundSeconds: Double?
        var overhead: OverheadReport?
    }

    func validate() throws {
        guard seconds >= 0.5, seconds <= 600 else { throw ValidationError("--seconds must be between 0.5 and 600, e.g. --seconds 5") }
    }

    func run() throws {
        let meters = MeterSet.discover()
        let watts = currentPower(meters)
        var report = Report(
            host: meters.host,
            channels: meters.channels.enumerated().map { i, c in
                ChannelRow(key: c.key, device: c.device, domain: c.domain, kind: c.kind.rawValue, role: c.role.rawValue,
                           mode: c.mode.rawValue, unit: c.unit, source: c.source, watts: watts[i], uncertainty: c.uncertainty,
                           note: c.uncertaintyNote)
            },
            gpus: meters.meters.compactMap { $0 as? NVMLMeter }.flatMap(\.gpus),
            blocked: meters.blocked,
            decisions: meters.decisions,
            unavailable: Dictionary(meters.unavailable.map { ($0.meter, $0.reason) }, uniquingKeysWith: { a, _ in a }),
            wrapBoundSeconds: meters.maxSafeInterval, overhead: nil)
        if overhead { report.overhead = try OverheadBenchmark(seconds: seconds).run() }
        if json { return try JSONOutput.print(report) }
        print(render(report))
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

    func render(_ r: Report) -> String {
        var out = ["Host: \(r.host.cpuModel), \(r.host.logicalCPUs) logical CPUs, \(r.host.sockets) socket(s)\(r.host.isVirtualMachine ? ", virtual machine" : ""), kernel \(r.host.kernel)"]
        var table = TextTable(header: ["device", "domain", "kind", "role", "mode", "power", "±", "source"], rightAligned: [5, 6])
        for c in r.channels {
            table.rows.append([c.device, c.domain, c.kind, c.role, c.mode, c.watts.map { String(format: "%.2f W", $0) } ?? "-",
                               c.uncertainty > 0 ? String(format: "%.0f%%", c.uncertainty * 100) : "-", c.source])
        }
        out.append(table.render())
        for g in r.gpus {
            let limit = g.powerLimitWatts.map { String(format: ", power limit %.0f W", $0) } ?? ""
            let checks = g.crossChecks.isEmpty ? "" : "; cross-checked by " + g.crossChecks.map(\.rawValue).joined(separator: " and ")
            let refused = g.refusals.isEmpty ? "" : "; refused: " + g.refusals.joined(separator: "; ")
            out.append("GPU \(g.index): \(g.name) (\(g.uuid))\(limit); energy from the \(g.method.rawValue)\(checks)\(refused)")
        }
        if r.channels.allSatisfy({ $0.mode == "estimated" || $0.role != "total" }) {
            out.append("\nNo energy counter is readable here: the totals are ESTIMATED from CPU utilisation and memory in use.")
        }
        if !r.blocked.isEmpty {
            out.append("\nBlocked:")
            for b in r.blocked {
                out.append("  \(b.device) (\(b.source)): \(b.reason)")
                for fix in b.fixes { out.append("    fix: \(fix)") }
            }
        }
        let decided = r.decisions.filter { $0.kind != .skipped }
        if !decided.isEmpty {
            out.append("\nDecided:")
            for d in decided { out.append("  \(d.subject)\(d.counterpart.map { " → \($0)" } ?? ""): \(d.reason)") }
        }
        let skipped = r.decisions.filter { $0.kind == .skipped }
        if !skipped.isEmpty {
            out.append("\nSkipped (present, not understood):")
            for d in skipped { out.append("  \(d.subject): \(d.reason)") }
        }
        if !r.unavailable.isEmpty {
            out.append("\nNot present:")
            for (meter, reason) in r.unavailable.sorted(by: { $0.key < $1.key }) { out.append("  \(meter): \(reason)") }
        }
        if let bound = r.wrapBoundSeconds { out.append(String(format: "\nWrap bound: reads at most every %.0f s keep every counter exact.", bound)) }
        if let o = r.overhead { out.append("\n" + o.render()) }
        return out.joined(separator: "\n")
    }
}
