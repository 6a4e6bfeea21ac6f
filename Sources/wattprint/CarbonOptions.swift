import ArgumentParser
import Carbon
import Crypto
import Foundation
import Accounting

/// `--pue` and `--site`, shared by the commands that turn a recorded run into emissions.
struct FacilityOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where the machine runs, for the default PUE: aws, gcp, azure, onprem, none (laptop/desktop). A cloud --region implies its provider.",
            valueName: "site"))
    var site: EstimateCommand.Site?

    @Option(help: ArgumentHelp("Facility overhead (PUE) to apply instead of the site default, e.g. 1.1.", valueName: "ratio"))
    var pue: Double?

    func validate() throws {
        if let pue, !(pue >= 1 && pue <= 5) {
            throw ValidationError("--pue must be between 1 and 5 (1.0 means no overhead), e.g. --pue 1.1")
        }
    }

    /// The site for a run recorded in `region`: explicit, else the cloud provider of a cloud region, else nil (the estimator's on-premises default, flagged).
    func siteType(region: String?) -> SiteType? {
        if let site { return site.siteType }
        guard let region, let colon = region.firstIndex(of: ":") else { return nil }
        return SiteType.cloudProvider(String(region[..<colon]))
    }
}

/// `--region`, shared by the commands that measure or price energy.
struct RegionOption: ParsableArguments {
    @Option(
        help:
            "Where the electricity comes from: ISO country code, grid zone (US-CAL-CISO) or cloud region (aws:us-east-1). Default: $WATTPRINT_REGION, else `region = …` in ~/.config/wattprint/config; with none, the world average, said loudly."
    )
    var region: String?

    /// An empty `--region` is most often an unset shell variable (`--region "$REGION"`): refused, not taken for "none given".
    func validate() throws {
        if let region, region.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError(
                "--region is empty (an unset shell variable?); pass a region such as FR or aws:us-east-1, or leave the flag out for $WATTPRINT_REGION, the config file's region or the world average"
            )
        }
    }

    /// The region and where it came from: this flag, the environment, the config file, or defaulted. A region the
    /// tables know is recorded as they name it (`fr` and `France` as FR, `AWS:US-EAST-1` as aws:us-east-1), so runs
    /// list, compare and group alike; an unknown one is left as typed for the error that names it.
    func resolution() throws -> RegionResolution {
        let given = RegionResolution.resolve(
            flag: region, environment: ProcessInfo.processInfo.environment, configValue: try UserConfig.load().region)
        guard let resolved = try? CarbonData.bundled().grid.resolve(given.query) else { return given }
        return RegionResolution(query: resolved.cloudRegion?.id ?? resolved.zone.id, origin: given.origin)
    }
}

/// `--covered-share`, `--supplier-factor`, `--residual-mix`: contractual instruments for market-based Scope 2.
struct InstrumentOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Share of the energy covered by certificates or PPAs (0–1), for market-based Scope 2.", valueName: "fraction"))
    var coveredShare: Double?

    @Option(help: ArgumentHelp("Supplier-specific intensity in gCO2e/kWh, for market-based Scope 2.", valueName: "g-per-kwh"))
    var supplierFactor: Double?

    @Option(help: ArgumentHelp("Residual-mix intensity in gCO2e/kWh, for market-based Scope 2.", valueName: "g-per-kwh"))
    var residualMix: Double?

    /// The instruments these flags describe; nil when none was given.
    /// - Throws: `CarbonError` for a share outside 0–1 or a negative factor.
    func instruments() throws -> ContractualInstruments? {
        guard coveredShare != nil || supplierFactor != nil || residualMix != nil else { return nil }
        return try ContractualInstruments(
            coveredShare: coveredShare ?? 0,
            supplierFactor: try supplierFactor.map { try CarbonIntensity.validated(gramsPerKilowattHour: $0, what: "--supplier-factor") },
            residualMixFactor: try residualMix.map { try CarbonIntensity.validated(gramsPerKilowattHour: $0, what: "--residual-mix") })
    }
}

/// `--hardware` and `--count`: hardware whose embodied emissions a run carries for its duration.
struct HardwareOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Hardware class for embodied emissions over the run's duration: h100, a100, gpu-generic, cpu-server.", valueName: "class"))
    var hardware: String?

    @Option(help: ArgumentHelp("Units of --hardware held.", valueName: "n"))
    var count: Int = 1

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be 1 or more") }
    }

    var choice: HardwareChoice? { hardware.map { HardwareChoice(hardware: $0, count: Double(count)) } }
}

enum CarbonTables {
    static func load() throws -> CarbonData {
        do { return try CarbonData.bundled() } catch {
            throw CLIError("the bundled carbon tables could not be read (\(error)); reinstall wattprint")
        }
    }

    /// Checks a region before any work is measured, so a typo costs nothing: the error lists the closest matches.
    static func checkRegion(_ resolution: RegionResolution, data: CarbonData) throws {
        guard !resolution.isDefaulted else { return }
        do { _ = try data.grid.resolve(resolution) } catch let error as CarbonError { throw CLIError(error.description) }
    }
}

/// `--hourly`: a time-resolved intensity series for a run's emissions.
struct HourlyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "CSV of hourly grid intensity (timestamp_utc,gco2e_per_kwh[,zone]), or the EIA-930 balancing-authority layout with --balancing-authority.",
            valueName: "csv"))
    var hourly: String?

    @Option(
        name: .customLong("balancing-authority"),
        help: ArgumentHelp("Which balancing authority's rows to use from a multi-authority hourly file, e.g. CISO.", valueName: "code"))
    var balancingAuthority: String?

    /// The series, and how a run names it (file name, SHA-256 of its bytes, balancing authority).
    func load() throws -> (series: HourlyIntensitySeries, reference: HourlySeriesReference)? {
        guard let hourly else { return nil }
        guard let data = FileManager.default.contents(atPath: hourly) else {
            throw CLIError("cannot read the hourly series \(hourly); check the path")
        }
        let reference = HourlySeriesReference(
            name: (hourly as NSString).lastPathComponent,
            sha256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(),
            balancingAuthority: balancingAuthority)
        do {
            if let ba = balancingAuthority {
                return (try HourlyIntensitySeries(balancingAuthorityCSV: data, balancingAuthority: ba), reference)
            }
            return (try HourlyIntensitySeries(csv: String(decoding: data, as: UTF8.self)), reference)
        } catch let error as CarbonError { throw CLIError(error.description) }
    }
}
