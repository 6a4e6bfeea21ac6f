// Legend: B batch, T time, C channels, NH heads, QW = (NH + 2·NKV)·hs fused q|k|v width, H hidden, E experts,
// k experts per token, Vp padded vocabulary.

/// One Llama block's cached forward activations (a dense block uses `gateUp`/`act`, a mixture `mixture`).
struct LlamaBlockActivations {
    let rms1, rms1Rstd, qkv, att, atty, residual2, rms2, rms2Rstd, gateUp, act, residual3: UnsafeMutableBufferPointer<Float>
    let mixture: MixtureBuffers?
}

/// All activations of a (B, T) forward pass plus the backward scratch, in one allocation (and one for the router's
/// integer choices). As for GPT-2, backward reuses a few activation-gradient buffers across layers.
final class LlamaActivations {
    let B: Int, T: Int
    let storage: TensorBuffer
    let integers: UnsafeMutableBufferPointer<Int32>
    let blocks: [LlamaBlockActivations]
    let embedded, rmsf, rmsfRstd, logits, losses: UnsafeMutableBufferPointer<Float>
    let dresidual, dbtc, dqkv, datt, dgateUp, dact, normScratch: UnsafeMutableBufferPointer<Float>
    let mixtureScratch: MixtureScratch?
    let inputs, targets, positions: UnsafeMutableBufferPointer<Int32>

    init(config c: LlamaConfig, B: Int, T: Int, withGradients: Bool) {
        self.B = B
        self.T = T
        let BT = B * T, C = c.channels, QW = c.qkvWidth, H = c.hidden, NH = c.heads
        let E = c.experts, k = c.expertsPerToken
        var specs: [TensorSpec] = [TensorSpec(name: "embedded", shape: [BT * C], decays: false)]
        func add(_ name: String, _ count: Int) { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        for l in 0..<c.layers {
            let p = "h.\(l)."
            for (name, count) in [
                ("rms1", BT * C), ("rms1Rstd", BT), ("qkv", BT * QW), ("att", B * NH * T * T), ("atty", BT * c.attentionWidth),
                ("residual2", BT * C),
                ("rms2", BT * C), ("rms2Rstd", BT), ("gateUp", c.isMixture ? 0 : BT * 2 * H), ("act", c.isMixture ? 0 : BT * H),
                ("residual3", BT * C),
            ] { add(p + name, count) }
            if c.isMixture { for (name, count) in MixtureBuffers.floats(M: BT, C: C, H: H, E: E, k: k) { add(p + name, count) } }
        }
        for (name, count) in [("rmsf", BT * C), ("rmsfRstd", BT), ("logits", BT * c.paddedVocabularySize), ("losses", BT)] {
            add(name, count)
        }
        let g = withGradients ? 1 : 0
        for (name, count) in [
            ("dresidual", BT * C), ("dbtc", BT * max(C, c.attentionWidth)), ("dqkv", BT * QW), ("datt", B * NH * T * T),
            ("dgateUp", c.isMixture ? 0 : BT * 2 * H), ("dact", c.isMixture ? 0 : BT * H), ("normScratch", Parallel.maxChunks * C),
        ] { add(name, g * count) }
        if c.isMixture { for (name, count) in MixtureScratch.floats(M: BT, C: C, H: H, E: E, k: k) { add(name, g * count) } }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        // Per layer: the router's choices, their slots and the experts' offsets; then inputs, targets, positions.
        let perLayer = c.isMixture ? 2 * BT * k + E + 1 : 0
        let integerStorage = UnsafeMutableBufferPointer<Int32>.allocate(capacity: c.layers * perLayer + 3 * BT)
        integerStorage.initialize(repeating: 0)
        integers = integerStorage
        func ints(_ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Int32> {
            UnsafeMutableBufferPointer(rebasing: integerStorage[start..<(start + count)])
        }
        blocks = (0..<c.layers).map { l in
            let p = "h.\(l)."
            var mixture: MixtureBuffers?
            if c.isMixture {
                let base = l * perLayer
                mixture = MixtureBuffers(
                    routerLogits: buffer[p + "routerLogits"], probs: buffer[p + "probs"], weights: buffer[p + "weights"],
                    experts: ints(base, BT * k), slot: ints(base + BT * k, BT * k), offsets: ints(base + 2 * BT * k, E + 1),
                    expertIn: buffer[p + "expertIn"], gateUp: buffer[p + "expertGateUp"], act: buffer[p + "expertAct"],
                    expertOut: buffer[p + "expertOut"])
            }
            return LlamaBlockActivations(
                rms1: buffer[p + "rms1"], rms1Rstd: buffer[p + "rms1Rstd"], qkv: buffer[p + "qkv"], att: buffer[p + "att"],
                atty: buffer[p + "atty"], residual2: buffer[p + "residual2"], rms2: buffer[p + "rms2"], rms2Rstd: buffer[p + "rms2Rstd"],
                gateUp: buffer[p + "gateUp"], act: buffer[p + "act"], residual3: buffer[p + "residual3"], mixture: mixture)
        }
        embedded = buffer["embedded"]; rmsf = buffer["rmsf"]; rmsfRstd = buffer["rmsfRstd"]; logits = buffer["logits"];
        losses = buffer["losses"]
        dresidual = buffer["dresidual"]; dbtc = buffer["dbtc"]; dqkv = buffer["dqkv"]; datt = buffer["datt"]
        dgateUp = buffer["dgateUp"]; dact = buffer["dact"]; normScratch = buffer["normScratch"]
        mixtureScratch =
            c.isMixture && withGradients
            ? MixtureScratch(
                dExpertOut: buffer["dExpertOut"], dExpertIn: buffer["dExpertIn"], dgateUp: buffer["dgateUpMix"],
                dact: buffer["dactMix"], dweights: buffer["dweights"], drouterLogits: buffer["drouterLogits"])
            : nil
        let io = c.layers * perLayer
        inputs = ints(io, BT)
        targets = ints(io + BT, BT)
        positions = ints(io + 2 * BT, BT)
        for r in 0..<BT { positions[r] = Int32(r % T) }
    }

    var hasGradientScratch: Bool { dresidual.count > 0 }

    deinit { integers.deallocate() }
}
