/// Which workload `Benchmark.run` measures.
public enum BenchPhase: String, Codable, Sendable, CaseIterable {
    /// Full optimizer steps (forward, backward, clipping, AdamW) on a B×T batch.
    case train
    /// KV-cached prefill of B prompts of T tokens each.
    case prefill
    /// Batch-B decode steps after a T-token prompt.
    case decode
    /// An encoder's pass over B sequences of T tokens (BERT; T5's encoder with its cross-attention keys and values).
    case encode
}

/// What to benchmark.
public struct BenchOptions: Codable, Sendable {
    public var config: AnyModelConfiguration
    public var phase: BenchPhase
    public var batch: Int
    /// Training sequence length, prefill prompt length, or the prompt before decoding.
    public var sequence: Int
    /// Timed steps (training steps, prefills, or decode steps).
    public var steps: Int
    /// Untimed steps first (page faults, OpenBLAS buffer setup).
    public var warmupSteps: Int
    public var threads: Int
    public var seed: UInt64
    /// Size of the streaming-read buffer for the bandwidth probe (decode); must be ≫ L3.
    public var bandwidthProbeBytes: Int
    /// How the matrices are stored for prefill and decode (nil: fp32, as records from before it existed).
    public var precision: WeightPrecision?
    /// Seconds of each FMA-peak repetition (`ComputePeakProbe.fmaPeak`), before and after the workload; nil: 0.2 s
    /// (records from before the probe ran here have none); 0: not measured.
    public var fmaProbeSeconds: Double?

    public init(
        config: AnyModelConfiguration, phase: BenchPhase, batch: Int, sequence: Int, steps: Int, warmupSteps: Int = 1,
        threads: Int, seed: UInt64 = 1, bandwidthProbeBytes: Int = 1 << 30, precision: WeightPrecision? = nil,
        fmaProbeSeconds: Double? = nil
    ) {
        self.precision = precision
        self.fmaProbeSeconds = fmaProbeSeconds
        self.config = config
        self.phase = phase
        self.batch = batch
        self.sequence = sequence
        self.steps = steps
        self.warmupSteps = warmupSteps
        self.threads = threads
        self.seed = seed
        self.bandwidthProbeBytes = bandwidthProbeBytes
    }
}

/// Everything a bench run measured; `Codable` so wattprint can record it next to the energy readings.
public struct BenchResult: Codable, Sendable {
    public var options: BenchOptions
    public var parameterCount: Int
    /// OpenBLAS's kernel core ("Haswell", "Cooperlake", …; nil in records from before it was kept, or where OpenBLAS
    /// does not say).
    public var blasCore: String?
    /// `OPENBLAS_CORETYPE` as the environment set it (it overrides OpenBLAS's own choice of `blasCore`); nil when unset.
    public var blasCoreOverride: String?
    /// OpenBLAS threads and SIMD-kernel workers actually in use.
    public var blasThreads: Int
    public var kernelWorkers: Int
    /// Best single sgemm repetition over `sgemmShapes` (GFLOP/s), the MFU denominator. Measured before
    /// and again after the workload, so a burst of load from other processes during one probe cannot
    /// understate the peak (and overstate MFU).
    public var sgemmPeakGFLOPs: Double
    public var sgemmShapes: [SGEMMMeasurement]
    /// Wall time of each timed step, seconds.
    public var stepSeconds: [Double]
    public var medianStepSeconds: Double
    /// Tokens per step: B·T (prefill, encode, next-token and masked training), B·(S + T) for span-corruption training
    /// (source and target), or B (decode).
    public var tokensPerStep: Int
    public var tokensPerSecond: Double
    /// FLOPs per step by the configuration's formula (mean over timed steps for decode, whose context grows).
    public var flopsPerStep: Double
    public var achievedGFLOPs: Double
    /// achievedGFLOPs ÷ sgemmPeakGFLOPs. Above 1 where the engine's own kernels outran sgemm (`prefillKernel`).
    public var modelFLOPsUtilization: Double
    /// The FMA peak (GFLOP/s): independent multiply-add chains on `fmaVectorISA` on every thread, best of probes before
    /// and after the workload (nil when not measured).
    public var fmaPeakGFLOPs: Double?
    public var fmaVectorISA: String?
    /// Bits in one vector of `fmaVectorISA` (512 for AVX-512F), to compare with the width of OpenBLAS's kernels.
    public var fmaVectorBits: Int?
    /// achievedGFLOPs ÷ fmaPeakGFLOPs: the share of what the cores can do at all.
    public var fractionOfFMAPeak: Double?
    /// What multiplied a prefill's many rows (`QuantizedKernel.prefillName`): the engine's AVX-512F kernel on weights
    /// packed once, the BF16 kernel, or sgemm (prefill only).
    public var prefillKernel: String?
    /// What multiplied training's or encoding's products (`QuantizedKernel.productsName`; train and encode only).
    public var productsKernel: String?
    /// Bytes of the copy of the weights laid out in rows that the decode steps read (`InferenceSession.decodeCopyBytes`;
    /// decode only, nil in records made before it was kept).
    public var decodeCopyBytes: Int?
    /// VmHWM after the run, bytes.
    public var peakResidentBytes: Int
    /// Parameters + gradients + two AdamW moments, bytes (train only).
    public var optimizerStateBytes: Int?
    /// Activations kept for backward plus backward scratch, bytes (train only).
    public var activationBytes: Int?
    /// Wall time of each timed step's optimizer (clipping's gradient norm and AdamW; a GAN: both networks' AdamW, no
    /// clipping), median, seconds (train only): a cost
    /// per step whatever its tokens, which a larger batch spreads thinner.
    public var medianOptimizerSeconds: Double?
    /// Training loss of the last timed step (train only).
    public var lastLoss: Float?
    /// Parameters one token passes through (fewer than `parameterCount` for a mixture of experts).
    public var activeParameterCount: Int?
    /// Tokens routed to each expert over the timed steps, summed over layers (mixture of experts only).
    public var expertLoad: [Int]?
    /// The engine pool's jobs over the phase's steps (warm-up and paired steps included) and how many ran on the caller
    /// alone because the pool was held up (`PoolBackoff`); nil in records from before it was kept.
    public var poolBackoff: PoolBackoff?

    /// Adds the router's assignments between two cumulative counts (`from` nil: `to` is one pass's own).
    mutating func addExpertLoad(from before: [Int]?, to after: [Int]?) {
        guard let after else { return }
        let delta = zip(after, before ?? after.map { _ in 0 }).map { $0 - $1 }
        expertLoad = zip(expertLoad ?? delta.map { _ in 0 }, delta).map { $0 + $1 }
    }
    /// The reduced-precision kernel the phase ran (`QuantizedKernel.name`, or `prefillName` for prefill), for a bf16 or
    /// int8 model.
    public var quantizedKernel: String?
    /// Streaming-read bandwidth, bytes/s (decode only); best of probes before and after the decode steps.
    public var readBandwidthBytesPerSecond: Double?
    /// Weight bytes (every matrix, the LM head over Vp rows, norms, biases, one embedding row; of a mixture, every
    /// expert the router chose for any sequence, counted each step) read per decode step, mean over timed steps.
    public var weightBytesPerStep: Double?
    /// KV-cache bytes read per decode step (mean over timed steps, all sequences).
    public var cacheBytesPerStep: Double?
    /// Tokens/s if each decode step only had to stream weights + KV cache at the measured bandwidth.
    public var bandwidthBoundTokensPerSecond: Double?
    /// tokensPerSecond ÷ bandwidthBoundTokensPerSecond.
    public var fractionOfBandwidthBound: Double?
    /// Decode only, after the timed steps (outside their energy window): up to `Benchmark.pairedDecodeSteps` more steps
    /// (no more than the timed steps, nor than the context has room for), each between two passes of the read probe;
    /// each step's bytes ÷ seconds over the better of those two passes.
    /// Nil in records from before they were measured, or when the context had no room left.
    public var pairedBandwidthFractions: [Double]?
    /// The better of the read probe's two passes around each paired step, bytes/s.
    public var pairedReadBandwidths: [Double]?
    /// Median of `pairedBandwidthFractions`.
    public var medianPairedBandwidthFraction: Double? {
        pairedBandwidthFractions.flatMap { $0.isEmpty ? nil : HardwarePeaks.median($0) }
    }
}

/// What `Benchmark.run` is doing, so a caller (wattprint's energy recorder) can open a measurement
/// window around exactly the timed steps and leave the peak probes out.
public enum BenchEvent: Sendable {
    /// Human-readable progress ("measuring sgemm peak", "warm-up step", …).
    case status(String)
    /// Warm-up is done; the first timed step starts now.
    case workloadStarted(BenchPhase)
    /// A timed step ended: its index (0-based), wall seconds, tokens and FLOPs.
    case stepFinished(index: Int, seconds: Double, tokens: Int, flops: Double)
    /// The last timed step ended; probes that follow are not part of the workload.
    case workloadFinished
}

/// Measures training, prefill or decode throughput against this machine's own sgemm peak and memory bandwidth.
public enum Benchmark {
    /// "1 thread", "2 threads": progress lines in words (the engine is a leaf and does not reach `QuantityFormat`).
    static func threadCount(_ n: Int) -> String { n == 1 ? "1 thread" : "\(n) threads" }
    /// Decode steps paired with a bandwidth probe each after the timed ones (`BenchResult.pairedBandwidthFractions`):
    /// enough for a median, few enough to add about a second to GPT-2 124M's decode.
    public static let pairedDecodeSteps = 16

    /// The model as a decoder, or an error that names the phases an encoder-only model has.
    static func decodingModel(_ model: any TrainableModel) throws -> any DecodingModel {
        guard let decoder = model as? any DecodingModel else {
            throw EngineError.invalidArgument(
                "\(model.configuration.architecture.rawValue) is an encoder: it neither prefills nor decodes",
                fix: "use --phase train or encode")
        }
        return decoder
    }

    /// Runs the benchmark described by `options`. Sets the thread count for OpenBLAS and the SIMD kernels.
    /// `events` receives progress and the boundaries of the timed workload (the library never prints).
    /// - Throws: `invalidArgument` / `invalidConfiguration` for bad shapes; `fileUnreadable` if `statusPath` lacks VmHWM.
    public static func run<C: Clock>(
        _ options: BenchOptions, clock: C, statusPath: String = ProcessMemory.selfStatusPath,
        events: (BenchEvent) -> Void = { _ in }
    ) throws -> BenchResult where C.Duration == Duration {
        func progress(_ line: String) { events(.status(line)) }
        let config = options.config.configuration
        try config.validate()
        guard options.batch >= 1, options.steps >= 1, options.sequence >= 1, options.warmupSteps >= 0, options.threads >= 1 else {
            throw EngineError.invalidArgument("batch, steps, sequence and threads must be ≥ 1", fix: "e.g. --batch 4 --seq 64 --steps 3")
        }
        let C = config.channels
        // What the architecture can do is known from its configuration: refuse before any probe or allocation.
        let architecture = config.architecture, encoders: Set<Architecture> = [.bert, .t5]
        if options.phase == .encode && !encoders.contains(architecture) {
            let generates = ![.ae, .vae, .gan].contains(architecture)
            throw EngineError.invalidArgument(
                "\(architecture.rawValue) has no encoder phase\(generates ? ": its prompts are prefilled" : "")",
                fix: generates ? "use --phase prefill or decode" : "use --phase train")
        }
        if [.prefill, .decode].contains(options.phase) && [.bert, .ae, .vae, .gan].contains(architecture) {
            throw EngineError.invalidArgument(
                "\(architecture.rawValue) does not generate: it neither prefills nor decodes",
                fix: architecture == .bert ? "use --phase train or encode" : "use --phase train")
        }
        if let precision = options.precision, precision != .fp32 {
            guard [.prefill, .decode].contains(options.phase), [.gpt2, .llama].contains(architecture) else {
                throw EngineError.invalidArgument(
                    "--precision \(precision.rawValue) stores GPT-2 and dense Llama weights for inference (prefill, decode), not \(architecture.rawValue) \(options.phase.rawValue)",
                    fix: "use --arch gpt2 or llama with --phase prefill or decode, or drop --precision")
            }
        }
        if options.phase == .train { try config.objective.check(sequence: options.sequence, context: config.maxSequence) }
        let decodeTokens = options.phase == .decode ? options.warmupSteps + options.steps : 0
        if architecture == .t5 && options.phase == .decode {
            // The source and the decoder's output have a context each.
            guard options.sequence <= config.maxSequence, 1 + decodeTokens <= config.maxSequence else {
                throw EngineError.invalidArgument(
                    "a source of \(options.sequence) or 1 + \(decodeTokens) decoded tokens exceeds the model context \(config.maxSequence)",
                    fix: "lower --seq (the source) or --steps, or raise --context")
            }
        } else if options.sequence + decodeTokens > config.maxSequence {
            throw EngineError.invalidArgument(
                "sequence \(options.sequence)\(decodeTokens > 0 ? " (+\(decodeTokens) decoded)" : "") exceeds the model context \(config.maxSequence)",
                fix: decodeTokens > 0 ? "lower --seq or --steps, or raise --context" : "lower --seq or raise --context")
        }
        try Parallel.configure(threads: options.threads)
        let rows = options.phase == .decode ? max(options.sequence, 256) : max(options.batch * options.sequence, 256)
        progress("measuring sgemm peak with \(Self.threadCount(options.threads))")
        let peakShapes = [(m: 1024, n: 1024, k: 1024), (m: rows, n: 4 * C, k: C), (m: rows, n: C, k: 4 * C)]
        let before = HardwarePeaks.sgemmPeak(shapes: peakShapes, clock: clock).shapes
        let fmaSeconds = options.fmaProbeSeconds ?? 0.2
        if fmaSeconds > 0 { progress("measuring the FMA peak with \(Self.threadCount(options.threads))") }
        let fmaBefore = fmaSeconds > 0 ? ComputePeakProbe.fmaPeak(threads: options.threads, seconds: fmaSeconds) / 1e9 : 0
        progress("building \(config.layers)-layer, \(C)-wide model (\(config.parameterCount) parameters)")
        // A GAN's two networks train in the train phase only (refused above otherwise).
        let adversarial = options.config.isAdversarial ? try options.config.makeAdversarialModel(seed: options.seed) : nil
        let model = adversarial == nil ? try options.config.makeModel(seed: options.seed) : nil
        if let precision = options.precision, precision != .fp32, let quantizable = model as? any QuantizableModel {
            progress("storing the matrices in \(precision.rawValue)")
            try quantizable.quantize(precision)
        }
        var rng = SplitMix64(seed: options.seed &+ 99)
        func randomTokens(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.nextInt(below: config.vocabularySize)) } }

        var seconds: [Double] = []
        var flops: [Double] = []
        var tokensPerStep = 0
        var result = BenchResult(
            options: options, parameterCount: config.parameterCount, blasThreads: Parallel.blasThreads,
            kernelWorkers: Parallel.workers, sgemmPeakGFLOPs: 0, sgemmShapes: [], stepSeconds: [],
            medianStepSeconds: 0, tokensPerStep: 0, tokensPerSecond: 0, flopsPerStep: 0, achievedGFLOPs: 0,
            modelFLOPsUtilization: 0, peakResidentBytes: 0)
        result.activeParameterCount = config.activeParameterCount
        result.blasCore = Parallel.blasCoreName
        result.blasCoreOverride = Parallel.blasCoreOverride
        if let precision = options.precision, precision != .fp32 {
            result.quantizedKernel = options.phase == .prefill ? QuantizedKernel.prefillName(precision) : QuantizedKernel.name(precision)
        }
        if options.phase == .prefill {
            // GPT-2's and Llama's products go through `MatrixProducts`; a mixture's experts run sgemm.
            let packs = [.gpt2, .llama, .moe].contains(config.architecture)
            let kernel = QuantizedKernel.prefillName(options.precision ?? .fp32, packs: packs)
            result.prefillKernel =
                config.architecture == .moe && !kernel.hasPrefix("OpenBLAS")
                ? kernel + " (attention; the experts: \(QuantizedKernel.prefillName(.fp32, packs: false)) from 16 rows routed)" : kernel
        }
        if options.phase == .train || options.phase == .encode {
            result.productsKernel = QuantizedKernel.productsName(gradients: options.phase == .train)
        }
        let poolBefore = PoolBackoff.current
        switch options.phase {
        case .train:
            let B = options.batch, T = options.sequence, objective = config.objective
            try objective.check(sequence: T, context: config.maxSequence)
            // Random tokens shaped by the architecture's objective (masked for BERT, span-corrupted for T5).
            var objectiveRandom = SplitMix64(seed: options.seed &+ 7)
            let windows = (0..<B).map { _ in ArraySlice(randomTokens(objective.windowLength(sequence: T))) }
            let batch = objective.batch(windows: windows, sequence: T, random: &objectiveRandom)
            tokensPerStep = batch.tokens
            // One optimizer step: forward, backward, clipping, AdamW (a GAN: a discriminator step, then a generator step).
            // The optimizer's share (clipping's gradient norm and AdamW) is timed apart: a cost per step, not per token.
            let trainStep: () throws -> Float, stepFLOPs: Double
            var optimizerSeconds: [Double] = []
            func timed(_ body: () -> Void) -> Double {
                let start = clock.now
                body()
                return start.duration(to: clock.now).seconds
            }
            if let gan = adversarial, case let .gan(ganConfig) = options.config {
                tokensPerStep = B * T
                let discriminatorOptimizer = AdamW(layout: gan.discriminator.layout),
                    generatorOptimizer = AdamW(layout: gan.generator.layout)
                trainStep = {
                    _ = try gan.discriminatorStep(real: batch, seed: options.seed &+ 3)
                    let discriminator = timed {
                        discriminatorOptimizer.update(
                            parameters: gan.discriminator, gradients: gan.discriminatorGradients(), learningRate: 1e-4, gradientScale: 1)
                    }
                    let loss = try gan.generatorStep(samples: B, seed: options.seed &+ 4)
                    let generator = timed {
                        generatorOptimizer.update(
                            parameters: gan.generator, gradients: gan.generatorGradients(), learningRate: 1e-4, gradientScale: 1)
                    }
                    optimizerSeconds.append(discriminator + generator)
                    return loss
                }
                stepFLOPs = ganConfig.adversarialStepFLOPs(B: B)
                result.optimizerStateBytes = 4 * 4 * (gan.generator.layout.count + gan.discriminator.layout.count)
            } else {
                let model = model!, optimizer = AdamW(layout: model.parameters.layout), gradients = model.gradients()
                trainStep = {
                    let loss = try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
                    optimizerSeconds.append(
                        timed {
                            let norm = GradientClipping.globalNorm(gradients, recorded: model.recordedGradientSquares)
                            optimizer.update(
                                parameters: model.parameters, gradients: gradients, learningRate: 1e-4,
                                gradientScale: GradientClipping.scale(norm: norm, maxNorm: 1))
                        })
                    return loss
                }
                stepFLOPs = model.trainingFLOPs(batch)
                result.optimizerStateBytes = 4 * 4 * model.parameters.layout.count
            }
            if options.warmupSteps == 0 { events(.workloadStarted(.train)) }
            for step in 0..<(options.warmupSteps + options.steps) {
                progress(step < options.warmupSteps ? "warm-up step" : "train step \(step - options.warmupSteps + 1)/\(options.steps)")
                let start = clock.now
                let loss = try trainStep()
                let elapsed = start.duration(to: clock.now).seconds
                if step >= options.warmupSteps {
                    seconds.append(elapsed)
                    flops.append(stepFLOPs)
                    result.addExpertLoad(from: nil, to: model?.expertLoad)
                    result.lastLoss = loss
                    events(.stepFinished(index: step - options.warmupSteps, seconds: elapsed, tokens: tokensPerStep, flops: flops.last!))
                }
                if step + 1 == options.warmupSteps { events(.workloadStarted(.train)) }
            }
            events(.workloadFinished)
            result.activationBytes = model?.activationBytes
            let timedOptimizer = Array(optimizerSeconds.dropFirst(options.warmupSteps))
            if !timedOptimizer.isEmpty { result.medianOptimizerSeconds = HardwarePeaks.median(timedOptimizer) }
        case .encode:
            guard let encoder = model as? any EncodingModel else {
                throw EngineError.invalidArgument(
                    "\(config.architecture.rawValue) has no encoder: its prompts are prefilled", fix: "use --phase prefill or decode")
            }
            let B = options.batch, T = options.sequence
            tokensPerStep = B * T
            let input = EncoderInput(tokens: randomTokens(B * T), B: B, T: T)
            if options.warmupSteps == 0 { events(.workloadStarted(.encode)) }
            for step in 0..<(options.warmupSteps + options.steps) {
                let start = clock.now
                _ = try encoder.encode(input, logits: false)
                let elapsed = start.duration(to: clock.now).seconds
                if step >= options.warmupSteps {
                    seconds.append(elapsed)
                    flops.append(config.encoderFLOPs(tokens: B * T, context: T))
                    events(.stepFinished(index: step - options.warmupSteps, seconds: elapsed, tokens: B * T, flops: flops.last!))
                }
                if step + 1 == options.warmupSteps { events(.workloadStarted(.encode)) }
            }
            events(.workloadFinished)
        case .prefill:
            let B = options.batch, T = options.sequence
            tokensPerStep = B * T
            let decoder = try decodingModel(model!)
            let prompts = (0..<B).map { _ in randomTokens(T) }
            // Every step prefills the same matrices: packed on the first (warm-up) call, as a long prefill would be.
            let session = InferenceSession(model: decoder, maxBatch: B, maxChunk: T, packingCall: 1)
            // An encoder–decoder's prompt is its decoder's: each slot gets a source of T tokens first (not timed).
            if decoder is any EncoderDecoderModel { for s in 0..<B { try session.setSource(sequence: s, tokens: randomTokens(T)) } }
            if options.warmupSteps == 0 { events(.workloadStarted(.prefill)) }
            for step in 0..<(options.warmupSteps + options.steps) {
                session.reset()
                let before = session.executedFLOPs, loadBefore = session.expertLoad
                let start = clock.now
                for (s, prompt) in prompts.enumerated() { _ = try session.prefill(sequence: s, tokens: prompt) }
                let elapsed = start.duration(to: clock.now).seconds
                if step >= options.warmupSteps {
                    result.addExpertLoad(from: loadBefore, to: session.expertLoad)
                    seconds.append(elapsed)
                    flops.append(session.executedFLOPs - before)
                    events(.stepFinished(index: step - options.warmupSteps, seconds: elapsed, tokens: B * T, flops: flops.last!))
                }
                if step + 1 == options.warmupSteps { events(.workloadStarted(.prefill)) }
            }
            events(.workloadFinished)
        case .decode:
            let B = options.batch
            tokensPerStep = B
            progress("measuring memory bandwidth with \(Self.threadCount(options.threads))")
            let bandwidthBefore = HardwarePeaks.readBandwidth(bytes: options.bandwidthProbeBytes, clock: clock)
            let decoder = try decodingModel(model!)
            let session = InferenceSession(model: decoder, maxBatch: B, maxChunk: max(1, options.sequence))
            // An encoder–decoder decodes against a source of T tokens, from its start token.
            let sourceLength = decoder is any EncoderDecoderModel ? options.sequence : 0
            for s in 0..<B {
                if sourceLength > 0 {
                    try session.setSource(sequence: s, tokens: randomTokens(sourceLength))
                    _ = try session.prefill(sequence: s, tokens: [(decoder as! any EncoderDecoderModel).decoderStartToken])
                } else {
                    _ = try session.prefill(sequence: s, tokens: randomTokens(options.sequence))
                }
            }
            var cacheBytes: [Double] = [], weightBytes: [Double] = []
            // One decode step, timed: seconds, and the weight and KV-cache bytes it read.
            func decodeStep(_ step: Int) throws -> (seconds: Double, weights: Double, cache: Double) {
                let steps = (0..<B).map { (sequence: $0, token: Int32((step * 31 + $0) % config.vocabularySize)) }
                let context = session.lengths.reduce(0) { $0 + $1 + 1 }
                let start = clock.now
                try session.decode(steps)
                let elapsed = start.duration(to: clock.now).seconds
                // An encoder–decoder also reads each layer's cross-attention keys and values (as many floats per source
                // position as its self-attention cache holds per decoded position).
                let cache = Double(config.cacheFloatsPerPosition * (context + B * sourceLength) * 4)
                // A mixture reads every expert any sequence was routed to, counted from the router's choices.
                let read = session.expertsReadPerCall.last.map {
                    config.decodeWeightFloats + ($0 - config.layers * config.routedExpertsPerToken) * config.expertWeightFloats
                }
                // Quantised matrices stream their stored bytes instead of 4 per weight.
                let replaced = (model as? any QuantizableModel)?.quantizedReplacement ?? (floats: 0, bytes: 0)
                return (elapsed, Double((read ?? config.decodeWeightFloats) * 4 - replaced.floats * 4 + replaced.bytes), cache)
            }
            if options.warmupSteps == 0 { events(.workloadStarted(.decode)) }
            for step in 0..<(options.warmupSteps + options.steps) {
                let before = session.executedFLOPs, loadBefore = session.expertLoad
                let measured = try decodeStep(step)
                if step >= options.warmupSteps {
                    result.addExpertLoad(from: loadBefore, to: session.expertLoad)
                    seconds.append(measured.seconds)
                    flops.append(session.executedFLOPs - before)
                    cacheBytes.append(measured.cache)
                    weightBytes.append(measured.weights)
                    events(.stepFinished(index: step - options.warmupSteps, seconds: measured.seconds, tokens: B, flops: flops.last!))
                }
                if step + 1 == options.warmupSteps { events(.workloadStarted(.decode)) }
            }
            events(.workloadFinished)
            result.decodeCopyBytes = session.decodeCopyBytes
            progress("measuring memory bandwidth again")
            let probe = StreamingReadProbe(bytes: options.bandwidthProbeBytes)
            _ = probe.measure(clock: clock)
            let bandwidth = max(bandwidthBefore, (0..<5).map { _ in probe.measure(clock: clock) }.max()!)
            let weights = weightBytes.reduce(0, +) / Double(weightBytes.count)
            let cache = cacheBytes.reduce(0, +) / Double(cacheBytes.count)
            result.readBandwidthBytesPerSecond = bandwidth
            result.weightBytesPerStep = weights
            result.cacheBytesPerStep = cache
            result.bandwidthBoundTokensPerSecond = Double(B) * bandwidth / (weights + cache)
            // A shared machine's bandwidth moves over seconds (on a development VM between about 34 and 55–65 GB/s), so the
            // best probe before or after the steps may come from another moment than the steps. Extra steps, outside the
            // measurement window, each between two passes of the probe, are held to the better of those two: noise
            // only slows a pass, and one pass alone read as low as 14 GB/s beside steps streaming 28.
            let room = config.maxSequence - (session.lengths.max() ?? 0)
            let pairs = min(Self.pairedDecodeSteps, options.steps, room)
            if pairs > 0 {
                progress("pairing \(pairs) more decode steps with the bandwidth probe read around each")
                var fractions: [Double] = [], rates: [Double] = []
                var previous = probe.measure(clock: clock)
                for pair in 0..<pairs {
                    // The timed steps are done and their window closed: a failing extra step ends the pairing, not the run.
                    guard let measured = try? decodeStep(options.warmupSteps + options.steps + pair) else { break }
                    let next = probe.measure(clock: clock)
                    let rate = max(previous, next)
                    rates.append(rate)
                    fractions.append((measured.weights + measured.cache) / measured.seconds / rate)
                    previous = next
                }
                if !fractions.isEmpty {
                    result.pairedBandwidthFractions = fractions
                    result.pairedReadBandwidths = rates
                }
            }

        }
        result.poolBackoff = PoolBackoff.current.since(poolBefore)
        progress(fmaSeconds > 0 ? "measuring the sgemm and FMA peaks again" : "measuring sgemm peak again")
        let after = HardwarePeaks.sgemmPeak(shapes: peakShapes, clock: clock).shapes
        let shapes = zip(before, after).map { $0.merged(with: $1) }
        let peak = shapes.map(\.bestGFLOPs).max() ?? 0
        result.sgemmShapes = shapes
        result.sgemmPeakGFLOPs = peak
        let median = HardwarePeaks.median(seconds)
        result.stepSeconds = seconds
        result.medianStepSeconds = median
        result.tokensPerStep = tokensPerStep
        result.tokensPerSecond = Double(tokensPerStep) / median
        result.flopsPerStep = flops.reduce(0, +) / Double(flops.count)
        result.achievedGFLOPs = result.flopsPerStep / median / 1e9
        result.modelFLOPsUtilization = result.achievedGFLOPs / peak
        if fmaSeconds > 0 {
            let fma = max(fmaBefore, ComputePeakProbe.fmaPeak(threads: options.threads, seconds: fmaSeconds) / 1e9)
            result.fmaPeakGFLOPs = fma
            result.fmaVectorISA = ComputePeakProbe.vectorISA
            result.fmaVectorBits = ComputePeakProbe.vectorFloats * 32
            result.fractionOfFMAPeak = result.achievedGFLOPs / fma
        }
        if let bound = result.bandwidthBoundTokensPerSecond { result.fractionOfBandwidthBound = result.tokensPerSecond / bound }
        result.peakResidentBytes = try ProcessMemory.peakResidentBytes(statusPath: statusPath)
        return result
    }
}
