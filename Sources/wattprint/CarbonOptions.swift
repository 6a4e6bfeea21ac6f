import ArgumentParser
import Carbon
import Foundation

/// `--pue` and `--site`, shared by the commands that turn a recorded run into emissions.
struct FacilityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the machine runs, for the default PUE: aws, gcp, azure, onprem, none (laptop/desktop). A cloud --region implies its provider.", valueName: "site"))
    var site: EstimateCommand.Site?

    @Option(help: ArgumentHelp("Facility overhead (PUE) to apply instead of the site default, e.g. 1.1.", valueName: "ratio"))
    var pue: Double?

    func validate() throws {
        if let pue, !(pue >= 1 && pue <= 5) { throw ValidationError("--pue must be between 1 and 5 (1.0 means no overhead), e.g. --pue 1.1") }
    }

    /// The site for a run recorded in `region`: explicit, else the cloud provider of a cloud region, else nil (the estimator's on-premises default, flagged).
    func siteType(region: String?) -> SiteType? {
        if let site { return site.siteType }
        guard let region, let colon = region.firstIndex(of: ":") else { return nil }
        return SiteType.cloudProvider(String(region[..<colon]))
    }
}

enum CarbonTables {
    static func load() throws -> CarbonData {
        do { return try CarbonData.bundled() } catch { throw CLIError("the bundled carbon tables could not be read (\(error)); reinstall wattprint") }
    }

    /// Checks a region before any work is measured, so a typo costs nothing: the error lists the closest matches.
    static func checkRegion(_ region: String?, data: CarbonData) throws {
        let resolution = RegionResolution.resolve(flag: region, environment: [:], configValue: nil)
        guard !resolution.isDefaulted else { return }
        do { _ = try data.grid.resolve(resolution) } catch let error as CarbonError { throw CLIError(error.description) }
    }
}

/// `--hourly`: a time-resolved intensity series for a run's emissions.
struct HourlyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("CSV of hourly grid intensity (timestamp_utc,gco2e_per_kwh[,zone]), or the EIA-930 balancing-authority layout with --balancing-authority.", valueName: "csv"))
    var hourly: String?

    @Option(name: .customLong("balancing-authority"), help: ArgumentHelp("Which balancing authority's rows to use from a multi-authority hourly file, e.g. CISO.", valueName: "code"))
    var balancingAuthority: String?

    func load() throws -> HourlyIntensitySeries? {
        guard let hourly else { return nil }
        guard let data = FileManager.default.contents(atPath: hourly) else {
            throw CLIError("cannot read the hourly series \(hourly); check the path")
        }
        do {
            if let ba = balancingAuthority { return try HourlyIntensitySeries(balancingAuthorityCSV: data, balancingAuthority: ba) }
            return try HourlyIntensitySeries(csv: String(decoding: data, as: UTF8.self))
        } catch let error as CarbonError { throw CLIError(error.description) }
    }
}
