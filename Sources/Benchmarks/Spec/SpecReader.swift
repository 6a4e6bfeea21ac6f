import Accounting
import Engine
import Foundation

/// The keys a JSON object may have and what each holds, nested: a key not listed is a typo, and a value of the wrong
/// kind or outside its range is named with its line, before anything is decoded or run.
indirect enum SpecKeys: Sendable {
    /// A whole number within the range (sizes, counts: the upper bounds keep a typo from asking for terabytes).
    case count(ClosedRange<Int>)
    /// A number within the range; `above` excludes the lower bound (a learning rate above 0).
    case number(ClosedRange<Double>, above: Bool = false)
    case text
    /// A list of strings.
    case texts
    case object([String: SpecKeys])

    static let leaf = SpecKeys.text
}

/// Reads spec and suite files strictly: JSON syntax errors with their line, unknown keys, wrong types and missing
/// fields named by their path and line, each with a fix.
enum SpecReader {
    static func read<T: Decodable>(_ type: T.Type, path: String, keys: SpecKeys, example: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError(.specUnreadable, "cannot read '\(path)'", fix: "check the path (suites are Workloads/NAME/suite.json)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            // Foundation's sentence ends in a full stop; the fix follows after a semicolon.
            var detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            if detail.hasSuffix(".") { detail.removeLast() }
            throw BenchError(
                .specMalformed, "\(path)\(syntaxLine(detail, text)) is not valid JSON: \(detail)",
                fix: "fix the syntax there (a missing comma or quote, usually at the end of the line before); a spec looks like \(example)")
        }
        // Kinds and ranges are checked on the JSON as written, so every problem is named with its field and line.
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw BenchError(.specMalformed, "\(path) is not valid JSON (\(error))", fix: "fix the syntax; a spec looks like \(example)")
        }
        _ = json
        try checkKeys(value, keys, path: [], file: path, text: text)
        do { return try JSONDecoder().decode(T.self, from: data) } catch let DecodingError.dataCorrupted(context)
            where context.codingPath.last?.stringValue == "architecture"
        {
            let value = ((json as? [String: Any])?["model"] as? [String: Any])?["architecture"].map { "\($0)" } ?? "?"
            throw BenchError(
                .unknownArchitecture, "\(path)\(lineSuffix(context.codingPath.map(\.stringValue), text)): unknown architecture '\(value)'",
                fix: "use one of \(Architecture.list)")
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.last?.stringValue == "precision" {
            let value = ((json as? [String: Any])?["model"] as? [String: Any])?["precision"].map { "\($0)" } ?? "?"
            throw BenchError(
                .specInvalid, "\(path)\(lineSuffix(context.codingPath.map(\.stringValue), text)): unknown precision '\(value)'",
                fix: "use one of \(WeightPrecision.allCases.map(\.rawValue).joined(separator: ", "))")
        } catch let error as DecodingError {
            throw BenchError(
                .specMalformed, "\(path): \(describe(error, text: text))", fix: "see the schema in Workloads/README.md; e.g. \(example)")
        }
    }

    static func checkKeys(_ json: JSONValue, _ keys: SpecKeys, path: [String], file: String, text: String) throws {
        let field = path.joined(separator: ".")
        func bad(_ problem: String, _ fix: String) -> BenchError {
            BenchError(.specMalformed, "\(file)\(lineSuffix(path, text)): '\(field)' \(problem)", fix: fix)
        }
        func shown(_ v: JSONValue) -> String {
            switch v {
            case .null: return "null"
            case let .bool(b): return "\(b)"
            case let .number(n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
            case let .string(t): return "\"\(t)\""
            case .array: return "a list"
            case .object: return "an object"
            }
        }
        switch keys {
        case let .object(allowed):
            guard case let .object(object) = json else {
                if path.isEmpty {
                    throw BenchError(
                        .specMalformed, "\(file): the file should hold one JSON object { … }, got \(shown(json))",
                        fix: "see the schema in Workloads/README.md")
                }
                throw bad("should be an object { … }, got \(shown(json))", "see the schema in Workloads/README.md")
            }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                guard let inner = allowed[key] else {
                    let name = (path + [key]).joined(separator: ".")
                    throw BenchError(
                        .specMalformed, "\(file)\(lineSuffix(path + [key], text)): unknown key '\(name)'",
                        fix: "use one of \(allowed.keys.sorted().joined(separator: ", "))\(path.isEmpty ? "" : " in \(field)")")
                }
                try checkKeys(value, inner, path: path + [key], file: file, text: text)
            }
        case let .count(range):
            guard case let .number(v) = json, v.isFinite, v.rounded() == v else {
                throw bad("should be a whole number, got \(shown(json))", "give a count such as \(max(range.lowerBound, 1))")
            }
            guard v >= Double(range.lowerBound), v <= Double(range.upperBound) else {
                // A range of one value is a version this wattprint reads ("schema"), not a quantity.
                if range.lowerBound == range.upperBound {
                    throw bad("is \(shown(json)), but this wattprint reads only \(range.lowerBound)", "set it to \(range.lowerBound)")
                }
                throw bad("is \(shown(json)), outside \(range.lowerBound)…\(range.upperBound)", "give a value in that range")
            }
        case let .number(range, above):
            guard case let .number(v) = json, v.isFinite else { throw bad("should be a number, got \(shown(json))", "give a number") }
            guard v <= range.upperBound, above ? v > range.lowerBound : v >= range.lowerBound else {
                throw bad(
                    "is \(shown(json)), outside \(above ? "(" : "[")\(range.lowerBound), \(range.upperBound)]", "give a value in that range"
                )
            }
        case .text:
            guard case .string = json else { throw bad("should be a string in quotes, got \(shown(json))", "quote it") }
        case .texts:
            guard case let .array(list) = json, list.allSatisfy({ if case .string = $0 { return true } else { return false } }) else {
                throw bad("should be a list of strings", "write it like [\"gpt2.json\", \"llama.json\"]")
            }
        }
    }

    static func describe(_ error: DecodingError, text: String) -> String {
        func field(_ path: [CodingKey]) -> String { path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        func at(_ path: [CodingKey]) -> String { lineSuffix(path.filter { $0.intValue == nil }.map(\.stringValue), text) }
        switch error {
        case let .keyNotFound(key, context):
            let path = context.codingPath + [key]
            return "required key '\(field(path))' is missing\(at(context.codingPath))"
        case let .typeMismatch(type, context):
            return "'\(field(context.codingPath))'\(at(context.codingPath)) should be \(describe(type))"
        case let .valueNotFound(type, context):
            return "'\(field(context.codingPath))'\(at(context.codingPath)) is null but should be \(describe(type))"
        case let .dataCorrupted(context):
            return "'\(field(context.codingPath))'\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Float.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        default: return "\(type)"
        }
    }

    /// " (line N)" for Foundation's "around line N, column M" or "around character N".
    static func syntaxLine(_ detail: String, _ text: String) -> String {
        if let r = detail.range(of: #"line (\d+)"#, options: .regularExpression) { return " (\(detail[r]))" }
        guard let r = detail.range(of: #"character (\d+)"#, options: .regularExpression),
            let offset = Int(detail[r].dropFirst("character ".count))
        else { return "" }
        let bytes = Array(text.utf8.prefix(offset))
        return " (line \(bytes.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }))"
    }

    /// " (line N)" for the key at `path`, found by searching for each key in turn after the previous one.
    static func lineSuffix(_ path: [String], _ text: String) -> String {
        var from = text.startIndex
        for key in path {
            guard let r = text.range(of: "\"\(key)\"", range: from..<text.endIndex) else { return "" }
            from = r.upperBound
        }
        guard !path.isEmpty else { return "" }
        let line = text[..<from].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        return " (line \(line))"
    }
}
