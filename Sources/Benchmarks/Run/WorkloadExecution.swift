import Accounting
import Engine

/// Runs one repeat of one workload on the engine, marking a window around each measured phase: untimed warm-up first
/// (training steps, one inference round), then `train` over its steps, then each inference round as a `prefill`
/// window and the `decode` window that continues its prompts, both inside an `inference` window (so prefill + decode
/// can be checked against the inference they make up). Model construction and evaluation stay outside windows.
enum WorkloadExecution {
    /// What one repeat produced besides its windows.
    struct Outcome {
        var evaluation: EvaluationReport?
    }

    static func run(_ w: PlannedWorkload, repeat r: Int, recorder: PhaseRecorder) throws -> Outcome {
        let spec = w.spec
        let seed = spec.seed ?? 1
        let warmup = spec.warmupSteps ?? 1
        let model = try w.config.makeModel(seed: seed)
        var outcome = Outcome()
        if let t = spec.phases.train, let steps = spec.trainSteps {
            var options = TrainingOptions()
            options.batch = t.batch
            options.sequence = t.sequence
            options.steps = warmup + steps
            options.learningRate = t.learningRate ?? 1e-3
            options.warmupSteps = max(1, options.steps / 20)
            options.evaluationBatches = t.evaluationBatches ?? 8
            options.seed = seed
            let trainer = try Trainer(model: model, data: w.tokens, options: options)
            for _ in 0..<warmup { _ = try trainer.trainStep() }
            let mark = PhaseMark(name: "train", workload: w.name, repeat: r)
            recorder.begin(mark)
            for _ in 0..<steps {
                let report = try trainer.trainStep()
                recorder.record(
                    .step(
                        StepRecord(
                            index: report.step, tokens: report.tokens, flops: report.flops, loss: Double(report.loss),
                            learningRate: Double(report.learningRate), gradientNorm: Double(report.gradientNorm))))
                recorder.record(.tokens(TokenCount(count: Double(report.tokens), phase: "train")))
            }
            recorder.end(mark)
            var evaluation = try trainer.evaluate()
            // A reduced-precision variant is evaluated before and after its weights are converted, so its row carries
            // what the conversion cost in quality.
            if w.precision != .fp32 {
                recorder.record(
                    .evaluation(
                        EvaluationRecord(
                            step: evaluation.step, loss: Double(evaluation.loss), tokens: evaluation.tokens, workload: w.name, repeat: r)))
                try convert(model, to: w.precision)
                evaluation = try trainer.evaluate()
            }
            outcome.evaluation = evaluation
            recorder.record(
                .evaluation(
                    EvaluationRecord(
                        step: evaluation.step, loss: Double(evaluation.loss), tokens: evaluation.tokens, workload: w.name, repeat: r,
                        precision: w.precision == .fp32 ? nil : w.precision.rawValue)))
        } else if w.precision != .fp32 {
            try convert(model, to: w.precision)
        }
        if let p = spec.phases.prefill {
            let decode = spec.phases.decode
            // `BenchPlan` admits inference phases for decoder-only architectures only.
            let decoder = model as! any DecodingModel
            let session = InferenceSession(model: decoder, maxBatch: p.batch, maxChunk: p.promptTokens)
            let prompts = (0..<p.batch).map { b -> [Int32] in
                let stride = max(1, (w.tokens.validation.count - p.promptTokens) / p.batch)
                let start = min(b * stride, w.tokens.validation.count - p.promptTokens)
                return Array(w.tokens.validation[start..<(start + p.promptTokens)])
            }
            let sampling = SamplingOptions(temperature: decode?.temperature ?? 0, topK: decode?.topK, topP: decode?.topP)
            // Round 0, untimed, warms the caches and OpenBLAS's buffers when the spec asks for warm-up.
            for round in (warmup > 0 ? 0 : 1)...(p.rounds ?? 1) {
                try inferenceRound(
                    session: session, prompts: prompts, decode: decode, sampling: sampling, seed: seed &+ UInt64(round),
                    workload: w.name, repeat: r, recorder: round > 0 ? recorder : nil)
            }
        }
        return outcome
    }

    /// Converts the weights evaluation and inference use (`WorkloadSpec.validate` admits GPT-2 and dense Llama only).
    static func convert(_ model: any TrainableModel, to precision: WeightPrecision) throws {
        guard let quantizable = model as? any QuantizableModel else {
            throw BenchError(
                .specInvalid, "a \(precision.rawValue) workload needs a GPT-2 or dense Llama model", fix: "drop model.precision")
        }
        try quantizable.quantize(precision)
    }

    /// One prefill of every prompt from an empty cache, then `decode.newTokens` decode steps for all of them together.
    /// The prefill window hands over to the decode window at one reading, inside one inference window.
    static func inferenceRound(
        session: InferenceSession, prompts: [[Int32]], decode: WorkloadSpec.Decode?, sampling: SamplingOptions, seed: UInt64,
        workload: String, repeat r: Int, recorder: PhaseRecorder?
    ) throws {
        let inference = PhaseMark(name: "inference", workload: workload, repeat: r)
        let prefill = PhaseMark(name: "prefill", workload: workload, repeat: r)
        session.reset()
        recorder?.begin(inference, prefill)
        var flops = session.executedFLOPs
        var next: [Int32] = []
        var samplers = prompts.indices.map { TokenSampler(seed: seed &+ UInt64($0)) }
        for (s, prompt) in prompts.enumerated() {
            let logits = try session.prefill(sequence: s, tokens: prompt)
            next.append(samplers[s].sample(logits: logits, options: sampling))
        }
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        recorder?.record(.step(StepRecord(index: 1, tokens: promptTokens, flops: session.executedFLOPs - flops)))
        recorder?.record(.tokens(TokenCount(count: Double(promptTokens), phase: "prefill")))
        guard let decode else {
            recorder?.end(prefill, inference)
            return
        }
        let decoding = PhaseMark(name: "decode", workload: workload, repeat: r)
        recorder?.transition(ending: [prefill], beginning: [decoding])
        flops = session.executedFLOPs
        for _ in 0..<decode.newTokens {
            try session.decode(next.enumerated().map { (sequence: $0.offset, token: $0.element) })
            for s in next.indices { next[s] = samplers[s].sample(logits: session.logits(at: s), options: sampling) }
        }
        let tokens = decode.newTokens * prompts.count
        recorder?.record(.step(StepRecord(index: 1, tokens: tokens, flops: session.executedFLOPs - flops)))
        recorder?.record(.tokens(TokenCount(count: Double(tokens), phase: "decode")))
        recorder?.end(decoding, inference)
    }
}
