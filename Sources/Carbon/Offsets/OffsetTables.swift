/// The offset facts wattprint plans with, built by `Data/build_tables.py` from `shared/data/grid` with each row's
/// source: credit prices (in the currency quoted, never converted), removal durability, quality standards, and the
/// Oxford Offsetting Principles (2020 and the 2024 revision).
public struct OffsetTables: Sendable {
    /// What a plan buys: avoided emissions, removals into living biomass and soils, removals into durable storage.
    public enum Tier: String, Codable, Sendable, CaseIterable {
        case avoidance
        case natureBasedRemoval = "nature-based removal"
        case durableRemoval = "durable removal"
    }

    public struct Price: Codable, Sendable, Equatable {
        public let category: String
        /// nil for reference rows (market averages, premiums, compliance allowances).
        public let tier: Tier?
        public let low: Double
        public let high: Double
        public let currency: String
        public let period: String
        public let source: String
        public let url: String
        /// What to know about the row ("derived here", "subjective", "EUR not USD").
        public let flags: String
    }

    public struct Durability: Codable, Sendable, Equatable {
        public let category: String
        public let storage: String
        public let durability: String
        public let reversalRisk: String
        public let source: String
    }

    public struct Standard: Codable, Sendable, Equatable {
        public let standard: String
        public let role: String
        public let keyPoints: String
        public let sources: String
        public let verification: String
    }

    public struct Principle: Codable, Sendable, Equatable {
        public let version: String
        public let number: Int
        public let principle: String
        public let source: String
    }

    public let prices: [Price]
    public let durability: [Durability]
    public let standards: [Standard]
    public let principles: [Principle]

    /// - Throws: `CarbonError` for a missing or malformed table.
    public static func bundled() throws -> OffsetTables {
        try OffsetTables(
            prices: BundledData.text("credit_prices"), durability: BundledData.text("removal_durability"),
            standards: BundledData.text("credit_standards"), principles: BundledData.text("oxford_principles"))
    }

    init(prices: String, durability: String, standards: String, principles: String) throws {
        var out: [Price] = []
        let p = try CSVTable(parsing: prices, what: "credit_prices.csv")
        let pc = try p.columns(
            ["category", "tier", "low_per_t", "high_per_t", "point_per_t", "currency", "period", "source", "url", "flags"],
            what: "credit_prices.csv")
        for row in p.rows {
            let f = row.fields
            let point = StrictNumber.parse(f[pc["point_per_t"]!])
            guard let low = StrictNumber.parse(f[pc["low_per_t"]!]) ?? point, let high = StrictNumber.parse(f[pc["high_per_t"]!]) ?? point,
                low <= high
            else { throw CarbonError(.malformedCSV, "credit_prices.csv line \(row.line): no price, or low above high") }
            out.append(
                Price(
                    category: f[pc["category"]!], tier: Tier(rawValue: f[pc["tier"]!]), low: low, high: high, currency: f[pc["currency"]!],
                    period: f[pc["period"]!], source: f[pc["source"]!], url: f[pc["url"]!], flags: f[pc["flags"]!]))
        }
        self.prices = out
        let d = try CSVTable(parsing: durability, what: "removal_durability.csv")
        let dc = try d.columns(["category", "storage_medium", "durability", "reversal_risk", "source"], what: "removal_durability.csv")
        self.durability = d.rows.map {
            Durability(
                category: $0.fields[dc["category"]!], storage: $0.fields[dc["storage_medium"]!], durability: $0.fields[dc["durability"]!],
                reversalRisk: $0.fields[dc["reversal_risk"]!], source: $0.fields[dc["source"]!])
        }
        let s = try CSVTable(parsing: standards, what: "credit_standards.csv")
        let sc = try s.columns(["standard", "role", "key_points", "sources", "verification_status"], what: "credit_standards.csv")
        self.standards = s.rows.map {
            Standard(
                standard: $0.fields[sc["standard"]!], role: $0.fields[sc["role"]!], keyPoints: $0.fields[sc["key_points"]!],
                sources: $0.fields[sc["sources"]!], verification: $0.fields[sc["verification_status"]!])
        }
        let o = try CSVTable(parsing: principles, what: "oxford_principles.csv")
        let oc = try o.columns(["version", "number", "principle", "source"], what: "oxford_principles.csv")
        self.principles = try o.rows.map {
            guard let n = Int($0.fields[oc["number"]!]) else {
                throw CarbonError(.malformedCSV, "oxford_principles.csv line \($0.line): no number")
            }
            return Principle(
                version: $0.fields[oc["version"]!], number: n, principle: $0.fields[oc["principle"]!], source: $0.fields[oc["source"]!])
        }
    }
}
