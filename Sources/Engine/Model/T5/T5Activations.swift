// Legend: B batch, S source positions, T target positions, Me = B·S and Md = B·T rows, C channels, A attention width,
// NH heads, H feed-forward width, Vp padded vocabulary.

/// One T5 layer's cached forward activations. `x` names the layer's input stream; an encoder layer leaves the cross
/// fields empty.
struct T5LayerActivations {
    let norm1, rstd1, qkv, att, atty, afterAttention: UnsafeMutableBufferPointer<Float>
    let crossNorm, crossRstd, crossQ, crossKV, crossAtt, crossY, afterCross: UnsafeMutableBufferPointer<Float>
    let feedForwardNorm, feedForwardRstd, gateUp, act, output: UnsafeMutableBufferPointer<Float>
}

/// All activations of a (B, S, T) pass plus the backward scratch, in one allocation. T = 0 runs the encoder alone.
final class T5Activations {
    let B: Int, S: Int, T: Int
    let storage: TensorBuffer
    let encoder, decoder: [T5LayerActivations]
    let encoderEmbedded, encoderOut, encoderOutRstd, encoderBias: UnsafeMutableBufferPointer<Float>
    let decoderEmbedded, decoderOut, decoderOutRstd, decoderBias, logits, losses: UnsafeMutableBufferPointer<Float>
    let dEncoder, dEncoderNorm, dEncoderOut, dqkvEncoder, dattEncoder, dEncoderBias: UnsafeMutableBufferPointer<Float>
    let dDecoder, dDecoderNorm, dqkvDecoder, dattDecoder, dDecoderBias, dCrossQ, dCrossKV, dCrossAtt,
        dCrossY: UnsafeMutableBufferPointer<Float>
    let dAttY, dGateUp, dAct, normScratch: UnsafeMutableBufferPointer<Float>
    var source: [Int32] = [], sourcePadding: [UInt8] = [], inputs: [Int32] = [], targets: [Int32] = []
    var encoderBuckets: [Int32] = [], decoderBuckets: [Int32] = []

    init(config c: T5Config, B: Int, S: Int, T: Int, withGradients: Bool) {
        self.B = B
        self.S = S
        self.T = T
        let Me = B * S, Md = B * T, C = c.channels, A = c.attentionWidth, NH = c.heads, H = c.hidden
        var specs: [TensorSpec] = []
        func add(_ name: String, _ count: Int) { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        func layer(_ p: String, rows M: Int, keys: Int, cross: Bool) {
            for (name, count) in [
                ("norm1", M * C), ("rstd1", M), ("qkv", M * 3 * A), ("att", B * NH * (M / B) * keys), ("atty", M * A),
                ("afterAttention", M * C), ("crossNorm", cross ? M * C : 0), ("crossRstd", cross ? M : 0), ("crossQ", cross ? M * A : 0),
                ("crossKV", cross ? Me * 2 * A : 0), ("crossAtt", cross ? B * NH * T * S : 0), ("crossY", cross ? M * A : 0),
                ("afterCross", cross ? M * C : 0), ("feedForwardNorm", M * C), ("feedForwardRstd", M), ("gateUp", M * 2 * H),
                ("act", M * H), ("output", M * C),
            ] { add(p + name, count) }
        }
        for l in 0..<c.layers { layer("e\(l).", rows: Me, keys: S, cross: false) }
        for l in 0..<(T > 0 ? c.decoderLayers : 0) { layer("d\(l).", rows: Md, keys: T, cross: true) }
        for (name, count) in [
            ("encoderEmbedded", Me * C), ("encoderOut", Me * C), ("encoderOutRstd", Me), ("encoderBias", NH * S * S),
            ("decoderEmbedded", Md * C), ("decoderOut", Md * C), ("decoderOutRstd", Md), ("decoderBias", NH * T * T),
            ("logits", Md * c.paddedVocabularySize), ("losses", Md),
        ] { add(name, count) }
        let g = withGradients ? 1 : 0, rows = max(Me, Md)
        for (name, count) in [
            ("dEncoder", Me * C), ("dEncoderNorm", Me * C), ("dEncoderOut", Me * C), ("dqkvEncoder", Me * 3 * A),
            ("dattEncoder", B * NH * S * S), ("dEncoderBias", NH * S * S), ("dDecoder", Md * C), ("dDecoderNorm", Md * C),
            ("dqkvDecoder", Md * 3 * A), ("dattDecoder", B * NH * T * T), ("dDecoderBias", NH * T * T), ("dCrossQ", Md * A),
            ("dCrossKV", Me * 2 * A), ("dCrossAtt", B * NH * T * S), ("dCrossY", Md * A), ("dAttY", rows * A), ("dGateUp", rows * 2 * H),
            ("dAct", rows * H), ("normScratch", Parallel.maxChunks * C),
        ] { add(name, g * count) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        storage = buffer
        func layerViews(_ p: String) -> T5LayerActivations {
            func v(_ name: String) -> UnsafeMutableBufferPointer<Float> { buffer[p + name] }
            return T5LayerActivations(
                norm1: v("norm1"), rstd1: v("rstd1"), qkv: v("qkv"), att: v("att"), atty: v("atty"), afterAttention: v("afterAttention"),
                crossNorm: v("crossNorm"), crossRstd: v("crossRstd"), crossQ: v("crossQ"), crossKV: v("crossKV"), crossAtt: v("crossAtt"),
                crossY: v("crossY"), afterCross: v("afterCross"), feedForwardNorm: v("feedForwardNorm"),
                feedForwardRstd: v("feedForwardRstd"), gateUp: v("gateUp"), act: v("act"), output: v("output"))
        }
        encoder = (0..<c.layers).map { layerViews("e\($0).") }
        decoder = (0..<(T > 0 ? c.decoderLayers : 0)).map { layerViews("d\($0).") }
        encoderEmbedded = buffer["encoderEmbedded"]; encoderOut = buffer["encoderOut"]; encoderOutRstd = buffer["encoderOutRstd"]
        encoderBias = buffer["encoderBias"]; decoderEmbedded = buffer["decoderEmbedded"]; decoderOut = buffer["decoderOut"]
        decoderOutRstd = buffer["decoderOutRstd"]; decoderBias = buffer["decoderBias"]; logits = buffer["logits"]; losses = buffer["losses"]
        dEncoder = buffer["dEncoder"]; dEncoderNorm = buffer["dEncoderNorm"]; dEncoderOut = buffer["dEncoderOut"]
        dqkvEncoder = buffer["dqkvEncoder"]; dattEncoder = buffer["dattEncoder"]; dEncoderBias = buffer["dEncoderBias"]
        dDecoder = buffer["dDecoder"]; dDecoderNorm = buffer["dDecoderNorm"]; dqkvDecoder = buffer["dqkvDecoder"]
        dattDecoder = buffer["dattDecoder"]; dDecoderBias = buffer["dDecoderBias"]; dCrossQ = buffer["dCrossQ"];
        dCrossKV = buffer["dCrossKV"]
        dCrossAtt = buffer["dCrossAtt"]; dCrossY = buffer["dCrossY"]; dAttY = buffer["dAttY"]; dGateUp = buffer["dGateUp"]
        dAct = buffer["dAct"]; normScratch = buffer["normScratch"]
    }

    var hasGradientScratch: Bool { dEncoder.count > 0 }
}
