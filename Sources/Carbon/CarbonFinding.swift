import Foundation
import Measures

/// Something an estimate's reader must know about how it was made: a defaulted region, an assumed PUE, old data, a
/// derived embodied figure. Renderers and the offset advice switch on the case; the text is `description`.
///
/// Encoded as its text, as the estimates' `flags` always were; read back, a finding is `.note` with that text.
public enum CarbonFinding: Sendable, Hashable, CustomStringConvertible, Codable {
    /// No region was given: the world average was used.
    case regionDefaulted(intensity: CarbonIntensity, year: Int?)
    /// The user typed the intensity; no table figure was used.
    case intensitySuppliedByUser(CarbonIntensity)
    /// The intensity is from `dataYear`, `age` years before the usage year; its band is widened.
    case oldIntensityData(dataYear: Int, age: Int, usageYear: Int)
    /// The intensity counts direct emissions only; the upper bound is widened.
    case notLifecycleBasis(String)
    /// A note the grid table keeps for this zone.
    case zoneNote(zone: String, note: String)
    /// No PUE was given and the site is unknown: an on-premises data centre was assumed.
    case pueAssumedOnPremises(Double)
    /// The embodied figure was derived, not published.
    case derivedEmbodiedFigure(hardware: String, source: String)
    /// Market-based Scope 2 without a supplier or residual-mix factor: the uncovered share uses the location figure.
    case marketBasedUsesLocationFigure(uncoveredShare: Double)
    /// A finding read back from its text.
    case note(String)

    public var description: String {
        switch self {
        case let .regionDefaulted(intensity, year):
            return
                "REGION DEFAULTED TO WORLD AVERAGE (\(intensity), Ember \(year.map(String.init) ?? "")): no --region, \(RegionResolution.environmentVariable) or config region was given; pass e.g. --region FR or --region aws:us-east-1"
        case let .intensitySuppliedByUser(intensity):
            return "intensity supplied by the user (\(intensity)); no table figure used"
        case let .oldIntensityData(year, age, usageYear):
            return "intensity data is from \(year), \(age) years before the usage year \(usageYear); its band is widened"
        case let .notLifecycleBasis(basis):
            return "intensity basis is '\(basis)', not lifecycle; upstream emissions may add up to 32 %, so the upper bound is widened"
        case let .zoneNote(zone, note):
            return "\(zone): \(note)"
        case let .pueAssumedOnPremises(pue):
            return
                "PUE not given: assuming an on-premises data centre (\(QuantityFormat.decimals(pue, 3))); pass --pue, or --site none for a laptop or desktop"
        case let .derivedEmbodiedFigure(hardware, source):
            return "embodied figure for \(hardware) is DERIVED, not a published value: \(source)"
        case let .marketBasedUsesLocationFigure(uncovered):
            return
                "market-based: no supplier or residual-mix factor; the uncovered \(QuantityFormat.percent(uncovered)) uses the location-based figure (GHG Protocol last resort; pass a residual-mix factor)"
        case let .note(text):
            return text
        }
    }

    /// Whether this finding must be shown before the figures (the region was not given).
    public var isHeadline: Bool { if case .regionDefaulted = self { return true }; return false }

    public init(from decoder: Decoder) throws { self = .note(try decoder.singleValueContainer().decode(String.self)) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
