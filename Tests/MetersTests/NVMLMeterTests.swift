import Foundation
import TestSupport
import XCTest
@testable import Meters

/// The NVML meter against the fake libnvidia-ml.so.1: the real dlopen/dlsym path, the method order, the
/// cross-check channels, integration of what it reads, and a GPU lost mid-run.
final class NVMLMeterTests: XCTestCase {
    private var variables: [String] = []

    /// Sets `FAKE_NVML_*` for the library's initialisation (cleared after each test), and returns a fresh copy of
    /// the library, which reads them when first initialised.
    private func fake(_ settings: [String: String]) throws -> String {
        for (k, v) in settings { setenv(k, v, 1); variables.append(k) }
        return try FakeNVML.freshCopy()
    }

    override func tearDown() {
        variables.forEach { unsetenv($0) }
        variables = []
    }

    func testTheCounterCountsAndThePowerReadingsAreCrossChecks() throws {
        let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_GPUS": "2"]))
        XCTAssertNil(m.loadError)
        XCTAssertEqual(m.gpus.map(\.index), [0, 1])
        XCTAssertEqual(m.gpus[0].name, "Fake H100 80GB HBM3")
        XCTAssertEqual(m.gpus[0].uuid, FakeNVML.uuid0)
        XCTAssertEqual(m.gpus[0].powerLimitWatts, 700)
        XCTAssertEqual(m.gpus[0].method, .energyCounter)
        XCTAssertEqual(m.gpus[0].crossChecks, [.powerInstant, .powerUsage])

        let gpu0 = m.channels.filter { $0.device == "gpu-0" }
        XCTAssertEqual(
            gpu0.map(\.key),
            [
                "nvml:\(FakeNVML.uuid0)", "nvml:\(FakeNVML.uuid0):instant", "nvml:\(FakeNVML.uuid0):average",
                "nvml:\(FakeNVML.uuid0):utilisation", "nvml:\(FakeNVML.uuid0):memory",
            ])
        XCTAssertEqual(gpu0.map(\.role), [.total, .detail, .detail, .context, .context])
        XCTAssertEqual(gpu0.map(\.kind), [.energy, .power, .power, .context, .context])
        XCTAssertEqual(gpu0.map(\.unit), ["mJ", "mW", "mW", "%", "B"])
        XCTAssertTrue(gpu0.allSatisfy { $0.mode == .measured })
        XCTAssertEqual(m.channels.filter { $0.role == .total }.count, 2, "one counted channel per GPU")

        var values = [Double?](repeating: nil, count: m.channels.count)
        m.read(into: &values, at: 0)
        XCTAssertGreaterThanOrEqual(values[0] ?? 0, 123_456_789, "the counter starts where the driver left it")
        XCTAssertEqual(values[1] ?? 0, FakeNVML.defaultWatts * 1000, accuracy: 1, "POWER_INSTANT in mW, read through nvmlFieldValue_t")
        XCTAssertEqual(values[2] ?? 0, FakeNVML.defaultWatts * 1000, accuracy: 1)
        XCTAssertEqual(values[3], 97, "utilisation.gpu from nvmlUtilization_t")
        XCTAssertEqual(values[4], 10_737_418_240, "memory.used, the third field of nvmlMemory_t")
        XCTAssertEqual(values[6] ?? 0, 2 * FakeNVML.defaultWatts * 1000, accuracy: 1, "GPU 1 draws twice as much")
    }

    func testWithoutTheCounterPOWERINSTANTCountsThenGetPowerUsage() throws {
        do {
            let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_METHODS": "instant,average"]))
            XCTAssertEqual(m.gpus.first?.method, .powerInstant)
            XCTAssertEqual(m.gpus.first?.crossChecks, [.powerUsage])
            XCTAssertEqual(m.channels.first { $0.role == .total }?.source, "nvml POWER_INSTANT field (\(FakeNVML.uuid0))")
        }
        do {
            let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_METHODS": "average"]))
            XCTAssertEqual(m.gpus.first?.method, .powerUsage)
            XCTAssertEqual(m.gpus.first?.crossChecks, [])
            let total = try XCTUnwrap(m.channels.first { $0.role == .total })
            XCTAssertEqual(total.kind, .power)
            XCTAssertGreaterThan(total.uncertainty, NVMLMeter.counterUncertainty, "the 1 s average under-counts: a wider band")
        }
        do {
            let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_METHODS": "none"]))
            XCTAssertTrue(m.gpus.isEmpty)
            XCTAssertEqual(m.blocked.first?.reason, "GPU 0 reports neither energy nor power")
        }
    }

    /// Only NOT_SUPPORTED moves on quietly: a counter refused for another reason is named, with the driver's words.
    func testARefusedCounterIsNamedNotSilentlyReplaced() throws {
        let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_METHODS": "instant,average", "FAKE_NVML_COUNTER_RC": "4"]))
        XCTAssertEqual(m.gpus.first?.method, .powerInstant)
        XCTAssertEqual(m.gpus.first?.refusals, ["energy counter: NVML error 4 (Insufficient Permissions)"])
    }

    func testAGPUThatRefusesEveryReadingIsBlockedWithTheErrorAndAFix() throws {
        let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_METHODS": "none", "FAKE_NVML_COUNTER_RC": "4"]))
        XCTAssertTrue(m.gpus.isEmpty)
        XCTAssertEqual(m.blocked.first?.reason, "GPU 0 refused every reading: energy counter: NVML error 4 (Insufficient Permissions)")
        XCTAssertEqual(m.blocked.first?.fixes.count, 1)
        XCTAssertTrue(m.blocked.first?.fixes.first?.contains("user the driver lets query") ?? false)
    }

    func testAFailedInitialisationNamesTheNVMLError() throws {
        let m = NVMLMeter(libraryPath: try fake(["FAKE_NVML_INIT_RC": "9"]))
        XCTAssertEqual(m.loadError, .initFailed(9))
        XCTAssertTrue("\(m.loadError!)".contains("driver not loaded"))
        XCTAssertTrue(m.channels.isEmpty)
    }

    private func sampled(_ settings: [String: String], seconds: Double) throws -> (MeterSet, Sampler, MemorySink) {
        let t = try FakeSystemTree()
        try t.proc()
        let set = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: try fake(settings)), perfOpener: FakePerfOpener())
        let sink = MemorySink()
        let sampler = Sampler(meters: set, interval: 0.02, flushInterval: 0.5, sink: sink)
        sampler.start()
        usleep(UInt32(seconds * 1e6))
        sampler.stop()
        return (set, sampler, sink)
    }

    private func span(_ sink: MemorySink, channel: Int) -> Double {
        let t = sink.samples.filter { $0.channel == channel }.map(\.tNs)
        guard let first = t.min(), let last = t.max() else { return 0 }
        return Double(last - first) / 1e9
    }

    func testASlowIntervalOverIntegratedGPUPowerIsSaidOutLoud() throws {
        let t = try FakeSystemTree()
        try t.proc()
        let counted = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: try fake([:])), perfOpener: FakePerfOpener())
        XCTAssertEqual(Sampler(meters: counted, interval: 1, sink: nil).caveats, [], "a counter misses nothing between reads")
        let integrated = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: try fake(["FAKE_NVML_METHODS": "instant"])),
            perfOpener: FakePerfOpener())
        XCTAssertEqual(Sampler(meters: integrated, interval: 0.1, sink: nil).caveats, [])
        let caveats = Sampler(meters: integrated, interval: 1, sink: nil).caveats
        XCTAssertEqual(caveats.count, 1)
        XCTAssertTrue(caveats.first?.contains("--interval 0.1") ?? false)
    }

    func testSampledEnergyMatchesWhatTheGPUDrew() throws {
        let (set, sampler, sink) = try sampled(["FAKE_NVML_GPUS": "1"], seconds: 1.0)
        let key = "nvml:\(FakeNVML.uuid0)"
        let counter = try XCTUnwrap(set.channels.firstIndex { $0.key == key })
        let instant = try XCTUnwrap(set.channels.firstIndex { $0.key == key + ":instant" })
        let energies = sampler.energies()
        // Constant power: the trapezoid over POWER_INSTANT is exact; the counter steps every 100 ms, so each end
        // of the span can be off by one step.
        let truth = FakeNVML.defaultWatts * span(sink, channel: instant)
        XCTAssertEqual(energies[instant].joules, truth, accuracy: truth * 1e-4)
        XCTAssertEqual(
            energies[counter].joules, FakeNVML.defaultWatts * span(sink, channel: counter),
            accuracy: FakeNVML.defaultWatts * 0.1 + 1e-3)
        // Utilisation is context: read at most once a second (and at start and stop), never a gap between.
        let utilisation = try XCTUnwrap(set.channels.firstIndex { $0.key == key + ":utilisation" })
        let contextReads = sink.samples.filter { $0.channel == utilisation }.count
        XCTAssertGreaterThanOrEqual(contextReads, 2)
        XCTAssertLessThanOrEqual(contextReads, 4)
        XCTAssertGreaterThan(sink.samples.filter { $0.channel == counter }.count, 10 * contextReads)
        XCTAssertTrue(sink.gapKeys.isEmpty)
        XCTAssertFalse(set.channels.contains { $0.key == "estimate:gpu" })
        XCTAssertEqual(set.channels.filter { $0.role == .total && $0.device.hasPrefix("gpu") }.map(\.key), [key])
    }

    func testAGPULostMidRunEndsItsChannelWithAGapAndTheOthersGoOn() throws {
        // The probe reads the counter once; the loss comes after 10 sampled reads (about 0.2 s at 50 Hz).
        let (set, sampler, sink) = try sampled(["FAKE_NVML_GPUS": "2", "FAKE_NVML_LOST_AFTER": "11"], seconds: 0.8)
        let lost = try XCTUnwrap(set.channels.firstIndex { $0.key == "nvml:\(FakeNVML.uuid0)" })
        let other = try XCTUnwrap(set.channels.firstIndex { $0.role == .total && $0.device == "gpu-1" })
        XCTAssertTrue(sink.gapKeys.contains("nvml:\(FakeNVML.uuid0)"))
        XCTAssertFalse(sink.gapKeys.contains { $0.contains("000000000001") })
        let energies = sampler.energies()
        XCTAssertEqual(sink.samples.filter { $0.channel == lost }.count, 10, "no readings after the GPU was lost")
        XCTAssertGreaterThan(span(sink, channel: other), span(sink, channel: lost))
        XCTAssertEqual(
            energies[lost].joules, FakeNVML.defaultWatts * span(sink, channel: lost), accuracy: FakeNVML.defaultWatts * 0.1 + 1e-3,
            "energy up to the loss is kept")
    }
}

/// The stand-in driver's fault modes (stuck, glitch, reset) through the real dlopen path and the live sampler, whose
/// decisions a recomputation from its raw samples must repeat.
final class NVMLFaultTests: XCTestCase {
    private var variables: [String] = []
    override func tearDown() {
        variables.forEach { unsetenv($0) }
        variables = []
    }

    private func sampled(_ settings: [String: String], seconds: Double) throws -> (MeterSet, Sampler, MemorySink) {
        for (k, v) in settings { setenv(k, v, 1); variables.append(k) }
        let t = try FakeSystemTree()
        try t.proc()
        let set = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: try FakeNVML.freshCopy()),
            perfOpener: FakePerfOpener())
        let sink = MemorySink()
        let sampler = Sampler(meters: set, interval: 0.05, flushInterval: 0.5, sink: sink)
        sampler.start()
        usleep(UInt32(seconds * 1e6))
        sampler.stop()
        return (set, sampler, sink)
    }

    private func gpuSpan(_ sink: MemorySink, _ channel: Int) -> Double {
        let t = sink.samples.filter { $0.channel == channel }.map(\.tNs)
        return Double((t.max() ?? 0) - (t.min() ?? 0)) / 1e9
    }

    /// The recomputation from the sink's raw samples reaches the live sampler's energies and decisions.
    private func assertRecomputationAgrees(
        _ set: MeterSet, _ sampler: Sampler, _ sink: MemorySink, file: StaticString = #filePath, line: UInt = #line
    ) {
        let replay = RunIntegrator(channels: set.channels.map(RunIntegrator.Channel.init))
        let byTime = Dictionary(grouping: sink.samples, by: \.tNs)
        for t in byTime.keys.sorted() {
            for s in byTime[t]! { replay.add(s.channel, tNs: t, value: s.value) }
            replay.finishTick(tNs: t)
        }
        replay.finish()
        XCTAssertEqual(replay.countedJoules, sampler.countedJoules(), file: file, line: line)
        XCTAssertEqual(replay.anomalies, sampler.anomalies(), file: file, line: line)
        let recorded = sink.anomalies
        XCTAssertEqual(recorded, sampler.anomalies(), "every decision was recorded as an event", file: file, line: line)
    }

    /// A counter that answers but never advances while the GPU draws 250 W: POWER_INSTANT counts, from the start.
    func testAStuckCounterIsReplacedByPOWERINSTANTFromItsLastMove() throws {
        let (set, sampler, sink) = try sampled(["FAKE_NVML_COUNTER_STUCK": "1", "FAKE_NVML_WATTS": "250"], seconds: 2)
        let counter = try XCTUnwrap(set.channels.firstIndex { $0.key == "nvml:\(FakeNVML.uuid0)" })
        let instant = try XCTUnwrap(set.channels.firstIndex { $0.key == "nvml:\(FakeNVML.uuid0):instant" })
        let counted = sampler.countedJoules()
        XCTAssertEqual(counted[counter], 0)
        XCTAssertEqual(counted[instant], 250 * gpuSpan(sink, instant), accuracy: 250 * 0.01)
        let stuck = try XCTUnwrap(sampler.anomalies().first { $0.kind == .stuck })
        XCTAssertEqual(stuck.channel, counter)
        XCTAssertEqual(stuck.switchedTo, instant)
        assertRecomputationAgrees(set, sampler, sink)
    }

    /// One far-too-low counter reading, then the right values: a glitch, bridged; the energy is what the GPU drew.
    func testAFarTooLowCounterReadingIsAGlitch() throws {
        let (set, sampler, sink) = try sampled(["FAKE_NVML_GLITCH_AT": "10", "FAKE_NVML_WATTS": "250"], seconds: 1.5)
        let counter = try XCTUnwrap(set.channels.firstIndex { $0.key == "nvml:\(FakeNVML.uuid0)" })
        XCTAssertEqual(sampler.anomalies().map(\.kind), [.glitch])
        XCTAssertEqual(sampler.anomalies().first?.value, 1000)
        XCTAssertEqual(sampler.countedJoules()[counter], 250 * gpuSpan(sink, counter), accuracy: 250 * 0.1 + 1e-3)
        assertRecomputationAgrees(set, sampler, sink)
    }

    /// The driver reloads and the counter restarts from 0: a reset, its interval unmeasured, the rest counted.
    func testACounterRestartingFromZeroIsAReset() throws {
        let (set, sampler, sink) = try sampled(["FAKE_NVML_RESET_AT": "10", "FAKE_NVML_WATTS": "250"], seconds: 1.5)
        let counter = try XCTUnwrap(set.channels.firstIndex { $0.key == "nvml:\(FakeNVML.uuid0)" })
        XCTAssertEqual(sampler.anomalies().map(\.kind), [.reset])
        let unmeasured = sampler.energies()[counter].unmeasuredSeconds
        XCTAssertGreaterThan(unmeasured, 0)
        XCTAssertEqual(sampler.countedJoules()[counter], 250 * (gpuSpan(sink, counter) - unmeasured), accuracy: 250 * 0.2 + 1e-3)
        assertRecomputationAgrees(set, sampler, sink)
    }
}
