import Foundation
import Measures
import Meters

/// Every energy channel on this machine, with what is blocked and how to fix it, what was skipped or decided, and
/// the sampler's measured cost when asked.
public enum SensorsReport {
    public struct ChannelRow: Codable, Sendable {
        public var key: String
        public var device: String
        public var domain: String
        public var kind: String
        public var role: String
        public var mode: String
        public var unit: String
        public var source: String
        /// Current power, W, where the channel reads power or energy.
        public var watts: Double?
        public var uncertainty: Double
        public var note: String

        public init(_ c: MeterChannel, watts: Double?) {
            key = c.key; device = c.device; domain = c.domain; kind = c.kind.rawValue; role = c.role.rawValue; mode = c.mode.rawValue
            unit = c.unit; source = c.source; self.watts = watts; uncertainty = c.uncertainty; note = c.uncertaintyNote
        }
    }

    /// What `sensors` found.
    public struct View: Codable, Sendable {
        public var host: HostDescription
        public var channels: [ChannelRow]
        public var gpus: [NVMLMeter.GPUInfo]
        public var blocked: [BlockedChannel]
        public var decisions: [MeterDecision]
        public var unavailable: [String: String]
        public var wrapBoundSeconds: Double?
        public var overhead: OverheadReport?

        public init(meters: MeterSet, watts: [Double?], overhead: OverheadReport? = nil) {
            host = meters.host
            channels = meters.channels.enumerated().map { ChannelRow($0.element, watts: watts[$0.offset]) }
            gpus = meters.meters.compactMap { $0 as? NVMLMeter }.flatMap(\.gpus)
            blocked = meters.blocked
            decisions = meters.decisions
            unavailable = Dictionary(meters.unavailable.map { ($0.meter, $0.reason) }, uniquingKeysWith: { a, _ in a })
            wrapBoundSeconds = meters.maxSafeInterval
            self.overhead = overhead
        }
    }

    public static func build(_ r: View) -> Report {
        var out: [Block] = [
            .line(
                "Host: \(r.host.cpuModel), \(r.host.logicalCPUs) logical CPUs, \(QuantityFormat.counted(r.host.sockets, "socket"))\(r.host.isVirtualMachine ? ", virtual machine" : ""), kernel \(r.host.kernel)"
            )
        ]
        var table = Table(header: ["device", "domain", "kind", "role", "mode", "power", "±", "source"], rightAligned: [5, 6])
        for c in r.channels {
            table.rows.append([
                c.device, c.domain, c.kind, c.role, c.mode, c.watts.map { String(format: "%.2f W", $0) } ?? "-",
                c.uncertainty > 0 ? String(format: "%.0f%%", c.uncertainty * 100) : "-", c.source,
            ])
        }
        out.append(.table(table))
        for g in r.gpus {
            let limit = g.powerLimitWatts.map { String(format: ", power limit %.0f W", $0) } ?? ""
            let checks = g.crossChecks.isEmpty ? "" : "; cross-checked by " + g.crossChecks.map(\.rawValue).joined(separator: " and ")
            let refused = g.refusals.isEmpty ? "" : "; refused: " + g.refusals.joined(separator: "; ")
            out.append(.line("GPU \(g.index): \(g.name) (\(g.uuid))\(limit); energy from the \(g.method.rawValue)\(checks)\(refused)"))
        }
        var lines: [String] = []
        if r.channels.allSatisfy({ $0.mode == "estimated" || $0.role != "total" }) {
            lines.append("\nNo energy counter is readable here: the totals are ESTIMATED from CPU utilisation and memory in use.")
        }
        if !r.blocked.isEmpty {
            lines.append("\nBlocked:")
            for b in r.blocked {
                lines.append("  \(b.device) (\(b.source)): \(b.reason)")
                for fix in b.fixes { lines.append("    fix: \(fix)") }
            }
        }
        let decided = r.decisions.filter { $0.kind != .skipped }
        if !decided.isEmpty {
            lines.append("\nDecided:")
            for d in decided { lines.append("  \(d.subject)\(d.counterpart.map { " → \($0)" } ?? ""): \(d.reason)") }
        }
        let skipped = r.decisions.filter { $0.kind == .skipped }
        if !skipped.isEmpty {
            lines.append("\nSkipped (present, not understood):")
            for d in skipped { lines.append("  \(d.subject): \(d.reason)") }
        }
        if !r.unavailable.isEmpty {
            lines.append("\nNot present:")
            for (meter, reason) in r.unavailable.sorted(by: { $0.key < $1.key }) { lines.append("  \(meter): \(reason)") }
        }
        if let bound = r.wrapBoundSeconds {
            lines.append(String(format: "\nWrap bound: reads at most every %.0f s keep every counter exact.", bound))
        }
        if let o = r.overhead { lines.append("\n" + o.lines.joined(separator: "\n")) }
        out += lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map { Block.line(String($0)) } }
        return Report(blocks: out, data: r)
    }
}
