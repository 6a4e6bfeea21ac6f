/// What a buyer holds under the GHG Protocol market-based method, for the energy being reported.
public struct ContractualInstruments: Hashable, Codable, Sendable {
    /// Share of the energy covered by energy attribute certificates or PPAs with their attributes, 0…1.
    public let coveredShare: Double
    /// Intensity those instruments convey: 0 for renewable certificates, more for e.g. a gas PPA.
    public let certificateFactor: CarbonIntensity
    /// The supplier's own delivered-electricity rate, if it publishes one.
    public let supplierFactor: CarbonIntensity?
    /// The residual mix (grid mix with claimed attributes removed), if published for the market.
    public let residualMixFactor: CarbonIntensity?

    /// - Throws: `CarbonError.invalidContract` when the share is outside 0…1 or a factor is negative or not finite.
    public init(
        coveredShare: Double = 0, certificateFactor: CarbonIntensity = .zero,
        supplierFactor: CarbonIntensity? = nil, residualMixFactor: CarbonIntensity? = nil
    ) throws {
        guard coveredShare.isFinite, (0...1).contains(coveredShare) else {
            throw CarbonError(.invalidContract, "covered share \(coveredShare) must be between 0 and 1, e.g. 0.8 for 80 %")
        }
        let factors: [(String, CarbonIntensity?)] = [
            ("certificate factor", certificateFactor),
            ("supplier factor", supplierFactor),
            ("residual-mix factor", residualMixFactor),
        ]
        for (name, factor) in factors {
            if let g = factor?.gramsPerKilowattHour, !(g.isFinite && g >= 0) {
                throw CarbonError(.invalidContract, "\(name) \(g) must be zero or more gCO2e/kWh")
            }
        }
        self.coveredShare = coveredShare
        self.certificateFactor = certificateFactor
        self.supplierFactor = supplierFactor
        self.residualMixFactor = residualMixFactor
    }
}
