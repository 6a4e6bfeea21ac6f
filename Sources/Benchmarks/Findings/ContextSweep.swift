import Engine

/// Energy per token as the context grows (`wattprint bench … --sweep seq=LIST`): for each swept workload and prompt
/// length, the prefill's and the decode's J/token (medians over repeats, with their intervals) and attention's share
/// of the FLOPs a token costs at that context — the part that grows with it.
public struct ContextSweep: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        /// The workload the sweep varies.
        public var workload: String
        public var promptTokens: Int
        public var prefillJoulesPerToken: RepeatSummary?
        public var decodeJoulesPerToken: RepeatSummary?
        /// Attention's share of a prefill token's FLOPs at context `promptTokens`, and of a decode token's at the mean
        /// context of its steps (prompt + half the new tokens).
        public var prefillAttentionShare: Double
        public var decodeAttentionShare: Double?
    }

    public var rows: [Row]

    /// Attention's share of one token's forward FLOPs at `context` keys: what the formula adds over a context of 0.
    public static func attentionShare(_ config: any ModelConfiguration, context: Int, logitRows: Int) -> Double {
        let total = config.forwardFLOPs(tokens: 1, attentionContext: context, logitRows: logitRows)
        let without = config.forwardFLOPs(tokens: 1, attentionContext: 0, logitRows: logitRows)
        return total > 0 ? (total - without) / total : 0
    }

    /// The rows of a recorded sweep, in workload then prompt-length order.
    public static func build(analysis: BenchAnalysis, plan: BenchPlan) -> ContextSweep {
        var rows: [Row] = []
        for w in plan.workloads {
            guard let (base, prompt) = plan.contextSweep[w.name] else { continue }
            let figures = analysis.workloads.first { $0.name == w.name }
            func phase(_ name: String) -> RepeatSummary? { figures?.phases.first { $0.phase == name }?.joulesPerToken }
            let config = w.config.configuration
            let newTokens = w.spec.phases.decode?.newTokens
            rows.append(
                Row(
                    workload: base, promptTokens: prompt, prefillJoulesPerToken: phase("prefill"), decodeJoulesPerToken: phase("decode"),
                    prefillAttentionShare: attentionShare(config, context: prompt, logitRows: 0),
                    decodeAttentionShare: newTokens.map { attentionShare(config, context: prompt + $0 / 2, logitRows: 1) }))
        }
        return ContextSweep(rows: rows.sorted { ($0.workload, $0.promptTokens) < ($1.workload, $1.promptTokens) })
    }
}
