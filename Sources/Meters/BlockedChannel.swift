/// A channel that exists but cannot be read, and what to do about it.
public struct BlockedChannel: Sendable, Codable, Equatable {
    public var device: String
    public var source: String
    public var reason: String
    public var fixes: [String]
    public init(device: String, source: String, reason: String, fixes: [String]) {
        self.device = device; self.source = source; self.reason = reason; self.fixes = fixes
    }
}
