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
