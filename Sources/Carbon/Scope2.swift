import Measures
/// GHG Protocol Scope 2 emissions of purchased electricity, reported both ways ("dual reporting").
///
/// Location-based: energy × the grid's average intensity, always. Market-based (Scope 2 Guidance, 2015,
/// ch. 6, market-based data hierarchy), used only when the user supplies contractual data:
/// 1–2. energy attribute certificates and contracts (PPAs) with attributes cover `coveredShare` of the
///      energy at the factor they convey (0 for renewables);
/// 3.   the rest takes the supplier-specific rate when there is one;
/// 4.   else the residual mix;
/// 5.   else the location-based grid average, flagged: it double counts attributes others have claimed, so the
///      guidance accepts it only as the last resort.
public enum Scope2 {
    /// Which factor applied to the energy no instrument covers.
    public enum UncoveredFactorSource: String, Codable, Sendable {
        case supplier
        case residualMix = "residual-mix"
        case locationFallback = "location-fallback"
    }

    public struct MarketBased: Hashable, Codable, Sendable {
        public let emissions: CarbonMass
        public let uncoveredFactor: CarbonIntensity
        public let uncoveredFactorSource: UncoveredFactorSource
        public let flags: [CarbonFinding]
    }

    public static func locationBased(energy: Energy, intensity: CarbonIntensity) -> CarbonMass {
        energy * intensity
    }

    /// market = E × (covered × certificate factor + (1 − covered) × (supplier ?? residual mix ?? location)).
    public static func marketBased(
        energy: Energy, locationIntensity: CarbonIntensity,
        instruments: ContractualInstruments
    ) -> MarketBased {
        let factor: CarbonIntensity
        let source: UncoveredFactorSource
        var flags: [CarbonFinding] = []
        if let supplier = instruments.supplierFactor {
            factor = supplier
            source = .supplier
        } else if let residual = instruments.residualMixFactor {
            factor = residual
            source = .residualMix
        } else {
            factor = locationIntensity
            source = .locationFallback
            if instruments.coveredShare < 1 {
                flags.append(.marketBasedUsesLocationFigure(uncoveredShare: 1 - instruments.coveredShare))
            }
        }
        let covered = instruments.coveredShare
        let grams =
            energy.kilowattHours
            * (covered * instruments.certificateFactor.gramsPerKilowattHour
                + (1 - covered) * factor.gramsPerKilowattHour)
        return MarketBased(
            emissions: CarbonMass(grams: grams), uncoveredFactor: factor,
            uncoveredFactorSource: source, flags: flags)
    }
}
