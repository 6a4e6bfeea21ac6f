import Accounting
import Benchmarks
import Foundation
import Ledger
import Meters

/// A ledger run whose one energy counter draws a known power in each kind of window, read at every transition on
/// the wall clock: what a benchmark measures is then known exactly (energy = power × the window's duration), while
/// the engine does its real work in between.
public final class LedgerPhaseRecorder: PhaseRecorder {
    static let host = HostRecord(
        hostname: "test-host", cpuModel: "test CPU", cpuCores: 2, memoryBytes: 1 << 34, kernel: "test", gpus: "", toolVersion: "test",
        bootID: "00000000-0000-0000-0000-000000000000")

    public let ledger: Ledger
    public let run: RunRecorder
    let sink: LedgerSink
    let index: [Int]
    /// Watts drawn in an idle window and in any other; `powerAfter` replaces the idle figure for the idle-after window.
    let idleWatts: Double, workWatts: Double
    public var idleAfterWatts: Double?
    private var open: [PhaseMark] = []
    private var lastNs: Int64
    private var joules = 0.0
    let origin = DispatchTime.now().uptimeNanoseconds

    /// CPU-seconds the run's process tree and the whole host are busy per second of the run, when the run records them
    /// (its attribution); nil: no CPU-time channels.
    let cpuRates: (tree: Double, host: Double)?

    /// - Parameters:
    ///   - command: the command line the run records.
    ///   - cpuRates: CPU-seconds a second for the process tree and the host (so the tree's share of the host's busy time
    ///     is tree ÷ host); nil records none.
    public init(
        ledger: Ledger, idleWatts: Double = 5, workWatts: Double = 20, settings: FootprintSettings, command: String = "bench test",
        cpuRates: (tree: Double, host: Double)? = nil
    ) throws {
        self.ledger = ledger
        self.idleWatts = idleWatts
        self.workWatts = workWatts
        self.cpuRates = cpuRates
        run = try ledger.beginRun(
            host: Self.host, command: command, region: "FR", startedAt: Date(), monotonicOriginNs: 0, pid: getpid())
        sink = LedgerSink(recorder: run)
        var channels = [
            MeterChannel(
                key: "test:package", device: "cpu-package-0", domain: "package-0", kind: .energy, unit: "J", resolution: 1e-6,
                source: "test", mode: .measured, role: .total, uncertainty: 0.02, uncertaintyNote: "test", deviceClass: .cpuPackage,
                maxWatts: PowerBound.cpuPackage)
        ]
        if cpuRates != nil {
            channels += [
                MeterChannel(
                    key: "procfs:host-busy", device: "host-cpu", domain: "busy-cpu-seconds", kind: .cpuTime, unit: "s", source: "test",
                    mode: .measured, role: .context, uncertainty: 0, uncertaintyNote: "test", deviceClass: .hostCPU,
                    maxWatts: PowerBound.platform),
                MeterChannel(
                    key: "procfs:tree-1", device: "process-tree-1", domain: "busy-cpu-seconds", kind: .cpuTime, unit: "s", source: "test",
                    mode: .measured, role: .context, uncertainty: 0, uncertaintyNote: "test", deviceClass: .processTree,
                    maxWatts: PowerBound.platform),
            ]
        }
        index = sink.register(channels)
        run.record(EventRecord(tNs: 0, kind: "sampler_start", payload: #"{"interval_s":0.1,"integration":3,"note":"test","events":1}"#))
        run.record(RunEvent.footprintSettings(settings).record(at: 0))
        lastNs = 0
        sink.record(channel: index[0], tNs: 0, value: 0)
    }

    var nowNs: Int64 { Int64(DispatchTime.now().uptimeNanoseconds - origin) + 1 }

    /// Advances the counter to now at the power of the window open (idle, work, or nothing open: idle).
    private func read() -> Int64 {
        let t = max(nowNs, lastNs + 1)
        let watts: Double
        if open.contains(where: { $0.name == "idle-after" }) {
            watts = idleAfterWatts ?? idleWatts
        } else if open.isEmpty || open.allSatisfy({ $0.name.hasPrefix("idle") }) {
            watts = idleWatts
        } else {
            watts = workWatts
        }
        joules += watts * Double(t - lastNs) / 1e9
        lastNs = t
        sink.record(channel: index[0], tNs: t, value: joules)
        if let cpuRates {
            sink.record(channel: index[1], tNs: t, value: cpuRates.host * Double(t) / 1e9)
            sink.record(channel: index[2], tNs: t, value: cpuRates.tree * Double(t) / 1e9)
        }
        return t
    }

    public func transition(ending: [PhaseMark], beginning: [PhaseMark]) {
        let t = read()
        for mark in ending {
            run.record(RunEvent.phaseEnd(mark).record(at: t))
            if let i = open.firstIndex(of: mark) { open.remove(at: i) }
        }
        for mark in beginning {
            run.record(RunEvent.phaseStart(mark).record(at: t))
            open.append(mark)
        }
    }

    public func record(_ event: RunEvent) { run.record(event.record(at: max(nowNs, lastNs))) }

    public func finish() throws {
        _ = read()
        try run.flush()
    }
}
