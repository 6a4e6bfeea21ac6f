import Foundation
import Measures
import TestSupport
import XCTest
@testable import Meters

/// The faults public reports describe against energy tools, replayed through the accumulator and the run
/// integrator (integration rules version 3), each with the right value.
final class MeasurementFaultTests: XCTestCase {
    private let s = Int64(1_000_000_000)
    private let raplRange = 262_143_328_850.0

    private func channel(
        _ key: String, device: String, kind: ChannelKind = .energy, role: ChannelRole = .total,
        mode: MeasurementMode = .measured, unit: String, wrap: Double? = nil, deviceClass: DeviceClass,
        maxWatts: Double
    ) -> RunIntegrator.Channel {
        RunIntegrator.Channel(
            key: key, device: device, deviceClass: deviceClass, kind: kind, role: role, mode: mode,
            toSI: Units.factor(unit)!, wrapRange: wrap, maxWatts: maxWatts)
    }

    /// Feeds `seconds` of ticks every `step` ns; `value(channel, tNs)` nil means the read failed.
    private func run(
        _ integrator: RunIntegrator, seconds: Double, step: Int64 = 100_000_000,
        value: (Int, Int64) -> Double?
    ) {
        var t: Int64 = 0
        while Double(t) / 1e9 <= seconds + 1e-9 {
            for i in integrator.channels.indices { if let v = value(i, t) { integrator.add(i, tNs: t, value: v) } }
            integrator.finishTick(tNs: t)
            t += step
        }
        integrator.finish()
    }

    private func total(_ integrator: RunIntegrator) -> Double { integrator.countedJoules.reduce(0, +) }

    // MARK: 1. One impossible reading

    /// A package zone at 50 W for 3 s whose energy_uj reads 18446744073447456768 for a quarter of a second: the
    /// reading is outside the counter's range, a failed read, and the counter bridges it: 150 J, no wrap.
    func testAnOutOfRangeRAPLReadingIsAFailedReadBridgedByTheCounter() {
        let pkg = channel(
            "rapl:intel-rapl:0", device: "cpu-package-0", unit: "uJ", wrap: raplRange, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let integrator = RunIntegrator(channels: [pkg])
        run(integrator, seconds: 3) { _, t in
            (t >= 2 * s && t < 2 * s + s / 4) ? 18_446_744_073_447_456_768 : 1_000_000_000 + Double(t) / 1e9 * 50e6
        }
        XCTAssertEqual(total(integrator), 150, accuracy: 1e-6)
        XCTAssertEqual(integrator.energy(of: 0).wraps, 0)
        XCTAssertEqual(integrator.energy(of: 0).unmeasuredSeconds, 0, "a counter bridges a failed read")
        XCTAssertEqual(integrator.anomalies.map(\.kind), [.outOfRange, .outOfRange, .outOfRange])
        XCTAssertEqual(integrator.anomalies.first?.value, 18_446_744_073_447_456_768)
        XCTAssertEqual(integrator.anomalies.first?.tNs, 2 * s)
    }

    /// NVML's total-energy counter returns one far-too-low value and continues: +5 MJ before; now a glitch, bridged.
    func testAFarTooLowCounterReadingFollowedByTheRightOnesIsAGlitch() {
        let gpu = channel("nvml:GPU-0", device: "gpu-0", unit: "mJ", deviceClass: .gpu, maxWatts: PowerBound.gpu(limitWatts: 700))
        let integrator = RunIntegrator(channels: [gpu])
        run(integrator, seconds: 3) { _, t in t == 15 * s / 10 ? 1_000 : 5_000_000_000 + Double(t) / 1e9 * 250_000 }
        XCTAssertEqual(total(integrator), 750, accuracy: 1e-6)
        XCTAssertEqual(integrator.anomalies.map(\.kind), [.glitch])
        XCTAssertEqual(integrator.anomalies.first?.value, 1_000)
        XCTAssertEqual(integrator.energy(of: 0).resets, 0)
    }

    /// A counter that restarts from zero and continues from there: a reset; the interval holding it is unmeasured.
    func testACounterThatRestartsAndContinuesIsAResetWithItsIntervalUnmeasured() {
        let gpu = channel("nvml:GPU-0", device: "gpu-0", unit: "mJ", deviceClass: .gpu, maxWatts: 1050)
        let integrator = RunIntegrator(channels: [gpu])
        // 250 W; the driver reloads at 1.55 s and its counter restarts from 0.
        run(integrator, seconds: 3) { _, t in
            t < 16 * s / 10 ? 5_000_000_000 + Double(t) / 1e9 * 250_000 : (Double(t) / 1e9 - 1.55) * 250_000
        }
        XCTAssertEqual(integrator.anomalies.map(\.kind), [.reset])
        XCTAssertEqual(integrator.energy(of: 0).resets, 1)
        XCTAssertEqual(integrator.energy(of: 0).unmeasuredSeconds, 0.1, accuracy: 1e-9)
        XCTAssertEqual(total(integrator), 250 * 2.9, accuracy: 1e-6, "every interval but the one holding the restart")
    }

    /// A run that ends on an impossible step has nothing to confirm it: unresolved, not counted, its time unmeasured.
    func testARunEndingOnAnImpossibleStepLeavesItUnresolved() {
        var acc = EnergyAccumulator(kind: .energy, toSI: 1e-3, wrapRange: nil, maxPlausibleWatts: 1050)
        acc.add(tNs: 0, value: 1_000_000)
        acc.add(tNs: s, value: 1_250_000)
        acc.add(tNs: 2 * s, value: 9_000_000_000)
        XCTAssertEqual(acc.energy.joules, 250, accuracy: 1e-9)
        XCTAssertEqual(acc.energy.unmeasuredSeconds, 1, accuracy: 1e-12)
        XCTAssertEqual(acc.pendingAnomalies.map(\.kind), [.unresolved])
    }

    /// A power reading above the device's bound is a failed read: its intervals are unmeasured, never integrated.
    func testAPowerReadingAboveTheBoundIsAFailedRead() {
        let e = EnergyAccumulator.integrate(
            [(0, 250_000), (s, 250_000), (2 * s, 9e9), (3 * s, 250_000), (4 * s, 250_000)],
            kind: .power, toSI: 1e-3, wrapRange: nil, maxPlausibleWatts: 1050)
        XCTAssertEqual(e.joules, 500, accuracy: 1e-9, "0–1 s and 3–4 s")
        XCTAssertEqual(e.unmeasuredSeconds, 2, accuracy: 1e-12)
    }

    // MARK: 4. Late reads

    /// wattprint stopped for 5 s (SIGSTOP, a paused VM) on a 300 J-range counter driven at 150 W: the wraps in
    /// between are unknowable. Before: 600 J silently lost. Now: the 5 s are unmeasured and said.
    func testAReadLaterThanTheWrapBoundIsUnmeasured() {
        let range = 300_000_000.0 // µJ
        let pkg = channel(
            "rapl:intel-rapl:0", device: "cpu-package-0", unit: "uJ", wrap: range, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let integrator = RunIntegrator(channels: [pkg])
        let stopped = (2 * s)..<(7 * s)
        run(integrator, seconds: 10, step: 50_000_000) { _, t in
            stopped.contains(t) && t != stopped.lowerBound ? nil : (Double(t) / 1e9 * 150e6).truncatingRemainder(dividingBy: range + 1)
        }
        XCTAssertEqual(integrator.energy(of: 0).unmeasuredSeconds, 5, accuracy: 1e-9)
        XCTAssertEqual(total(integrator), 150 * 5, accuracy: 1e-3, "the 5 measured seconds, none guessed")
        XCTAssertEqual(integrator.anomalies.map(\.kind), [.lateRead])
        XCTAssertEqual(integrator.anomalies.first?.seconds ?? 0, 5, accuracy: 1e-9)
    }

    /// The same stop with perf reading the same package (kernel-accumulated, 64-bit): perf bridges the interval.
    func testALateReadIsBridgedByAWrapFreeReadingOfTheSameDevice() {
        let range = 300_000_000.0
        let pkg = channel(
            "rapl:intel-rapl:0", device: "cpu-package-0", unit: "uJ", wrap: range, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let perf = channel(
            "perf:energy-pkg:0", device: "cpu-package-0", role: .detail, unit: "J", deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let integrator = RunIntegrator(channels: [pkg, perf])
        let stopped = (2 * s)..<(7 * s)
        run(integrator, seconds: 10, step: 50_000_000) { i, t in
            if stopped.contains(t) && t != stopped.lowerBound { return nil }
            let joules = Double(t) / 1e9 * 150
            return i == 0 ? (joules * 1e6).truncatingRemainder(dividingBy: range + 1) : 1000 + joules
        }
        XCTAssertEqual(integrator.energy(of: 0).unmeasuredSeconds, 0, accuracy: 1e-9)
        XCTAssertEqual(total(integrator), 1500, accuracy: 1e-3)
        XCTAssertEqual(integrator.anomalies.first?.kind, .lateRead)
        XCTAssertEqual(integrator.anomalies.first?.bridgedBy, 1)
    }

    /// amd_energy's socket counter (64-bit, named `cpu-package-0 (amd_energy)`) bridges a late RAPL read as perf does.
    func testALateReadIsBridgedByAnHwmonEnergyCounterOfThePackage() {
        let range = 300_000_000.0
        let pkg = channel(
            "rapl:intel-rapl:0", device: "cpu-package-0", unit: "uJ", wrap: range, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let hwmon = channel(
            "hwmon:amd_energy-isa-0000:energy3_input", device: "cpu-package-0 (amd_energy)", role: .detail, unit: "J",
            deviceClass: .cpuPackage, maxWatts: PowerBound.cpuPackage)
        let integrator = RunIntegrator(channels: [pkg, hwmon])
        run(integrator, seconds: 10, step: 50_000_000) { i, t in
            if (2 * s + 1)..<(7 * s) ~= t { return nil }
            let joules = Double(t) / 1e9 * 150
            return i == 0 ? (joules * 1e6).truncatingRemainder(dividingBy: range + 1) : 5_000 + joules
        }
        XCTAssertEqual(integrator.anomalies.first?.bridgedBy, 1)
        XCTAssertEqual(total(integrator), 1500, accuracy: 1e-3)
    }

    // MARK: 5. Meters that say "measured" but do not move

    /// An NVML energy counter that answers but never advances while POWER_INSTANT reads 250 W: before, 0 J measured;
    /// now counting moves to POWER_INSTANT from the counter's last move (the start): ≈750 J over 3 s.
    func testAStuckCounterHandsCountingToTheNextMethodFromItsLastMove() {
        let counter = channel("nvml:GPU-0", device: "gpu-0", unit: "mJ", deviceClass: .gpu, maxWatts: 1050)
        let instant = channel(
            "nvml:GPU-0:instant", device: "gpu-0", kind: .power, role: .detail, unit: "mW", deviceClass: .gpu, maxWatts: 1050)
        let average = channel(
            "nvml:GPU-0:average", device: "gpu-0", kind: .power, role: .detail, unit: "mW", deviceClass: .gpu, maxWatts: 1050)
        let integrator = RunIntegrator(channels: [counter, instant, average])
        run(integrator, seconds: 3) { i, _ in i == 0 ? 123_456_789 : 250_000 }
        XCTAssertEqual(total(integrator), 750, accuracy: 1e-6)
        XCTAssertEqual(integrator.counts, [false, true, false])
        let stuck = try? XCTUnwrap(integrator.anomalies.first)
        XCTAssertEqual(stuck?.kind, .stuck)
        XCTAssertEqual(stuck?.switchedTo, 1)
        XCTAssertEqual(stuck?.tNs, 0, "counting switched at the counter's last move")
    }

    /// A CPU package rail at exactly 0 W while the host is busy, with no other reading of the package: the CPU
    /// estimate counts from its last move, flagged estimated.
    func testAZeroRailWhileTheHostIsBusyIsNotCountedAsMeasured() {
        let pkg = channel(
            "hwmon:zenpower:power1", device: "cpu-package-0", kind: .power, unit: "W", deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let estimate = channel(
            "estimate:cpu", device: "host-cpu", kind: .intervalPower, role: .detail, mode: .estimated, unit: "W",
            deviceClass: .hostCPU, maxWatts: PowerBound.platform)
        let busy = channel(
            "procfs:host-busy", device: "host-cpu", kind: .cpuTime, role: .context, unit: "s", deviceClass: .hostCPU,
            maxWatts: PowerBound.platform)
        let integrator = RunIntegrator(channels: [pkg, estimate, busy])
        run(integrator, seconds: 3) { i, t in [0, 40, 100 + 1.8 * Double(t) / 1e9][i] }
        XCTAssertEqual(integrator.counts, [false, true, false])
        XCTAssertEqual(integrator.anomalies.first?.kind, .stuck)
        XCTAssertEqual(integrator.anomalies.first?.switchedTo, 1)
        XCTAssertEqual(integrator.countedJoules[1], 40 * 3, accuracy: 1e-6, "the estimate from the rail's last move, the start")
        XCTAssertEqual(integrator.countedJoules[0], 0)
    }

    /// The same rail on an idle host proves nothing: nothing is switched.
    func testAStillRailOnAnIdleHostIsLeftAlone() {
        let pkg = channel(
            "hwmon:zenpower:power1", device: "cpu-package-0", kind: .power, unit: "W", deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let estimate = channel(
            "estimate:cpu", device: "host-cpu", kind: .intervalPower, role: .detail, mode: .estimated, unit: "W",
            deviceClass: .hostCPU, maxWatts: PowerBound.platform)
        let busy = channel(
            "procfs:host-busy", device: "host-cpu", kind: .cpuTime, role: .context, unit: "s", deviceClass: .hostCPU,
            maxWatts: PowerBound.platform)
        let integrator = RunIntegrator(channels: [pkg, estimate, busy])
        run(integrator, seconds: 3) { i, t in [0, 5, 100 + 0.01 * Double(t) / 1e9][i] }
        XCTAssertEqual(integrator.counts, [true, false, false])
        XCTAssertTrue(integrator.anomalies.isEmpty)
    }

    /// Two packages, one of them stuck while the host works, and no other reading of it: its time is unmeasured,
    /// not 0 J measured; the host estimate does not stand in for one socket of two.
    func testAStuckPackageWithNothingToSwitchToIsUnmeasured() {
        let p0 = channel(
            "rapl:intel-rapl:0", device: "cpu-package-0", unit: "uJ", wrap: raplRange, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let p1 = channel(
            "rapl:intel-rapl:1", device: "cpu-package-1", unit: "uJ", wrap: raplRange, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        let busy = channel(
            "procfs:host-busy", device: "host-cpu", kind: .cpuTime, role: .context, unit: "s", deviceClass: .hostCPU,
            maxWatts: PowerBound.platform)
        let integrator = RunIntegrator(channels: [p0, p1, busy])
        run(integrator, seconds: 3) { i, t in [Double(t) / 1e9 * 60e6, 7, 100 + 2 * Double(t) / 1e9][i] }
        XCTAssertEqual(integrator.anomalies.map(\.kind), [.stuck])
        XCTAssertNil(integrator.anomalies.first?.switchedTo)
        XCTAssertEqual(integrator.energy(of: 1).unmeasuredSeconds, 3, accuracy: 1e-9)
        XCTAssertEqual(total(integrator), 180, accuracy: 1e-6)
    }

    // MARK: 3. Mirrored zones

    /// Zones counted once as mirrors that start reading differently count on their own from the third differing tick.
    func testAMirrorThatDivergesCountsOnItsOwn() {
        let d0 = channel(
            "rapl:intel-rapl:0", device: "cpu-package-0-die-0", unit: "uJ", wrap: raplRange, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        var d1 = channel(
            "rapl:intel-rapl:1", device: "cpu-package-0-die-1", unit: "uJ", wrap: raplRange, deviceClass: .cpuPackage,
            maxWatts: PowerBound.cpuPackage)
        d1.role = .detail
        let integrator = RunIntegrator(channels: [d0, d1], mirrors: [1: 0])
        run(integrator, seconds: 2) { i, t in
            i == 1 && t > s ? Double(t) / 1e9 * 10e6 + 1 : Double(t) / 1e9 * 10e6
        }
        XCTAssertEqual(integrator.counts, [true, true])
        XCTAssertEqual(integrator.anomalies.map(\.kind), [.mirrorDiverged])
        XCTAssertEqual(integrator.anomalies.first?.tNs, 13 * s / 10)
        XCTAssertEqual(integrator.countedJoules[1], 10 * 0.7, accuracy: 1e-6, "counted from 1.3 s")
    }

    // MARK: Property

    /// Random traces (RAPL-like and 64-bit counters, mirrored zones) with random glitches (values outside the
    /// counter's range, and stray values anywhere in a 64-bit counter's) and sampler stops, some beyond the wrap
    /// bound: the reported energy never exceeds the truth, and falls short of it by at most what the unmeasured
    /// seconds could hold at the trace's peak power. A stray value within what the device could have drawn (or, for a
    /// wrapping counter, anywhere in its range) is indistinguishable from a reading and is not generated.
    func testReportedEnergyIsTheTruthWithinTheUnmeasuredBoundAndNeverAbove() {
        var rng = SplitMix(seed: 9)
        var sawAnomalies = Set<ReadingAnomaly.Kind>()
        for trial in 0..<300 {
            let wraps = Bool.random(using: &rng)
            let range = wraps ? Double.random(in: 50e6...5e9, using: &rng).rounded(.down) : nil
            let bound = PowerBound.cpuPackage
            let peak = Double.random(in: 5...400, using: &rng)
            let mirrors = Int.random(in: 0...3, using: &rng)
            var channels = [channel("c0", device: "cpu-package-0", unit: "uJ", wrap: range, deviceClass: .cpuPackage, maxWatts: bound)]
            for m in 0..<mirrors {
                var c = channel(
                    "m\(m)", device: "cpu-package-0-die-\(m + 1)", unit: "uJ", wrap: range, deviceClass: .cpuPackage, maxWatts: bound)
                c.role = .detail
                channels.append(c)
            }
            let integrator = RunIntegrator(channels: channels, mirrors: Dictionary(uniqueKeysWithValues: (0..<mirrors).map { ($0 + 1, 0) }))
            var raw = Double.random(in: 0...(range ?? 1e12), using: &rng).rounded(.down)
            var t: Int64 = 0
            var energyUJ = 0.0
            var truthAtFirst: Double?, truthAtLast = 0.0
            let step = Int64(Double.random(in: 0.01...0.2, using: &rng) * 1e9)
            for _ in 0..<Int.random(in: 20...200, using: &rng) {
                // A stop of the sampler: time passes with no reading, sometimes beyond the wrap bound.
                let stopped = Double.random(in: 0...1, using: &rng) < 0.03
                let dt = stopped ? Int64(Double.random(in: 0.5...40, using: &rng) * 1e9) : step
                let watts = Double.random(in: 0...peak, using: &rng)
                let added = (watts * Double(dt) / 1e9 * 1e6).rounded(.down)
                energyUJ += added
                raw += added
                if let range { raw = raw.truncatingRemainder(dividingBy: range + 1) }
                t += dt
                var reading = raw
                let fault = Double.random(in: 0...1, using: &rng)
                if fault < 0.02 {
                    reading = Double(UInt64.max - UInt64.random(in: 0...1_000_000, using: &rng)) // out of range
                } else if fault < 0.04 {
                    // A stray value: above the range of a wrapping counter (within it, any value can be a wrap's
                    // landing point), anywhere up to 2⁶² for a 64-bit one (NVML's far-too-low reading among them).
                    reading =
                        range.map { $0 + Double.random(in: 1...1e12, using: &rng) }
                        ?? Double.random(in: 0...0x1p62, using: &rng).rounded(.down)
                }
                for i in channels.indices { integrator.add(i, tNs: t, value: reading) }
                integrator.finishTick(tNs: t)
                if truthAtFirst == nil { truthAtFirst = energyUJ }
                truthAtLast = energyUJ
            }
            integrator.finish()
            sawAnomalies.formUnion(integrator.anomalies.map(\.kind))
            let truth = (truthAtLast - (truthAtFirst ?? 0)) * 1e-6
            let reported = integrator.countedJoules.reduce(0, +)
            let unmeasured = integrator.energy(of: 0).unmeasuredSeconds
            // The trace wraps 1 µJ past the range; the accumulator steps one counter unit: 2 µJ per wrap apart at most.
            let rounding = 1e-6 * (1 + 2 * Double(integrator.energy(of: 0).wraps))
            XCTAssertLessThanOrEqual(reported, truth + rounding, "trial \(trial): never above the truth")
            XCTAssertGreaterThanOrEqual(
                reported, truth - peak * unmeasured - rounding,
                "trial \(trial): short by at most the unmeasured \(unmeasured) s at \(peak) W")
            XCTAssertEqual(integrator.counts.filter { $0 }.count, 1, "trial \(trial): mirrors stay counted once")
        }
        XCTAssertTrue(sawAnomalies.isSuperset(of: [.outOfRange, .glitch, .lateRead]), "the traces exercise the faults: \(sawAnomalies)")
    }
}

/// Layouts from the fault reports, read from fake `/sys` trees through the real meters.
final class FaultLayoutTests: XCTestCase {
    /// Reads the meters of `t` at two instants `seconds` apart, with `advance` moving the tree's counters in between,
    /// through the run integrator; returns it.
    private func integrate(_ t: FakeSystemTree, seconds: Double, advance: () throws -> Void) throws -> (MeterSet, RunIntegrator) {
        let set = MeterSet.discover(
            .init(paths: t.paths, useLibsensors: false, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"),
            perfOpener: FakePerfOpener())
        let keys = Dictionary(uniqueKeysWithValues: set.channels.enumerated().map { ($0.element.key, $0.offset) })
        var mirrors: [Int: Int] = [:]
        for d in set.decisions where d.kind == .mirrored { mirrors[keys[d.subject]!] = keys[d.counterpart!]! }
        let integrator = RunIntegrator(channels: set.channels.map(RunIntegrator.Channel.init), mirrors: mirrors)
        for tick in 0..<2 {
            if tick == 1 { try advance() }
            var values = [Double?](repeating: nil, count: set.channels.count)
            set.read(into: &values)
            let tNs = Int64(Double(tick) * seconds * 1e9)
            for (i, v) in values.enumerated() { if let v { integrator.add(i, tNs: tNs, value: v) } }
            integrator.finishTick(tNs: tNs)
        }
        return (set, integrator)
    }

    private func counted(_ set: MeterSet, _ integrator: RunIntegrator) -> Double {
        set.channels.indices.filter { set.channels[$0].mode == .measured }.map { integrator.countedJoules[$0] }.reduce(0, +)
    }

    /// 16 packages: the kernel names zones `intel-rapl:0` … `intel-rapl:f`, `intel-rapl:10` … Each package draws 5 W
    /// and each DRAM 0.5 W for 2 s: 176 J (before: zones a–f skipped without a word, 108 J).
    func testSixteenPackagesWithHexadecimalZoneIdsAreAllCounted() throws {
        let t = try FakeSystemTree()
        try t.proc(cpus: 16, sockets: 16)
        let ids = (0..<16).map { String($0, radix: 16) }
        for (socket, id) in ids.enumerated() {
            try t.zone("intel-rapl:\(id)", name: "package-\(socket)", energy: 1_000_000)
            try t.zone("intel-rapl:\(id):0", name: "dram", energy: 1_000_000)
        }
        let (set, integrator) = try integrate(t, seconds: 2) {
            for id in ids {
                try t.setEnergy("intel-rapl:\(id)", 11_000_000)
                try t.setEnergy("intel-rapl:\(id):0", 2_000_000)
            }
        }
        XCTAssertEqual(set.channels.filter { $0.role == .total && $0.mode == .measured }.count, 32)
        XCTAssertEqual(set.channels.first { $0.key == "rapl:intel-rapl:f:0" }?.device, "dram-15")
        XCTAssertEqual(counted(set, integrator), 176, accuracy: 1e-9)
        XCTAssertTrue(set.decisions.isEmpty, "nothing skipped: \(set.decisions)")
    }

    /// A 2-socket AMD server with 8 CCDs per socket shows 16 `package-S-die-D` zones; the 8 of a socket read one
    /// counter. Counted once per socket: 237 J over the run, not 1,896 J (before: 5–8× the truth).
    func testZonesOfOneSocketThatReadOneCounterAreCountedOnce() throws {
        let t = try FakeSystemTree()
        try t.proc(cpus: 16, sockets: 2)
        for zone in 0..<16 {
            try t.zone(
                "intel-rapl:\(String(zone, radix: 16))", name: "package-\(zone / 8)-die-\(zone % 8)",
                energy: zone < 8 ? 5_000_000 : 9_000_000)
        }
        let (set, integrator) = try integrate(t, seconds: 3) {
            for zone in 0..<16 { try t.setEnergy("intel-rapl:\(String(zone, radix: 16))", zone < 8 ? 125_000_000 : 126_000_000) }
        }
        XCTAssertEqual(
            set.channels.filter { $0.role == .total && $0.mode == .measured }.map(\.device), ["cpu-package-0-die-0", "cpu-package-1-die-0"])
        XCTAssertEqual(set.decisions.filter { $0.kind == .mirrored }.count, 14)
        XCTAssertEqual(set.decisions.first { $0.subject == "rapl:intel-rapl:9" }?.counterpart, "rapl:intel-rapl:8")
        XCTAssertEqual(counted(set, integrator), 237, accuracy: 1e-9)
    }

    /// Distinct dies (Intel Cascade Lake-AP: two dies per package, each with its own counter) stay counted each, even
    /// when their counters read alike, because the CPU topology shows the dies.
    func testDistinctDiesShownByTheTopologyAreEachCounted() throws {
        let t = try FakeSystemTree()
        try t.proc(cpus: 4, sockets: 1)
        for cpu in 0..<4 {
            try t.write("sys/devices/system/cpu/cpu\(cpu)/topology/physical_package_id", "0\n")
            try t.write("sys/devices/system/cpu/cpu\(cpu)/topology/die_id", "\(cpu / 2)\n")
        }
        try t.zone("intel-rapl:0", name: "package-0-die-0", energy: 0)
        try t.zone("intel-rapl:1", name: "package-0-die-1", energy: 0)
        let (set, integrator) = try integrate(t, seconds: 1) {
            try t.setEnergy("intel-rapl:0", 100_000_000)
            try t.setEnergy("intel-rapl:1", 100_000_000)
        }
        XCTAssertEqual(set.channels.filter { $0.role == .total && $0.mode == .measured }.count, 2)
        XCTAssertTrue(set.decisions.isEmpty)
        XCTAssertEqual(counted(set, integrator), 200, accuracy: 1e-9)
    }
}
