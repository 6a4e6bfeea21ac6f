@testable import Ledger
import TestSupport
import XCTest

/// The verifier hashes samples from bytes it spells itself; they must be the canonical text's bytes exactly, or every
/// ledger would fail verification (or worse, an altered one pass).
final class SampleHashTests: XCTestCase {
    func testSpelledHashEqualsTheCanonicalTextsHash() {
        var rng = SplitMix(seed: 21)
        var cases: [(Int, Int64, Double)] = [
            (0, 0, 0), (0, 0, -0.0), (7, -1, .infinity), (12, Int64.max, -.infinity), (3, Int64.min + 1, .nan),
            (Int.max, 1, .greatestFiniteMagnitude), (1, 9, .leastNonzeroMagnitude), (-5, 100, 1.5),
        ]
        for _ in 0..<2000 {
            let bits = rng.next()
            cases.append(
                (rng.nextInt(below: 1000), Int64(bitPattern: rng.next()) >> Int64(rng.nextInt(below: 63)), Double(bitPattern: bits)))
        }
        for (c, t, v) in cases {
            let record = SampleRecord(channel: c, tNs: t, value: v)
            XCTAssertEqual(
                Data(HashChain.sampleHash(channel: c, tNs: t, value: v)), HashChain.rowHash(record.canonical), "\(record.canonical)")
        }
    }
}
