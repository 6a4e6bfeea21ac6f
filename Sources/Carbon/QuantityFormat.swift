import Foundation

/// Number formatting shared by the quantity types' `description`s.
enum QuantityFormat {
    /// Four significant digits without exponent for 0.001 ≤ |x| < 10⁷, trailing zeros trimmed.
    static func significant(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e7 || magnitude < 1e-3 {
            return String(format: "%.3e", value)
        }
        let decimals = max(0, 3 - Int(floor(log10(magnitude))))
        return trim(String(format: "%.\(decimals)f", value))
    }

    /// At most `decimals` decimals, trailing zeros trimmed: 383.55 → "383.55", 208 → "208".
    static func decimals(_ value: Double, _ decimals: Int) -> String {
        trim(String(format: "%.\(decimals)f", value))
    }

    /// A fraction as a percentage with one decimal: 0.1234 → "12.3 %".
    static func percent(_ fraction: Double) -> String {
        String(format: "%.1f %%", fraction * 100)
    }

    private static func trim(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = text
        while result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return result
    }
}
