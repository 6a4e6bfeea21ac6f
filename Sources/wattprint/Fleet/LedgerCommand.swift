import ArgumentParser
import Foundation
import Ledger
import Measures

/// `wattprint ledger …`: operations on whole ledgers.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Operate on whole ledgers: merge the ledgers of several hosts into one.",
        subcommands: [Merge.self, MarkInterrupted.self])

    /// `wattprint ledger mark-interrupted`: marks runs whose recorder died as interrupted (on the host that recorded
    /// them), which every recording command also does when it starts.
    struct MarkInterrupted: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mark-interrupted",
            abstract: "Mark runs whose recorder died (killed, machine rebooted) as interrupted, on the host that recorded them.",
            discussion: """
                A run stays marked running until a wattprint on its host sees that its recorder is gone; `ledger merge` \
                refuses runs marked running. Their committed batches are kept and still verify; only the status changes.
                """)
        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            let store = try ledger.open(create: false)
            let marked = try CLIError.wrapping { try store.markInterruptedRuns() }
            let still = try store.runs().filter { $0.status == .running }.compactMap(\.id)
            print(
                marked.isEmpty
                    ? "no run of \(store.path) had a dead recorder"
                    : "marked interrupted: \(marked.count == 1 ? "run" : "runs") \(marked.map(String.init).joined(separator: ", "))")
            if !still.isEmpty {
                print(
                    "still running: \(still.count == 1 ? "run" : "runs") \(still.map(String.init).joined(separator: ", ")) (their recorder is alive here, or they were recorded on another host: run this there)"
                )
            }
        }
    }

    /// `wattprint ledger merge A.sqlite B.sqlite … --into fleet.sqlite`.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge ledgers (one per host) into one, keeping each run's host and original hash chain.",
            discussion: """
                Every source is verified first; a tampered source, a run still being recorded, or a run already in \
                the target (a ledger merged twice) refuses the whole merge, and nothing is written. Each merged run \
                keeps its original chain: `wattprint verify --ledger FLEET` checks it as it was recorded, and \
                `wattprint report --since DATE --group-by host --ledger FLEET` covers every host.

                Example:
                  wattprint ledger merge node-a.sqlite node-b.sqlite --into fleet.sqlite
                """)

        @Argument(help: "Ledgers to merge (sqlite files).") var sources: [String] = []
        @Option(help: ArgumentHelp("The ledger to merge into (created if missing).", valueName: "path")) var into: String

        func validate() throws {
            if sources.isEmpty {
                throw ValidationError("name the ledgers to merge, e.g. wattprint ledger merge a.sqlite b.sqlite --into fleet.sqlite")
            }
            for source in sources where !FileManager.default.fileExists(atPath: source) {
                throw ValidationError(
                    "\(source) does not exist; name ledger files (each host's is at ~/.local/share/wattprint/ledger.sqlite)")
            }
        }

        func run() throws {
            let existed = FileManager.default.fileExists(atPath: into)
            let target = try CLIError.wrapping { try Ledger(path: into, create: true) }
            let merged: [MergedLedger]
            do { merged = try CLIError.wrapping { try target.merge(from: sources) } } catch {
                // A refused merge leaves no new fleet ledger behind.
                if !existed { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: into + suffix) } }
                throw error
            }
            for m in merged {
                guard !m.runs.isEmpty else {
                    print(
                        "\(m.path): no runs (a copy without its -wal file holds only what was checkpointed: copy both, or copy it after `wattprint` has stopped using it)"
                    )
                    continue
                }
                let ids = m.runs.map { "\($0.source)→\($0.merged)" }.joined(separator: ", ")
                print(
                    "\(m.path): \(QuantityFormat.counted(m.runs.count, "run")) from \(m.hosts.joined(separator: ", ")), \(m.rows) rows (runs \(ids))"
                )
            }
            print("merged into \(into); check it with `wattprint verify --ledger \(into)`")
        }
    }
}
