import Carbon
import Foundation
import Ledger
import Measures
import Meters
import Accounting

/// Work that wattprint itself runs (a benchmark, a training job), measured and recorded as a ledger run like any
/// wrapped command: meters sampled on a background thread, events for phases, steps and tokens, a recorded result
/// and a sealed chain.
final class MeasuredRun {
    let store: Ledger
    let recorder: RunRecorder
    let sampler: Sampler
    let monitor: EnergyMonitor

    init(ledger: LedgerOptions, region: RegionResolution, interval: Double = 0.1) throws {
        try CarbonTables.checkRegion(region, data: try CarbonTables.load())
        store = try ledger.open(create: true)
        try store.markInterruptedRuns()
        let meters = MeterSet.discover(.init(processRoot: getpid()))
        recorder = try store.beginRun(host: meters.ledgerHost,
                                      command: "wattprint " + CommandLine.arguments.dropFirst().joined(separator: " "),
                                      region: region.isDefaulted ? nil : region.query)
        let cloud = region.query.firstIndex(of: ":").flatMap { SiteType.cloudProvider(String(region.query[..<$0])) }
        recorder.record(EventRecord(tNs: MonotonicClock.nowNs(), kind: FootprintSettings.eventKind,
                                    payload: JSONOutput.compact(FootprintSettings(region: region, site: cloud, pue: nil))))
        sampler = Sampler(meters: meters, interval: interval, sink: LedgerSink(recorder: recorder))
        FileHandle.standardError.write(Data(RunSummaryText.notices(sampler).utf8))
        monitor = EnergyMonitor(sampler: sampler)
        sampler.start()
    }

    var runID: Int64 { recorder.runID }

    /// Records an event; `payload` is encoded as JSON with sorted keys.
    func event<T: Encodable>(_ kind: String, _ payload: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        recorder.record(EventRecord(tNs: MonotonicClock.nowNs(), kind: kind, payload: json))
    }

    func tokens(_ count: Int) { event("tokens", ["count": count]) }

    /// Stops sampling, records the energy result into the chain and seals it.
    func finish(status: Run.Status = .complete, exitCode: Int32 = 0) throws {
        sampler.stop()
        try recorder.flush()
        recorder.record(RecordedResult(try RunEnergy.compute(ledger: store, run: recorder.runID)).event)
        try recorder.close(status: status, exitCode: exitCode)
    }
}
