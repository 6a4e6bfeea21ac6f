@testable import Engine
import Foundation
import XCTest

/// The library bench: event order, result fields, and the procfs reader on fake files.
final class BenchmarkTests: EngineTestCase {
    final class EventLog: @unchecked Sendable {
        var names: [String] = []
    }

    func testEveryPhaseOfEveryArchitectureReportsItsTimedRegionAndFigures() throws {
        let configs: [AnyModelConfiguration] = [
            .gpt2(GPT2Config(layers: 2, channels: 32, heads: 2, vocabularySize: 256, maxSequence: 32)),
            .llama(LlamaConfig(layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 48, vocabularySize: 256, maxSequence: 32)),
            .llama(
                LlamaConfig(layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 48, vocabularySize: 256, maxSequence: 32, experts: 4)),
            .bert(
                BERTConfig(
                    layers: 2, channels: 32, heads: 2, hidden: 64, vocabularySize: 258, maxSequence: 32, padTokenID: 256, maskTokenID: 257)),
            .t5(
                T5Config(
                    layers: 2, channels: 32, heads: 2, headSize: 12, hidden: 48, vocabularySize: 300, maxSequence: 32, buckets: 8,
                    maxDistance: 16, sentinels: 20)),
        ]
        for config in configs {
            try checkEveryPhase(config)
        }
    }

    private func checkEveryPhase(_ config: AnyModelConfiguration) throws {
        let shape = config.configuration
        let phases: [BenchPhase]
        switch shape.architecture {
        case .bert: phases = [.train, .encode]
        case .t5: phases = BenchPhase.allCases
        default: phases = [.train, .prefill, .decode]
        }
        for phase in BenchPhase.allCases {
            let log = EventLog()
            let options = BenchOptions(
                config: config, phase: phase, batch: 2, sequence: 8, steps: 2, warmupSteps: 1,
                threads: Parallel.hardwareThreads(), bandwidthProbeBytes: 1 << 22)
            guard phases.contains(phase) else {
                assertEngineError(.invalidArgument, mentions: [shape.architecture.rawValue, "--phase"]) {
                    _ = try Benchmark.run(options, clock: ContinuousClock())
                }
                continue
            }
            let result = try Benchmark.run(options, clock: ContinuousClock()) { event in
                switch event {
                case .status(let line): if line.hasPrefix("pairing") { log.names.append("pairing") }
                case .workloadStarted: log.names.append("start")
                case .stepFinished(let index, _, _, _): log.names.append("step\(index)")
                case .workloadFinished: log.names.append("end")
                }
            }
            XCTAssertEqual(
                log.names, ["start", "step0", "step1", "end"] + (phase == .decode ? ["pairing"] : []), "\(shape.architecture) \(phase)")
            XCTAssertEqual(result.stepSeconds.count, 2)
            XCTAssertGreaterThan(result.tokensPerSecond, 0)
            XCTAssertGreaterThan(result.sgemmPeakGFLOPs, 0)
            XCTAssertGreaterThan(result.modelFLOPsUtilization, 0)
            XCTAssertGreaterThan(result.peakResidentBytes, 0)
            XCTAssertEqual(result.sgemmShapes.first?.repetitions.count, 10, "5 repetitions before and 5 after the workload")
            switch phase {
            case .train:
                switch config {
                case let .t5(t5):
                    let lengths = SpanCorruption(firstSentinelID: 299, sentinels: 20, endOfSequenceID: 1, decoderStartID: 0).lengths(
                        sequence: 8)
                    XCTAssertEqual(result.flopsPerStep, t5.trainingStepFLOPs(B: 2, S: lengths.source, T: lengths.target))
                    XCTAssertEqual(result.tokensPerStep, 2 * (lengths.source + lengths.target))
                default:
                    XCTAssertEqual(result.flopsPerStep, shape.trainingStepFLOPs(B: 2, T: 8))
                }
                XCTAssertNotNil(result.activationBytes)
                XCTAssertEqual(
                    result.expertLoad?.reduce(0, +), shape.architecture == .moe ? 2 * 2 * 8 * 2 * 2 : nil,
                    "2 steps × B·T 16 tokens × top-2 × 2 layers")
            case .encode:
                XCTAssertEqual(result.flopsPerStep, shape.encoderFLOPs(tokens: 16, context: 8))
            case .prefill:
                // T5's forward formula is a decoder pass with a source as long as the context: here 8 and 8.
                XCTAssertEqual(result.flopsPerStep, 2 * shape.forwardFLOPs(tokens: 8, attentionContext: 8, logitRows: 1))
                XCTAssertEqual(
                    result.expertLoad?.reduce(0, +), shape.routedExpertsPerToken > 0 ? 2 * 16 * 2 * 2 : nil,
                    "2 steps × 2 prompts of 8 × top-2 × 2 layers")
            case .decode:
                XCTAssertNotNil(result.fractionOfBandwidthBound)
                let k = shape.routedExpertsPerToken
                if k > 0 {
                    XCTAssertEqual(result.expertLoad?.reduce(0, +), 2 * 2 * k * shape.layers, "2 steps × 2 sequences × top-k × layers")
                    // Two sequences read between k and min(E, 2k) experts per layer, as the router chose.
                    let low = Double(shape.decodeWeightFloats * 4)
                    let high = low + Double(shape.layers * (min(4, 2 * k) - k) * shape.expertWeightFloats * 4)
                    XCTAssertTrue((low...high).contains(result.weightBytesPerStep!), "\(result.weightBytesPerStep!) not in \(low)…\(high)")
                } else {
                    XCTAssertEqual(result.weightBytesPerStep, Double(shape.decodeWeightFloats * 4))
                }
                XCTAssertGreaterThan(result.readBandwidthBytesPerSecond ?? 0, 0)
                // One paired step a timed one (the log above shows they were outside the measurement window).
                XCTAssertEqual(result.pairedBandwidthFractions?.count, 2)
                XCTAssertEqual(result.pairedReadBandwidths?.count, 2)
                XCTAssertTrue(result.pairedBandwidthFractions!.allSatisfy { $0 > 0 && $0.isFinite })
                XCTAssertTrue(result.pairedReadBandwidths!.allSatisfy { $0 > 0 && $0.isFinite })
                XCTAssertEqual(result.medianPairedBandwidthFraction, HardwarePeaks.median(result.pairedBandwidthFractions!))
            }
            XCTAssertNoThrow(try JSONEncoder().encode(result))
        }
    }

    /// Paired steps use only the context the timed steps left: none when they filled it.
    func testPairedDecodeStepsStopAtTheContext() throws {
        let config = AnyModelConfiguration.gpt2(GPT2Config(layers: 1, channels: 32, heads: 2, vocabularySize: 64, maxSequence: 16))
        for (sequence, expected) in [(10, 3), (12, 1), (13, nil)] as [(Int, Int?)] {
            let options = BenchOptions(
                config: config, phase: .decode, batch: 1, sequence: sequence, steps: 3, warmupSteps: 0, threads: 1,
                bandwidthProbeBytes: 1 << 20, fmaProbeSeconds: 0)
            let result = try Benchmark.run(options, clock: ContinuousClock())
            XCTAssertEqual(result.pairedBandwidthFractions?.count, expected, "prompt \(sequence) + 3 steps in a context of 16")
            // Batch 1 decodes from the copy laid out in rows: the layer's four input-major matrices, 4 bytes a weight.
            XCTAssertEqual(result.decodeCopyBytes, DecodeRows.enabled ? (32 * 96 + 32 * 32 + 2 * 32 * 128) * 4 : 0)
        }
    }

    func testPeakResidentMemoryFromStatusFile() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/status", bad = directory + "/status-no-hwm"
        try "Name:\tx\nVmPeak:\t  9999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n".write(toFile: good, atomically: false, encoding: .utf8)
        try "Name:\tx\n".write(toFile: bad, atomically: false, encoding: .utf8)
        XCTAssertEqual(try ProcessMemory.peakResidentBytes(statusPath: good), 2048 * 1024)
        assertEngineError(.fileUnreadable, mentions: ["VmHWM"]) { _ = try ProcessMemory.peakResidentBytes(statusPath: bad) }
    }
}
