import ArgumentParser
import Foundation
import Ledger

/// `wattprint runs`: what the ledger holds.
struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the runs recorded in the ledger.",
        discussion: "Example:\n  wattprint runs --json")

    @OptionGroup var ledger: LedgerOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    struct Row: Codable {
        var id: Int64
        var startedAt: String
        var endedAt: String?
        var status: String
        var exitCode: Int32?
        var region: String?
        var batches: Int
        var command: String
        var seal: String?
    }

    func run() throws {
        // No ledger yet is no runs yet: nothing to list, and nothing created by looking.
        guard FileManager.default.fileExists(atPath: ledger.resolvedPath) else {
            if json { return try JSONOutput.print([Row]()) }
            return print("No runs yet: there is no ledger at \(ledger.resolvedPath). Record one with: wattprint run -- COMMAND")
        }
        let store = try ledger.open(create: false)
        let rows = try store.runs().map { r in
            Row(id: r.id!, startedAt: r.startedAt, endedAt: r.endedAt, status: try store.effectiveStatus(of: r).rawValue,
                exitCode: r.exitCode, region: r.region, batches: try store.batchCount(run: r.id!), command: r.command, seal: r.sealHash?.hex)
        }
        if json { return try JSONOutput.print(rows) }
        if rows.isEmpty { return print("No runs in \(store.path) yet. Record one with: wattprint run -- COMMAND") }
        var table = TextTable(header: ["id", "started (UTC)", "status", "exit", "region", "batches", "command"], rightAligned: [0, 3, 5])
        for r in rows {
            table.rows.append(["\(r.id)", r.startedAt, r.status, r.exitCode.map(String.init) ?? "-", r.region ?? "-", "\(r.batches)",
                               r.command.count > 60 ? String(r.command.prefix(57)) + "..." : r.command])
        }
        print(table.render())
    }
}
