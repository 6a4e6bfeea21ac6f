/// Something a meter decided about what it reads and what counts: an entry it did not understand and skipped,
/// zones that read one counter, a domain another interface counts. `sensors` lists them and each run records them
/// (its `meter_decisions` event), so nothing under `/sys` is dropped without a word.
public struct MeterDecision: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Present but not understood (a zone name, a hwmon feature without a readable input): not read.
        case skipped
        /// A channel that reads the same counter as `counterpart` (the channel key that counts): kept as detail.
        case mirrored
        /// A domain counted through another interface (`counterpart` names it); this reading is a cross-check.
        case countedElsewhere = "counted-elsewhere"
    }

    public var kind: Kind
    /// The zone, path or channel key the decision is about.
    public var subject: String
    /// The channel key or meter it is decided against, where there is one.
    public var counterpart: String?
    public var reason: String

    public init(kind: Kind, subject: String, counterpart: String? = nil, reason: String) {
        self.kind = kind; self.subject = subject; self.counterpart = counterpart; self.reason = reason
    }
}
