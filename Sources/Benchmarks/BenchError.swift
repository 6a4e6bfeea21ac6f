/// Why a benchmark could not be planned or run: the problem, where it is (file, line, field) and the fix. Planning
/// errors are raised before anything is recorded.
public struct BenchError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case specUnreadable, specMalformed, specInvalid, unknownArchitecture, suiteMissingFile, unknownSuite
        case corpusMismatch, unsupportedPhase
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ problem: String, fix: String) {
        self.kind = kind
        description = "\(problem); \(fix)"
    }
}
