import Foundation

/// A report as data: what a view shows (blocks of lines, fields, tables, findings) and the structured value behind
/// it, which machine-readable formats render. One builder per view (`RunReport`, `EstimateReport`, …) makes it;
/// one renderer per format (`ReportRenderer`) writes it.
public struct Report {
    public var blocks: [Block]
    /// The view's data, as JSON renders it.
    public var data: any Encodable & Sendable

    public init(blocks: [Block], data: any Encodable & Sendable) {
        self.blocks = blocks
        self.data = data
    }
}

/// A piece of a report.
public indirect enum Block: Sendable {
    /// One line of text, as is (empty: a blank line).
    case line(String)
    /// Labels and values, the labels padded to one width.
    case fields([Field])
    case table(Table)
    /// Things the reader must know, most important first.
    case findings([Finding])
    /// Blocks whose every line, blank ones included, is prefixed (indentation).
    case prefixed(String, [Block])

    public static let blank = Block.line("")
}

public struct Field: Sendable, Equatable {
    public var label: String
    public var value: String
    public init(_ label: String, _ value: String) { self.label = label; self.value = value }
}

public struct Table: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]
    /// Columns whose values are right-aligned (numbers).
    public var rightAligned: Set<Int>

    public init(header: [String], rows: [[String]] = [], rightAligned: Set<Int> = []) {
        self.header = header; self.rows = rows; self.rightAligned = rightAligned
    }
}

public struct Finding: Sendable, Equatable {
    public enum Severity: String, Sendable { case headline, warning }
    public var severity: Severity
    public var text: String
    public init(_ severity: Severity, _ text: String) { self.severity = severity; self.text = text }
}
