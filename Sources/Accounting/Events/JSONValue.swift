import Foundation
/// Any JSON value, for event payloads whose shape belongs to another module (the engine's benchmark result, a
/// model's configuration): kept whole and written back as read.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .number(n): try c.encode(n)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var number: Double? { if case let .number(n) = self { return n }; return nil }
    public var string: String? { if case let .string(s) = self { return s }; return nil }
}

extension JSONValue {
    /// The JSON `value` encodes to.
    /// - Throws: what `JSONEncoder` throws for `value`.
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        self = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value))
    }
}

extension JSONValue {
    /// The first place where `self` and `other` differ, numbers compared to `relativeTolerance` (a recomputation
    /// may round differently in the last bits), or nil when they agree. The path reads like `workloads[0].phases[1]`.
    public func firstDifference(from other: JSONValue, relativeTolerance: Double = 1e-9, path: String = "") -> String? {
        switch (self, other) {
        case let (.number(a), .number(b)):
            return a == b || abs(a - b) <= relativeTolerance * max(abs(a), abs(b)) ? nil : "\(path): \(a) ≠ \(b)"
        case let (.array(a), .array(b)):
            guard a.count == b.count else { return "\(path): \(a.count) ≠ \(b.count) items" }
            for i in a.indices {
                if let d = a[i].firstDifference(from: b[i], relativeTolerance: relativeTolerance, path: "\(path)[\(i)]") { return d }
            }
            return nil
        case let (.object(a), .object(b)):
            for key in Set(a.keys).union(b.keys).sorted() {
                let p = path.isEmpty ? key : "\(path).\(key)"
                guard let x = a[key], let y = b[key] else { return "\(p): present in only one" }
                if let d = x.firstDifference(from: y, relativeTolerance: relativeTolerance, path: p) { return d }
            }
            return nil
        default:
            return self == other ? nil : "\(path): \(self) ≠ \(other)"
        }
    }
}
