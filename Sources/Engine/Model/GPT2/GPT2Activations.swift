// Legend: B batch, T time, C channels, NH heads, Vp padded vocabulary, L layers.

/// One block's cached forward activations; the dropout masks are empty unless training with dropout.
struct BlockActivations {
    let ln1, ln1Mean, ln1Rstd, qkv, att, atty, residual2, ln2, ln2Mean, ln2Rstd, fch, fchGelu, residual3: UnsafeMutableBufferPointer<Float>
    let attnDropMask, mlpDropMask: UnsafeMutableBufferPointer<Float>
}

/// All activations of a (B, T) forward pass plus the backward scratch, in one allocation.
///
/// Backward needs only five activation-gradient buffers reused across layers (the residual-stream
/// gradient, a [B,T,C] buffer, dqkv, dfch and datt), so its memory is independent of depth and
/// nothing has to be zeroed: every kernel overwrites or accumulates as `GradientWrite` says.
final class GPT2Activations {
    let B: Int, T: Int
    let storage: TensorBuffer
    let encoded, lnf, lnfMean, lnfRstd, logits, losses: UnsafeMutableBufferPointer<Float>
    let blocks: [BlockActivations]
    let dresidual, dbtc, dqkv, dfch, datt, normScratch: UnsafeMutableBufferPointer<Float>
    /// Dropout masks of the embeddings and the gradient of a dropped branch (empty without dropout).
    let embeddingDropMask, dbranch: UnsafeMutableBufferPointer<Float>
    let hasDropout: Bool
    let inputs: UnsafeMutableBufferPointer<Int32>
    let targets: UnsafeMutableBufferPointer<Int32>

    init(config: GPT2Config, B: Int, T: Int, withGradients: Bool, withDropout: Bool = false) {
        self.B = B
        self.T = T
        hasDropout = withDropout
        let C = config.channels, NH = config.heads, BT = B * T, Vp = config.paddedVocabularySize, A = config.attentionWidth
        let dropCount = withDropout ? BT * C : 0
        var specs: [TensorSpec] = [
            TensorSpec(name: "encoded", shape: [BT, C], decays: false),
            TensorSpec(name: "embeddingDropMask", shape: [dropCount], decays: false),
            TensorSpec(name: "dbranch", shape: [dropCount], decays: false),
        ]
        for l in 0..<config.layers {
            for (name, count) in [
                ("ln1", BT * C), ("ln1Mean", BT), ("ln1Rstd", BT), ("qkv", 3 * BT * A),
                ("att", B * NH * T * T), ("atty", BT * A), ("residual2", BT * C), ("ln2", BT * C),
                ("ln2Mean", BT), ("ln2Rstd", BT), ("fch", BT * config.mlpWidth), ("fchGelu", BT * config.mlpWidth),
                ("residual3", BT * C), ("attnDropMask", dropCount), ("mlpDropMask", dropCount),
            ] {
                specs.append(TensorSpec(name: "h.\(l).\(name)", shape: [count], decays: false))
            }
        }
        specs += [
            TensorSpec(name: "lnf", shape: [BT, C], decays: false), TensorSpec(name: "lnfMean", shape: [BT], decays: false),
            TensorSpec(name: "lnfRstd", shape: [BT], decays: false), TensorSpec(name: "logits", shape: [BT, Vp], decays: false),
            TensorSpec(name: "losses", shape: [BT], decays: false),
        ]
        let g = withGradients ? 1 : 0
        specs += [
            TensorSpec(name: "dresidual", shape: [g * BT * C], decays: false),
            TensorSpec(name: "dbtc", shape: [g * BT * max(C, A)], decays: false),
            TensorSpec(name: "dqkv", shape: [g * 3 * BT * A], decays: false),
            TensorSpec(name: "dfch", shape: [g * BT * config.mlpWidth], decays: false),
            TensorSpec(name: "datt", shape: [g * B * NH * T * T], decays: false),
            TensorSpec(name: "normScratch", shape: [g * Parallel.maxChunks * 2 * C], decays: false),
        ]
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        encoded = buffer["encoded"]
        blocks = (0..<config.layers).map { l in
            let p = "h.\(l)."
            return BlockActivations(
                ln1: buffer[p + "ln1"], ln1Mean: buffer[p + "ln1Mean"], ln1Rstd: buffer[p + "ln1Rstd"],
                qkv: buffer[p + "qkv"], att: buffer[p + "att"], atty: buffer[p + "atty"],
                residual2: buffer[p + "residual2"], ln2: buffer[p + "ln2"], ln2Mean: buffer[p + "ln2Mean"],
                ln2Rstd: buffer[p + "ln2Rstd"], fch: buffer[p + "fch"], fchGelu: buffer[p + "fchGelu"],
                residual3: buffer[p + "residual3"], attnDropMask: buffer[p + "attnDropMask"],
                mlpDropMask: buffer[p + "mlpDropMask"])
        }
        lnf = buffer["lnf"]; lnfMean = buffer["lnfMean"]; lnfRstd = buffer["lnfRstd"]
        logits = buffer["logits"]; losses = buffer["losses"]
        dresidual = buffer["dresidual"]; dbtc = buffer["dbtc"]; dqkv = buffer["dqkv"]; dfch = buffer["dfch"]
        datt = buffer["datt"]; normScratch = buffer["normScratch"]
        embeddingDropMask = buffer["embeddingDropMask"]; dbranch = buffer["dbranch"]
        inputs = .allocate(capacity: BT)
        inputs.initialize(repeating: 0)
        targets = .allocate(capacity: BT)
        targets.initialize(repeating: 0)
    }

    var hasGradientScratch: Bool { dresidual.count > 0 }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }
}
