import Foundation
import Measures

/// Turns measured energy and context into a `CarbonEstimate` with a 90 % interval.
///
/// total = IT energy × PUE × intensity + TE × (TiR/EL) × (RR/ToR); the interval comes from
/// `UncertaintyBudget` with inputs energy (counter spec), PUE (site range), grid intensity (basis, vintage and,
/// when defaulted, location), embodied carbon and hardware lifetime.
public struct CarbonEstimator: Sendable {
    public let data: CarbonData

    public init(data: CarbonData) {
        self.data = data
    }

    /// Input names in the uncertainty budget, as reported in `dominantContributor`.
    public enum Contributor {
        public static let energy = "energy measurement"
        public static let pue = "PUE"
        public static let intensity = "grid intensity"
        public static let embodied = "embodied carbon"
        public static let lifetime = "hardware lifetime"
        static let reserved = "reserved unit-hours"
    }

    /// - Throws: `CarbonError` for an unknown region or hardware class, or invalid numbers.
    public func estimate(_ request: EstimateRequest) throws -> CarbonEstimate {
        guard request.itEnergy.joules.isFinite, request.itEnergy.joules >= 0 else {
            throw CarbonError(.invalidEnergy, "energy \(request.itEnergy.joules) J must be finite and zero or more")
        }
        let resolved = try data.grid.resolve(request.region)
        var flags: [CarbonFinding] = []

        let figure: IntensityFigure
        switch request.intensity {
        case .region:
            figure = resolved.figure
        case .userSupplied(let intensity):
            let checked = try CarbonIntensity.validated(gramsPerKilowattHour: intensity.gramsPerKilowattHour, what: "intensity")
            figure = .userSupplied(checked)
        case .figure(let given):
            figure = given
        }
        if figure.origin == .worldDefault {
            flags.append(.regionDefaulted(intensity: figure.intensity, year: figure.year))
        }
        if figure.origin == .userSupplied {
            flags.append(.intensitySuppliedByUser(figure.intensity))
        }
        let age = IntensityUncertainty.age(of: figure, usageYear: request.usageYear)
        if age >= IntensityUncertainty.oldDataYears, let year = figure.year {
            flags.append(.oldIntensityData(dataYear: year, age: age, usageYear: request.usageYear))
        }
        if figure.basis.scope != .lifecycle && figure.origin != .userSupplied {
            flags.append(.notLifecycleBasis(figure.basis.text))
        }
        if figure.origin == .zone, resolved.cloudRegion == nil, let note = resolved.zone.note {
            flags.append(.zoneNote(zone: resolved.zone.id, note: note))
        }
        let band = IntensityUncertainty.band(
            for: figure, usageYear: request.usageYear,
            unknownLocation: figure.origin == .worldDefault ? data.grid.unknownLocationLogWidths : nil)

        let pueFigure: PUEFigure
        if let value = request.pue {
            pueFigure = try PUEFigure.userSupplied(value)
        } else {
            let cloudSite = resolved.cloudRegion.flatMap { SiteType.cloudProvider($0.provider) }
            let site = request.site ?? cloudSite ?? .onPremises
            pueFigure = data.pue.figure(for: site)
            if request.site == nil && cloudSite == nil {
                flags.append(.pueAssumedOnPremises(pueFigure.value.central))
            }
        }
        let facility = pueFigure.facilityEnergy(for: request.itEnergy)
        let location = Scope2.locationBased(energy: facility, intensity: figure.intensity)

        var market: Scope2.MarketBased? = nil
        if let instruments = request.instruments {
            let result = Scope2.marketBased(energy: facility, locationIntensity: figure.intensity, instruments: instruments)
            flags += result.flags
            market = result
        }

        let energyQuantity = try UncertainQuantity(
            central: request.itEnergy.kilowattHours,
            relativeRange: request.energyRelativeUncertainty)
        var budget = UncertaintyBudget()
        budget.addTerm([
            UncertaintyInput(Contributor.energy, energyQuantity),
            UncertaintyInput(Contributor.pue, pueFigure.value),
            UncertaintyInput(Contributor.intensity, band),
        ])

        var embodied = CarbonMass.zero
        var hardwareUsed: CarbonEstimate.EmbodiedUsed? = nil
        if let reservation = request.hardware {
            let hardware = try data.hardware.hardware(reservation.hardware)
            embodied = try EmbodiedEmissions.amortised(
                totalEmbodied: hardware.totalEmbodied, timeReserved: reservation.hours * 3_600,
                expectedLifespan: hardware.lifetimeYears.central * EmbodiedEmissions.secondsPerYear,
                resourcesReserved: reservation.count, totalResources: 1)
            let kg = hardware.embodiedKilograms
            let grams = try UncertainQuantity(central: kg.central * 1e3, low: kg.low * 1e3, high: kg.high * 1e3)
            budget.addTerm([
                UncertaintyInput(Contributor.embodied, grams),
                UncertaintyInput(Contributor.lifetime, hardware.lifetimeYears.reciprocal),
                UncertaintyInput(
                    Contributor.reserved,
                    UncertainQuantity(exactly: reservation.count * reservation.hours / 8_760)),
            ])
            hardwareUsed = CarbonEstimate.EmbodiedUsed(
                hardware: hardware.id, name: hardware.name, count: reservation.count, hours: reservation.hours,
                perUnit: hardware.totalEmbodied, lifetimeYears: hardware.lifetimeYears.central,
                isDerived: hardware.isDerived, source: hardware.source)
            if hardware.isDerived {
                flags.append(.derivedEmbodiedFigure(hardware: hardware.id, source: String(hardware.source.prefix { $0 != ";" })))
            }
        }

        let propagated = budget.propagate()
        let total = location + embodied
        let attribution = figure.source.attribution.isEmpty ? [] : [figure.source.attribution]
        return CarbonEstimate(
            region: request.region, usageYear: request.usageYear, itEnergy: request.itEnergy, facilityEnergy: facility,
            locationBased: location, marketBased: market, embodied: embodied, total: total,
            embodiedShare: total.grams > 0 ? embodied.grams / total.grams : 0,
            interval: propagated.interval.map { CarbonMass(grams: $0) },
            dominantContributor: propagated.dominant?.name,
            contributions: propagated.contributions.filter { $0.varianceShare > 0 },
            intensity: CarbonEstimate.IntensityUsed(
                intensity: figure.intensity, year: figure.year, basis: figure.basis.text, origin: figure.origin,
                label: figure.label, source: figure.source.citation, licence: figure.source.licence,
                attribution: figure.source.attribution, zone: resolved.zone.id, cloudRegion: resolved.cloudRegion?.id,
                why: figure.origin == .zone || figure.origin == .provider ? resolved.cloudRegion?.why : nil,
                band: band.interval.map { CarbonIntensity(gramsPerKilowattHour: $0) }),
            pue: CarbonEstimate.PUEUsed(
                value: pueFigure.value.central, low: pueFigure.value.low, high: pueFigure.value.high,
                site: pueFigure.site, year: pueFigure.year, source: pueFigure.source,
                isOverride: pueFigure.isOverride),
            hardware: hardwareUsed, flags: flags, attribution: attribution)
    }
}
