import Foundation
import Ledger
import Measures
import Meters
import Accounting
import Reports

/// Measures the sampler's cost (`OverheadReport`).
struct OverheadBenchmark {
    var seconds: Double
    var repetitions = 7

    func run() throws -> OverheadReport {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wattprint-overhead-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = try Ledger(path: dir.appendingPathComponent("scratch.sqlite").path)
        let meters = MeterSet.discover(.init(processRoot: getpid()))
        let host = meters.ledgerHost(toolVersion: Wattprint.version)
        var rates: [OverheadReport.Rate] = []
        for hz in [10.0, 100.0] {
            let recorder = try ledger.beginRun(host: host, command: "overhead \(hz) Hz", region: nil)
            let sampler = Sampler(meters: meters, interval: 1 / hz, sink: LedgerSink(recorder: recorder))
            sampler.start()
            usleep(useconds_t(seconds * 1e6))
            let o = sampler.stop()
            try recorder.close()
            rates.append(
                .init(
                    hz: hz, ticks: o.ticks, cpuSeconds: o.cpuSeconds, wallSeconds: o.wallSeconds,
                    percentOfOneCore: o.fractionOfOneCore * 100))
        }
        var without: [Double] = [], with: [Double] = []
        let units = calibrate()
        for _ in 0..<repetitions {
            without.append(timeWorkload(units))
            let recorder = try ledger.beginRun(host: host, command: "overhead workload", region: nil)
            let sampler = Sampler(meters: meters, interval: 0.01, sink: LedgerSink(recorder: recorder))
            sampler.start()
            with.append(timeWorkload(units))
            sampler.stop()
            try recorder.close()
        }
        let mw = median(without), mwith = median(with)
        let spread = (without.max()! - without.min()!) / 2 / mw * 100
        return OverheadReport(
            rates: rates, workloadRepetitions: repetitions, workloadMedianSecondsWithout: mw,
            workloadMedianSecondsWith: mwith, workloadSlowdownPercent: (mwith / mw - 1) * 100,
            workloadSpreadPercent: spread)
    }

    func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Work units that take about one second on all cores.
    func calibrate() -> Int {
        var units = 1 << 20
        while true {
            let t = timeWorkload(units)
            if t > 0.25 { return Int(Double(units) / t) }
            units *= 4
        }
    }

    /// A fixed integer-mixing loop per core: pure CPU, no memory traffic, so any slowdown is the sampler's.
    func timeWorkload(_ units: Int) -> Double {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let t0 = MonotonicClock.nowNs()
        let sink = UnsafeMutablePointer<UInt64>.allocate(capacity: cores)
        defer { sink.deallocate() }
        DispatchQueue.concurrentPerform(iterations: cores) { c in
            var x = UInt64(c + 1)
            for _ in 0..<units { x = (x ^ (x >> 29)) &* 0xBF58476D1CE4E5B9 &+ 0x94D049BB133111EB }
            sink[c] = x
        }
        return Double(MonotonicClock.nowNs() - t0) / 1e9
    }
}
