import Foundation
import Ledger
import Measures
import Meters

/// One window of a run between a `phase_start` and the next `phase_end` with an equal mark, its energy recomputed
/// from the raw samples (the same integration as the run's total), and what the run recorded inside it.
public struct PhaseWindow: Codable, Sendable {
    public var mark: PhaseMark
    /// On the run's monotonic clock, ns.
    public var startNs: Int64
    public var endNs: Int64
    /// False for a start the run never ended (it was killed): the window runs to its last sample.
    public var closed: Bool
    public var seconds: Double
    /// Counted energy (the run's `total` channels) in the window, J; its measured and estimated parts.
    public var joules: Double
    public var measuredJoules: Double
    public var estimatedJoules: Double
    /// Counted joules per channel key.
    public var channelJoules: [String: Double]
    /// Tokens recorded inside the window (events without a phase, or of this phase).
    public var tokens: Double
    /// FLOPs of the steps recorded inside the window, where they say.
    public var flops: Double
    /// Step records inside the window, in order.
    public var steps: [StepRecord]

    public init(
        mark: PhaseMark, startNs: Int64, endNs: Int64, closed: Bool, seconds: Double, joules: Double, measuredJoules: Double,
        estimatedJoules: Double, channelJoules: [String: Double], tokens: Double, flops: Double, steps: [StepRecord]
    ) {
        self.mark = mark; self.startNs = startNs; self.endNs = endNs; self.closed = closed; self.seconds = seconds; self.joules = joules
        self.measuredJoules = measuredJoules; self.estimatedJoules = estimatedJoules; self.channelJoules = channelJoules
        self.tokens = tokens; self.flops = flops; self.steps = steps
    }

    public var isEstimated: Bool { estimatedJoules > 0 }
    public var joulesPerToken: Double? { tokens > 0 ? joules / tokens : nil }
}

/// Windows of a run's phases and their energy, from the ledger alone.
public enum PhaseEnergy {
    /// Every phase window of a run in the order they started. A reading interval that straddles a window boundary is
    /// shared in proportion to the time on each side (wattprint's own phases read the meters at their boundaries,
    /// so for them nothing is shared).
    /// - Throws: what `RunEnergy.compute` throws.
    public static func windows(ledger: Ledger, run id: Int64) throws -> [PhaseWindow] {
        let events = try ledger.events(run: id)
        var windows = pair(events)
        guard !windows.isEmpty else { return [] }
        let records = try ledger.channels(run: id)
        let samples = try ledger.samples(run: id)
        let lastNs = samples.map(\.tNs).max() ?? 0
        for k in windows.indices where !windows[k].closed {
            windows[k].endNs = max(windows[k].startNs, lastNs)
            windows[k].seconds = Double(windows[k].endNs - windows[k].startNs) / 1e9
        }
        let integration = try RecordedIntegration(events: events)
        let order = windows.indices.sorted { windows[$0].startNs < windows[$1].startNs }
        var keys: [String] = []
        var estimated: [Bool] = []
        for r in records {
            keys.append(r.key ?? "channel-\(r.index)")
            estimated.append(r.mode == .estimated)
        }
        _ = try integration.replay(records: records, samples: samples) { position, from, to, joules in
            let span = Double(to - from)
            for k in order {
                let w = windows[k]
                if w.startNs >= to && span > 0 { break }
                let overlap: Double
                if span > 0 {
                    overlap = Double(min(to, w.endNs) - max(from, w.startNs)) / span
                } else {
                    overlap = from > w.startNs && from <= w.endNs ? 1 : 0
                }
                guard overlap > 0 else { continue }
                let share = joules * min(overlap, 1)
                windows[k].joules += share
                windows[k].channelJoules[keys[position], default: 0] += share
                if estimated[position] { windows[k].estimatedJoules += share } else { windows[k].measuredJoules += share }
            }
        }
        for event in events {
            switch RunEvent(event) {
            case let .tokens(t):
                for k in windows.indices where event.tNs > windows[k].startNs && event.tNs <= windows[k].endNs {
                    if t.phase == nil || t.phase == windows[k].mark.name { windows[k].tokens += t.count }
                }
            case let .step(s):
                for k in windows.indices where event.tNs > windows[k].startNs && event.tNs <= windows[k].endNs {
                    windows[k].steps.append(s)
                    windows[k].flops += s.flops ?? 0
                }
            default: break
            }
        }
        return order.map { windows[$0] }
    }

    /// Starts and ends paired by mark; a start left open becomes an unclosed window.
    static func pair(_ events: [EventRecord]) -> [PhaseWindow] {
        var open: [PhaseMark: [Int64]] = [:]
        var windows: [PhaseWindow] = []
        func window(_ mark: PhaseMark, _ start: Int64, _ end: Int64, closed: Bool) -> PhaseWindow {
            PhaseWindow(
                mark: mark, startNs: start, endNs: end, closed: closed, seconds: Double(end - start) / 1e9, joules: 0, measuredJoules: 0,
                estimatedJoules: 0, channelJoules: [:], tokens: 0, flops: 0, steps: [])
        }
        for event in events.sorted(by: { $0.tNs < $1.tNs }) {
            switch RunEvent(event) {
            case let .phaseStart(mark): open[mark, default: []].append(event.tNs)
            case let .phaseEnd(mark):
                guard let start = open[mark]?.popLast() else { continue }
                windows.append(window(mark, start, event.tNs, closed: true))
            default: break
            }
        }
        for (mark, starts) in open { for start in starts { windows.append(window(mark, start, start, closed: false)) } }
        return windows
    }
}
