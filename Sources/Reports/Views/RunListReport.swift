import Foundation
import Ledger

/// The runs a ledger holds.
public enum RunListReport {
    public struct Row: Codable, Sendable {
        public var id: Int64
        public var startedAt: String
        public var endedAt: String?
        public var status: String
        public var exitCode: Int32?
        public var region: String?
        public var batches: Int
        public var command: String
        public var seal: String?

        public init(run: Run, status: Run.Status, batches: Int) {
            id = run.id ?? 0; startedAt = run.startedAt; endedAt = run.endedAt; self.status = status.rawValue; exitCode = run.exitCode
            region = run.region; self.batches = batches; command = run.command; seal = run.sealHash?.hex
        }
    }

    /// - Parameter path: the ledger's path, named when it holds no run (or does not exist yet).
    public static func build(_ rows: [Row], path: String, exists: Bool = true) -> Report {
        if rows.isEmpty {
            let line =
                exists
                ? "No runs in \(path) yet. Record one with: wattprint run -- COMMAND"
                : "No runs yet: there is no ledger at \(path). Record one with: wattprint run -- COMMAND"
            return Report(blocks: [.line(line)], data: rows)
        }
        var table = Table(header: ["id", "started (UTC)", "status", "exit", "region", "batches", "command"], rightAligned: [0, 3, 5])
        for r in rows {
            table.rows.append([
                "\(r.id)", r.startedAt, r.status, r.exitCode.map(String.init) ?? "-", r.region ?? "-", "\(r.batches)",
                Self.oneLine(r.command.count > 60 ? String(r.command.prefix(57)) + "..." : r.command),
            ])
        }
        return Report(blocks: [.table(table)], data: rows)
    }

    /// A command on one table line: a multi-line script (`python3 -c '…'`) shows its line breaks as "⏎".
    static func oneLine(_ command: String) -> String {
        command.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ⏎ ")
    }
}
