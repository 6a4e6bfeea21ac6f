import Foundation
import Ledger
import Meters
import Accounting

/// A ledger whose one run is the same bytes on every machine: fixed host, times, pid and readings, written through
/// the library as a run would write it (channels, a glitch the rules reject, the decisions as anomaly events, the
/// settings, attribution, tokens, the recorded result), so `show` and `verify` print the same text everywhere.
enum FixedLedger {
    static let host = HostRecord(
        hostname: "golden-host", cpuModel: "Intel(R) Xeon(R) Gold 5118 CPU @ 2.30GHz", cpuCores: 4,
        memoryBytes: 16_000_000_000, kernel: "6.1.0-golden", gpus: "", toolVersion: "golden",
        bootID: "00000000-0000-0000-0000-000000000000")
    static let start = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-17T…Z

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    static func make(at path: String) throws {
        let ledger = try Ledger(path: path)
        let s = Int64(1_000_000_000)
        // A pid no process has, so the genesis does not depend on this machine's process table.
        let r = try ledger.beginRun(
            host: host, command: "python train.py --epochs 1", region: "FR", startedAt: start,
            monotonicOriginNs: 0, pid: 2_000_000_000)
        let channels = [
            MeterChannel(
                key: "rapl:intel-rapl:0", device: "cpu-package-0", domain: "package-0", kind: .energy, unit: "uJ", resolution: 1,
                wrapRange: 262_143_328_850, source: "/sys/class/powercap/intel-rapl:0/energy_uj", mode: .measured, role: .total,
                uncertainty: 0.05, uncertaintyNote: "RAPL", deviceClass: .cpuPackage, maxWatts: PowerBound.cpuPackage),
            MeterChannel(
                key: "rapl:intel-rapl:0:0", device: "dram-0", domain: "dram", kind: .energy, unit: "uJ", resolution: 1,
                wrapRange: 65_712_999_613, source: "/sys/class/powercap/intel-rapl:0:0/energy_uj", mode: .measured, role: .total,
                uncertainty: 0.1, uncertaintyNote: "RAPL", deviceClass: .dram, maxWatts: PowerBound.dram),
            MeterChannel(
                key: "estimate:cpu", device: "host-cpu", domain: "cpu-utilisation-model", kind: .intervalPower, unit: "W",
                source: "estimate from /proc/stat", mode: .estimated, role: .detail, uncertainty: 0.3, uncertaintyNote: "TDP",
                deviceClass: .hostCPU, maxWatts: PowerBound.platform),
            MeterChannel(
                key: "procfs:host-busy", device: "host-cpu", domain: "busy-cpu-seconds", kind: .cpuTime, unit: "s",
                source: "/proc/stat", mode: .measured, role: .context, uncertainty: 0, uncertaintyNote: "kernel",
                deviceClass: .hostCPU, maxWatts: PowerBound.platform),
            MeterChannel(
                key: "procfs:tree-4242", device: "process-tree-4242", domain: "busy-cpu-seconds", kind: .cpuTime, unit: "s",
                source: "/proc/4242/stat and descendants", mode: .measured, role: .context, uncertainty: 0,
                uncertaintyNote: "kernel", deviceClass: .processTree, maxWatts: PowerBound.platform),
        ]
        let sink = LedgerSink(recorder: r)
        let index = sink.register(channels)
        r.record(
            EventRecord(
                tNs: 0, kind: "sampler_start", payload: "{\"interval_s\":0.5,\"integration\":3,\"note\":\"0.5 s; wrap bound 131 s\"}"))
        r.record(
            EventRecord(
                tNs: 0, kind: "meter_decisions",
                payload: String(
                    decoding: try encoder.encode([
                        MeterDecision(
                            kind: .skipped, subject: "/sys/class/powercap/dtpm:0",
                            reason: "a zone of control type 'dtpm', which wattprint does not read")
                    ]), as: UTF8.self)))
        r.record(EventRecord(tNs: 0, kind: FootprintSettings.eventKind, payload: #"{"pue":1.2,"region":{"origin":"flag","query":"FR"}}"#))
        r.record(
            EventRecord(
                tNs: 0, kind: AttributionRecord.eventKind,
                payload: #"{"detail":"cgroup v2 /sys/fs/cgroup/wattprint-run-4242","method":"cgroup"}"#))
        let integrator = RunIntegrator(channels: channels.map(RunIntegrator.Channel.init))
        let half = s / 2
        for k in 0...8 {
            let t = Int64(k) * half
            let seconds = Double(t) / 1e9
            let package = k == 5 ? 18_446_744_073_447_456_768 : 9_000_000_000 + seconds * 42e6
            let values: [Double] = [package, 1_000_000 + seconds * 3e6, k == 0 ? 0 : 55, 100 + seconds * 1.5, 7 + seconds * 1.2]
            for (i, v) in values.enumerated() {
                integrator.add(i, tNs: t, value: v)
                sink.record(channel: index[i], tNs: t, value: v)
            }
            for a in integrator.finishTick(tNs: t) {
                r.record(
                    EventRecord(
                        tNs: t, kind: "anomaly", payload: String(decoding: try encoder.encode(a.renumbered { index[$0] }), as: UTF8.self)))
            }
            if k == 4 { r.record(EventRecord(tNs: t, kind: "tokens", payload: "{\"count\":2048}")) }
        }
        r.record(
            EventRecord(tNs: 4 * s, kind: "sampler_overhead", payload: "{\"cpu_s\":0.002,\"wall_s\":4,\"ticks\":9,\"interval_s\":0.5}"))
        try r.flush()
        let result = RecordedResult(try RunEnergy.compute(ledger: ledger, run: r.runID)).event
        r.record(EventRecord(tNs: 4 * s, kind: result.kind, payload: result.payload))
        try r.close(status: .complete, exitCode: 0, endedAt: start.addingTimeInterval(4))
    }
}
