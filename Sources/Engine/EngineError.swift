/// The one error type of the Engine module.
///
/// A struct wrapping a private enum so cases can be added without breaking callers. Its
/// `description` reads "what failed; how to fix it" and names the path or tensor involved.
public struct EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A stable category, for callers and tests that branch on the kind of failure.
    public enum Kind: String, Sendable {
        case fileUnreadable, fileUnwritable, checkpointMalformed, checkpointTruncated, checkpointMismatch
        case unsupportedDType, invalidConfiguration, emptyCorpus, corpusTooSmall, promptTooLong
        case tokenizerMalformed, tokenFileMalformed, tokenOutOfRange, invalidArgument, blasUnavailable
    }

    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ problem: String, fix: String) {
        self.kind = kind
        self.description = "\(problem); \(fix)"
    }

    static func fileUnreadable(_ path: String, _ reason: String) -> EngineError {
        EngineError(.fileUnreadable, "cannot read '\(path)' (\(reason))", fix: "check that the path exists and is readable")
    }

    static func fileUnwritable(_ path: String, _ reason: String) -> EngineError {
        EngineError(.fileUnwritable, "cannot write '\(path)' (\(reason))", fix: "check that the directory exists and is writable")
    }

    static func checkpointMalformed(_ path: String, _ problem: String) -> EngineError {
        EngineError(
            .checkpointMalformed, "checkpoint '\(path)' is not valid safetensors: \(problem)",
            fix: "re-save it with `model train --out` or a safetensors writer")
    }

    static func checkpointTruncated(_ path: String, needed: Int, actual: Int) -> EngineError {
        EngineError(
            .checkpointTruncated, "checkpoint '\(path)' is truncated: header needs \(needed) bytes but the file has \(actual)",
            fix: "copy or download the file again")
    }

    static func invalidConfiguration(_ problem: String, fix: String) -> EngineError {
        EngineError(.invalidConfiguration, problem, fix: fix)
    }

    static func invalidArgument(_ problem: String, fix: String) -> EngineError {
        EngineError(.invalidArgument, problem, fix: fix)
    }
}
