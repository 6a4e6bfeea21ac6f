// Legend: S sequences (batch slots), M rows processed in one call, C channels, QW fused q|k|v width, KW = NKV·hs cached
// per position, H hidden, L layers, T context, Vp padded vocabulary.

/// A Llama's KV cache [L][S][NKV][T][hs] (grouped-query: only the NKV key/value heads, head-major) and scratch for
/// `maxChunk` rows; the session's copies of the weights (packed for prefill, in rows for decoding).
final class LlamaDecodeState: DecodeState, PackingDecodeState {
    let maxBatch: Int, maxChunk: Int
    let storage: TensorBuffer
    let panels = WeightPanels()
    let rows = DecodeRows()
    let integers: UnsafeMutableBufferPointer<Int32>
    let kCache, vCache, x, rms, rstd, qkv, atty, gateUp, act, lastRows, logits, scores: UnsafeMutableBufferPointer<Float>
    let mixture: MixtureBuffers?
    let rowTokens, rowPositions: UnsafeMutableBufferPointer<Int32>

    init(config c: LlamaConfig, maxBatch: Int, maxChunk: Int) {
        self.maxBatch = maxBatch
        self.maxChunk = maxChunk
        let C = c.channels, T = c.maxSequence, rows = max(maxChunk, maxBatch), H = c.hidden, KW = c.kvHeads * c.headSize
        let cache = c.layers * maxBatch * T * KW
        var specs: [(String, Int)] = [
            ("k", cache), ("v", cache), ("x", rows * C), ("rms", rows * C), ("rstd", rows), ("qkv", rows * c.qkvWidth),
            ("atty", rows * c.attentionWidth),
            ("gateUp", c.isMixture ? 0 : rows * 2 * H), ("act", c.isMixture ? 0 : rows * H), ("last", maxBatch * C),
            ("logits", maxBatch * c.paddedVocabularySize),
            ("scores", CachedAttention.scoreCount(layout: c.attentionLayout, maxBatch: maxBatch, maxChunk: maxChunk, T: T)),
        ]
        if c.isMixture { specs += MixtureBuffers.floats(M: rows, C: C, H: H, E: c.experts, k: c.expertsPerToken) }
        let buffer = TensorBuffer(layout: TensorLayout(specs.map { TensorSpec(name: $0.0, shape: [$0.1], decays: false) }))
        storage = buffer
        let A = rows * c.expertsPerToken
        let integerStorage = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2 * rows + (c.isMixture ? 2 * A + c.experts + 1 : 0))
        integerStorage.initialize(repeating: 0)
        integers = integerStorage
        func ints(_ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Int32> {
            UnsafeMutableBufferPointer(rebasing: integerStorage[start..<(start + count)])
        }
        rowTokens = ints(0, rows)
        rowPositions = ints(rows, rows)
        kCache = buffer["k"]; vCache = buffer["v"]; x = buffer["x"]; rms = buffer["rms"]; rstd = buffer["rstd"]; qkv = buffer["qkv"]
        atty = buffer["atty"]; gateUp = buffer["gateUp"]; act = buffer["act"]; lastRows = buffer["last"]; logits = buffer["logits"]
        scores = buffer["scores"]
        mixture =
            c.isMixture
            ? MixtureBuffers(
                routerLogits: buffer["routerLogits"], probs: buffer["probs"], weights: buffer["weights"], experts: ints(2 * rows, A),
                slot: ints(2 * rows + A, A), offsets: ints(2 * rows + 2 * A, c.experts + 1), expertIn: buffer["expertIn"],
                gateUp: buffer["expertGateUp"], act: buffer["expertAct"], expertOut: buffer["expertOut"])
            : nil
    }

    deinit { integers.deallocate() }

    var bytes: Int { storage.layout.count * MemoryLayout<Float>.stride + panels.bytes + rows.bytes }
}

extension Llama {
    public func makeDecodeState(maxBatch: Int, maxChunk: Int) -> any DecodeState {
        LlamaDecodeState(config: config, maxBatch: maxBatch, maxChunk: maxChunk)
    }

    /// The same blocks as training (`Llama.block`), over the call's rows with their own positions, the residual stream in
    /// place, attention against the cache; logits only for each segment's last row.
    public func decode(_ segments: [DecodeSegment], state: any DecodeState) {
        guard let s = state as? LlamaDecodeState else { preconditionFailure("a Llama decodes with the state it made") }
        let C = config.channels, T = config.maxSequence, Vp = config.paddedVocabularySize, H = config.hidden, p = params
        let KW = config.kvHeads * config.headSize, layout = config.attentionLayout
        let M = segments.reduce(0) { $0 + $1.count }
        func rows(_ buffer: UnsafeMutableBufferPointer<Float>, _ width: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: buffer[0..<(M * width)])
        }
        let xs = rows(s.x, C), rmss = rows(s.rms, C)
        let buffers = LlamaBlockBuffers(
            rms1: rmss, rms1Rstd: s.rstd, qkv: rows(s.qkv, config.qkvWidth), atty: rows(s.atty, config.attentionWidth), residual2: xs,
            rms2: rmss,
            rms2Rstd: s.rstd, gateUp: config.isMixture ? s.gateUp : rows(s.gateUp, 2 * H), act: config.isMixture ? s.act : rows(s.act, H),
            residual3: xs, mixture: s.mixture)
        TokenEmbedding.forward(out: xs, tokens: UnsafeBufferPointer(s.rowTokens), table: p.embed, R: M, C: C)
        var counts = [Int](repeating: 0, count: config.experts), read = 0
        for l in 0..<config.layers {
            let layerK = s.kCache.baseAddress! + l * s.maxBatch * T * KW, layerV = s.vCache.baseAddress! + l * s.maxBatch * T * KW
            let layerCounts = block(
                p.blocks[l], input: xs, buffers: buffers, M: M, positions: UnsafeBufferPointer(s.rowPositions), session: s
            ) {
                CachedAttention.attend(
                    segments, qkv: buffers.qkv.baseAddress!, out: buffers.atty.baseAddress!, kCache: layerK, vCache: layerV,
                    scores: s.scores.baseAddress!, layout: layout, T: T)
            }
            for e in layerCounts.indices { counts[e] += layerCounts[e] }
            read += layerCounts.filter { $0 > 0 }.count
        }
        if config.isMixture {
            expertLoad = counts
            expertsRead = read
        }
        for (i, segment) in segments.enumerated() {
            (s.lastRows.baseAddress! + i * C).update(from: xs.baseAddress! + (segment.firstRow + segment.count - 1) * C, count: C)
        }
        let last = UnsafeMutableBufferPointer(rebasing: s.lastRows[0..<(segments.count * C)])
        RMSNorm.forward(out: last, rstd: s.rstd, inp: last, weight: p.norm, R: segments.count, C: C, epsilon: config.normEpsilon)
        products.inference(s).forward(
            out: UnsafeMutableBufferPointer(rebasing: s.logits[0..<(segments.count * Vp)]), inp: last, weight: p.lmHead, bias: nil,
            M: segments.count, K: C, N: Vp, layout: .outputMajor)
    }
}
