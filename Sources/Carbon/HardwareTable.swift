import Foundation

/// Hardware classes with embodied emissions, from the bundled `embodied.csv`.
///
/// Bands: a class with one published figure gets ×/÷ 2.37 (90 %), the spread between the two per-area die
/// factors the facts hold for one part (Boavizta 4.26 kg/cm² vs LLMCarbon 1.8 kg/cm² for a TSMC 4 nm die).
/// Lifetimes: 4 years (median of LCA amortisation defaults: Boavizta 3, Cloud Carbon Footprint 4, Ecodiag 4,
/// LLMCarbon 5), range 3 (Boavizta) to 6 (Microsoft and Alphabet accounting lives).
public struct HardwareTable: Sendable {
    public let classes: [HardwareClass]

    public static func bundled() throws -> HardwareTable {
        try HardwareTable(csv: BundledData.text("embodied"))
    }

    /// - Throws: `CarbonError.malformedCSV` for a bad row.
    public init(csv text: String) throws {
        let what = "embodied.csv"
        let table = try CSVTable(parsing: text, what: what)
        let c = try table.columns(
            [
                "class", "name", "unit", "kgco2e", "low", "high", "derived", "source",
                "lifetime_years", "lifetime_low", "lifetime_high", "lifetime_source",
            ], what: what)
        classes = try table.rows.map { row in
            let f = row.fields
            func number(_ name: String) throws -> Double {
                guard let value = StrictNumber.parse(f[c[name]!]) else {
                    throw CarbonError(.malformedCSV, "\(what) line \(row.line): \(name) '\(f[c[name]!])' is not a number")
                }
                return value
            }
            guard let embodied = try? UncertainQuantity(central: number("kgco2e"), low: number("low"), high: number("high")),
                let lifetime = try? UncertainQuantity(
                    central: number("lifetime_years"), low: number("lifetime_low"),
                    high: number("lifetime_high")),
                lifetime.central > 0
            else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): bounds must satisfy 0 < low ≤ value ≤ high")
            }
            return HardwareClass(
                id: f[c["class"]!], name: f[c["name"]!], unit: f[c["unit"]!],
                embodiedKilograms: embodied, isDerived: f[c["derived"]!] == "yes",
                source: f[c["source"]!], lifetimeYears: lifetime,
                lifetimeSource: f[c["lifetime_source"]!])
        }
    }

    /// The class with this id (case-insensitive).
    ///
    /// - Throws: `CarbonError.unknownHardware` listing the closest ids.
    public func hardware(_ id: String) throws -> HardwareClass {
        let key = id.trimmingCharacters(in: .whitespaces).lowercased()
        if let match = classes.first(where: { $0.id.lowercased() == key }) { return match }
        let ids = classes.map(\.id)
        let closest = EditDistance.closest(to: key, in: ids, limit: 3)
        throw CarbonError(
            .unknownHardware,
            "unknown hardware '\(id)'; closest: \(closest.joined(separator: ", ")); known: \(ids.joined(separator: ", "))",
            suggestions: closest)
    }
}
