import Foundation

/// Everything that can go wrong opening or using a ledger, each case phrased as the problem and its fix.
public enum LedgerError: Error, CustomStringConvertible, Equatable {
    case notADatabase(path: String)
    case notAWattprintLedger(path: String)
    case damaged(path: String, detail: String)
    case newerSchema(path: String, unknownMigrations: [String])
    case cannotCreate(path: String, reason: String)
    case missing(path: String)
    /// A zero-byte file where a command that only reads expected a ledger (left as it is: never given a schema).
    case empty(path: String)
    case unknownRun(Int64)
    case runClosed(Int64)
    case storage(path: String, problem: String)
    case corruptRow(run: Int64, table: String, column: String)
    case unknownValue(run: Int64, column: String, value: String)

    public var description: String {
        switch self {
        case let .notADatabase(path):
            return
                "\(path) is not an SQLite database; it was left untouched. Point --ledger (or WATTPRINT_LEDGER) at a wattprint ledger or at a new file."
        case let .damaged(path, detail):
            return
                "\(path) is a damaged SQLite file (\(detail)); it was left untouched. Restore it from a backup, or salvage its readable rows into a new file with `sqlite3 '\(path)' .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 NEW.sqlite` (a dump that meets damage ends by rolling back; the sed keeps what it read), then run `wattprint verify --ledger NEW.sqlite`: a run that lost rows fails it, and a run whose own record was lost is missing."
        case let .notAWattprintLedger(path):
            return
                "\(path) is an SQLite database of another program; it was left untouched. Point --ledger (or WATTPRINT_LEDGER) at a wattprint ledger or at a new file."
        case let .newerSchema(path, unknown):
            return
                "\(path) was written by a newer wattprint (schema steps unknown here: \(unknown.joined(separator: ", "))); it was left untouched. Upgrade wattprint to read it."
        case let .cannotCreate(path, reason):
            return "cannot open the ledger at \(path): \(reason). Choose a writable location with --ledger PATH or WATTPRINT_LEDGER."
        case let .missing(path):
            return "no ledger at \(path) yet. Record a run first (wattprint run -- COMMAND), or point --ledger at an existing ledger."
        case let .empty(path):
            return
                "\(path) is empty (0 bytes): it holds no ledger, and was left as it is. If it held runs, it was truncated: restore it from a backup; otherwise record a run into it (wattprint run -- COMMAND) or point --ledger at an existing ledger."
        case let .unknownRun(id):
            return "run \(id) is not in this ledger. List the runs with `wattprint runs`."
        case let .runClosed(id):
            return "run \(id) is already closed; its chain is sealed and takes no more rows."
        case let .storage(path, problem):
            return
                "writing the ledger at \(path) failed: \(problem). Free the disk or stop the other writer, then retry; committed rows are kept."
        case let .unknownValue(run, column, value):
            return
                "run \(run) has a channel whose \(column) is '\(value)', which this wattprint does not know; the run was written by a newer wattprint: upgrade to read it."
        case let .corruptRow(run, table, column):
            return "run \(run) has a \(table) row whose \(column) is not of its recorded type; run `wattprint verify \(run)` to locate it."
        }
    }
}
