import Measures
/// The unit an SCI score is per ("R").
public enum FunctionalUnit: String, CaseIterable, Codable, Sendable {
    case token
    case thousandTokens = "1k-tokens"
    case step
    case request
    case run

    /// How many of this unit `tokens` tokens make (tokens ÷ 1000 for `thousandTokens`); nil for non-token units.
    public func count(ofTokens tokens: Double) -> Double? {
        switch self {
        case .token: return tokens
        case .thousandTokens: return tokens / 1_000
        case .step, .request, .run: return nil
        }
    }
}

/// A Software Carbon Intensity score (ISO/IEC 21031:2024, Green Software Foundation): SCI = ((E × I) + M) per R.
public struct SCIScore: Hashable, Codable, Sendable {
    /// E × I, with I the location-based intensity.
    public let operational: CarbonMass
    /// M, the amortised embodied emissions.
    public let embodied: CarbonMass
    /// R, how many functional units the emissions served.
    public let functionalUnits: Double
    public let unit: FunctionalUnit
    /// (E × I + M) / R.
    public let perUnit: CarbonMass
    /// Offsets disclosed beside the score; they never reduce it.
    public let offsetsDisclosed: CarbonMass
}

/// Computes SCI scores.
///
/// The SCI is a rate of emissions, not a net figure: the specification excludes offsets and market-based
/// instruments (certificates, PPAs) from it, so `I` is the location-based intensity and offsets are only
/// carried alongside for disclosure.
public enum SoftwareCarbonIntensity {
    /// - Throws: `CarbonError.invalidNumber` unless R is finite and above zero.
    public static func score(
        energy: Energy, intensity: CarbonIntensity, embodied: CarbonMass,
        functionalUnits: Double, per unit: FunctionalUnit
    ) throws -> SCIScore {
        try score(
            energy: energy, intensity: intensity, embodied: embodied, functionalUnits: functionalUnits,
            per: unit, offsets: .zero)
    }

    /// The same score, with `offsets` recorded but not subtracted.
    public static func score(
        energy: Energy, intensity: CarbonIntensity, embodied: CarbonMass,
        functionalUnits: Double, per unit: FunctionalUnit, offsets: CarbonMass
    ) throws -> SCIScore {
        guard functionalUnits.isFinite, functionalUnits > 0 else {
            throw CarbonError(
                .invalidNumber, "functional units R = \(functionalUnits) must be above zero, e.g. the number of requests served")
        }
        let operational = energy * intensity
        return SCIScore(
            operational: operational, embodied: embodied, functionalUnits: functionalUnits, unit: unit,
            perUnit: (operational + embodied) / functionalUnits, offsetsDisclosed: offsets)
    }
}
