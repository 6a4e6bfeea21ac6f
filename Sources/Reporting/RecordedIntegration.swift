import Foundation
import Ledger
import Meters

/// How a run's raw rows become energy: the integration rules it was sampled under and the readings that followed
/// a gap, both read back from its events, so every recomputation (`RunEnergy`, the hourly profile, `verify`) makes
/// the same breaks the live sampler made.
struct RecordedIntegration {
    let rules: IntegrationRules
    /// Times of the readings that followed a gap, per channel index (the sampler's `channel_resumed` events).
    let resumptions: [Int: Set<Int64>]

    init(events: [EventRecord]) throws {
        let start = events.first { $0.kind == "sampler_start" }?.payload
        guard let rules = IntegrationRules.recorded(inSamplerStart: start) else { throw UnknownIntegrationRules(samplerStart: start ?? "") }
        self.rules = rules
        var resumptions: [Int: Set<Int64>] = [:]
        for e in events where e.kind == "channel_resumed" {
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(e.payload.utf8))) as? [String: Any],
                  let index = obj["channel"] as? Int else { continue }
            resumptions[index, default: []].insert(e.tNs)
        }
        self.resumptions = resumptions
    }

    func accumulator(for record: ChannelRecord, kind: ChannelKind) -> EnergyAccumulator {
        EnergyAccumulator(kind: kind, toSI: Units.factor(record.unit), wrapRange: record.wrapRange, rules: rules)
    }

    /// Adds one reading of `record`'s channel, breaking at a recorded resumption; returns the joules it added.
    func add(_ sample: (tNs: Int64, value: Double), of record: ChannelRecord, to acc: inout EnergyAccumulator) -> Double {
        if resumptions[record.index]?.contains(sample.tNs) == true { acc.resumeAfterGap() }
        return acc.add(tNs: sample.tNs, value: sample.value)
    }

    func energy(of record: ChannelRecord, kind: ChannelKind, series: [(tNs: Int64, value: Double)]) -> ChannelEnergy {
        var acc = accumulator(for: record, kind: kind)
        for s in series { _ = add(s, of: record, to: &acc) }
        return acc.energy
    }
}

/// A run sampled under integration rules this build does not know: its energy is not recomputed by guesswork.
public struct UnknownIntegrationRules: Error, CustomStringConvertible {
    public let samplerStart: String
    public var description: String {
        "the run was sampled under integration rules this wattprint does not know (sampler_start \(samplerStart)); upgrade wattprint to recompute it"
    }
}
