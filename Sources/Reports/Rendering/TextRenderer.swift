/// Plain text for a terminal: aligned tables and fields, findings marked (`WARNING:` for a headline, `!` else).
public struct TextRenderer: ReportRenderer {
    public init() {}

    public func render(_ report: Report) throws -> String { lines(report.blocks).joined(separator: "\n") }

    func lines(_ blocks: [Block]) -> [String] {
        blocks.flatMap { block -> [String] in
            switch block {
            case let .line(text): return [text]
            case let .fields(fields): return Self.fields(fields)
            case let .table(table): return Self.table(table)
            case let .findings(findings): return findings.map { $0.severity == .headline ? "WARNING: \($0.text)" : "! \($0.text)" }
            case let .prefixed(prefix, inner):
                return lines(inner).flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }.map { prefix + $0 }
            }
        }
    }

    /// "  label    value" lines with the labels padded to one width.
    static func fields(_ fields: [Field]) -> [String] {
        let width = fields.map(\.label.count).max() ?? 0
        return fields.map { "  " + $0.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.value }
    }

    static func table(_ t: Table) -> [String] {
        let all = [t.header] + t.rows
        let widths = t.header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            var text = cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(widths[i] - c.count, 0))
                return t.rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        return [line(t.header)] + t.rows.map(line)
    }
}
