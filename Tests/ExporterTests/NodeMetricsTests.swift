import Exporter
import Measures
import Meters
import XCTest

/// What a scrape reads: whole ticks only, counters that never fall, emissions priced at the figure given.
final class NodeMetricsTests: XCTestCase {
    static func channel(_ key: String, mode: MeasurementMode, role: ChannelRole = .total, kind: ChannelKind = .energy) -> MeterChannel {
        MeterChannel(
            key: key, device: "cpu-package-0", domain: "package-0", kind: kind, unit: "uJ", source: "test", mode: mode, role: role,
            uncertainty: 0.05, uncertaintyNote: "", deviceClass: .cpuPackage, maxWatts: 500)
    }

    /// The value of the first series of `name` whose labels contain `matching`.
    static func value(_ text: String, _ name: String, _ matching: String = "") -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") && (matching.isEmpty || line.contains(matching)) {
            return Double(line.split(separator: " ").last!)
        }
        return nil
    }

    func testScrapesSeeWholeTicksAndCountersNeverFall() {
        let metrics = NodeMetrics(host: "node-1", intensity: GridIntensityFigure(region: "FR", gramsPerKilowattHour: 36, source: "test"))
        let index = metrics.register([
            Self.channel("rapl:0", mode: .measured), Self.channel("estimate:memory", mode: .estimated),
            Self.channel("cpu-time", mode: .measured, role: .context, kind: .cpuTime),
        ])
        XCTAssertEqual(index, [0, 1, 2])
        metrics.energy(channel: 0, fromNs: 0, toNs: 500_000_000, joules: 25, counted: 25)
        var text = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(Self.value(text, "wattprint_energy_joules_total", #"channel="rapl:0""#), 0, "half a tick is not published")
        metrics.energy(channel: 1, fromNs: 0, toNs: 500_000_000, joules: 1, counted: 1)
        metrics.tickFinished(tNs: 500_000_000)
        text = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(Self.value(text, "wattprint_energy_joules_total", #"channel="rapl:0""#), 25)
        XCTAssertEqual(Self.value(text, "wattprint_power_watts", #"channel="rapl:0""#), 50)
        XCTAssertEqual(Self.value(text, "wattprint_counted_energy_joules_total", #"mode="measured""#), 25)
        XCTAssertEqual(Self.value(text, "wattprint_counted_energy_joules_total", #"mode="estimated""#), 1)
        XCTAssertEqual(Self.value(text, "wattprint_counted_power_watts"), 52)
        XCTAssertEqual(Self.value(text, "wattprint_emissions_grams_total")!, 26 * 36 / 3.6e6, accuracy: 1e-15)
        XCTAssertEqual(Self.value(text, "wattprint_sampler_last_reading_seconds"), 0.5)
        XCTAssertNil(Self.value(text, "wattprint_energy_joules_total", #"channel="cpu-time""#), "CPU time is not energy")
        XCTAssertTrue(text.contains(#"host="node-1""#))

        // A stray reading taken back: the counter holds, and the next increments pay the debt first.
        metrics.energy(channel: 0, fromNs: 500_000_000, toNs: 600_000_000, joules: 0, counted: -10)
        metrics.tickFinished(tNs: 600_000_000)
        text = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(Self.value(text, "wattprint_counted_energy_joules_total", #"mode="measured""#), 25)
        metrics.energy(channel: 0, fromNs: 600_000_000, toNs: 700_000_000, joules: 15, counted: 15)
        metrics.tickFinished(tNs: 700_000_000)
        text = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(Self.value(text, "wattprint_counted_energy_joules_total", #"mode="measured""#), 30)
        XCTAssertEqual(Self.value(text, "wattprint_energy_joules_total", #"channel="rapl:0""#), 40)
        XCTAssertEqual(Self.value(text, "wattprint_scrapes_total"), 4)
    }

    func testSamplerOverheadIsPublished() throws {
        let metrics = NodeMetrics(host: "h", intensity: nil)
        metrics.update(overhead: SamplerOverhead(cpuSeconds: 0.02, wallSeconds: 10, ticks: 100, intervalSeconds: 0.1))
        metrics.update(overhead: SamplerOverhead(cpuSeconds: 0.03, wallSeconds: 20, ticks: 200, intervalSeconds: 0.1))
        let text = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(try XCTUnwrap(Self.value(text, "wattprint_sampler_cpu_seconds_total"), text), 0.03, accuracy: 1e-12)
        XCTAssertEqual(Self.value(text, "wattprint_sampler_core_share")!, 0.0015, accuracy: 1e-12)
        XCTAssertFalse(text.contains("wattprint_emissions"), "no intensity, no emissions series")
    }
}
