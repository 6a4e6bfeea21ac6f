/// The energy units wattprint reads and writes, spelled as SI symbols.
public enum EnergyUnit: String, CaseIterable, Codable, Sendable {
    case joules = "J"
    case kilojoules = "kJ"
    case megajoules = "MJ"
    case wattHours = "Wh"
    case kilowattHours = "kWh"
    case megawattHours = "MWh"
    case gigawattHours = "GWh"

    /// The SI symbol, e.g. "kWh".
    public var symbol: String { rawValue }

    /// Joules in one of this unit.
    public var joulesPerUnit: Double {
        switch self {
        case .joules: return 1
        case .kilojoules: return 1e3
        case .megajoules: return 1e6
        case .wattHours: return 3_600
        case .kilowattHours: return 3.6e6
        case .megawattHours: return 3.6e9
        case .gigawattHours: return 3.6e12
        }
    }

    /// The accepted symbols, for error messages.
    public static let acceptedList = allCases.map(\.symbol).joined(separator: ", ")
}
