// Legend: B batch, T time, M = B·T rows, C channels, NH heads, H feed-forward width, Vp padded vocabulary.

/// One BERT layer's cached forward activations: the fused q|k|v rows, attention probabilities and output, the
/// pre-norm sums and their LayerNorm statistics, the feed-forward pre-activation and activation.
struct BERTLayerActivations {
    let qkv, att, atty, attentionSum, norm1, norm1Mean, norm1Rstd, intermediate, activated, outputSum, norm2, norm2Mean,
        norm2Rstd: UnsafeMutableBufferPointer<Float>
}

/// All activations of a (B, T) pass plus the backward scratch, in one allocation; `withLogits` false leaves out the
/// MLM head's buffers (an encode-only pass).
final class BERTActivations {
    let B: Int, T: Int
    let storage: TensorBuffer
    let layers: [BERTLayerActivations]
    let embeddingSum, embedded, embeddingMean, embeddingRstd: UnsafeMutableBufferPointer<Float>
    let transform, transformActivated, transformNorm, transformMean, transformRstd, logits, losses,
        pooled: UnsafeMutableBufferPointer<Float>
    let dresidual, dA, dqkv, datt, dH, normScratch: UnsafeMutableBufferPointer<Float>
    var inputs: [Int32], targets: [Int32], segments: [Int32], padding: [UInt8]

    init(config c: BERTConfig, B: Int, T: Int, withLogits: Bool, withGradients: Bool) {
        self.B = B
        self.T = T
        let M = B * T, C = c.channels, H = c.hidden, NH = c.heads
        var specs: [TensorSpec] = []
        func add(_ name: String, _ count: Int) { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        for (name, count) in [("embeddingSum", M * C), ("embedded", M * C), ("embeddingMean", M), ("embeddingRstd", M)] { add(name, count) }
        for l in 0..<c.layers {
            for (name, count) in [
                ("qkv", M * 3 * C), ("att", B * NH * T * T), ("atty", M * C), ("attentionSum", M * C), ("norm1", M * C), ("norm1Mean", M),
                ("norm1Rstd", M), ("intermediate", M * H), ("activated", M * H), ("outputSum", M * C), ("norm2", M * C), ("norm2Mean", M),
                ("norm2Rstd", M),
            ] { add("l\(l).\(name)", count) }
        }
        let h = withLogits ? 1 : 0, g = withGradients ? 1 : 0
        for (name, count) in [
            ("transform", M * C), ("transformActivated", M * C), ("transformNorm", M * C), ("transformMean", M), ("transformRstd", M),
            ("logits", M * c.paddedVocabularySize), ("losses", M),
        ] { add(name, h * count) }
        add("pooled", B * C)
        for (name, count) in [
            ("dresidual", M * C), ("dA", M * C), ("dqkv", M * 3 * C), ("datt", B * NH * T * T), ("dH", M * H),
            ("normScratch", Parallel.maxChunks * 2 * max(C, H)),
        ] { add(name, g * count) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        layers = (0..<c.layers).map { l in
            func v(_ name: String) -> UnsafeMutableBufferPointer<Float> { buffer["l\(l).\(name)"] }
            return BERTLayerActivations(
                qkv: v("qkv"), att: v("att"), atty: v("atty"), attentionSum: v("attentionSum"), norm1: v("norm1"),
                norm1Mean: v("norm1Mean"),
                norm1Rstd: v("norm1Rstd"), intermediate: v("intermediate"), activated: v("activated"), outputSum: v("outputSum"),
                norm2: v("norm2"), norm2Mean: v("norm2Mean"), norm2Rstd: v("norm2Rstd"))
        }
        embeddingSum = buffer["embeddingSum"]; embedded = buffer["embedded"]; embeddingMean = buffer["embeddingMean"]
        embeddingRstd = buffer["embeddingRstd"]
        transform = buffer["transform"]; transformActivated = buffer["transformActivated"]; transformNorm = buffer["transformNorm"]
        transformMean = buffer["transformMean"]; transformRstd = buffer["transformRstd"]; logits = buffer["logits"];
        losses = buffer["losses"]
        pooled = buffer["pooled"]
        dresidual = buffer["dresidual"]; dA = buffer["dA"]; dqkv = buffer["dqkv"]; datt = buffer["datt"]; dH = buffer["dH"]
        normScratch = buffer["normScratch"]
        inputs = [Int32](repeating: 0, count: M); targets = inputs; segments = inputs
        padding = [UInt8](repeating: 0, count: M)
    }

    var hasLogits: Bool { logits.count > 0 }
    var hasGradientScratch: Bool { dresidual.count > 0 }

    /// The last layer's output (the encoder's states).
    var states: UnsafeMutableBufferPointer<Float> { layers.last!.norm2 }
}
