// Legend: S sequences (batch slots), M rows processed in one call, C channels, NH heads, L layers, T context, Vp padded vocabulary.

/// GPT-2's KV cache [L][S][NH][T][hs] (keys and values, head-major as `CachedAttention` keeps them) and scratch for
/// `maxChunk` rows, allocated once; the session's copies of the weights (packed for prefill, in rows for decoding).
final class GPT2DecodeState: DecodeState, PackingDecodeState {
    let maxBatch: Int, maxChunk: Int
    let storage: TensorBuffer
    let panels = WeightPanels()
    let rows = DecodeRows()
    let kCache, vCache, x, ln, mean, rstd, qkv, atty, fch, lastRows, logits, scores: UnsafeMutableBufferPointer<Float>
    let rowTokens: UnsafeMutableBufferPointer<Int32>
    let rowPositions: UnsafeMutableBufferPointer<Int32>

    init(config c: GPT2Config, maxBatch: Int, maxChunk: Int) {
        self.maxBatch = maxBatch
        self.maxChunk = maxChunk
        let C = c.channels, A = c.attentionWidth, T = c.maxSequence, rows = max(maxChunk, maxBatch)
        let cache = c.layers * maxBatch * T * A
        let specs: [(String, Int)] = [
            ("k", cache), ("v", cache), ("x", rows * C), ("ln", rows * C), ("mean", rows), ("rstd", rows),
            ("qkv", rows * 3 * A), ("atty", rows * A), ("fch", rows * c.mlpWidth), ("last", maxBatch * C),
            ("logits", maxBatch * c.paddedVocabularySize),
            ("scores", CachedAttention.scoreCount(layout: .fused(C: A, NH: c.heads), maxBatch: maxBatch, maxChunk: maxChunk, T: T)),
        ]
        let buffer = TensorBuffer(layout: TensorLayout(specs.map { TensorSpec(name: $0.0, shape: [$0.1], decays: false) }))
        storage = buffer
        kCache = buffer["k"]; vCache = buffer["v"]; x = buffer["x"]; ln = buffer["ln"]; mean = buffer["mean"]; rstd = buffer["rstd"]
        qkv = buffer["qkv"]; atty = buffer["atty"]; fch = buffer["fch"]; lastRows = buffer["last"]; logits = buffer["logits"]
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

    var bytes: Int { storage.layout.count * MemoryLayout<Float>.stride + panels.bytes + rows.bytes }
}

extension GPT2 {
    public func makeDecodeState(maxBatch: Int, maxChunk: Int) -> any DecodeState {
        GPT2DecodeState(config: config, maxBatch: maxBatch, maxChunk: maxChunk)
    }

    /// The same blocks as training (`GPT2.block`), over the call's rows, the residual stream in place, attention
    /// against the cache; logits only for each segment's last row. Matmuls over one row run `PooledProducts` (batch-1
    /// decode is memory-bound: a one-row sgemm streams the weights 2–3× slower).
    public func decode(_ segments: [DecodeSegment], state: any DecodeState) {
        guard let s = state as? GPT2DecodeState else { preconditionFailure("a GPT-2 decodes with the state it made") }
        let C = config.channels, T = config.maxSequence, Vp = config.paddedVocabularySize, p = params, A = config.attentionWidth
        let layout = AttentionLayout.fused(C: A, NH: config.heads)
        let M = segments.reduce(0) { $0 + $1.count }, products = products.inference(s)
        func rows(_ buffer: UnsafeMutableBufferPointer<Float>, _ width: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: buffer[0..<(M * width)])
        }
        let xs = rows(s.x, C), lns = rows(s.ln, C), fchs = rows(s.fch, config.mlpWidth)
        let buffers = GPT2BlockBuffers(
            ln1: lns, ln1Mean: s.mean, ln1Rstd: s.rstd, qkv: rows(s.qkv, 3 * A), atty: rows(s.atty, A), residual2: xs, ln2: lns,
            ln2Mean: s.mean, ln2Rstd: s.rstd, fch: fchs, fchGelu: fchs, residual3: xs)
        PositionalEmbedding.forward(
            out: xs, tokens: UnsafeBufferPointer(s.rowTokens), positions: UnsafeBufferPointer(s.rowPositions),
            wte: p.wte, wpe: p.wpe, R: M, C: C)
        for l in 0..<config.layers {
            let layerK = s.kCache.baseAddress! + l * s.maxBatch * T * A, layerV = s.vCache.baseAddress! + l * s.maxBatch * T * A
            Self.block(p.blocks[l], input: xs, buffers: buffers, M: M, C: C, A: A, H: config.mlpWidth, products: products) {
                CachedAttention.attend(
                    segments, qkv: buffers.qkv.baseAddress!, out: buffers.atty.baseAddress!, kCache: layerK, vCache: layerV,
                    scores: s.scores.baseAddress!, layout: layout, T: T)
            }
        }
        for (i, segment) in segments.enumerated() {
            (s.lastRows.baseAddress! + i * C).update(from: xs.baseAddress! + (segment.firstRow + segment.count - 1) * C, count: C)
        }
        let last = UnsafeMutableBufferPointer(rebasing: s.lastRows[0..<(segments.count * C)])
        LayerNorm.forward(out: last, mean: s.mean, rstd: s.rstd, inp: last, weight: p.lnfw, bias: p.lnfb, R: segments.count, C: C)
        products.forward(
            out: UnsafeMutableBufferPointer(rebasing: s.logits[0..<(segments.count * Vp)]), inp: last, weight: p.wte, bias: nil,
            M: segments.count, K: C, N: Vp, layout: .outputMajor)
    }
}
