import Foundation
import Measures
import XCTest
@testable import Meters

/// Collects what the sampler sends.
final class MemorySink: SampleSink, @unchecked Sendable {
    let lock = NSLock()
    var channels: [MeterChannel] = []
    var samples: [(channel: Int, tNs: Int64, value: Double)] = []
    var events: [SamplerEvent] = []
    var energies: [(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double)] = []
    var flushes = 0
    func register(_ channels: [MeterChannel]) -> [Int] { self.channels = channels; return Array(channels.indices) }
    func record(channel: Int, tNs: Int64, value: Double) { lock.lock(); samples.append((channel, tNs, value)); lock.unlock() }
    func event(tNs: Int64, _ event: SamplerEvent) { lock.lock(); events.append(event); lock.unlock() }
    func energy(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double) {
        lock.lock(); energies.append((channel, fromNs, toNs, joules, counted)); lock.unlock()
    }
    /// Keys of the channels that had a gap.
    var gapKeys: [String] { events.compactMap { if case let .channelGap(_, key) = $0 { return key }; return nil } }
    var anomalies: [ReadingAnomaly] { events.compactMap { if case let .anomaly(a) = $0 { return a }; return nil } }
    func flush() throws { lock.lock(); flushes += 1; lock.unlock() }
}

final class SamplerTests: XCTestCase {
    private func meters(_ t: FakeSystemTree) -> MeterSet {
        MeterSet.discover(.init(paths: t.paths, useLibsensors: false, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"),
                          perfOpener: FakePerfOpener())
    }

    func testSamplesIntegrateWrapsRecordsGapsAndMeasuresItself() throws {
        let t = try FakeSystemTree()
        try RAPLLayouts.twoSocketXeon(t)
        try t.proc()
        try t.setEnergy("intel-rapl:0", 262_143_000_000)
        let set = meters(t)
        let sink = MemorySink()
        let sampler = Sampler(meters: set, interval: 0.01, flushInterval: 0.05, sink: sink)
        sampler.start()
        usleep(50_000)
        try t.setEnergy("intel-rapl:0", 1_000_000)        // wrapped: 328_850 + one 61.035 µJ unit + 1_000_000 µJ
        usleep(50_000)
        try t.remove("sys/class/powercap/intel-rapl:1")   // socket 1 vanishes mid-run
        usleep(50_000)
        sink.lock.lock(); let flushesWhileRunning = sink.flushes; sink.lock.unlock()
        let overhead = sampler.stop()
        let pkg0 = set.channels.firstIndex { $0.key == "rapl:intel-rapl:0" }!
        let energy = sampler.energies()[pkg0]
        XCTAssertEqual(energy.wraps, 1)
        XCTAssertEqual(energy.joules, (328_850 + 262_143_328_850 / Wraparound.counterMaximum + 1_000_000) * 1e-6, accuracy: 1e-12)
        XCTAssertTrue(sink.gapKeys.contains("rapl:intel-rapl:1"), "\(sink.gapKeys)")
        XCTAssertTrue(sink.events.contains { if case .overhead = $0 { return true }; return false })
        XCTAssertGreaterThanOrEqual(flushesWhileRunning, 1, "the thread flushed on its 50 ms pace before stop flushed")
        XCTAssertGreaterThan(overhead.ticks, 2, "readings taken by the thread, beside the forced start and stop readings")
        XCTAssertGreaterThan(overhead.cpuSeconds, 0)
        XCTAssertEqual(EnergyAccumulator.integrate(sink.samples.filter { $0.channel == pkg0 }.map { ($0.tNs, $0.value) },
                                                   kind: .energy, toSI: 1e-6, wrapRange: 262_143_328_850).joules,
                       energy.joules, "recomputing from the raw samples gives the live figure")
    }

    /// Samples reach the ledger within the flush interval even when readings are further apart.
    func testFlushesKeepTheirPaceWhenReadingsAreRare() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0", energy: 0)
        try t.proc()
        let sink = MemorySink()
        let sampler = Sampler(meters: meters(t), interval: 30, flushInterval: 0.1, sink: sink)
        sampler.start()
        usleep(650_000)
        sink.lock.lock(); let flushes = sink.flushes; sink.lock.unlock()
        let begun = MonotonicClock.nowNs()
        let overhead = sampler.stop()
        XCTAssertGreaterThanOrEqual(flushes, 2, "about one flush per 0.1 s, not one per 30 s reading")
        XCTAssertLessThan(Double(MonotonicClock.nowNs() - begun) / 1e9, 2, "stop does not wait for the next reading")
        XCTAssertEqual(overhead.ticks, 2, "only the start and stop readings")
    }

    func testIntervalIsShortenedByTheWrapRule() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0", range: 3_000_000)   // 3 J range: at a package's 1000 W bound it wraps in 3 ms
        try t.proc()
        let sampler = Sampler(meters: meters(t), interval: 0.1, sink: nil)
        XCTAssertEqual(sampler.interval, 3.0 / PowerBound.cpuPackage * 0.5, accuracy: 1e-12)
        XCTAssertTrue(sampler.intervalNote.contains("shortened"))
    }

    func testMeasurementWindowsNestAndRejectMisuse() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0", energy: 0)
        try t.proc()
        let sampler = Sampler(meters: meters(t), interval: 0.5, sink: nil)
        sampler.start()
        let monitor = EnergyMonitor(sampler: sampler)
        try monitor.begin("train")
        try t.setEnergy("intel-rapl:0", 2_000_000)
        try monitor.begin("step")
        try t.setEnergy("intel-rapl:0", 3_000_000)
        let step = try monitor.end("step")
        try t.setEnergy("intel-rapl:0", 5_000_000)
        let train = try monitor.end("train")
        sampler.stop()
        XCTAssertEqual(step.joulesByChannel["rapl:intel-rapl:0"]!, 1.0, accuracy: 1e-12)
        XCTAssertEqual(train.joulesByChannel["rapl:intel-rapl:0"]!, 5.0, accuracy: 1e-12)
        XCTAssertThrowsError(try monitor.end("train")) { XCTAssertEqual($0 as? EnergyMonitor.WindowError, .notOpen("train")) }
        try monitor.begin("x")
        XCTAssertThrowsError(try monitor.begin("x")) { XCTAssertEqual($0 as? EnergyMonitor.WindowError, .alreadyOpen("x")) }
    }
}
