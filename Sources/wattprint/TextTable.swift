/// Aligned plain-text tables for terminal output.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns whose values are right-aligned (numbers).
    var rightAligned: Set<Int> = []

    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(widths[i] - c.count, 0))
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// "label    value" lines with the labels padded to one width.
    static func fields(_ pairs: [(String, String)]) -> String {
        let width = pairs.map { $0.0.count }.max() ?? 0
        return pairs.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
