import CSV
import Carbon
import Foundation

/// The report's runs as CodeCarbon 3.x's `emissions.csv` (its 38 columns in its order and units: seconds, kg CO2e,
/// kWh, W, GB), one row per run, followed by wattprint's own columns. Columns wattprint has no figure for (water,
/// coordinates, Python) are left empty rather than filled with a made-up one.
public enum CodeCarbonCSV {
    /// CodeCarbon 3.3.2's header, as its `emissions.csv` writes it.
    public static let codeCarbonColumns = [
        "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate", "cpu_power", "gpu_power",
        "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed", "country_name", "country_iso_code",
        "region", "cloud_provider", "cloud_region", "os", "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count",
        "gpu_model", "longitude", "latitude", "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
        "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue",
    ]
    public static let wattprintColumns = [
        "wattprint_measured_share", "wattprint_emissions_low_kg", "wattprint_emissions_high_kg", "wattprint_intensity_g_per_kwh",
        "wattprint_intensity_source", "wattprint_seal", "wattprint_version",
    ]

    /// - Parameter grid: resolves each run's region to CodeCarbon's country columns (the country's name and ISO 3166-1
    ///   alpha-3 code; a sub-national zone's name in `region`); nil leaves them empty, as a world-average run does.
    /// - Throws: when the CSV writer cannot write to memory.
    public static func render(_ r: SustainabilityReport, grid: GridIntensityTable? = try? CarbonData.bundled().grid) throws -> String {
        let csv = try CSVWriter(stream: .toMemory())
        try csv.write(row: codeCarbonColumns + wattprintColumns)
        for s in r.runs {
            func energy(_ classes: [String]) -> (kWh: Double, watts: Double) {
                let picked = s.channels.filter { $0.role == "total" && classes.contains(where: $0.device.hasPrefix) }
                return (picked.reduce(0) { $0 + $1.kWh }, picked.reduce(0) { $0 + $1.meanWatts })
            }
            let cpu = energy(["cpu", "host-cpu"]), gpu = energy(["gpu"]), ram = energy(["dram", "host-memory"])
            let kg = s.totalGrams / 1000
            let pue = s.coefficients.first { $0.name.hasPrefix("PUE") }?.value
            let intensity = s.coefficients.first { $0.name.hasPrefix("grid intensity") }
            let cloud = s.region.split(separator: ":").map(String.init)
            let gpus = s.hardware.split(separator: "+").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            let place = country(of: s.region, grid: grid)
            let row: [String] = [
                String((s.endedAt ?? s.startedAt).replacingOccurrences(of: "Z", with: "").prefix(19)), "wattprint", "\(s.id)", s.command,
                num(s.seconds), num(kg), num(s.seconds > 0 ? kg / s.seconds : 0), num(cpu.watts), num(gpu.watts), num(ram.watts),
                num(cpu.kWh),
                num(gpu.kWh), num(ram.kWh), num(s.kWh), "", place.name, place.iso3, place.region,
                cloud.count == 2 ? cloud[0] : "", cloud.count == 2 ? cloud[1] : "", "Linux", "", "", "",
                s.hardware.split(separator: "+").first.map {
                    $0.trimmingCharacters(in: .whitespaces)
                } ?? "", "\(gpus.count)", gpus.joined(separator: ", "), "", "", "", "machine", "", "", "", "", cloud.count == 2 ? "Y" : "N",
                pue.map(num) ?? "", "",
                num(s.measuredShare), num(s.totalGramsLow / 1000), num(s.totalGramsHigh / 1000), intensity.map { num($0.value) } ?? "",
                intensity?.source ?? "", s.seal ?? "", r.generatedBy,
            ]
            try csv.write(row: row)
        }
        csv.stream.close()
        guard let data = csv.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw ReportError("the CSV could not be written to memory", fix: "report this as a bug")
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func num(_ x: Double) -> String { x.isFinite ? "\(x)" : "" }

    /// CodeCarbon's `country_name`, `country_iso_code` (alpha-3, as CodeCarbon writes "FRA") and `region` for a run's
    /// recorded region: a country's own, a sub-national zone's country and its name, a cloud region's zone likewise;
    /// empty for an aggregate (the world average) or a region the table does not know.
    public static func country(of region: String, grid: GridIntensityTable?) -> (name: String, iso3: String, region: String) {
        guard let grid, let zone = try? grid.resolve(region).zone else { return ("", "", "") }
        switch zone.kind {
        case .country: return (zone.name, zone.alias ?? "", "")
        case .subnational:
            let country = zone.parent.flatMap(grid.zone(id:))
            return (country?.name ?? "", country?.alias ?? "", zone.name)
        case .aggregate: return ("", "", "")
        }
    }
}
