/// How a run found the CPU time of the program it measured, as its `attribution` event records it.
public struct AttributionRecord: Codable, Sendable, Equatable {
    public static let eventKind = "attribution"
    /// `cgroup`, `subreaper` or `process-tree`.
    public var method: String
    /// The method in words, with the cgroup's path where there is one.
    public var detail: String
    /// Why no cgroup was made for the command, when the run fell back to the process tree.
    public var cgroupUnavailable: String?

    public init(method: String, detail: String, cgroupUnavailable: String?) {
        self.method = method; self.detail = detail; self.cgroupUnavailable = cgroupUnavailable
    }
}
