import Carbon
import Foundation

/// Short number text for table cells and report lines, where the unit is given elsewhere.
enum QuantityText {
    /// gCO2e/kWh with at most two decimals: 383.55, 208.
    static func intensity(_ value: CarbonIntensity) -> String {
        trimmed(String(format: "%.2f", value.gramsPerKilowattHour))
    }

    /// Up to three decimals, trailing zeros trimmed: 1.1, 1.135, 8.
    static func number(_ value: Double) -> String {
        trimmed(String(format: "%.3f", value))
    }

    /// A fraction as a percentage with one decimal.
    static func percent(_ fraction: Double) -> String {
        String(format: "%.1f %%", fraction * 100)
    }

    private static func trimmed(_ text: String) -> String {
        var result = text
        while result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return result
    }
}
