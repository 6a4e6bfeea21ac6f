import Engine
import Foundation
import TestSupport
import XCTest

/// A test-owned float buffer that kernels can take as `UnsafeMutableBufferPointer`.
///
/// Every buffer is kept alive by `BufferArena` until the test's tearDown, so `Buffer(x).p` stays
/// valid for the whole test even though the `Buffer` temporary itself is gone.
final class Buffer {
    let storage: FloatStorage
    init(_ values: [Float]) {
        storage = FloatStorage(count: values.count)
        _ = storage.buffer.update(fromContentsOf: values)
        BufferArena.live.append(self)
    }
    init(count: Int) {
        storage = FloatStorage(count: count)
        BufferArena.live.append(self)
    }
    var p: UnsafeMutableBufferPointer<Float> { storage.buffer }
    var array: [Float] { Array(storage.buffer) }
}

/// Keeps test buffers alive until `EngineTestCase.tearDown`.
enum BufferArena {
    nonisolated(unsafe) static var live: [Buffer] = []
}

/// Base class that releases the test's buffers afterwards.
class EngineTestCase: XCTestCase {
    override func tearDown() {
        BufferArena.live.removeAll()
        super.tearDown()
    }
}

/// A test case with a fresh scratch directory per test, removed afterwards.
class FileTestCase: EngineTestCase {
    var directory = ""

    override func setUp() {
        super.setUp()
        directory = temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }
}

func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
}

func randomTokens(_ count: Int, vocabulary: Int, seed: UInt64) -> [Int32] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in Int32(rng.nextInt(below: vocabulary)) }
}

func doubles(_ values: [Float]) -> [Double] { values.map(Double.init) }

/// Largest |a − b|.
func maxAbsDifference(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}

/// ‖a − b‖ / max(‖a‖, ‖b‖): a per-tensor relative error that small entries cannot blow up.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { diff += (x - y) * (x - y); na += x * x; nb += y * y }
    let scale = max(na, nb).squareRoot()
    return scale == 0 ? 0 : diff.squareRoot() / scale
}

/// Central finite-difference gradient of a Double scalar function, eps 1e-6 (Double, so truncation and rounding are ~1e-9).
func numericalGradient(_ x: [Double], indices: [Int]? = nil, eps: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var point = x
    return (indices ?? Array(x.indices)).map { i in
        let saved = point[i]
        point[i] = saved + eps
        let up = f(point)
        point[i] = saved - eps
        let down = f(point)
        point[i] = saved
        return (up - down) / (2 * eps)
    }
}

/// Σ w·y: turns a vector output into the scalar whose gradient a backward kernel computes for upstream gradient w.
func weightedSum(_ y: [Double], _ w: [Double]) -> Double { zip(y, w).reduce(0) { $0 + $1.0 * $1.1 } }

/// A fresh folder, removed when the test process ends.
func temporaryDirectory(_ name: String = #function) -> String { (try! TestScratch.folder(name)).path }

/// Asserts `body` throws an `EngineError` of `kind` whose message mentions every string in `mentions`.
func assertEngineError(
    _ kind: EngineError.Kind, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected \(kind) error", file: file, line: line)
    } catch let error as EngineError {
        XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
        for text in mentions {
            XCTAssertTrue(error.description.contains(text), "'\(error.description)' lacks '\(text)'", file: file, line: line)
        }
        XCTAssertTrue(error.description.contains(";"), "message should read 'problem; fix': \(error.description)", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

/// A tiny GPT-2 with every parameter perturbed, so no gradient is trivially zero or one.
func tinyModel(layers: Int = 2, channels: Int = 16, heads: Int = 2, vocabulary: Int = 60, maxSequence: Int = 8, seed: UInt64 = 3) throws
    -> GPT2
{
    let model = try GPT2(
        config: GPT2Config(layers: layers, channels: channels, heads: heads, vocabularySize: vocabulary, maxSequence: maxSequence),
        seed: seed)
    var rng = SplitMix64(seed: seed &+ 100)
    for (i, spec) in model.parameters.layout.specs.enumerated() {
        let view = model.parameters.view(i)
        let rows = spec.name == "wte.weight" ? vocabulary * channels : view.count
        for j in 0..<rows { view[j] += (rng.nextUnitFloat() * 2 - 1) * 0.1 }
    }
    return model
}

/// Checks a matrix kernel's `out` (M × N, then 64 sentinels of 12345 a write past it would change) against the exact
/// Σ_k input(m, k)·weight(n, k) (+ bias[n] + residual[m, n] when given), in Double, within `relative` of the sum of the
/// terms' magnitudes (plus 1e-6).
func assertExactProduct(
    _ out: [Float], M: Int, N: Int, K: Int, input: (Int, Int) -> Double, weight: (Int, Int) -> Double,
    bias: [Float]? = nil, residual: [Float]? = nil, relative: Double = 1e-6, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(
        Array(out[(M * N)...]), [Float](repeating: 12345, count: 64), "\(label): written past the output", file: file, line: line)
    for m in 0..<M {
        for n in 0..<N {
            var exact = Double(residual?[m * N + n] ?? 0) + Double(bias?[n] ?? 0), magnitude = abs(exact)
            for k in 0..<K {
                let term = input(m, k) * weight(n, k)
                exact += term
                magnitude += abs(term)
            }
            XCTAssertEqual(
                Double(out[m * N + n]), exact, accuracy: magnitude * relative + 1e-6, "\(label) (\(m), \(n))", file: file, line: line)
        }
    }
}
