import Foundation
import Ledger
import Measures

/// The energy a run counted between two of its readings, recomputed from the ledger's raw samples: what an exporter's
/// counter rose by between two scrapes, checked against the record.
public enum IntervalEnergy {
    /// Counted energy of the readings taken after `afterNs` up to and including `throughNs` (the samples' monotonic
    /// clock), J, by measurement mode; the replay makes exactly the decisions the live sampler made
    /// (`RecordedIntegration`).
    /// - Throws: `LedgerError` when the run cannot be read; `UnknownIntegrationRules` / `UnknownUnit` for a run this
    ///   build cannot recompute.
    public static func counted(ledger: Ledger, run id: Int64, afterNs: Int64, throughNs: Int64) throws -> [MeasurementMode: Double] {
        let records = try ledger.channels(run: id)
        var joules: [MeasurementMode: Double] = [:]
        _ = try RecordedIntegration(events: try ledger.events(run: id)).replay(
            records: records, samples: try ledger.samples(run: id),
            onTick: { position, _, toNs, added in
                guard toNs > afterNs, toNs <= throughNs else { return }
                joules[records[position].mode, default: 0] += added
            })
        return joules
    }
}
