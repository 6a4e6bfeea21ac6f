import Foundation

/// The report's data as pretty JSON with sorted keys; a non-finite number is written as the string "nan", "inf" or
/// "-inf" rather than failing the whole report.
public struct JSONRenderer: ReportRenderer {
    public init() {}

    public func render(_ report: Report) throws -> String { try Self.string(report.data) }

    /// Any value as this renderer writes it.
    public static func string(_ value: any Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()
}
