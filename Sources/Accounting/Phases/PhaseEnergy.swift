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
        guard let sweep = Sweep(events: events, records: try ledger.channels(run: id)) else { return [] }
        let samples = try ledger.samples(run: id)
        _ = try RecordedIntegration(events: events).replay(records: sweep.records, samples: samples, onTick: sweep.add)
        return sweep.finish(events: events, lastSampleNs: samples.map(\.tNs).max() ?? 0)
    }

    /// Windows filled during a replay: `add` takes each reading interval's counted joules as the replay makes them,
    /// `finish` closes open windows at the last sample and places tokens and steps. One replay can feed both this and
    /// the run's total (`RunEnergy.compute(…, phases:)`).
    final class Sweep {
        let records: [ChannelRecord]
        private(set) var windows: [PhaseWindow]
        private let order: [Int]
        private let keys: [String]
        private let estimated: [Bool]
        // A sweep in time: windows enter the active set when a reading interval reaches their start and leave it once
        // no channel can still report an interval that overlaps them (every channel has read past their end).
        private var next = 0
        private var active: [Int] = []
        private var lastRead: [Int: Int64] = [:]
        private var pruned = Int64.min

        /// nil when the run marked no phases.
        init?(events: [EventRecord], records: [ChannelRecord]) {
            let paired = PhaseEnergy.pair(events)
            guard !paired.isEmpty else { return nil }
            self.records = records
            // Unclosed windows end at the last sample, known only at `finish`: until then they stay open.
            let open = paired.map { w in
                var w = w
                if !w.closed { w.endNs = .max }
                return w
            }
            windows = open
            order = open.indices.sorted { open[$0].startNs < open[$1].startNs }
            keys = records.map { $0.key ?? "channel-\($0.index)" }
            estimated = records.map { $0.mode == .estimated }
        }

        func add(position: Int, from: Int64, to: Int64, joules: Double) {
            while next < order.count, windows[order[next]].startNs < to || (from == to && windows[order[next]].startNs < to + 1) {
                active.append(order[next])
                next += 1
            }
            // Every later interval of a channel that counts starts at its last reading or after.
            if let floor = lastRead.values.min(), floor > pruned {
                pruned = floor
                active.removeAll { windows[$0].endNs <= floor }
            }
            lastRead[position] = to
            let span = Double(to - from)
            for k in active {
                let (start, end) = (windows[k].startNs, windows[k].endNs)
                let overlap: Double
                if span > 0 {
                    overlap = Double(min(to, end) - max(from, start)) / span
                } else {
                    overlap = from > start && from <= end ? 1 : 0
                }
                guard overlap > 0 else { continue }
                let share = joules * min(overlap, 1)
                windows[k].joules += share
                windows[k].channelJoules[keys[position], default: 0] += share
                if estimated[position] { windows[k].estimatedJoules += share } else { windows[k].measuredJoules += share }
            }
        }

        func finish(events: [EventRecord], lastSampleNs: Int64) -> [PhaseWindow] {
            for k in windows.indices where !windows[k].closed {
                windows[k].endNs = max(windows[k].startNs, lastSampleNs)
                windows[k].seconds = Double(windows[k].endNs - windows[k].startNs) / 1e9
            }
            // Tokens and steps, by the same sweep over events in time order.
            var next = 0
            var active: [Int] = []
            let work = events.filter { $0.kind == "tokens" || $0.kind == "step" }.sorted { $0.tNs < $1.tNs }
            for (event, decoded) in zip(work, RunEvent.decodeAll(work)) {
                while next < order.count, windows[order[next]].startNs < event.tNs {
                    active.append(order[next])
                    next += 1
                }
                active.removeAll { windows[$0].endNs < event.tNs }
                guard !active.isEmpty else { continue }
                switch decoded {
                case let .tokens(t):
                    for k in active where event.tNs > windows[k].startNs && event.tNs <= windows[k].endNs {
                        if t.phase == nil || t.phase == windows[k].mark.name { windows[k].tokens += t.count }
                    }
                case let .step(s):
                    for k in active where event.tNs > windows[k].startNs && event.tNs <= windows[k].endNs {
                        windows[k].steps.append(s)
                        windows[k].flops += s.flops ?? 0
                    }
                default: break
                }
            }
            return order.map { windows[$0] }
        }
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
        let marks = events.filter { $0.kind == "phase_start" || $0.kind == "phase_end" }.sorted { $0.tNs < $1.tNs }
        for (event, decoded) in zip(marks, RunEvent.decodeAll(marks)) {
            switch decoded {
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
