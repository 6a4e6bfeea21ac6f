@testable import Engine
import XCTest

/// Expert dispatch and combine (`MixtureLayer`): tokens grouped per expert, each expert one product per matrix, outputs
/// weighted back into their rows. Forward against the Double reference; backward against central finite differences of
/// Σ dout·out through the input, the router and every expert's matrices, the choices held fixed.
final class MixtureLayerTests: EngineTestCase {
    let M = 7, C = 8, H = 8, E = 4, k = 2

    func testDispatchAndCombineMatchReferenceAndFiniteDifferences() {
        let inp = randomFloats(M * C, seed: 41), residual = randomFloats(M * C, seed: 42), router = randomFloats(E * C, seed: 43, scale: 2)
        let gateUp = (0..<E).map { randomFloats(2 * H * C, seed: 50 + UInt64($0), scale: 0.5) }
        let down = (0..<E).map { randomFloats(C * H, seed: 60 + UInt64($0), scale: 0.5) }
        let dout = randomFloats(M * C, seed: 44)
        let buffers = TensorBuffer(
            layout: TensorLayout(
                (MixtureBuffers.floats(M: M, C: C, H: H, E: E, k: k) + MixtureScratch.floats(M: M, C: C, H: H, E: E, k: k)).map {
                    TensorSpec(name: $0.0, shape: [$0.1], decays: false)
                }))
        let integers = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2 * M * k + E + 1)
        defer { integers.deallocate() }
        func ints(_ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Int32> {
            UnsafeMutableBufferPointer(rebasing: integers[start..<(start + count)])
        }
        let b = MixtureBuffers(
            routerLogits: buffers["routerLogits"], probs: buffers["probs"], weights: buffers["weights"], experts: ints(0, M * k),
            slot: ints(M * k, M * k), offsets: ints(2 * M * k, E + 1), expertIn: buffers["expertIn"], gateUp: buffers["expertGateUp"],
            act: buffers["expertAct"], expertOut: buffers["expertOut"])
        let scratch = MixtureScratch(
            dExpertOut: buffers["dExpertOut"], dExpertIn: buffers["dExpertIn"], dgateUp: buffers["dgateUpMix"], dact: buffers["dactMix"],
            dweights: buffers["dweights"], drouterLogits: buffers["drouterLogits"])
        let experts = (0..<E).map { ExpertTensors(gateUp: Buffer(gateUp[$0]).p, down: Buffer(down[$0]).p) }
        let dexperts = (0..<E).map { _ in ExpertTensors(gateUp: Buffer(count: 2 * H * C).p, down: Buffer(count: C * H).p) }
        let out = Buffer(count: M * C), inpBuffer = Buffer(inp), routerBuffer = Buffer(router)
        let counts = MixtureLayer.forward(
            out: out.p, inp: inpBuffer.p, residual: Buffer(residual).p, router: routerBuffer.p, experts: experts, b: b, M: M, C: C, H: H,
            k: k)
        XCTAssertEqual(counts.reduce(0, +), M * k)
        XCTAssertGreaterThan(counts.filter { $0 > 0 }.count, 1, "the test routes to more than one expert")

        func reference(_ x: [Double], _ r: [Double], _ gu: [[Double]], _ d: [[Double]]) -> (out: [Double], experts: [Int]) {
            let m = Reference.Mixture.forward(inp: x, router: r, gateUp: gu, down: d, R: M, C: C, H: H, E: E, k: k)
            return (zip(m.out, doubles(residual)).map { $0 + $1 }, m.experts)
        }
        let (x, r, gu, d) = (doubles(inp), doubles(router), gateUp.map(doubles), down.map(doubles))
        let expected = reference(x, r, gu, d)
        XCTAssertLessThan(maxAbsDifference(out.array, expected.out), 1e-5)
        XCTAssertEqual(Array(b.experts).map(Int.init), expected.experts, "the same top-k choices as the reference")

        let dinp = Buffer(count: M * C), drouter = Buffer(count: E * C)
        MixtureLayer.backward(
            dinp: dinp.p, dout: Buffer(dout).p, inp: inpBuffer.p, router: routerBuffer.p, drouter: drouter.p, experts: experts,
            dexperts: dexperts, b: b, scratch: scratch, M: M, C: C, H: H, k: k, auxiliaryScale: 0,
            fractions: [Float](repeating: 0, count: E),
            auxiliaryRows: M, parameterWrite: .overwrite)
        let dy = doubles(dout)
        func objective(_ x: [Double], _ r: [Double], _ gu: [[Double]], _ d: [[Double]]) -> Double {
            let result = reference(x, r, gu, d)
            XCTAssertEqual(result.experts, expected.experts, "a finite-difference step flipped a choice; use a smaller step")
            return weightedSum(result.out, dy)
        }
        let tolerance = 1e-4
        XCTAssertLessThan(relativeError(doubles(dinp.array), numericalGradient(x) { objective($0, r, gu, d) }), tolerance, "dinp")
        XCTAssertLessThan(relativeError(doubles(drouter.array), numericalGradient(r) { objective(x, $0, gu, d) }), tolerance, "drouter")
        for e in 0..<E {
            let dgu = numericalGradient(gu[e]) { value in objective(x, r, gu.enumerated().map { $0 == e ? value : $1 }, d) }
            let dd = numericalGradient(d[e]) { value in objective(x, r, gu, d.enumerated().map { $0 == e ? value : $1 }) }
            let got = (Array(dexperts[e].gateUp).map(Double.init), Array(dexperts[e].down).map(Double.init))
            if counts[e] == 0 {
                XCTAssertTrue(got.0.allSatisfy { $0 == 0 } && got.1.allSatisfy { $0 == 0 }, "an unused expert's gradient is zero")
            } else {
                XCTAssertLessThan(relativeError(got.0, dgu), tolerance, "expert \(e) gate|up")
                XCTAssertLessThan(relativeError(got.1, dd), tolerance, "expert \(e) down")
            }
        }
    }
}
