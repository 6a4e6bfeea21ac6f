/// Default PUEs by site type, from the bundled `pue.csv`.
///
/// Cloud defaults are the providers' fleet figures (AWS 1.14 for 2025, Google ~1.10, Microsoft 1.18); the
/// on-premises default is the latest Uptime Institute survey average (1.56, 2024) with 1.55–1.63 as its
/// range (lowest Uptime average since 2020 to IDC's on-premises estimate). Each row names its sources.
public struct PUETable: Sendable {
    public let figures: [SiteType: PUEFigure]

    public static func bundled() throws -> PUETable {
        try PUETable(csv: BundledData.text("pue"))
    }

    /// - Throws: `CarbonError.malformedCSV` for a bad row or a missing site type.
    public init(csv text: String) throws {
        let what = "pue.csv"
        let table = try CSVTable(parsing: text, what: what)
        let c = try table.columns(["site", "pue", "low", "high", "year", "source", "range_why"], what: what)
        var figures: [SiteType: PUEFigure] = [:]
        for row in table.rows {
            let f = row.fields
            guard let site = SiteType(rawValue: f[c["site"]!]) else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): unknown site '\(f[c["site"]!])'")
            }
            guard let central = StrictNumber.parse(f[c["pue"]!]), let low = StrictNumber.parse(f[c["low"]!]),
                let high = StrictNumber.parse(f[c["high"]!]), low >= 1,
                let value = try? UncertainQuantity(central: central, low: low, high: high)
            else {
                throw CarbonError(.malformedCSV, "\(what) line \(row.line): pue, low and high must satisfy 1 ≤ low ≤ pue ≤ high")
            }
            figures[site] = PUEFigure(
                site: site, value: value, year: Int(f[c["year"]!]), source: f[c["source"]!],
                rangeWhy: f[c["range_why"]!], isOverride: false)
        }
        for site in SiteType.allCases where figures[site] == nil {
            throw CarbonError(.malformedCSV, "\(what) has no row for site '\(site.rawValue)'; rebuild it with build_tables.py")
        }
        self.figures = figures
    }

    public func figure(for site: SiteType) -> PUEFigure {
        figures[site]!
    }
}
