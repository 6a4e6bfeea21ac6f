/// All bundled tables, loaded together.
public struct CarbonData: Sendable {
    public let grid: GridIntensityTable
    public let pue: PUETable
    public let hardware: HardwareTable
    public let emissionFactors: EmissionFactorTable

    public init(grid: GridIntensityTable, pue: PUETable, hardware: HardwareTable, emissionFactors: EmissionFactorTable) {
        self.grid = grid
        self.pue = pue
        self.hardware = hardware
        self.emissionFactors = emissionFactors
    }

    /// Loads every table from the module bundle.
    ///
    /// - Throws: `CarbonError.missingData` or `.malformedCSV` (a packaging error, not a user error).
    public static func bundled() throws -> CarbonData {
        CarbonData(grid: try .bundled(), pue: try .bundled(), hardware: try .bundled(), emissionFactors: try .bundled())
    }
}
