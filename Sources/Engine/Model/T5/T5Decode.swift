// Legend: S slots (sequences), P positions a slot holds (the context), n rows of a call, C channels, A attention
// width, H feed-forward width, Vp padded vocabulary.

/// T5's decode state: per decoder layer a self-attention cache of k|v rows [S][P][2A] and a cross-attention cache of
/// the source's k|v rows [S][P][2A] (written once per source by `setSource`), each slot's source length, and scratch
/// for `maxChunk` rows.
final class T5DecodeState: DecodeState {
    let rowTokens: UnsafeMutableBufferPointer<Int32>
    let rowPositions: UnsafeMutableBufferPointer<Int32>
    let storage: TensorBuffer
    let selfCache, crossCache: [UnsafeMutableBufferPointer<Float>]
    let x, norm, rstd, qkv, q, attY, gateUp, act, scores, bias, logits: UnsafeMutableBufferPointer<Float>
    var sourceLengths: [Int]
    let maxBatch: Int, maxChunk: Int, positions: Int

    init(config c: T5Config, maxBatch: Int, maxChunk: Int) {
        self.maxBatch = maxBatch
        self.maxChunk = maxChunk
        positions = c.maxSequence
        // A call has up to maxChunk rows of one sequence (prefill) or one row per sequence (decode).
        let P = c.maxSequence, A = c.attentionWidth, C = c.channels, H = c.hidden, n = max(maxChunk, maxBatch), NH = c.heads
        var specs: [TensorSpec] = []
        func add(_ name: String, _ count: Int) { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        for l in 0..<c.decoderLayers {
            add("self\(l)", maxBatch * P * 2 * A)
            add("cross\(l)", maxBatch * P * 2 * A)
        }
        for (name, count) in [
            ("x", n * C), ("norm", n * C), ("rstd", n), ("qkv", n * 3 * A), ("q", n * A), ("attY", n * A), ("gateUp", n * 2 * H),
            ("act", n * H), ("scores", NH * n * P), ("bias", NH * n * P), ("logits", n * c.paddedVocabularySize),
        ] { add(name, count) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        selfCache = (0..<c.decoderLayers).map { buffer["self\($0)"] }
        crossCache = (0..<c.decoderLayers).map { buffer["cross\($0)"] }
        x = buffer["x"]; norm = buffer["norm"]; rstd = buffer["rstd"]; qkv = buffer["qkv"]; q = buffer["q"]; attY = buffer["attY"]
        gateUp = buffer["gateUp"]; act = buffer["act"]; scores = buffer["scores"]; bias = buffer["bias"]; logits = buffer["logits"]
        rowTokens = .allocate(capacity: n)
        rowTokens.initialize(repeating: 0)
        rowPositions = .allocate(capacity: n)
        rowPositions.initialize(repeating: 0)
        sourceLengths = [Int](repeating: 0, count: maxBatch)
    }

    var bytes: Int { storage.layout.count * MemoryLayout<Float>.stride + 8 * rowTokens.count }

    deinit {
        rowTokens.deallocate()
        rowPositions.deallocate()
    }
}

extension T5: EncoderDecoderModel {
    public var decoderStartToken: Int32 { Int32(config.decoderStartTokenID) }

    public func sourceFLOPs(tokens: Int) -> Double { config.sourceFLOPs(tokens: tokens) }

    public func makeDecodeState(maxBatch: Int, maxChunk: Int) -> any DecodeState {
        T5DecodeState(config: config, maxBatch: maxBatch, maxChunk: maxChunk)
    }

    public func setSource(_ tokens: [Int32], sequence: Int, state: any DecodeState) throws {
        let s = state as! T5DecodeState
        precondition(sequence >= 0 && sequence < s.maxBatch)
        guard !tokens.isEmpty else {
            throw EngineError.invalidArgument("the source is empty", fix: "pass at least one token to encode")
        }
        guard tokens.count <= config.maxSequence else {
            throw EngineError(
                .promptTooLong, "the source has \(tokens.count) tokens but the model's context is \(config.maxSequence)",
                fix: "shorten the source to at most \(config.maxSequence) tokens")
        }
        let a = try prepareEncoder(tokens: tokens, padding: [UInt8](repeating: 0, count: tokens.count), B: 1, S: tokens.count)
        runEncoder(a)
        let A = config.attentionWidth, C = config.channels, P = config.maxSequence
        for l in 0..<config.decoderLayers {
            MatMul.forward(
                out: UnsafeMutableBufferPointer(rebasing: s.crossCache[l][(sequence * P * 2 * A)...]), inp: a.encoderOut,
                weight: params.decoder[l].crossKV!, bias: nil, M: tokens.count, K: C, N: 2 * A, layout: .outputMajor)
        }
        s.sourceLengths[sequence] = tokens.count
    }

    public func forwardFLOPs(_ segment: DecodeSegment, state: any DecodeState) -> Double {
        let s = state as! T5DecodeState
        return config.decoderFLOPs(
            tokens: segment.count, selfContext: segment.start + segment.count, sourceLength: s.sourceLengths[segment.sequence], logitRows: 1
        )
    }

    /// The decoder over the rows of `segments`: matrix products over all rows together, attention per segment against
    /// its slot's caches, logits for each segment's last row.
    public func decode(_ segments: [DecodeSegment], state: any DecodeState) {
        let s = state as! T5DecodeState, p = params
        let n = segments.reduce(0) { $0 + $1.count }
        let C = config.channels, A = config.attentionWidth, H = config.hidden, NH = config.heads, hs = config.headSize
        let P = config.maxSequence, eps = config.normEpsilon
        precondition(n <= s.rowTokens.count)
        let rows = { (b: UnsafeMutableBufferPointer<Float>, width: Int) in UnsafeMutableBufferPointer(rebasing: b[0..<(n * width)]) }
        TokenEmbedding.forward(out: s.x, tokens: UnsafeBufferPointer(s.rowTokens), table: p.shared, R: n, C: C)
        // Each segment's self-attention bias: its queries at positions start…start+count−1 against keys 0…start+count−1.
        let selfBuckets = segments.map {
            RelativePositionBias.buckets(
                Tq: $0.count, Tk: $0.start + $0.count, queryStart: $0.start, bidirectional: false, buckets: config.buckets,
                maxDistance: config.maxDistance)
        }
        for l in 0..<config.decoderLayers {
            let w = p.decoder[l], cache = s.selfCache[l].baseAddress!, cross = s.crossCache[l].baseAddress!
            RMSNorm.forward(out: s.norm, rstd: s.rstd, inp: s.x, weight: w.norm1, R: n, C: C, epsilon: eps)
            MatMul.forward(
                out: rows(s.qkv, 3 * A), inp: rows(s.norm, C), weight: w.qkv, bias: nil, M: n, K: C, N: 3 * A, layout: .outputMajor)
            for (index, segment) in segments.enumerated() {
                let slot = cache + segment.sequence * P * 2 * A, ctx = segment.start + segment.count
                for i in 0..<segment.count {
                    let row = s.qkv.baseAddress! + (segment.firstRow + i) * 3 * A
                    (slot + (segment.start + i) * 2 * A).update(from: row + A, count: 2 * A)
                }
                RelativePositionBias.forward(
                    bias: s.bias.baseAddress!, table: p.decoderBias.baseAddress!, buckets: selfBuckets[index], NH: NH, Tq: segment.count,
                    Tk: ctx)
                MaskedAttention.forward(
                    out: s.attY.baseAddress! + segment.firstRow * A, att: s.scores.baseAddress!,
                    operands: AttentionOperands(
                        q: s.qkv.baseAddress! + segment.firstRow * 3 * A, qStride: 3 * A, k: slot, kStride: 2 * A, v: slot + A,
                        vStride: 2 * A),
                    masking: AttentionMasking(scale: 1, causal: true, bias: s.bias.baseAddress!), B: 1, Tq: segment.count, Tk: ctx, NH: NH,
                    hs: hs)
            }
            MatMul.forward(out: s.x, inp: rows(s.attY, A), weight: w.o, bias: nil, residual: s.x, M: n, K: A, N: C, layout: .outputMajor)
            RMSNorm.forward(out: s.norm, rstd: s.rstd, inp: s.x, weight: w.crossNorm!, R: n, C: C, epsilon: eps)
            MatMul.forward(out: rows(s.q, A), inp: rows(s.norm, C), weight: w.crossQ!, bias: nil, M: n, K: C, N: A, layout: .outputMajor)
            for segment in segments {
                let slot = cross + segment.sequence * P * 2 * A
                MaskedAttention.forward(
                    out: s.attY.baseAddress! + segment.firstRow * A, att: s.scores.baseAddress!,
                    operands: AttentionOperands(
                        q: s.q.baseAddress! + segment.firstRow * A, qStride: A, k: slot, kStride: 2 * A, v: slot + A, vStride: 2 * A),
                    masking: AttentionMasking(scale: 1), B: 1, Tq: segment.count, Tk: s.sourceLengths[segment.sequence], NH: NH, hs: hs)
            }
            MatMul.forward(
                out: s.x, inp: rows(s.attY, A), weight: w.crossO!, bias: nil, residual: s.x, M: n, K: A, N: C, layout: .outputMajor)
            RMSNorm.forward(out: s.norm, rstd: s.rstd, inp: s.x, weight: w.feedForwardNorm, R: n, C: C, epsilon: eps)
            MatMul.forward(
                out: rows(s.gateUp, 2 * H), inp: rows(s.norm, C), weight: w.gateUp, bias: nil, M: n, K: C, N: 2 * H, layout: .outputMajor)
            GatedGELU.forward(out: s.act.baseAddress!, gateUp: s.gateUp.baseAddress!, R: n, H: H)
            MatMul.forward(out: s.x, inp: rows(s.act, H), weight: w.down, bias: nil, residual: s.x, M: n, K: H, N: C, layout: .outputMajor)
        }
        // Only each segment's last row needs logits: gather those rows, normalise, project.
        for (i, segment) in segments.enumerated() {
            (s.norm.baseAddress! + i * C).update(from: s.x.baseAddress! + (segment.firstRow + segment.count - 1) * C, count: C)
        }
        let m = segments.count
        RMSNorm.forward(out: s.norm, rstd: s.rstd, inp: s.norm, weight: p.decoderNorm, R: m, C: C, epsilon: eps)
        if config.scaleDecoderOutput { scale(s.norm, count: m * C, by: outputScale) }
        MatMul.forward(
            out: s.logits, inp: rows(s.norm, C), weight: p.head, bias: nil, M: m, K: C, N: config.paddedVocabularySize, layout: .outputMajor
        )
    }
}
