import Accounting
import ArgumentParser
import Carbon
import Foundation
import Ledger
import Measures
import Meters
import Reports

/// `wattprint bench-recompute`: how long recomputing a long run takes. Writes one synthetic run of N samples (a
/// RAPL-like package and DRAM counter, a CPU estimate, busy CPU time; phase windows every second) into a scratch
/// ledger through the same library calls a run makes, then times what `show` and `verify` do with it.
struct RecomputeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-recompute",
        abstract: "Time recomputing a run of many samples (what show and verify do), on a synthetic run in a scratch ledger.",
        shouldDisplay: false)

    @Option(help: "Samples in the run (spread over 4 channels), or over all runs with --runs.") var samples = 1_000_000
    @Option(help: "Write this many runs sharing the samples, and time a period report over all of them.") var runs = 1
    @Option(help: "Timed repetitions; the median is reported.") var repetitions = 3
    @Option(help: "Write the synthetic run into this ledger and keep it (to time `show` and `verify` themselves).")
    var keep: String?

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wattprint-recompute-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = try Ledger(path: keep ?? dir.appendingPathComponent("scratch.sqlite").path)
        let write = Date()
        var id: Int64 = 0
        for _ in 0..<runs { id = try Self.synthesize(ledger: ledger, samples: samples / runs) }
        print(
            "wrote \(QuantityFormat.counted(runs, "run")), \(samples) samples in all, in \(String(format: "%.2f", Date().timeIntervalSince(write))) s"
        )
        let carbon = try CarbonTables.load()
        if runs > 1 {
            func timed(_ name: String, _ body: () throws -> Void) rethrows {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                print(String(format: "%-34@ %.3f s", name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            }
            for _ in 0..<repetitions {
                try timed("period report over all runs") {
                    _ = try SustainabilityReportBuilder(ledger: ledger, carbon: carbon, toolVersion: Wattprint.version).build(
                        .init(kind: .period, since: "2000-01-01", groupBy: "workload"))
                }
            }
            return
        }
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            var seconds: [Double] = []
            for _ in 0..<repetitions {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let sorted = seconds.sorted()
            print(
                String(
                    format: "%-34@ median %.3f s (runs: %@)", name, sorted[sorted.count / 2],
                    seconds.map { String(format: "%.3f", $0) }.joined(separator: ", ")))
        }
        try time("read samples") { _ = try ledger.samples(run: id) }
        try time("read events") { _ = try ledger.events(run: id) }
        try time("phases (PhaseEnergy.windows)") { _ = try PhaseEnergy.windows(ledger: ledger, run: id) }
        try time("energy (RunEnergy.compute)") { _ = try RunEnergy.compute(ledger: ledger, run: id) }
        try time("show (RunFootprint.compute)") { _ = try RunFootprint.compute(ledger: ledger, run: id, data: carbon) }
        try time("verify: hash chain") { _ = try ledger.verify(run: id) }
        try time("verify: recorded result") { _ = try RecordedResult.check(ledger: ledger, run: id) }
    }

    static func synthesize(ledger: Ledger, samples: Int) throws -> Int64 {
        let host = HostRecord(
            hostname: "synthetic", cpuModel: "synthetic", cpuCores: 2, memoryBytes: 1 << 34, kernel: "synthetic", gpus: "",
            toolVersion: Wattprint.version, bootID: "synthetic")
        let r = try ledger.beginRun(host: host, command: "synthetic \(samples)-sample run", region: "FR", monotonicOriginNs: 0)
        let channels = [
            MeterChannel(
                key: "rapl:package", device: "cpu-package-0", domain: "package-0", kind: .energy, unit: "uJ", resolution: 1,
                wrapRange: 262_143_328_850, source: "synthetic", mode: .measured, role: .total, uncertainty: 0.05, uncertaintyNote: "",
                deviceClass: .cpuPackage, maxWatts: PowerBound.cpuPackage),
            MeterChannel(
                key: "rapl:dram", device: "dram-0", domain: "dram", kind: .energy, unit: "uJ", resolution: 1, wrapRange: 65_712_999_613,
                source: "synthetic", mode: .measured, role: .total, uncertainty: 0.1, uncertaintyNote: "", deviceClass: .dram,
                maxWatts: PowerBound.dram),
            MeterChannel(
                key: "estimate:cpu", device: "host-cpu", domain: "cpu-utilisation-model", kind: .intervalPower, unit: "W",
                source: "synthetic", mode: .estimated, role: .detail, uncertainty: 0.3, uncertaintyNote: "", deviceClass: .hostCPU,
                maxWatts: PowerBound.platform),
            MeterChannel(
                key: "procfs:host-busy", device: "host-cpu", domain: "busy-cpu-seconds", kind: .cpuTime, unit: "s", source: "synthetic",
                mode: .measured, role: .context, uncertainty: 0, uncertaintyNote: "", deviceClass: .hostCPU, maxWatts: PowerBound.platform),
        ]
        let sink = LedgerSink(recorder: r)
        let index = sink.register(channels)
        r.record(EventRecord(tNs: 0, kind: "sampler_start", payload: #"{"interval_s":0.1,"integration":3,"note":"synthetic","events":1}"#))
        let ticks = samples / channels.count, step = Int64(100_000_000)
        for k in 0..<ticks {
            let t = Int64(k) * step, s = Double(t) / 1e9
            // RAPL counters in µJ wrap at their range, as real ones do.
            let values = [
                (s * 42e6).truncatingRemainder(dividingBy: 262_143_328_850), (s * 3e6).truncatingRemainder(dividingBy: 65_712_999_613),
                40 + Double(k % 7), s * 1.5,
            ]
            for (i, v) in values.enumerated() { sink.record(channel: index[i], tNs: t, value: v) }
            if k % 10 == 0 { r.record(RunEvent.phaseStart(PhaseMark(name: "step")).record(at: t)) }
            if k % 10 == 9 {
                r.record(RunEvent.phaseEnd(PhaseMark(name: "step")).record(at: t))
                r.record(RunEvent.tokens(TokenCount(count: 512, phase: "step")).record(at: t))
            }
            if k % 50_000 == 49_999 { try r.flush() }
        }
        try r.flush()
        r.record(RecordedResult(try RunEnergy.compute(ledger: ledger, run: r.runID)).event)
        try r.close(status: .complete, exitCode: 0)
        return r.runID
    }
}
