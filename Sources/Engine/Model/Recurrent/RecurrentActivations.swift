// Legend: B batch, T time, M = B·T rows, E embedding width, H hidden width, G gates, Vp padded vocabulary.

/// One layer's cached activations: gate activations (written over the input projections) and recurrent projections
/// [M, G·H], outputs h and (LSTM) cells c [M, H], and with dropout the masked input and its mask.
struct RecurrentLayerActivations {
    let act, gh, h, c, dropped, mask: UnsafeMutableBufferPointer<Float>
}

/// All activations of a (B, T) pass and the backpropagation-through-time scratch, in one allocation.
final class RecurrentActivations {
    let B: Int, T: Int
    let storage: TensorBuffer
    let layers: [RecurrentLayerActivations]
    let embedded, logits, losses: UnsafeMutableBufferPointer<Float>
    let dH, dX, dpre, dgh, dStep, carry, nextCarry, cellCarry: UnsafeMutableBufferPointer<Float>
    let inputs, targets: UnsafeMutableBufferPointer<Int32>
    var dropout: Float = 0

    init(config c: RecurrentConfig, B: Int, T: Int, withGradients: Bool, withDropout: Bool) {
        self.B = B
        self.T = T
        let M = B * T, H = c.hidden, GH = c.gateWidth, lstm = c.cell == .lstm
        var specs: [TensorSpec] = []
        func add(_ name: String, _ count: Int) { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        for k in 0..<c.layers {
            let dropped = withDropout && k > 0 ? M * H : 0
            for (name, count) in [
                ("act", M * GH), ("gh", M * GH), ("h", M * H), ("c", lstm ? M * H : 0), ("dropped", dropped), ("mask", dropped),
            ] { add("l\(k).\(name)", count) }
        }
        for (name, count) in [("embedded", M * c.embedding), ("logits", M * c.paddedVocabularySize), ("losses", M)] { add(name, count) }
        let g = withGradients ? 1 : 0
        for (name, count) in [
            ("dH", M * H), ("dX", M * max(H, c.embedding)), ("dpre", M * GH), ("dgh", M * GH), ("dStep", B * H), ("carry", B * H),
            ("nextCarry", B * H), ("cellCarry", lstm ? B * H : 0),
        ] { add(name, g * count) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        layers = (0..<c.layers).map { k in
            func v(_ name: String) -> UnsafeMutableBufferPointer<Float> { buffer["l\(k).\(name)"] }
            return RecurrentLayerActivations(act: v("act"), gh: v("gh"), h: v("h"), c: v("c"), dropped: v("dropped"), mask: v("mask"))
        }
        embedded = buffer["embedded"]; logits = buffer["logits"]; losses = buffer["losses"]
        dH = buffer["dH"]; dX = buffer["dX"]; dpre = buffer["dpre"]; dgh = buffer["dgh"]; dStep = buffer["dStep"]
        carry = buffer["carry"]; nextCarry = buffer["nextCarry"]; cellCarry = buffer["cellCarry"]
        inputs = .allocate(capacity: M)
        inputs.initialize(repeating: 0)
        targets = .allocate(capacity: M)
        targets.initialize(repeating: 0)
    }

    var hasGradientScratch: Bool { dH.count > 0 }
    var hasDropout: Bool { layers.count < 2 || layers[1].mask.count > 0 }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }
}
