import Foundation

/// Number text, one place for every renderer and every quantity's `description`.
public enum QuantityFormat {
    /// Four significant digits without exponent for 0.001 ≤ |x| < 10⁷, trailing zeros trimmed.
    public static func significant(_ value: Double) -> String {
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
    public static func decimals(_ value: Double, _ decimals: Int) -> String {
        trim(String(format: "%.\(decimals)f", value))
    }

    /// A fraction as a percentage with one decimal: 0.1234 → "12.3 %".
    public static func percent(_ fraction: Double) -> String {
        String(format: "%.1f %%", fraction * 100)
    }

    private static func trim(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = text
        while result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return result
    }

    /// Exactly `digits` decimals: 3.14159, 2 → "3.14".
    public static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// Up to three decimals, trailing zeros trimmed: 1.1, 1.135, 8.
    public static func number(_ value: Double) -> String { decimals(value, 3) }

    /// Bytes in binary units: 1536 → "1.50 KiB".
    public static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = value, unit = 0
        while v >= 1024, unit < units.count - 1 { v /= 1024; unit += 1 }
        return String(format: unit == 0 ? "%.0f %@" : "%.2f %@", v, units[unit])
    }

    /// A count with its noun, singular for one: (1, "run") → "1 run", (3, "run") → "3 runs", (2, "batch", "batches").
    public static func counted(_ count: Int, _ noun: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
    }

    /// An integer with thousands separators: 124439808 → "124,439,808".
    public static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }

    /// Floating-point operations with a decimal prefix: 2.5e9 → "2.50 GFLOP".
    public static func flops(_ value: Double) -> String {
        if value >= 1e12 { return fixed(value / 1e12, 2) + " TFLOP" }
        if value >= 1e9 { return fixed(value / 1e9, 2) + " GFLOP" }
        if value >= 1e6 { return fixed(value / 1e6, 2) + " MFLOP" }
        return fixed(value, 0) + " FLOP"
    }

    /// Joules in J, kJ or kWh: 12.345 → "12.35 J", 4.2e6 → "1.167 kWh"; under 1 J with four significant digits
    /// (0.0016172 → "0.001617 J"), where two decimals read a small channel's energy as "0.00 J".
    public static func joules(_ j: Double) -> String {
        if j >= 3.6e6 { return String(format: "%.3f kWh", j / 3.6e6) }
        if j >= 1e3 { return String(format: "%.2f kJ", j / 1e3) }
        if abs(j) < 0.995 && j != 0 { return significant(j) + " J" }
        return String(format: "%.2f J", j)
    }

    public static func watts(_ w: Double) -> String { String(format: "%.2f W", w) }
    public static func seconds(_ s: Double) -> String { String(format: "%.1f s", s) }

    /// A length of time with four significant digits, in milliseconds under a second: 0.004213 → "4.213 ms",
    /// 12.5 → "12.5 s"; a time that rounds to 1000 ms reads in seconds (0.99996 → "1 s"). Where `seconds` would print a
    /// millisecond window as "0.0 s". Bench analysis 3 records this text in run summaries that `verify` recomputes:
    /// changing it needs a new analysis version.
    public static func duration(_ s: Double) -> String {
        abs(s) < 0.9995 && s != 0 ? significant(s * 1000) + " ms" : significant(s) + " s"
    }
}
