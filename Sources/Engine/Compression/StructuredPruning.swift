// Legend: C width, H MLP width, H' the width kept.

/// Structured pruning of MLP channels by magnitude: in every layer, the channels whose weights are smallest are
/// removed, giving a model with a narrower MLP whose products are smaller dense matrices — so FLOPs and time fall for
/// real with dense BLAS. (Zeroing single weights — unstructured sparsity — would leave every product as large.)
///
/// A channel's magnitude is the product of the L2 norms of the weights that feed it and of those it feeds: GPT-2's
/// `c_fc` column and `c_proj` row; Llama's `gate_proj` and `up_proj` rows and `down_proj` column. Each layer keeps its
/// own H' largest; every layer keeps the same count, as the configuration has one MLP width.
public enum StructuredPruning {
    /// What pruning did.
    public struct Summary: Codable, Sendable, Equatable {
        public var architecture: Architecture
        public var fraction: Double
        public var widthBefore: Int
        public var widthAfter: Int
        public var parametersBefore: Int
        public var parametersAfter: Int
    }

    /// A copy of `model` with `fraction` (0 < f < 1) of each layer's MLP channels removed, rounded so the kept width
    /// stays a multiple of 16 (aligned products) and at least 16.
    /// - Throws: `invalidArgument` for a fraction outside (0, 1), a mixture of experts, or another architecture.
    public static func pruneMLP(_ model: any TrainableModel, fraction: Double) throws -> (model: any TrainableModel, summary: Summary) {
        guard fraction > 0, fraction < 1 else {
            throw EngineError.invalidArgument(
                "--mlp \(fraction) is not a fraction of channels to remove", fix: "use a value between 0 and 1, e.g. 0.25")
        }
        func kept(_ H: Int) -> Int { max(16, Int((Double(H) * (1 - fraction) / 16).rounded()) * 16) }
        func removesNone(_ H: Int) -> EngineError {
            EngineError.invalidArgument(
                "--mlp \(fraction) removes none of the \(H) channels (the kept width is rounded to a multiple of 16)",
                fix: "remove at least 16 channels: --mlp \(String(format: "%.3f", min(0.999, 9 / Double(H))))")
        }
        switch model {
        case let gpt2 as GPT2:
            let c = gpt2.config, H = c.mlpWidth, keep = min(H, kept(H))
            guard keep < H else { throw removesNone(H) }
            var pruned = c
            pruned.hidden = keep == 4 * c.channels ? nil : keep
            let buffer = TensorBuffer(layout: TensorLayout(pruned.parameterSpecs))
            copyUnchanged(from: gpt2.parameters, to: buffer, except: ["mlp.c_fc.", "mlp.c_proj.weight"])
            for l in 0..<c.layers {
                let p = "h.\(l)."
                let fc = gpt2.parameters[p + "mlp.c_fc.weight"], proj = gpt2.parameters[p + "mlp.c_proj.weight"], C = c.channels
                let scores = (0..<H).map { j in
                    norm((0..<C).map { fc[$0 * H + j] }) * norm((0..<C).map { proj[j * C + $0] })
                }
                let chosen = largest(scores, keep)
                let newFC = buffer[p + "mlp.c_fc.weight"], newBias = buffer[p + "mlp.c_fc.bias"], newProj = buffer[p + "mlp.c_proj.weight"]
                let bias = gpt2.parameters[p + "mlp.c_fc.bias"]
                for (k, j) in chosen.enumerated() {
                    for i in 0..<C { newFC[i * keep + k] = fc[i * H + j]; newProj[k * C + i] = proj[j * C + i] }
                    newBias[k] = bias[j]
                }
            }
            let result = try GPT2(config: pruned, parameters: buffer)
            return (
                result,
                Summary(
                    architecture: .gpt2, fraction: fraction, widthBefore: H, widthAfter: keep, parametersBefore: c.parameterCount,
                    parametersAfter: pruned.parameterCount)
            )
        case let llama as Llama where !llama.config.isMixture:
            let c = llama.config, H = c.hidden, keep = min(H, kept(H)), C = c.channels
            guard keep < H else { throw removesNone(H) }
            var pruned = c
            pruned.hidden = keep
            let buffer = TensorBuffer(layout: TensorLayout(pruned.parameterSpecs))
            copyUnchanged(from: llama.parameters, to: buffer, except: ["mlp."])
            for l in 0..<c.layers {
                let p = "model.layers.\(l).mlp."
                let gate = llama.parameters[p + "gate_proj.weight"], up = llama.parameters[p + "up_proj.weight"]
                let down = llama.parameters[p + "down_proj.weight"]
                let scores = (0..<H).map { j in
                    norm(Array(gate[(j * C)..<(j * C + C)])) * norm(Array(up[(j * C)..<(j * C + C)]))
                        * norm((0..<C).map { down[$0 * H + j] })
                }
                let chosen = largest(scores, keep)
                let newGate = buffer[p + "gate_proj.weight"], newUp = buffer[p + "up_proj.weight"], newDown = buffer[p + "down_proj.weight"]
                for (k, j) in chosen.enumerated() {
                    for i in 0..<C {
                        newGate[k * C + i] = gate[j * C + i]; newUp[k * C + i] = up[j * C + i]; newDown[i * keep + k] = down[i * H + j]
                    }
                }
            }
            let result = try Llama(config: pruned, parameters: buffer)
            return (
                result,
                Summary(
                    architecture: .llama, fraction: fraction, widthBefore: H, widthAfter: keep, parametersBefore: c.parameterCount,
                    parametersAfter: pruned.parameterCount)
            )
        default:
            throw EngineError.invalidArgument(
                "MLP pruning applies to GPT-2 and dense Llama, not \(model.configuration.architecture.rawValue)",
                fix: "prune a GPT-2 or Llama checkpoint")
        }
    }

    /// A copy of a dense Llama with `fraction` of its key/value head groups removed, each with the query heads that share
    /// it (grouped-query attention keeps its grouping; with as many KV heads as heads, single heads), smallest first:
    /// a group's magnitude is the product of the norms of its q, k and v rows and its o_proj columns. At least one group
    /// stays; the head size is kept, so the attention narrows (`LlamaConfig.headDimension`).
    /// - Throws: `invalidArgument` for a fraction outside (0, 1), a mixture of experts, or another architecture.
    public static func pruneHeads(_ model: any TrainableModel, fraction: Double) throws -> (model: any TrainableModel, summary: Summary) {
        guard fraction > 0, fraction < 1 else {
            throw EngineError.invalidArgument(
                "--attention \(fraction) is not a fraction of heads to remove", fix: "use a value between 0 and 1, e.g. 0.25")
        }
        if let gpt2 = model as? GPT2 { return try pruneHeads(gpt2, fraction: fraction) }
        guard let llama = model as? Llama, !llama.config.isMixture else {
            throw EngineError.invalidArgument(
                "head pruning applies to GPT-2 and dense Llama, not \(model.configuration.architecture.rawValue)",
                fix: "prune a GPT-2 or dense Llama checkpoint")
        }
        let c = llama.config, hs = c.headSize, C = c.channels, G = c.kvHeads, group = c.heads / c.kvHeads
        let keepGroups = max(1, G - Int((Double(G) * fraction).rounded()))
        guard keepGroups < G else {
            throw EngineError.invalidArgument(
                "--attention \(fraction) removes none of the \(G) key/value groups (heads go a whole group at a time, rounded)",
                fix: G > 1
                    ? "remove at least one group: --attention \(String(format: "%.3f", 0.5 / Double(G) + 0.001))"
                    : "a single group cannot be pruned")
        }
        var pruned = c
        pruned.kvHeads = keepGroups
        pruned.heads = keepGroups * group
        pruned.headDimension = hs
        let buffer = TensorBuffer(layout: TensorLayout(pruned.parameterSpecs))
        copyUnchanged(from: llama.parameters, to: buffer, except: ["self_attn."])
        let A = c.attentionWidth, newA = pruned.attentionWidth
        for l in 0..<c.layers {
            let p = "model.layers.\(l).self_attn."
            let q = llama.parameters[p + "q_proj.weight"], k = llama.parameters[p + "k_proj.weight"]
            let v = llama.parameters[p + "v_proj.weight"], o = llama.parameters[p + "o_proj.weight"]
            func rows(_ w: UnsafeMutableBufferPointer<Float>, _ first: Int, _ count: Int) -> [Float] {
                Array(w[(first * C)..<((first + count) * C)])
            }
            func columns(_ first: Int, _ count: Int) -> [Float] { (0..<C).flatMap { i in o[(i * A + first)..<(i * A + first + count)] } }
            let scores = (0..<G).map { g in
                norm(rows(q, g * group * hs, group * hs)) * norm(rows(k, g * hs, hs)) * norm(rows(v, g * hs, hs))
                    * norm(columns(g * group * hs, group * hs))
            }
            let chosen = largest(scores, keepGroups)
            let newQ = buffer[p + "q_proj.weight"], newK = buffer[p + "k_proj.weight"], newV = buffer[p + "v_proj.weight"]
            let newO = buffer[p + "o_proj.weight"]
            for (n, g) in chosen.enumerated() {
                for r in 0..<(group * hs) {
                    for i in 0..<C { newQ[(n * group * hs + r) * C + i] = q[(g * group * hs + r) * C + i] }
                    for i in 0..<C { newO[i * newA + n * group * hs + r] = o[i * A + g * group * hs + r] }
                }
                for r in 0..<hs {
                    for i in 0..<C {
                        newK[(n * hs + r) * C + i] = k[(g * hs + r) * C + i]
                        newV[(n * hs + r) * C + i] = v[(g * hs + r) * C + i]
                    }
                }
            }
        }
        let result = try Llama(config: pruned, parameters: buffer)
        return (
            result,
            Summary(
                architecture: .llama, fraction: fraction, widthBefore: A, widthAfter: newA, parametersBefore: c.parameterCount,
                parametersAfter: pruned.parameterCount)
        )
    }

    /// GPT-2: head h's magnitude is the product of the norms of its q, k and v columns of `c_attn` and its rows of the
    /// attention's `c_proj`; each layer keeps its largest, with their biases; the head size is kept
    /// (`GPT2Config.headDimension`), so the attention narrows from A to A'.
    static func pruneHeads(_ gpt2: GPT2, fraction: Double) throws -> (model: any TrainableModel, summary: Summary) {
        let c = gpt2.config, hs = c.headSize, C = c.channels, NH = c.heads, A = c.attentionWidth
        let keep = max(1, NH - Int((Double(NH) * fraction).rounded()))
        guard keep < NH else {
            throw EngineError.invalidArgument(
                "--attention \(fraction) removes none of the \(NH) heads (the count removed is rounded)",
                fix: NH > 1
                    ? "remove at least one head: --attention \(String(format: "%.3f", 0.5 / Double(NH) + 0.001))"
                    : "a single head cannot be pruned")
        }
        var pruned = c
        pruned.heads = keep
        pruned.headDimension = keep * hs == C ? nil : hs
        let newA = pruned.attentionWidth
        let buffer = TensorBuffer(layout: TensorLayout(pruned.parameterSpecs))
        copyUnchanged(from: gpt2.parameters, to: buffer, except: ["attn.c_attn.", "attn.c_proj.weight"])
        for l in 0..<c.layers {
            let p = "h.\(l).attn."
            let qkv = gpt2.parameters[p + "c_attn.weight"], bias = gpt2.parameters[p + "c_attn.bias"]
            let proj = gpt2.parameters[p + "c_proj.weight"]
            // Column j of c_attn ([C, 3A]) for head h's dimension d in part s (0 q, 1 k, 2 v): s·A + h·hs + d.
            func columns(_ part: Int, _ h: Int) -> [Float] {
                var values: [Float] = []
                for i in 0..<C {
                    let first = i * 3 * A + part * A + h * hs
                    values += qkv[first..<(first + hs)]
                }
                return values
            }
            let scores: [Double] = (0..<NH).map { h in
                let projection = norm(Array(proj[(h * hs * C)..<((h + 1) * hs * C)]))
                return norm(columns(0, h)) * norm(columns(1, h)) * norm(columns(2, h)) * projection
            }
            let chosen = largest(scores, keep)
            let newQKV = buffer[p + "c_attn.weight"], newBias = buffer[p + "c_attn.bias"], newProj = buffer[p + "c_proj.weight"]
            for (n, h) in chosen.enumerated() {
                for part in 0..<3 {
                    for d in 0..<hs {
                        let from = part * A + h * hs + d, to = part * newA + n * hs + d
                        for i in 0..<C { newQKV[i * 3 * newA + to] = qkv[i * 3 * A + from] }
                        newBias[to] = bias[from]
                    }
                }
                (newProj.baseAddress! + n * hs * C).update(from: proj.baseAddress! + h * hs * C, count: hs * C)
            }
        }
        let result = try GPT2(config: pruned, parameters: buffer)
        return (
            result,
            Summary(
                architecture: .gpt2, fraction: fraction, widthBefore: A, widthAfter: newA, parametersBefore: c.parameterCount,
                parametersAfter: pruned.parameterCount)
        )
    }

    /// Copies every tensor whose name contains none of `except` (same shapes in both layouts).
    static func copyUnchanged(from source: TensorBuffer, to target: TensorBuffer, except: [String]) {
        for (i, spec) in target.layout.specs.enumerated() where !except.contains(where: { spec.name.contains($0) }) {
            _ = target.view(i).update(fromContentsOf: source[spec.name])
        }
    }

    static func norm(_ values: [Float]) -> Double { values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

    /// Indices of the `count` largest scores, in their original order.
    static func largest(_ scores: [Double], _ count: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] > scores[$1] }.prefix(count)).sorted()
    }
}
