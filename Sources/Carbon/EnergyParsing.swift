import Foundation
import Measures

extension Energy {
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
            throw CarbonError(
                .invalidEnergy,
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
            throw CarbonError(
                .invalidEnergy,
                "energy '\(input)' has no unit; add one of \(EnergyUnit.acceptedList), e.g. \(numberText)kWh")
        }
        let unit = try EnergyUnit.parse(unitText, input: input)
        return Energy(value, unit)
    }
}

extension EnergyUnit {
    /// Reads a unit symbol.
    ///
    /// Letters are case-insensitive ("kwh", "KWH") except a leading `m`: "mWh" and "mJ" would be milli-units,
    /// which wattprint does not take, so a lowercase `m` is refused rather than read as mega (10⁹ times more).
    static func parse(_ text: String, input: String) throws -> EnergyUnit {
        if let exact = EnergyUnit(rawValue: text) { return exact }
        if text.first == "m" {
            throw CarbonError(
                .invalidEnergy,
                "energy '\(input)': '\(text)' would mean milli-units, which are not accepted; write M for mega, e.g. 5MWh or 5MJ")
        }
        if let match = allCases.first(where: { $0.symbol.lowercased() == text.lowercased() }) {
            return match
        }
        var hint = ""
        if text.lowercased().hasSuffix("w") {
            hint = " ('\(text)' is power; energy needs a time unit, e.g. kWh)"
        }
        throw CarbonError(
            .invalidEnergy,
            "energy '\(input)' has unknown unit '\(text)'\(hint); accepted units: \(acceptedList), e.g. 1287MWh")
    }
}
