import Foundation

/// Number formatting shared by the text renderers.
enum Formatting {
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = value, unit = 0
        while v >= 1024, unit < units.count - 1 { v /= 1024; unit += 1 }
        return String(format: unit == 0 ? "%.0f %@" : "%.2f %@", v, units[unit])
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }

    static func flops(_ value: Double) -> String {
        if value >= 1e12 { return fixed(value / 1e12, 2) + " TFLOP" }
        if value >= 1e9 { return fixed(value / 1e9, 2) + " GFLOP" }
        if value >= 1e6 { return fixed(value / 1e6, 2) + " MFLOP" }
        return fixed(value, 0) + " FLOP"
    }
}
