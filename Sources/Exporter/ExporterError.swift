/// What the exporter refuses, with the fix.
public struct ExporterError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        /// `--listen` is not HOST:PORT with a numeric host.
        case badAddress
        /// A non-loopback address without `--allow-remote`.
        case remoteNotAllowed
        /// The address is taken or cannot be bound.
        case cannotListen
    }

    public var kind: Kind
    public var problem: String
    public var fix: String

    public init(_ kind: Kind, _ problem: String, fix: String) {
        self.kind = kind; self.problem = problem; self.fix = fix
    }

    public var description: String { "\(problem); \(fix)" }
}
