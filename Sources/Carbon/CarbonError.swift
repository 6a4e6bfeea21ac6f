import Foundation

/// The one error type of the Carbon module.
///
/// `description` is a single line that says what failed and how to fix it, so the CLI can print it as is.
/// `code` lets callers and tests branch on the kind of failure without matching on text.
public struct CarbonError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The kind of failure.
    public enum Code: String, Sendable, Codable {
        case invalidEnergy
        case invalidNumber
        case unknownRegion
        case unknownHardware
        case malformedCSV
        case unsortedSeries
        case duplicateTimestamp
        case mixedZones
        case invalidProfile
        case invalidContract
        case invalidUncertainty
        case missingData
    }

    public let code: Code
    public let description: String
    /// Closest known names, best first; filled for `unknownRegion` and `unknownHardware`.
    public let suggestions: [String]

    init(_ code: Code, _ description: String, suggestions: [String] = []) {
        self.code = code
        self.description = description
        self.suggestions = suggestions
    }
}
