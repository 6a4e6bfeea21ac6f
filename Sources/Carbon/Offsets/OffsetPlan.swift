/// A plan to compensate residual emissions, after reductions, following the Oxford Offsetting Principles: a removal
/// share that rises over the plan's years, removals moving to durable storage, quality labels required, and prices as
/// dated ranges in the currency each was quoted in. It is a contribution beside the emissions: it never changes them,
/// nor the SCI.
public struct OffsetPlan: Codable, Sendable, Equatable {
    public struct Year: Codable, Sendable, Equatable {
        public var year: Int
        /// Share of the year's tonnes bought as removals, and of those removals, as durable storage.
        public var removalShare: Double
        public var durableShareOfRemovals: Double
        public var tonnes: [String: Double]
        /// Cost range per currency (low, high), summed over the tiers priced in that currency.
        public var cost: [String: [Double]]
    }

    public struct TierPrice: Codable, Sendable, Equatable {
        public var tier: String
        public var currency: String
        public var low: Double
        public var high: Double
        /// The rows the range spans: category, period and source.
        public var basis: [String]
        public var flags: [String]
    }

    public var residualTonnesPerYear: Double
    public var years: [Year]
    public var prices: [TierPrice]
    /// Cost of the whole plan per currency (low, high); never converted between currencies.
    public var totalCost: [String: [Double]]
    public var quality: [String]
    public var durability: [String]
    public var principles: [String]
    /// What the plan means and does not: it is a contribution, shown apart.
    public var wording: String

    /// - Parameters:
    ///   - residualTonnesPerYear: the emissions left after reductions, t CO2e a year.
    ///   - years: the plan's length; the removal share rises linearly from 10 % in year 1 to 100 % in the last, and
    ///     the durable share of removals from 0 % to 100 % (one year: all durable removal).
    ///   - allowed: the credit tiers the plan may buy; a tier left out passes its tonnes to the next more durable one
    ///     allowed (avoidance → nature-based removal → durable removal), else back down (durable → nature-based →
    ///     avoidance). The removal shares reported are the rule's, before this reallocation.
    ///   - revised: the revised rules: the durability table's definitions (rows with no storage medium, such as
    ///     CDR.fyi's threshold for "durable") worded as definitions, a standard's unverified status said for a reader
    ///     ("not checked against the standard's own documents when the table was compiled", not "NOT verified in this
    ///     session"), price flags that only repeat the currency left out, and a price known only as an upper bound
    ///     ("≤ 1") costed from 0 rather than from the bound. False keeps the first rules, which sustainability reports of
    ///     schema 1 carry and their verification rebuilds.
    /// - Throws: `CarbonError.invalidNumber` for a negative or non-finite residual, fewer than 1 year, or no tier allowed.
    public static func make(
        residualTonnesPerYear residual: Double, years: Int, tables: OffsetTables, startYear: Int,
        allowed: Set<OffsetTables.Tier> = Set(OffsetTables.Tier.allCases), revised: Bool = true
    ) throws -> OffsetPlan {
        guard !allowed.isEmpty else { throw CarbonError(.invalidNumber, "the plan allows no credit type; allow at least one") }
        guard residual.isFinite, residual >= 0 else {
            throw CarbonError(.invalidNumber, "residual emissions \(residual) t must be zero or more")
        }
        guard years >= 1, years <= 100 else { throw CarbonError(.invalidNumber, "a plan of \(years) years: use 1 to 100 (--plan-years)") }
        var prices: [TierPrice] = []
        for tier in OffsetTables.Tier.allCases {
            let rows = tables.prices.filter { $0.tier == tier }
            for currency in Set(rows.map(\.currency)).sorted() {
                let mine = rows.filter { $0.currency == currency }
                prices.append(
                    TierPrice(
                        tier: tier.rawValue, currency: currency, low: mine.map(\.low).min()!, high: mine.map(\.high).max()!,
                        basis: mine.map { "\($0.category), \($0.period), \($0.source)" },
                        flags: Array(Set(mine.map(\.flags).filter { !$0.isEmpty && !(revised && Self.repeatsCurrency($0)) }))
                            .sorted()))
            }
        }
        var plan: [Year] = []
        var total: [String: [Double]] = [:]
        for k in 1...years {
            let progress = years == 1 ? 1 : Double(k - 1) / Double(years - 1)
            let removal = 0.1 + 0.9 * progress, durable = progress
            var tonnes: [OffsetTables.Tier: Double] = [
                .avoidance: residual * (1 - removal), .natureBasedRemoval: residual * removal * (1 - durable),
                .durableRemoval: residual * removal * durable,
            ]
            for (tier, next) in [
                (OffsetTables.Tier.avoidance, [OffsetTables.Tier.natureBasedRemoval, .durableRemoval]),
                (.natureBasedRemoval, [.durableRemoval, .avoidance]), (.durableRemoval, [.natureBasedRemoval, .avoidance]),
            ] where !allowed.contains(tier) {
                guard let to = next.first(where: allowed.contains) else { continue }
                tonnes[to, default: 0] += tonnes[tier] ?? 0
                tonnes[tier] = 0
            }
            var cost: [String: [Double]] = [:]
            for p in prices {
                guard let tier = OffsetTables.Tier(rawValue: p.tier), let t = tonnes[tier], t > 0 else { continue }
                let c = cost[p.currency] ?? [0, 0]
                let low = revised && p.low == p.high && p.flags.contains { $0.contains("upper bound") } ? 0 : p.low
                cost[p.currency] = [c[0] + t * low, c[1] + t * p.high]
            }
            for (currency, c) in cost {
                let sum = total[currency] ?? [0, 0]
                total[currency] = [sum[0] + c[0], sum[1] + c[1]]
            }
            plan.append(
                Year(
                    year: startYear + k - 1, removalShare: removal, durableShareOfRemovals: durable,
                    tonnes: Dictionary(uniqueKeysWithValues: tonnes.map { ($0.key.rawValue, $0.value) }), cost: cost))
        }
        let quality = tables.standards.map {
            let status =
                revised && $0.verification.hasPrefix("NOT verified")
                ? "not checked against the standard's own documents when the table was compiled" : $0.verification
            return "\($0.standard) (\($0.role)): \($0.keyPoints) [\(status)]"
        }
        let durability = tables.durability.map {
            revised && $0.storage.trimmingCharacters(in: .whitespaces) == "-"
                ? "\($0.category) (a definition, not a kind of credit): \($0.durability); \($0.reversalRisk) (\($0.source))"
                : "\($0.category): stored in \($0.storage), \($0.durability); \($0.reversalRisk) (\($0.source))"
        }
        let principles = tables.principles.filter { $0.version == (tables.principles.map(\.version).max() ?? "") }.map {
            "\($0.number). \($0.principle) (Oxford Offsetting Principles \($0.version))"
        }
        return OffsetPlan(
            residualTonnesPerYear: residual, years: plan, prices: prices, totalCost: total, quality: quality, durability: durability,
            principles: principles,
            wording:
                "A contribution to climate action beside the emissions reported, never subtracted from them or from the SCI: it does not make the work carbon-free. Reduce first; buy credits that carry the ICVCM Core Carbon Principles label; prefer removals, and durable storage as the plan goes on. Prices are dated ranges from their sources, in the currency quoted (USD and EUR kept apart)."
        )
    }
}

extension OffsetPlan {
    /// A price table flag that only says the currency the row is quoted in ("EUR", "EUR not USD"), which the price line
    /// already names.
    static func repeatsCurrency(_ flag: String) -> Bool {
        let words = flag.split(whereSeparator: { !$0.isLetter }).map { $0.uppercased() }
        return !words.isEmpty && words.allSatisfy { ["EUR", "USD", "NOT"].contains($0) }
    }
}
