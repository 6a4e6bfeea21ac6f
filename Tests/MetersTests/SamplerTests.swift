import Foundation
import Measures
import TestSupport
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
    /// Added to every channel index, to tell sinks' numberings apart.
    let offset: Int
    init(offset: Int = 0) { self.offset = offset }
    func register(_ channels: [MeterChannel]) -> [Int] { self.channels = channels; return channels.indices.map { $0 + offset } }
    func record(channel: Int, tNs: Int64, value: Double) { lock.lock(); samples.append((channel, tNs, value)); lock.unlock() }
    func event(tNs: Int64, _ event: SamplerEvent) { lock.lock(); events.append(event); lock.unlock() }
    func energy(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double) {
        lock.lock(); energies.append((channel, fromNs, toNs, joules, counted)); lock.unlock()
    }
    /// Keys of the channels that had a gap.
    var gapKeys: [String] {
        events.compactMap {
            if case let .channelGap(_, key) = $0 { return key }; return nil
        }
    }
    var anomalies: [ReadingAnomaly] {
        events.compactMap {
            if case let .anomaly(a) = $0 { return a }; return nil
        }
    }
    func flush() throws { lock.lock(); flushes += 1; lock.unlock() }
}

final class SamplerTests: XCTestCase {
    private func meters(_ t: FakeSystemTree) -> MeterSet {
        MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"),
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
        try t.setEnergy("intel-rapl:0", 1_000_000) // wrapped: 328_850 + one 61.035 µJ unit + 1_000_000 µJ
        usleep(50_000)
        try t.remove("sys/class/powercap/intel-rapl:1") // socket 1 vanishes mid-run
        usleep(50_000)
        sink.lock.lock(); let flushesWhileRunning = sink.flushes; sink.lock.unlock()
        let overhead = sampler.stop()
        let pkg0 = set.channels.firstIndex { $0.key == "rapl:intel-rapl:0" }!
        let energy = sampler.energies()[pkg0]
        XCTAssertEqual(energy.wraps, 1)
        XCTAssertEqual(energy.joules, (328_850 + 262_143_328_850 / Wraparound.counterMaximum + 1_000_000) * 1e-6, accuracy: 1e-12)
        XCTAssertTrue(sink.gapKeys.contains("rapl:intel-rapl:1"), "\(sink.gapKeys)")
        XCTAssertTrue(
            sink.events.contains {
                if case .overhead = $0 { return true }; return false
            })
        XCTAssertGreaterThanOrEqual(flushesWhileRunning, 1, "the thread flushed on its 50 ms pace before stop flushed")
        XCTAssertGreaterThan(overhead.ticks, 2, "readings taken by the thread, beside the forced start and stop readings")
        XCTAssertGreaterThan(overhead.cpuSeconds, 0)
        XCTAssertEqual(
            EnergyAccumulator.integrate(
                sink.samples.filter { $0.channel == pkg0 }.map { ($0.tNs, $0.value) },
                kind: .energy, toSI: 1e-6, wrapRange: 262_143_328_850
            ).joules,
            energy.joules, "recomputing from the raw samples gives the live figure")
    }

    /// Samples reach the ledger within the flush interval even when readings are further apart.
    func testFlushesKeepTheirPaceWhenReadingsAreRare() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0", energy: 0)
        try t.proc()
        let sink = MemorySink()
        let clock = ManualClock()
        let sampler = Sampler(meters: meters(t), interval: 30, flushInterval: 0.1, sink: sink, clock: clock)
        sampler.start()
        clock.waitForSleeper()
        for _ in 0..<6 { clock.advance(seconds: 0.1) }
        sink.lock.lock(); let flushes = sink.flushes; sink.lock.unlock()
        let overhead = sampler.stop()
        XCTAssertEqual(flushes, 6, "one flush per 0.1 s, not one per 30 s reading")
        XCTAssertEqual(overhead.ticks, 2, "only the start and stop readings: stop does not wait for the next one")
    }

    func testIntervalIsShortenedByTheWrapRule() throws {
        let t = try FakeSystemTree()
        try t.zone("intel-rapl:0", name: "package-0", range: 3_000_000) // 3 J range: at a package's 1000 W bound it wraps in 3 ms
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

/// The sampler on a manual clock: every reading and flush counted exactly, no sleeping.
final class ManualClockSamplerTests: XCTestCase {
    private func channel(_ key: String) -> MeterChannel {
        MeterChannel(
            key: key, device: "gpu-0", domain: "energy", kind: .energy, unit: "J", source: "script", mode: .measured,
            role: .total, uncertainty: 0.05, uncertaintyNote: "", deviceClass: .gpu, maxWatts: PowerBound.legacy)
    }

    /// Ten readings a second and a flush a second: after 1 s of the clock, 1 + 10 readings and 1 flush; stop adds one
    /// reading and one flush. Each interval's energy reaches the sink with the reading.
    func testReadingsFlushesAndIntervalEnergyFollowTheClockExactly() throws {
        let clock = ManualClock()
        let meter = ScriptedMeter(channels: [channel("gpu")]) { read in [Double(read) * 25] } // 25 J a reading: 250 W at 10 Hz
        let set = MeterSet(meters: [meter], host: HostDescription.current(paths: SystemPaths()))
        let sink = MemorySink()
        let sampler = Sampler(meters: set, interval: 0.1, flushInterval: 1, sink: sink, clock: clock)
        sampler.start()
        clock.waitForSleeper()
        XCTAssertEqual(sampler.readings, 1, "the forced reading at start")
        for _ in 0..<10 { clock.advance(seconds: 0.1) }
        XCTAssertEqual(sampler.readings, 11)
        sink.lock.lock(); XCTAssertEqual(sink.flushes, 1, "one flush at 1 s"); sink.lock.unlock()
        let overhead = sampler.stop()
        XCTAssertEqual(overhead.ticks, 12)
        XCTAssertEqual(sink.flushes, 2)
        XCTAssertEqual(overhead.wallSeconds, 1, accuracy: 1e-9)
        XCTAssertEqual(sink.energies.count, 11, "an energy per interval")
        XCTAssertEqual(sink.energies.map(\.joules).reduce(0, +), 11 * 25, accuracy: 1e-9)
        XCTAssertEqual(sink.energies.map(\.counted).reduce(0, +), sampler.countedJoules()[0], accuracy: 1e-9)
        XCTAssertEqual(sink.energies.first?.fromNs, 1_000_000_000)
        XCTAssertEqual(sink.energies.first?.toNs, 1_100_000_000)
    }

    /// Two sinks hear the same readings and events, each in its own numbering.
    func testTheSamplerFansOutToEverySink() throws {
        let clock = ManualClock()
        let meter = ScriptedMeter(channels: [channel("a"), channel("b")]) { read in [Double(read), read == 2 ? nil : Double(read)] }
        let set = MeterSet(meters: [meter], host: HostDescription.current(paths: SystemPaths()))
        let first = MemorySink(), second = MemorySink(offset: 10)
        let sampler = Sampler(meters: set, interval: 0.1, flushInterval: 1, sinks: [first, second], clock: clock)
        sampler.start()
        clock.waitForSleeper()
        for _ in 0..<4 { clock.advance(seconds: 0.1) }
        sampler.stop()
        XCTAssertEqual(first.samples.count, second.samples.count)
        XCTAssertEqual(first.samples.map(\.channel).map { $0 + 10 }, second.samples.map(\.channel))
        XCTAssertEqual(first.gapKeys, ["b"])
        XCTAssertEqual(second.gapKeys, ["b"])
        XCTAssertTrue(second.events.contains(.channelResumed(channel: 11)))
    }
}
