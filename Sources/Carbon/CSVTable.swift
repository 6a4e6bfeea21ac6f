import Foundation

/// A small RFC 4180 reader for the bundled tables and user-supplied series.
///
/// Quoted fields may hold commas, doubled quotes and newlines. Rows keep the 1-based line number on
/// which they start, so errors can point at the line a person sees in an editor.
struct CSVTable {
    struct Row {
        let line: Int
        let fields: [String]
    }

    let header: [String]
    let rows: [Row]

    /// Parses `text`; the first non-empty row is the header. Empty lines are skipped.
    ///
    /// - Throws: `CarbonError.malformedCSV` for an unterminated quote or a row whose field count differs
    ///   from the header's, naming `what` (the table) and the line.
    init(parsing text: String, what: String) throws {
        var records: [Row] = []
        var field = ""
        var fields: [String] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var afterQuote = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRecord() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) {
                records.append(Row(line: recordLine, fields: fields))
            }
            fields = []
        }

        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            inQuotes = false
                            afterQuote = true
                            pending = next
                        }
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                fields.append(field)
                field = ""
                afterQuote = false
            case "\r":
                continue
            case "\n":
                endRecord()
                afterQuote = false
                line += 1
                recordLine = line
            case "\"" where field.isEmpty && !afterQuote:
                inQuotes = true
            default:
                if afterQuote {
                    throw CarbonError(
                        .malformedCSV,
                        "\(what) line \(line): text after a closing quote; quote the whole field")
                }
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            throw CarbonError(.malformedCSV, "\(what) line \(recordLine): unterminated quoted field; close the quote")
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }

        guard let first = records.first else {
            throw CarbonError(.malformedCSV, "\(what) is empty; it needs a header line and data rows")
        }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let body = Array(records.dropFirst())
        for row in body where row.fields.count != header.count {
            throw CarbonError(
                .malformedCSV,
                "\(what) line \(row.line): \(row.fields.count) fields, expected \(header.count) (\(header.joined(separator: ",")))")
        }
        rows = body
    }

    /// The index of each named column.
    ///
    /// - Throws: `CarbonError.malformedCSV` naming the first missing column.
    func columns(_ names: [String], what: String) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for name in names {
            guard let index = header.firstIndex(of: name) else {
                throw CarbonError(.malformedCSV, "\(what) has no '\(name)' column; header is \(header.joined(separator: ","))")
            }
            result[name] = index
        }
        return result
    }
}
