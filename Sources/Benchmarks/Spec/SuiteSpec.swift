/// A named set of workloads measured together: `Workloads/<name>/suite.json`.
///
/// Schema version 1: `{"schema": 1, "name": "small", "description": "…", "workloads": ["gpt2.json", …],
/// "repeats": 5, "idleSeconds": 10}`; workload paths are relative to the suite file.
public struct SuiteSpec: Codable, Sendable, Equatable {
    public var schema: Int
    public var name: String
    public var description: String?
    public var workloads: [String]
    /// Repeats of every workload (overriding theirs); default 5.
    public var repeats: Int?
    /// Idle baseline before and after, seconds; default 10.
    public var idleSeconds: Double?

    static let keys: SpecKeys = .object([
        "schema": .count(1...1), "name": .text, "description": .text, "workloads": .texts, "repeats": .count(1...1_000),
        "idleSeconds": .number(0...3_600),
    ])
}
