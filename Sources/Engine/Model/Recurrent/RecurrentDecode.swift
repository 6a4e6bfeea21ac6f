// Legend: S slots (sequences), L layers, H hidden width, E embedding width, G gates, n rows of a call, m active rows
// of one step, Vp padded vocabulary.

/// A recurrent model's decode state: each slot's h (and c) per layer — fixed-size, whatever the context — and scratch
/// for a call's rows.
final class RecurrentDecodeState: DecodeState {
    let rowTokens: UnsafeMutableBufferPointer<Int32>
    let rowPositions: UnsafeMutableBufferPointer<Int32>
    let storage: TensorBuffer
    let hidden, cell: [UnsafeMutableBufferPointer<Float>]
    let x, y, pre, stepPre, stepGH, stepH, stepC, stepPrevH, stepPrevC, lastRows, logits: UnsafeMutableBufferPointer<Float>
    let maxBatch: Int, maxChunk: Int

    init(config c: RecurrentConfig, maxBatch: Int, maxChunk: Int) {
        self.maxBatch = maxBatch
        self.maxChunk = maxChunk
        // A call has up to maxChunk rows of one sequence (prefill) or one row per sequence (decode).
        let H = c.hidden, GH = c.gateWidth, n = max(maxChunk, maxBatch), width = max(H, c.embedding), lstm = c.cell == .lstm
        var specs: [TensorSpec] = []
        func add(_ name: String, _ count: Int) { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        for k in 0..<c.layers {
            add("h\(k)", maxBatch * H)
            add("c\(k)", lstm ? maxBatch * H : 0)
        }
        let rows = max(n, maxBatch)
        for (name, count) in [
            ("x", n * width), ("y", n * H), ("pre", n * GH), ("stepPre", rows * GH), ("stepGH", rows * GH), ("stepH", rows * H),
            ("stepC", rows * H),
            ("stepPrevH", rows * H), ("stepPrevC", rows * H), ("lastRows", rows * H), ("logits", rows * c.paddedVocabularySize),
        ] { add(name, count) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        hidden = (0..<c.layers).map { buffer["h\($0)"] }
        cell = (0..<c.layers).map { buffer["c\($0)"] }
        x = buffer["x"]; y = buffer["y"]; pre = buffer["pre"]; stepPre = buffer["stepPre"]; stepGH = buffer["stepGH"]
        stepH = buffer["stepH"]; stepC = buffer["stepC"]
        stepPrevH = buffer["stepPrevH"]; stepPrevC = buffer["stepPrevC"]; lastRows = buffer["lastRows"]; logits = buffer["logits"]
        rowTokens = .allocate(capacity: n)
        rowTokens.initialize(repeating: 0)
        rowPositions = .allocate(capacity: n)
        rowPositions.initialize(repeating: 0)
    }

    var bytes: Int { storage.layout.count * MemoryLayout<Float>.stride + 8 * rowTokens.count }

    deinit {
        rowTokens.deallocate()
        rowPositions.deallocate()
    }
}

extension RecurrentLanguageModel: DecodingModel {
    public func makeDecodeState(maxBatch: Int, maxChunk: Int) -> any DecodeState {
        RecurrentDecodeState(config: config, maxBatch: maxBatch, maxChunk: maxChunk)
    }

    /// Layer by layer: one product for the input projections of every row of the call, then the steps in order, each
    /// advancing every segment that still has a row at that step together (their states gathered, one product for the
    /// recurrence, scattered back). A segment starting at position 0 starts from a zero state.
    public func decode(_ segments: [DecodeSegment], state: any DecodeState) {
        let s = state as! RecurrentDecodeState
        let n = segments.reduce(0) { $0 + $1.count }, H = config.hidden, GH = config.gateWidth, E = config.embedding
        let lstm = config.cell == .lstm
        precondition(n <= s.rowTokens.count)
        for segment in segments where segment.start == 0 {
            for k in 0..<config.layers {
                (s.hidden[k].baseAddress! + segment.sequence * H).update(repeating: 0, count: H)
                if lstm { (s.cell[k].baseAddress! + segment.sequence * H).update(repeating: 0, count: H) }
            }
        }
        TokenEmbedding.forward(out: s.x, tokens: UnsafeBufferPointer(s.rowTokens), table: params.embedding, R: n, C: E)
        let steps = segments.map(\.count).max() ?? 0
        for k in 0..<config.layers {
            let w = params.layers[k], width = config.inputWidth(layer: k)
            let input = UnsafeMutableBufferPointer(rebasing: (k == 0 ? s.x : s.y)[0..<(n * width)])
            if k > 0 { _ = UnsafeMutableBufferPointer(rebasing: s.x[0..<(n * H)]).update(fromContentsOf: input) }
            MatMul.forward(
                out: s.pre, inp: k == 0 ? input : UnsafeMutableBufferPointer(rebasing: s.x[0..<(n * H)]), weight: w.inputWeight,
                bias: w.inputBias, M: n, K: width, N: GH, layout: .outputMajor)
            for step in 0..<steps {
                let active = segments.filter { $0.count > step }, m = active.count
                for (i, segment) in active.enumerated() {
                    (s.stepPre.baseAddress! + i * GH).update(from: s.pre.baseAddress! + (segment.firstRow + step) * GH, count: GH)
                    (s.stepGH.baseAddress! + i * GH).update(from: w.recurrentBias.baseAddress!, count: GH)
                    (s.stepPrevH.baseAddress! + i * H).update(from: s.hidden[k].baseAddress! + segment.sequence * H, count: H)
                    if lstm { (s.stepPrevC.baseAddress! + i * H).update(from: s.cell[k].baseAddress! + segment.sequence * H, count: H) }
                }
                if m == 1 {
                    // One sequence: a matrix–vector product on the spinning pool. sgemm packed the whole recurrent matrix
                    // again on every step (`sgemm_incopy` took 18 % of an LSTM's decode, `perf record`).
                    PooledProducts.gemv(
                        weight: w.recurrentWeight.baseAddress!, layout: .outputMajor, x: s.stepPrevH.baseAddress!, y: s.stepGH.baseAddress!,
                        N: GH, K: H, accumulate: true)
                } else {
                    BLAS.gemm(
                        transA: false, transB: true, m: m, n: GH, k: H, a: s.stepPrevH.baseAddress!, lda: H,
                        b: w.recurrentWeight.baseAddress!,
                        ldb: H, beta: 1, c: s.stepGH.baseAddress!, ldc: GH)
                }
                RecurrentCell.forward(
                    config.cell, pre: s.stepPre.baseAddress!, preStride: GH, gh: s.stepGH.baseAddress!, ghStride: GH,
                    hPrev: s.stepPrevH.baseAddress!, cPrev: lstm ? s.stepPrevC.baseAddress! : nil, h: s.stepH.baseAddress!,
                    c: lstm ? s.stepC.baseAddress! : nil, stateStride: H, B: m, H: H)
                for (i, segment) in active.enumerated() {
                    (s.hidden[k].baseAddress! + segment.sequence * H).update(from: s.stepH.baseAddress! + i * H, count: H)
                    if lstm { (s.cell[k].baseAddress! + segment.sequence * H).update(from: s.stepC.baseAddress! + i * H, count: H) }
                    (s.y.baseAddress! + (segment.firstRow + step) * H).update(from: s.stepH.baseAddress! + i * H, count: H)
                }
            }
        }
        for (i, segment) in segments.enumerated() {
            (s.lastRows.baseAddress! + i * H).update(from: s.y.baseAddress! + (segment.firstRow + segment.count - 1) * H, count: H)
        }
        MatMul.forward(
            out: s.logits, inp: UnsafeMutableBufferPointer(rebasing: s.lastRows[0..<(segments.count * H)]), weight: params.decoder,
            bias: params.decoderBias, M: segments.count, K: H, N: config.paddedVocabularySize, layout: .outputMajor)
    }
}
