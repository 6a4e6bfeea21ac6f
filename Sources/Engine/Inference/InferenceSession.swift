import Dispatch

// Legend: S sequences (batch slots), M rows processed in one call, C channels, NH heads, L layers, Vp padded vocabulary.

/// KV-cached inference for a GPT-2: prefill prompts in chunks, then decode one token per sequence per step.
///
/// Holds K and V caches [L][S][maxSeq][C] and scratch for `maxChunk` rows, allocated once. Matmuls over
/// the rows of a call use sgemm, or sgemv when there is a single row (batch-1 decode is memory-bound
/// and OpenBLAS's sgemv streams the weights 2–3× faster than a one-row sgemm). Only the last row of
/// each sequence gets logits. `executedFLOPs` accumulates `FLOPCount.forward` for the work done.
public final class InferenceSession {
    public let model: GPT2
    public let maxBatch: Int
    public let maxChunk: Int
    /// Tokens held in each sequence's cache.
    public private(set) var lengths: [Int]
    /// FLOPs executed since creation, by `FLOPCount`'s formula.
    public private(set) var executedFLOPs: Double = 0

    private let storage: TensorBuffer
    private let kCache, vCache: UnsafeMutableBufferPointer<Float>
    private let x, ln, mean, rstd, qkv, atty, fch, lastRows, logitRows, scores: UnsafeMutableBufferPointer<Float>
    private let rowTokens: UnsafeMutableBufferPointer<Int32>
    private let rowPositions: UnsafeMutableBufferPointer<Int32>

    /// One contiguous run of new rows belonging to one sequence.
    private struct Segment { let sequence: Int, start: Int, count: Int, firstRow: Int }

    public init(model: GPT2, maxBatch: Int = 1, maxChunk: Int = 256) {
        precondition(maxBatch >= 1 && maxChunk >= 1)
        let c = model.config, C = c.channels, T = c.maxSequence
        let rows = max(maxChunk, maxBatch)
        self.model = model
        self.maxBatch = maxBatch
        self.maxChunk = maxChunk
        lengths = [Int](repeating: 0, count: maxBatch)
        let cache = c.layers * maxBatch * T * C
        let scoreCount = max(c.heads * maxChunk * T, maxBatch * c.heads * T)
        let specs: [(String, Int)] = [
            ("k", cache), ("v", cache), ("x", rows * C), ("ln", rows * C), ("mean", rows), ("rstd", rows),
            ("qkv", rows * 3 * C), ("atty", rows * C), ("fch", rows * 4 * C), ("last", maxBatch * C),
            ("logits", maxBatch * c.paddedVocabularySize), ("scores", scoreCount),
        ]
        let buffer = TensorBuffer(layout: TensorLayout(specs.map { TensorSpec(name: $0.0, shape: [$0.1], decays: false) }))
        storage = buffer
        kCache = buffer["k"]; vCache = buffer["v"]; x = buffer["x"]; ln = buffer["ln"]; mean = buffer["mean"]; rstd = buffer["rstd"]
        qkv = buffer["qkv"]; atty = buffer["atty"]; fch = buffer["fch"]; lastRows = buffer["last"]; logitRows = buffer["logits"]
        scores = buffer["scores"]
        rowTokens = .allocate(capacity: rows)
        rowTokens.initialize(repeating: 0)
        rowPositions = .allocate(capacity: rows)
        rowPositions.initialize(repeating: 0)
    }

    deinit {
        rowTokens.deallocate()
        rowPositions.deallocate()
    }

    /// Empties every sequence's cache.
    public func reset() { for s in 0..<maxBatch { lengths[s] = 0 } }

    /// Appends `tokens` to sequence `sequence` and returns the logits (V entries) after its last token.
    /// Long prompts run in chunks of `maxChunk` rows.
    /// - Throws: `promptTooLong` when the sequence would exceed the model's context; `tokenOutOfRange`.
    public func prefill(sequence: Int, tokens: [Int32]) throws -> UnsafeBufferPointer<Float> {
        precondition(sequence >= 0 && sequence < maxBatch)
        guard !tokens.isEmpty else {
            throw EngineError.invalidArgument("prompt is empty", fix: "pass at least one token (e.g. a newline or <|endoftext|>)")
        }
        try checkFits(sequence: sequence, adding: tokens.count)
        try checkTokens(tokens)
        var offset = 0
        while offset < tokens.count {
            let n = min(maxChunk, tokens.count - offset)
            for i in 0..<n {
                rowTokens[i] = tokens[offset + i]
                rowPositions[i] = Int32(lengths[sequence] + i)
            }
            run([Segment(sequence: sequence, start: lengths[sequence], count: n, firstRow: 0)])
            lengths[sequence] += n
            offset += n
        }
        return logits(at: 0)
    }

    /// Feeds one token to each listed sequence (distinct sequences); afterwards `logits(at: i)` holds
    /// the next-token logits for `steps[i]`.
    /// - Throws: `promptTooLong` when a sequence is full; `tokenOutOfRange`.
    public func decode(_ steps: [(sequence: Int, token: Int32)]) throws {
        precondition(steps.count <= maxBatch && !steps.isEmpty)
        // Two steps for one sequence would write the same cache slot and leave a hole the next step attends to.
        guard Set(steps.map(\.sequence)).count == steps.count else {
            throw EngineError.invalidArgument(
                "decode was given the same sequence twice in one step", fix: "pass each sequence at most once per decode call")
        }
        try checkTokens(steps.map(\.token))
        var segments: [Segment] = []
        for (row, step) in steps.enumerated() {
            try checkFits(sequence: step.sequence, adding: 1)
            rowTokens[row] = step.token
            rowPositions[row] = Int32(lengths[step.sequence])
            segments.append(Segment(sequence: step.sequence, start: lengths[step.sequence], count: 1, firstRow: row))
        }
        run(segments)
        for step in steps { lengths[step.sequence] += 1 }
    }

    /// Logits (the V real entries) of the `index`-th sequence of the last call.
    public func logits(at index: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: logitRows.baseAddress! + index * model.config.paddedVocabularySize, count: model.config.vocabularySize)
    }

    private func checkFits(sequence: Int, adding n: Int) throws {
        let limit = model.config.maxSequence
        guard lengths[sequence] + n <= limit else {
            throw EngineError(
                .promptTooLong, "sequence would hold \(lengths[sequence] + n) tokens but the model's context is \(limit)",
                fix: "shorten the prompt or lower --max-tokens so prompt + output ≤ \(limit)")
        }
    }

    private func checkTokens(_ tokens: [Int32]) throws {
        let V = Int32(model.config.vocabularySize)
        if let bad = tokens.first(where: { $0 < 0 || $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use the tokenizer the checkpoint was trained with")
        }
    }

    private func view(_ buffer: UnsafeMutableBufferPointer<Float>, rows: Int, width: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: buffer[0..<(rows * width)])
    }

    private func run(_ segments: [Segment]) {
        let config = model.config, p = model.params
        let C = config.channels, NH = config.heads, hs = C / NH, T = config.maxSequence, Vp = config.paddedVocabularySize
        let M = segments.reduce(0) { $0 + $1.count }
        let xs = view(x, rows: M, width: C), lns = view(ln, rows: M, width: C)
        let qkvs = view(qkv, rows: M, width: 3 * C), attys = view(atty, rows: M, width: C), fchs = view(fch, rows: M, width: 4 * C)
        Encoder.forward(
            out: xs, tokens: UnsafeBufferPointer(rowTokens), positions: UnsafeBufferPointer(rowPositions),
            wte: p.wte, wpe: p.wpe, R: M, C: C)
        for l in 0..<config.layers {
            let w = p.blocks[l]
            LayerNorm.forward(out: lns, mean: mean, rstd: rstd, inp: xs, weight: w.ln1w, bias: w.ln1b, R: M, C: C)
            MatMul.forward(out: qkvs, inp: lns, weight: w.qkvw, bias: w.qkvb, M: M, K: C, N: 3 * C)
            let layerK = kCache.baseAddress! + l * maxBatch * T * C, layerV = vCache.baseAddress! + l * maxBatch * T * C
            for segment in segments {
                for i in 0..<segment.count {
                    let row = qkvs.baseAddress! + (segment.firstRow + i) * 3 * C
                    let slot = (segment.sequence * T + segment.start + i) * C
                    (layerK + slot).update(from: row + C, count: C)
                    (layerV + slot).update(from: row + 2 * C, count: C)
                }
            }
            attend(segments, layerK: layerK, layerV: layerV, C: C, NH: NH, hs: hs, T: T)
            MatMul.forward(out: xs, inp: attys, weight: w.projw, bias: w.projb, residual: xs, M: M, K: C, N: C)
            LayerNorm.forward(out: lns, mean: mean, rstd: rstd, inp: xs, weight: w.ln2w, bias: w.ln2b, R: M, C: C)
            MatMul.forward(out: fchs, inp: lns, weight: w.fcw, bias: w.fcb, M: M, K: C, N: 4 * C)
            GELU.forward(out: fchs, inp: fchs, N: M * 4 * C)
            MatMul.forward(out: xs, inp: fchs, weight: w.fcprojw, bias: w.fcprojb, residual: xs, M: M, K: 4 * C, N: C)
        }
        let S = segments.count
        for (s, segment) in segments.enumerated() {
            (lastRows.baseAddress! + s * C).update(from: xs.baseAddress! + (segment.firstRow + segment.count - 1) * C, count: C)
        }
        let last = view(lastRows, rows: S, width: C)
        LayerNorm.forward(out: last, mean: mean, rstd: rstd, inp: last, weight: p.lnfw, bias: p.lnfb, R: S, C: C)
        MatMul.forward(
            out: view(logitRows, rows: S, width: Vp), inp: last, weight: p.wte, bias: nil, M: S, K: C, N: Vp, layout: .outputMajor)
        for segment in segments {
            executedFLOPs += FLOPCount.forward(config, tokens: segment.count, attentionContext: segment.start + segment.count, logitRows: 1)
        }
    }

    /// Multi-row segments (prefill) use sgemm per head; single-row segments (decode) run as
    /// (sequence, head) tasks of SIMD dot products spread over cores.
    private func attend(
        _ segments: [Segment], layerK: UnsafeMutablePointer<Float>, layerV: UnsafeMutablePointer<Float>,
        C: Int, NH: Int, hs: Int, T: Int
    ) {
        let q = qkv.baseAddress!, out = atty.baseAddress!, sc = scores.baseAddress!
        var singles = 0
        for segment in segments {
            if segment.count > 1 {
                CachedAttention.forwardChunk(
                    out: out + segment.firstRow * C, q: q + segment.firstRow * 3 * C,
                    kCache: layerK + segment.sequence * T * C, vCache: layerV + segment.sequence * T * C,
                    scores: sc, n: segment.count, p0: segment.start, C: C, NH: NH)
            } else {
                singles += 1
            }
        }
        guard singles > 0 else { return }
        let rowSegments = segments.filter { $0.count == 1 }
        // Spread over cores only when there is enough work: at short contexts a dispatch costs more
        // than the two small sgemv of a (sequence, head) task.
        let longest = rowSegments.map { $0.start + 1 }.max() ?? 1
        let minTasks = max(1, 262_144 / (longest * hs))
        rowSegments.withUnsafeBufferPointer { list in
            let tasks = list.count * NH
            BLAS.singleThreaded {
                Parallel.forEachChunk(tasks, minChunk: minTasks) { _, range in
                    for task in range {
                        let segment = list[task / NH], h = task % NH
                        CachedAttention.forwardRow(
                            out: out + segment.firstRow * C + h * hs, q: q + segment.firstRow * 3 * C + h * hs,
                            kCache: layerK + segment.sequence * T * C + h * hs,
                            vCache: layerV + segment.sequence * T * C + h * hs,
                            scores: sc + task * T, p: segment.start, C: C, hs: hs)
                    }
                }
            }
        }
    }
}
