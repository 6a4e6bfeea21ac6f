/// What `model prune` did to make a checkpoint, written into it (`Checkpoint.pruningKey`) so every later run that starts
/// from the file records it as a pruned model and never mixes it up with one trained at that shape.
public struct PruningRecord: Codable, Sendable, Equatable {
    /// The checkpoint that was pruned, as given, and its SHA-256 (hex).
    public var source: String
    public var sourceSHA256: String
    /// The MLP's pruning (widths are channels), if asked.
    public var mlp: StructuredPruning.Summary?
    /// The attention's pruning (widths are heads × head size), if asked.
    public var attention: StructuredPruning.Summary?
    /// The source's own record when it was itself a pruned model (pruned again): the whole history, newest first.
    public var earlier: [PruningRecord]?

    public init(
        source: String, sourceSHA256: String, mlp: StructuredPruning.Summary?, attention: StructuredPruning.Summary?,
        earlier: PruningRecord? = nil
    ) {
        self.source = source
        self.sourceSHA256 = sourceSHA256
        self.mlp = mlp
        self.attention = attention
        self.earlier = earlier.map { [$0] }
    }
}
