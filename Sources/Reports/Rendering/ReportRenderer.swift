/// The formats a report is written in.
public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json

    /// The renderer for this format.
    public var renderer: ReportRenderer {
        switch self {
        case .text: return TextRenderer()
        case .json: return JSONRenderer()
        }
    }
}

/// Writes a report in one format.
public protocol ReportRenderer {
    /// - Throws: what encoding the report's data throws.
    func render(_ report: Report) throws -> String
}
