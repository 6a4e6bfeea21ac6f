import Engine
import Foundation

/// The keys a JSON object may have, nested: a spec key not listed is a typo, named with its line.
indirect enum SpecKeys: Sendable {
    case leaf
    case object([String: SpecKeys])
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
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw BenchError(
                .specMalformed, "\(path)\(syntaxLine(detail, text)) is not valid JSON: \(detail)",
                fix: "fix the syntax there (a missing comma or quote, usually at the end of the line before); a spec looks like \(example)")
        }
        try checkKeys(json, keys, path: [], file: path, text: text)
        do { return try JSONDecoder().decode(T.self, from: data) } catch let DecodingError.dataCorrupted(context)
            where context.codingPath.last?.stringValue == "architecture"
        {
            let value = ((json as? [String: Any])?["model"] as? [String: Any])?["architecture"].map { "\($0)" } ?? "?"
            throw BenchError(
                .unknownArchitecture, "\(path)\(lineSuffix(context.codingPath.map(\.stringValue), text)): unknown architecture '\(value)'",
                fix: "use one of \(Architecture.list)")
        } catch let error as DecodingError {
            throw BenchError(
                .specMalformed, "\(path): \(describe(error, text: text))", fix: "see the schema in Workloads/README.md; e.g. \(example)")
        }
    }

    static func checkKeys(_ json: Any, _ keys: SpecKeys, path: [String], file: String, text: String) throws {
        guard case let .object(allowed) = keys, let object = json as? [String: Any] else { return }
        for (key, value) in object {
            guard let inner = allowed[key] else {
                let field = (path + [key]).joined(separator: ".")
                throw BenchError(
                    .specMalformed, "\(file)\(lineSuffix(path + [key], text)): unknown key '\(field)'",
                    fix:
                        "use one of \(allowed.keys.sorted().joined(separator: ", "))\(path.isEmpty ? "" : " in \(path.joined(separator: "."))")"
                )
            }
            try checkKeys(value, inner, path: path + [key], file: file, text: text)
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
