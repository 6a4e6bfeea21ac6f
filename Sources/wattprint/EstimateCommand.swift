import ArgumentParser
import Carbon
import Foundation
import Reports
import Measures

/// `wattprint estimate`: emissions of a known amount of energy, with a 90 % interval and sources.
struct EstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate the emissions of an amount of energy, with a 90 % interval.",
        discussion: """
            --energy is IT energy (what meters measure); PUE turns it into facility energy. The region \
            comes from --region, else \(RegionResolution.environmentVariable); with neither, the world \
            average is used and the output says so. Embodied emissions are added for --hardware.

            Examples:
              wattprint estimate --energy 1287MWh --region US --pue 1.1
              wattprint estimate --energy 12kWh --region gcp:us-central1 --json
              wattprint estimate --energy 30kWh --region FR --hardware h100 --hours 3
              wattprint estimate --energy 40kWh --region FR --covered-share 0.5
            """)

    /// Site types as command-line choices.
    enum Site: String, CaseIterable, ExpressibleByArgument {
        case aws, gcp, azure, onprem, none

        var siteType: SiteType {
            switch self {
            case .aws: return .aws
            case .gcp: return .gcp
            case .azure: return .azure
            case .onprem: return .onPremises
            case .none: return .none
            }
        }
    }

    @Option(help: "IT energy with a unit: J, kJ, MJ, Wh, kWh, MWh or GWh, e.g. 1287MWh.")
    var energy: String

    @Option(help: ArgumentHelp("Relative 90 % range of the energy figure, e.g. 0.05 for ±5 %.", valueName: "fraction"))
    var energyUncertainty: Double = EstimateRequest.counterSpec

    @Option(help: "Country, zone or cloud region, e.g. US, US-CAL-CISO, aws:us-east-1.")
    var region: String?

    @Option(help: ArgumentHelp("Grid intensity in gCO2e/kWh, replacing the region's figure.", valueName: "g-per-kwh"))
    var intensity: Double?

    @Option(help: "Facility PUE (≥ 1), replacing the site default.")
    var pue: Double?

    @Option(help: "Site type for the default PUE; defaults to the cloud provider of --region, else onprem.")
    var site: Site?

    @Option(help: ArgumentHelp("Hardware class for embodied emissions: h100, a100, gpu-generic, cpu-server.", valueName: "class"))
    var hardware: String?

    @Option(help: ArgumentHelp("Units of --hardware reserved.", valueName: "n"))
    var count: Int = 1

    @Option(help: "Hours the --hardware was reserved.")
    var hours: Double?

    @OptionGroup var instrumentOptions: InstrumentOptions

    @Option(help: ArgumentHelp("Year the energy was used (default: this year); older data gets a wider band.", valueName: "year"))
    var usageYear: Int?

    @OptionGroup var output: OutputOptions

    init() {}

    func validate() throws {
        if hardware != nil && hours == nil {
            throw ValidationError("--hardware needs --hours (how long it was reserved), e.g. --hours 24")
        }
        if hardware == nil && hours != nil {
            throw ValidationError("--hours applies to --hardware; add e.g. --hardware h100")
        }
        if count < 1 {
            throw ValidationError("--count must be 1 or more")
        }
    }

    func run() throws {
        let data = try CarbonData.bundled()
        let request = try makeRequest(
            environment: ProcessInfo.processInfo.environment, configRegion: try UserConfig.load().region,
            currentYear: Calendar(identifier: .gregorian).component(.year, from: Date()))
        let estimate = try CarbonEstimator(data: data).estimate(request)
        try output.emit(EstimateReport.build(estimate))
    }

    /// The request these flags describe.
    ///
    /// - Parameters:
    ///   - configRegion: the region from wattprint's config file, if the caller has one.
    ///   - currentYear: the usage year when `--usage-year` is absent.
    /// - Throws: `CarbonError` for an unparsable energy or invalid numbers.
    func makeRequest(environment: [String: String], configRegion: String?, currentYear: Int) throws -> EstimateRequest {
        let itEnergy = try Energy.parse(energy)
        let instruments = try instrumentOptions.instruments()
        let reservation = try hardware.map { try HardwareReservation(hardware: $0, count: Double(count), hours: hours ?? 0) }
        let choice: EstimateRequest.IntensityChoice =
            try intensity.map {
                .userSupplied(try CarbonIntensity.validated(gramsPerKilowattHour: $0, what: "--intensity"))
            } ?? .region
        return EstimateRequest(
            itEnergy: itEnergy,
            region: RegionResolution.resolve(flag: region, environment: environment, configValue: configRegion),
            usageYear: usageYear ?? currentYear, energyRelativeUncertainty: energyUncertainty, intensity: choice,
            site: site?.siteType, pue: pue, hardware: reservation, instruments: instruments)
    }
}
