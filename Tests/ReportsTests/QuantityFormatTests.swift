import Measures
import XCTest

/// Number text shared by every renderer: durations keep their digits below a second, counts read as words.
final class QuantityFormatTests: XCTestCase {
    func testDurationsKeepSignificantDigitsBelowASecond() {
        XCTAssertEqual(QuantityFormat.duration(0.004213), "4.213 ms")
        XCTAssertEqual(QuantityFormat.duration(0.25), "250 ms")
        XCTAssertEqual(QuantityFormat.duration(0.9994), "999.4 ms")
        XCTAssertEqual(QuantityFormat.duration(0.99996), "1 s", "not \"1000 ms\"")
        XCTAssertEqual(QuantityFormat.duration(1), "1 s")
        XCTAssertEqual(QuantityFormat.duration(12.5), "12.5 s")
        XCTAssertEqual(QuantityFormat.duration(0), "0 s")
        XCTAssertEqual(QuantityFormat.seconds(0.004213), "0.0 s", "what `duration` replaces where windows can be milliseconds")
    }

    func testSmallEnergiesKeepTheirDigits() {
        XCTAssertEqual(QuantityFormat.joules(0.0016172), "0.001617 J")
        XCTAssertEqual(QuantityFormat.joules(0.5), "0.5 J")
        XCTAssertEqual(QuantityFormat.joules(0.996), "1.00 J")
        XCTAssertEqual(QuantityFormat.joules(0), "0.00 J")
        XCTAssertEqual(QuantityFormat.joules(12.345), "12.35 J")
        XCTAssertEqual(QuantityFormat.joules(4.2e6), "1.167 kWh")
    }

    func testCountsReadAsWords() {
        XCTAssertEqual(QuantityFormat.counted(1, "counter"), "1 counter")
        XCTAssertEqual(QuantityFormat.counted(0, "counter"), "0 counters")
        XCTAssertEqual(QuantityFormat.counted(2, "batch", "batches"), "2 batches")
    }
}
