import Measures
/// A power usage effectiveness (facility energy ÷ IT energy) with its 90 % range and source.
public struct PUEFigure: Hashable, Codable, Sendable {
    public let site: SiteType?
    public let value: UncertainQuantity
    public let year: Int?
    public let source: String
    /// Where the low and high bounds come from.
    public let rangeWhy: String
    /// True when the user gave the value.
    public let isOverride: Bool

    public init(site: SiteType?, value: UncertainQuantity, year: Int?, source: String, rangeWhy: String, isOverride: Bool) {
        self.site = site
        self.value = value
        self.year = year
        self.source = source
        self.rangeWhy = rangeWhy
        self.isOverride = isOverride
    }

    /// A PUE the user knows for their facility; taken as exact.
    ///
    /// - Throws: `CarbonError.invalidNumber` unless 1 ≤ `value` < ∞ (a facility cannot use less than its IT load).
    public static func userSupplied(_ value: Double) throws -> PUEFigure {
        guard value.isFinite, value >= 1 else {
            throw CarbonError(.invalidNumber, "PUE \(value) is not valid; PUE is facility ÷ IT energy, 1.0 or more, e.g. 1.1")
        }
        return PUEFigure(
            site: nil, value: UncertainQuantity(exactly: value), year: nil, source: "supplied by the user",
            rangeWhy: "user-supplied, taken as exact", isOverride: true)
    }

    /// Facility energy for `itEnergy` at the central PUE.
    public func facilityEnergy(for itEnergy: Energy) -> Energy {
        itEnergy * value.central
    }
}
