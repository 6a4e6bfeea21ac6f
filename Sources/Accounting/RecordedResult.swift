import Foundation
import Ledger
import Measures
import Meters

/// The figures a run reported when it closed, written into its own hash chain, so `verify` can recompute them
/// from the raw samples and show that the report and the data agree.
public struct RecordedResult: Codable, Sendable, Equatable {
    public var totalJoules: Double
    public var measuredJoules: Double
    public var estimatedJoules: Double

    public static let eventKind = "result"

    public init(_ energy: RunEnergy) {
        totalJoules = energy.totalJoules
        measuredJoules = energy.measuredJoules
        estimatedJoules = energy.estimatedJoules
    }

    public var event: EventRecord { RunEvent.result(self).record(at: MonotonicClock.nowNs()) }

    /// Agreement between the recorded result and a recomputation from the raw samples.
    public struct Check: Codable, Sendable {
        public var recorded: RecordedResult?
        public var recomputed: RecordedResult
        /// nil when the run recorded no result (interrupted runs never do).
        public var matches: Bool?
        /// The integration rules' decisions the sampler recorded (`anomaly` events) and those a recomputation makes.
        public var recordedAnomalies: [ReadingAnomaly]
        public var recomputedAnomalies: [ReadingAnomaly]
        /// Whether the recorded decisions are the recomputed ones (kind, channel, time, value and replacement).
        public var anomaliesMatch: Bool
    }

    /// Recomputes the run's energy from its raw samples and compares it with what the run recorded, to 1 nJ or
    /// 1e-9 relative (the same code computed both; any larger difference means the samples or the result changed).
    public static func check(ledger: Ledger, run: Int64) throws -> Check {
        let energy = try RunEnergy.compute(ledger: ledger, run: run)
        let recomputed = RecordedResult(energy)
        let events = try ledger.events(run: run)
        var recorded: RecordedResult?
        var recordedAnomalies: [ReadingAnomaly] = []
        for e in events.map(RunEvent.init) {
            switch e {
            case let .result(r): recorded = r
            case let .anomaly(a): recordedAnomalies.append(a)
            default: break
            }
        }
        let recomputedAnomalies = energy.anomalies.map(\.decision)
        // Values pass through JSON, whose readers do not all round-trip a double's last bit.
        func close(_ a: Double?, _ b: Double?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return abs(a - b) <= 1e-12 * max(abs(a), abs(b))
        }
        func same(_ a: ReadingAnomaly, _ b: ReadingAnomaly) -> Bool {
            a.kind == b.kind && a.channel == b.channel && a.tNs == b.tNs && close(a.value, b.value)
                && a.switchedTo == b.switchedTo && a.bridgedBy == b.bridgedBy
        }
        // An interrupted run recorded decisions only up to its last batch: only a closed run's list must be whole.
        let anomaliesMatch =
            recordedAnomalies.count == recomputedAnomalies.count
            && zip(recordedAnomalies, recomputedAnomalies).allSatisfy(same)
        guard let recorded else {
            return Check(
                recorded: nil, recomputed: recomputed, matches: nil, recordedAnomalies: recordedAnomalies,
                recomputedAnomalies: recomputedAnomalies, anomaliesMatch: anomaliesMatch)
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= max(1e-9, 1e-9 * max(abs(a), abs(b))) }
        let matches =
            close(recorded.totalJoules, recomputed.totalJoules) && close(recorded.measuredJoules, recomputed.measuredJoules)
            && close(recorded.estimatedJoules, recomputed.estimatedJoules)
        return Check(
            recorded: recorded, recomputed: recomputed, matches: matches, recordedAnomalies: recordedAnomalies,
            recomputedAnomalies: recomputedAnomalies, anomaliesMatch: anomaliesMatch)
    }
}
