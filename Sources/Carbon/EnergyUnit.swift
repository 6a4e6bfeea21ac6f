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
    static let acceptedList = allCases.map(\.symbol).joined(separator: ", ")

    /// Reads a unit symbol.
    ///
    /// Letters are case-insensitive ("kwh", "KWH") except a leading `m`: "mWh" and "mJ" would be milli-units,
    /// which wattprint does not take, so a lowercase `m` is refused rather than read as mega (10⁹ times more).
    static func parse(_ text: String, input: String) throws -> EnergyUnit {
        if let exact = EnergyUnit(rawValue: text) { return exact }
        if text.first == "m" {
            throw CarbonError(.invalidEnergy,
                              "energy '\(input)': '\(text)' would mean milli-units, which are not accepted; write M for mega, e.g. 5MWh or 5MJ")
        }
        if let match = allCases.first(where: { $0.symbol.lowercased() == text.lowercased() }) {
            return match
        }
        var hint = ""
        if text.lowercased().hasSuffix("w") {
            hint = " ('\(text)' is power; energy needs a time unit, e.g. kWh)"
        }
        throw CarbonError(.invalidEnergy,
                          "energy '\(input)' has unknown unit '\(text)'\(hint); accepted units: \(acceptedList), e.g. 1287MWh")
    }
}
