import Foundation

/// The 90 % band put around a grid intensity figure, from its basis and vintage.
///
/// All widths are log half-widths of a 90 % interval (`k`; the factor is `e^k`), combined in quadrature:
///
/// - `base` 0.20 for any annual figure: Ember and Electricity Maps disagree for the same country and year by
///   a median |ln ratio| of 0.115 (196 countries, country_grid_intensity.csv). Read as the difference of two
///   estimates each with log error σ, median |d| = 0.674·σ·√2, so σ ≈ 0.12 and k = 1.645·σ ≈ 0.20.
/// - `perYearOfAge` 0.063 for each year between the data year and the usage year: year-on-year drift of
///   Electricity Maps zones 2021–2025 (352 zones) has σ(lag) = median|Δln|/0.674 of 0.049, 0.085, 0.113 and
///   0.145 for lags of 1–4 years; a least-squares line through the origin gives σ ≈ 0.038 per year, k = 0.063.
///   Data more than 2 years older than the usage year is also flagged (`oldDataYears`).
/// - `directCombustionAbove` 0.28, upper side only, when the basis is direct combustion or not stated:
///   lifecycle factors exceed direct ones by 8 % (coal 820/760) to 32 % (gas 490/370, IPCC AR5 via
///   emission_factors.csv), so a direct figure understates lifecycle emissions by up to ln(1.32) = 0.28.
/// - a user-supplied figure gets `base` only: its basis and year are the user's to state.
/// - for the world average standing in for an unknown location, the spread of country figures
///   (`GridIntensityTable.unknownLocationLogWidths`).
public enum IntensityUncertainty {
    public static let base = 0.20
    public static let perYearOfAge = 0.063
    public static let directCombustionAbove = 0.28
    /// Data at least this many years older than the usage year is flagged as old. Annual figures appear a
    /// year after their year ends, so data two years behind is the freshest available and is not flagged.
    public static let oldDataYears = 3

    /// The figure with its 90 % band for energy used in `usageYear`.
    ///
    /// - Parameter unknownLocation: log widths to add when the figure stands in for an unknown location.
    public static func band(
        for figure: IntensityFigure, usageYear: Int,
        unknownLocation: (below: Double, above: Double)? = nil
    ) -> UncertainQuantity {
        var below = base * base
        var above = base * base
        let age = Double(self.age(of: figure, usageYear: usageYear))
        below += pow(perYearOfAge * age, 2)
        above += pow(perYearOfAge * age, 2)
        if figure.basis.scope != .lifecycle && figure.origin != .userSupplied {
            above += directCombustionAbove * directCombustionAbove
        }
        if let location = unknownLocation {
            below += location.below * location.below
            above += location.above * location.above
        }
        return UncertainQuantity(
            central: figure.intensity.gramsPerKilowattHour,
            logBelow: below.squareRoot(), logAbove: above.squareRoot())
    }

    /// Whole years from the data year to the usage year; 0 when the year is unknown or not earlier.
    public static func age(of figure: IntensityFigure, usageYear: Int) -> Int {
        guard let year = figure.year else { return 0 }
        return max(0, usageYear - year)
    }
}
