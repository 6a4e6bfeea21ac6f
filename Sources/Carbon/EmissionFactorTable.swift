/// Emission factors by generation source (IPCC AR5 medians, lifecycle and direct), from `emission_factors.csv`.
///
/// Used to check intensity figures against their generation mix and to state why direct-combustion figures
/// read lower than lifecycle ones.
public struct EmissionFactorTable: Sendable {
    public enum Basis: String, Codable, Sendable {
        case lifecycle
        case direct
    }

    public struct Factor: Hashable, Codable, Sendable {
        public let sourceType: String
        public let basis: Basis
        public let intensity: CarbonIntensity
        public let origin: String
    }

    public let factors: [Factor]

    public static func bundled() throws -> EmissionFactorTable {
        try EmissionFactorTable(csv: BundledData.text("emission_factors"))
    }

    /// - Throws: `CarbonError.malformedCSV` for a bad row.
    public init(csv text: String) throws {
        let what = "emission_factors.csv"
        let table = try CSVTable(parsing: text, what: what)
        let c = try table.columns(["source_type", "basis", "gco2e_per_kwh", "origin"], what: what)
        factors = try table.rows.map { row in
            let f = row.fields
            guard let basis = Basis(rawValue: f[c["basis"]!]), let value = StrictNumber.parse(f[c["gco2e_per_kwh"]!]) else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): basis must be lifecycle or direct and the factor a number")
            }
            return Factor(
                sourceType: f[c["source_type"]!], basis: basis,
                intensity: CarbonIntensity(gramsPerKilowattHour: value), origin: f[c["origin"]!])
        }
    }

    public func factor(_ sourceType: String, basis: Basis) -> CarbonIntensity? {
        factors.first { $0.sourceType == sourceType && $0.basis == basis }?.intensity
    }

    /// The generation-weighted intensity of a mix (MWh or any common unit per source).
    ///
    /// - Throws: `CarbonError.missingData` naming a source type with no factor on this basis.
    public func intensity(ofMix generation: [String: Double], basis: Basis) throws -> CarbonIntensity {
        var total = 0.0
        var weighted = 0.0
        for (source, amount) in generation.sorted(by: { $0.key < $1.key }) {
            guard let factor = factor(source, basis: basis) else {
                throw CarbonError(
                    .missingData,
                    "no \(basis.rawValue) factor for '\(source)'; known: \(Set(factors.map(\.sourceType)).sorted().joined(separator: ", "))"
                )
            }
            total += amount
            weighted += amount * factor.gramsPerKilowattHour
        }
        return CarbonIntensity(gramsPerKilowattHour: total > 0 ? weighted / total : 0)
    }
}
