import Carbon
import Measures

/// An emissions estimate: the headline warning first, then the figures with their sources, the attribution the
/// data licences require, and what the reader must know.
public enum EstimateReport {
    public static func build(_ e: CarbonEstimate) -> Report { Report(blocks: blocks(e), data: e) }

    /// How to include embodied emissions: `estimate` takes the hours reserved, a run's report (`show`, `run`) its
    /// duration.
    static let estimateEmbodiedHint = "pass --hardware CLASS --hours H, and --count N for several units"
    static let runEmbodiedHint = "pass --hardware CLASS, and --count N for several units; the run's duration is the time held"

    static func blocks(_ e: CarbonEstimate, embodiedHint: String = estimateEmbodiedHint) -> [Block] {
        var blocks: [Block] = []
        let headlines = e.flags.filter(\.isHeadline)
        if !headlines.isEmpty { blocks.append(.findings(headlines.map { Finding(.headline, $0.description) })) }
        var fields: [Field] = []
        let regionText: String
        switch e.region.origin {
        case .defaulted: regionText = "none given — world average"
        case .flag: regionText = "\(e.region.query) (--region)"
        case .environment: regionText = "\(e.region.query) (\(RegionResolution.environmentVariable))"
        case .configFile: regionText = "\(e.region.query) (config file)"
        }
        fields.append(Field("Region", regionText))
        fields.append(
            Field(
                "Intensity",
                "\(e.intensity.intensity) · \(e.intensity.year.map(String.init) ?? "year not stated") · \(e.intensity.basis) · \(e.intensity.label)"
            ))
        if let why = e.intensity.why { fields.append(Field("Figure choice", why)) }
        fields.append(Field("IT energy", e.itEnergy.description))
        let site = e.pue.site?.rawValue ?? ""
        let pueSource: String
        if e.pue.isOverride {
            pueSource = "--pue"
        } else if e.pue.low == e.pue.high {
            pueSource = "\(site) default"
        } else {
            pueSource = "\(site) default, range \(QuantityFormat.number(e.pue.low))–\(QuantityFormat.number(e.pue.high))"
        }
        fields.append(Field("PUE", "\(QuantityFormat.number(e.pue.value)) (\(pueSource))"))
        fields.append(Field("Facility energy", e.facilityEnergy.description))
        fields.append(Field("Location-based", e.locationBased.description))
        if let market = e.marketBased {
            fields.append(
                Field(
                    "Market-based",
                    "\(market.emissions) (uncovered energy at \(market.uncoveredFactor), \(market.uncoveredFactorSource.rawValue))"))
        }
        if let hardware = e.hardware {
            fields.append(
                Field(
                    "Embodied",
                    "\(e.embodied) (\(QuantityFormat.number(hardware.count)) × \(hardware.hardware), \(QuantityFormat.number(hardware.hours)) h, \(QuantityFormat.percent(e.embodiedShare)) of total)"
                ))
        } else {
            fields.append(Field("Embodied", "not included (\(embodiedHint))"))
        }
        fields.append(Field("Total", e.total.description))
        fields.append(Field("90 % interval", "\(e.interval.low) – \(e.interval.high)"))
        if let dominant = e.contributions.first {
            fields.append(Field("Dominant", "\(dominant.name) (\(QuantityFormat.percent(dominant.varianceShare)) of the variance)"))
        }
        fields.append(Field("Source", e.intensity.source))
        fields.append(Field("Licence", e.intensity.licence))
        blocks.append(.fields(fields))
        if !e.attribution.isEmpty {
            blocks.append(.blank)
            blocks += e.attribution.map(Block.line)
        }
        let warnings = e.flags.filter { !$0.isHeadline }
        if !warnings.isEmpty {
            blocks.append(.blank)
            blocks.append(.findings(warnings.map { Finding(.warning, $0.description) }))
        }
        return blocks
    }
}
