import Foundation

enum JSONOutput {
    /// One line of JSON with sorted keys, for event payloads.
    static func compact<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

/// Human-readable quantities.
enum Format {
    static func joules(_ j: Double) -> String {
        if j >= 3.6e6 { return String(format: "%.3f kWh", j / 3.6e6) }
        if j >= 1e3 { return String(format: "%.2f kJ", j / 1e3) }
        return String(format: "%.2f J", j)
    }
    static func watts(_ w: Double) -> String { String(format: "%.2f W", w) }
    static func seconds(_ s: Double) -> String { String(format: "%.1f s", s) }
}
