/// The training steps a run recorded (a program's `WATTPRINT_EVENTS` `step` lines, or the engine's own), in brief:
/// how many, and the loss at the first and last step that gave one and its lowest. Shown by `show` so a program's
/// steps are seen without reading the ledger.
public struct StepSummary: Codable, Sendable, Equatable {
    /// Step events recorded.
    public var count: Int
    /// The first and last step index recorded.
    public var first: Int
    public var last: Int
    /// Loss at the first and last step that recorded one, and the lowest, in the program's units; nil when no step did.
    public var firstLoss: Double?
    public var lastLoss: Double?
    public var lowestLoss: Double?

    /// Nil for a run with no steps.
    public init?(_ steps: [StepRecord]) {
        guard let head = steps.first, let tail = steps.last else { return nil }
        count = steps.count
        first = head.index
        last = tail.index
        let losses = steps.compactMap(\.loss).filter(\.isFinite)
        firstLoss = losses.first
        lastLoss = losses.last
        lowestLoss = losses.min()
    }
}
