/// What an intensity figure counts, which decides how far it can be compared with others.
///
/// Lifecycle figures (Ember, Electricity Maps, IPCC AR5 medians) include upstream fuel supply and plant
/// manufacture; direct-combustion figures (eGRID, EEA) count only smokestack CO2 and so read lower.
public struct IntensityBasis: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Scope: String, Codable, Sendable {
        case lifecycle
        case directCombustion = "direct combustion"
        case unstated = "not stated"
    }

    public let scope: Scope
    /// The basis as the table states it, e.g. "lifecycle, production-based".
    public let text: String

    public init(_ text: String) {
        self.text = text
        let lower = text.lowercased()
        if lower.hasPrefix("lifecycle") {
            scope = .lifecycle
        } else if lower.hasPrefix("direct") {
            scope = .directCombustion
        } else {
            scope = .unstated
        }
    }

    public var description: String { text }
}
