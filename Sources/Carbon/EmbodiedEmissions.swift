import Foundation

/// The share of hardware's embodied emissions charged to one job (Green Software Foundation SCI, "M").
///
/// M = TE × (TiR / EL) × (RR / ToR): total embodied emissions TE, time reserved TiR over expected lifespan EL,
/// resources reserved RR over total resources ToR (e.g. 2 of 8 GPUs when TE is for the whole server, or
/// RR = number of cards and ToR = 1 when TE is per card).
public enum EmbodiedEmissions {
    /// Seconds in one year of the lifespan: 365 days, as Boavizta's 3 years = 26 280 h.
    public static let secondsPerYear: Double = 8_760 * 3_600

    /// - Throws: `CarbonError.invalidNumber` for negative or non-finite inputs, or EL or ToR of zero.
    public static func amortised(
        totalEmbodied: CarbonMass, timeReserved: TimeInterval, expectedLifespan: TimeInterval,
        resourcesReserved: Double, totalResources: Double
    ) throws -> CarbonMass {
        let inputs = [
            ("total embodied emissions", totalEmbodied.grams), ("time reserved", timeReserved),
            ("expected lifespan", expectedLifespan), ("resources reserved", resourcesReserved),
            ("total resources", totalResources),
        ]
        for (name, value) in inputs where !(value.isFinite && value >= 0) {
            throw CarbonError(.invalidNumber, "\(name) \(value) must be a finite number, zero or more")
        }
        guard expectedLifespan > 0, totalResources > 0 else {
            throw CarbonError(.invalidNumber, "expected lifespan and total resources must be above zero")
        }
        return totalEmbodied * (timeReserved / expectedLifespan) * (resourcesReserved / totalResources)
    }
}
