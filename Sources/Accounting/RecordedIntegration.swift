import Foundation
import Ledger
import Measures
import Meters

/// How a run's raw rows become energy: its channels and samples replayed tick by tick through the same
/// `RunIntegrator` the live sampler used, under the integration rules the run was sampled with, with the gaps and
/// the meters' decisions (mirrored zones) its events recorded. Every recomputation (`RunEnergy`, the hourly
/// profile, `verify`) goes through here, so all of them make the decisions the live sampler made.
struct RecordedIntegration {
    let rules: IntegrationRules
    /// Times of the readings that followed a gap, per channel index (the sampler's `channel_resumed` events).
    let resumptions: [Int: Set<Int64>]
    /// The meters' decisions recorded at the start (`meter_decisions`).
    let decisions: [MeterDecision]

    init(events: [EventRecord]) throws {
        let start = events.first { $0.kind == "sampler_start" }?.payload
        guard let rules = IntegrationRules.recorded(inSamplerStart: start) else { throw UnknownIntegrationRules(samplerStart: start ?? "") }
        self.rules = rules
        var resumptions: [Int: Set<Int64>] = [:]
        var decisions: [MeterDecision] = []
        for e in events where e.kind == "channel_resumed" || e.kind == "meter_decisions" {
            switch RunEvent(e) {
            case let .channelResumed(channel): resumptions[channel, default: []].insert(e.tNs)
            case let .meterDecisions(d) where decisions.isEmpty: decisions = d
            default: break
            }
        }
        self.resumptions = resumptions
        self.decisions = decisions
    }

    /// The integrator's view of a recorded channel. Channels recorded before schema v2 get their class from their
    /// device name and the bound runs were judged against then.
    /// - Throws: `UnknownUnit` for a unit this build does not know.
    static func channel(_ r: ChannelRecord) throws -> RunIntegrator.Channel {
        guard let toSI = Units.factor(r.unit) else { throw UnknownUnit(channel: r.index, unit: r.unit) }
        return RunIntegrator.Channel(
            key: r.key ?? "channel-\(r.index)", device: r.device,
            deviceClass: r.deviceClass ?? DeviceClass.inferred(fromDevice: r.device, kind: r.kind),
            kind: r.kind, role: r.role, mode: r.mode, toSI: toSI, wrapRange: r.wrapRange, maxWatts: r.maxWatts ?? PowerBound.legacy)
    }

    /// The run replayed: the integrator after the last tick (and `finish()`), with `records[k]` at position k.
    /// `onTick` receives, after each tick, each channel position whose counted energy grew, the time of its previous
    /// reading, the tick's time and the joules added.
    func replay(
        records: [ChannelRecord], samples: [SampleRecord],
        onTick: ((_ position: Int, _ fromNs: Int64, _ toNs: Int64, _ joules: Double) -> Void)? = nil
    ) throws -> RunIntegrator {
        var position: [Int: Int] = [:]
        var known: [RunIntegrator.Channel] = []
        for (k, r) in records.enumerated() {
            position[r.index] = k
            known.append(try Self.channel(r))
        }
        let keys = Dictionary(known.enumerated().map { ($0.element.key, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var mirrors: [Int: Int] = [:]
        for d in decisions where d.kind == .mirrored {
            if let m = keys[d.subject], let p = d.counterpart.flatMap({ keys[$0] }) { mirrors[m] = p }
        }
        let integrator = RunIntegrator(channels: known, mirrors: mirrors, rules: rules)
        // Samples of one tick share its time: replay them in time order, a tick at a time.
        let ordered = samples.compactMap { s in position[s.channel].map { (tNs: s.tNs, position: $0, value: s.value) } }
            .sorted { ($0.tNs, $0.position) < ($1.tNs, $1.position) }
        var previousNs = [Int64?](repeating: nil, count: known.count)
        var counted = integrator.countedJoules
        var touched: [Int] = []
        var k = 0
        while k < ordered.count {
            let t = ordered[k].tNs
            touched.removeAll(keepingCapacity: true)
            while k < ordered.count && ordered[k].tNs == t {
                let s = ordered[k]
                if resumptions[records[s.position].index]?.contains(t) == true { integrator.markGap(s.position) }
                integrator.add(s.position, tNs: t, value: s.value)
                touched.append(s.position)
                k += 1
            }
            integrator.finishTick(tNs: t)
            if let onTick {
                let now = integrator.countedJoules
                for p in now.indices where now[p] != counted[p] {
                    onTick(p, previousNs[p] ?? t, t, now[p] - counted[p])
                }
                counted = now
            }
            for p in touched { previousNs[p] = t }
        }
        integrator.finish()
        return integrator
    }
}

/// A run sampled under integration rules this build does not know: its energy is not recomputed by guesswork.
public struct UnknownIntegrationRules: Error, CustomStringConvertible {
    public let samplerStart: String
    public var description: String {
        "the run was sampled under integration rules this wattprint does not know (sampler_start \(samplerStart)); upgrade wattprint to recompute it"
    }
}

/// A channel recorded in a unit this build does not know: its values are not converted by guesswork.
public struct UnknownUnit: Error, CustomStringConvertible {
    public let channel: Int
    public let unit: String
    public var description: String {
        "channel \(channel) of the run is in unit '\(unit)', which this wattprint does not know (it knows uJ, mJ, J, uW, mW, W, s); the run was written by another tool or a newer wattprint"
    }
}
