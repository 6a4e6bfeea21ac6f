import Measures
/// Everything `CarbonEstimator` needs for one estimate.
public struct EstimateRequest: Sendable {
    /// Which intensity to use.
    public enum IntensityChoice: Sendable {
        /// The figure of the resolved region (the world average when the region was defaulted).
        case region
        /// A number the user typed, in gCO2e/kWh.
        case userSupplied(CarbonIntensity)
        /// A figure built elsewhere, e.g. from an hourly series.
        case figure(IntensityFigure)
    }

    /// Energy measured at the IT equipment (meters, NVML, RAPL), before PUE.
    public var itEnergy: Energy
    /// The energy's relative 90 % range; `counterSpec` by default.
    public var energyRelativeUncertainty: Double
    public var region: RegionResolution
    public var intensity: IntensityChoice
    /// Where the equipment runs; nil picks the cloud provider of a cloud region, else on-premises.
    public var site: SiteType?
    /// A PUE the user knows; overrides the site default.
    public var pue: Double?
    public var hardware: HardwareReservation?
    /// Contractual data for market-based Scope 2; nil reports location-based only.
    public var instruments: ContractualInstruments?
    /// The calendar year the energy was used, against which data age is measured.
    public var usageYear: Int

    /// ±5 %: NVML documents power readings "accurate to within +/- 5%", and on an H100 the power-sampling
    /// methods fell within 4 % of the energy counter (shared/data/hardware/nvml_notes.md).
    public static let counterSpec = 0.05

    public init(
        itEnergy: Energy, region: RegionResolution, usageYear: Int,
        energyRelativeUncertainty: Double = EstimateRequest.counterSpec, intensity: IntensityChoice = .region,
        site: SiteType? = nil, pue: Double? = nil, hardware: HardwareReservation? = nil,
        instruments: ContractualInstruments? = nil
    ) {
        self.itEnergy = itEnergy
        self.region = region
        self.usageYear = usageYear
        self.energyRelativeUncertainty = energyRelativeUncertainty
        self.intensity = intensity
        self.site = site
        self.pue = pue
        self.hardware = hardware
        self.instruments = instruments
    }
}
