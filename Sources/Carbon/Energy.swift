import Foundation

/// An amount of energy, stored in joules.
///
/// Meters count joules; grids are rated per kilowatt-hour. Keeping one unit inside and converting at the
/// edges avoids the "field named mJ that holds J" class of bug.
public struct Energy: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var joules: Double

    public init(joules: Double) {
        self.joules = joules
    }

    public static let zero = Energy(joules: 0)

    public static func joules(_ value: Double) -> Energy { Energy(joules: value) }
    public static func wattHours(_ value: Double) -> Energy { Energy(value, .wattHours) }
    public static func kilowattHours(_ value: Double) -> Energy { Energy(value, .kilowattHours) }
    public static func megawattHours(_ value: Double) -> Energy { Energy(value, .megawattHours) }

    public init(_ value: Double, _ unit: EnergyUnit) {
        self.joules = value * unit.joulesPerUnit
    }

    public var kilowattHours: Double { joules / EnergyUnit.kilowattHours.joulesPerUnit }

    public func value(in unit: EnergyUnit) -> Double { joules / unit.joulesPerUnit }

    public static func < (lhs: Energy, rhs: Energy) -> Bool { lhs.joules < rhs.joules }
    public static func + (lhs: Energy, rhs: Energy) -> Energy { Energy(joules: lhs.joules + rhs.joules) }
    public static func * (lhs: Energy, rhs: Double) -> Energy { Energy(joules: lhs.joules * rhs) }

    /// Parses a number followed by a unit, with or without a space: "1287MWh", "12.5 kWh", "3.6e6 J".
    ///
    /// Unit letters are case-insensitive except a leading lowercase `m` (see `EnergyUnit`). The whole input is
    /// read or nothing is: trailing text, a missing number or unit, a negative value, NaN, infinity and
    /// thousands separators are errors.
    ///
    /// - Throws: `CarbonError.invalidEnergy`, naming the problem and giving a valid example.
    public static func parse(_ text: String) throws -> Energy {
        let input = text.trimmingCharacters(in: .whitespaces)
        guard !input.isEmpty else {
            throw CarbonError(.invalidEnergy, "energy is empty; give a number and a unit, e.g. 1287MWh or 12.5 kWh")
        }
        if input.contains(",") {
            throw CarbonError(.invalidEnergy,
                              "energy '\(input)' contains ','; write numbers without thousands separators and with '.' for decimals, e.g. 1287.5kWh")
        }
        let bytes = Array(input.utf8)
        let length = StrictNumber.prefixLength(bytes[...])
        let lower = input.lowercased()
        if lower.hasPrefix("nan") || lower.hasPrefix("inf") || lower.hasPrefix("-inf") || lower.hasPrefix("+inf") {
            throw CarbonError(.invalidEnergy, "energy '\(input)' is not a finite number; give e.g. 12.5kWh")
        }
        guard length > 0 else {
            throw CarbonError(.invalidEnergy, "energy '\(input)' has no number; write the number before the unit, e.g. 12.5kWh")
        }
        let numberText = String(decoding: bytes[..<length], as: UTF8.self)
        let unitText = String(decoding: bytes[length...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let value = Double(numberText), value.isFinite else {
            throw CarbonError(.invalidEnergy, "energy '\(input)' is not a finite number; give e.g. 12.5kWh")
        }
        if value < 0 {
            throw CarbonError(.invalidEnergy, "energy '\(input)' is negative; energy must be zero or more, e.g. 12.5kWh")
        }
        guard !unitText.isEmpty else {
            throw CarbonError(.invalidEnergy,
                              "energy '\(input)' has no unit; add one of \(EnergyUnit.acceptedList), e.g. \(numberText)kWh")
        }
        let unit = try EnergyUnit.parse(unitText, input: input)
        return Energy(value, unit)
    }

    /// The value in `unit` followed by its symbol, written so that `parse` reads back the same value.
    public func formatted(in unit: EnergyUnit) -> String {
        "\(value(in: unit)) \(unit.symbol)"
    }

    /// Four significant digits in the largest watt-hour unit that keeps the number at or above 1
    /// (joules below 1 Wh), e.g. "1.287 GWh".
    public var description: String {
        if joules < EnergyUnit.wattHours.joulesPerUnit {
            return "\(QuantityFormat.significant(joules)) J"
        }
        let units: [EnergyUnit] = [.gigawattHours, .megawattHours, .kilowattHours, .wattHours]
        let unit = units.first { joules >= $0.joulesPerUnit } ?? .wattHours
        return "\(QuantityFormat.significant(value(in: unit))) \(unit.symbol)"
    }
}
