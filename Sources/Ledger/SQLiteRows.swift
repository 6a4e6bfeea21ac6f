import GRDB
import GRDBSQLite

/// Steps a prepared GRDB statement with SQLite's C API, for loops over millions of rows where building a GRDB `Row`
/// per row costs more than the query (a run's samples). The statement is reset afterwards, whatever happens.
enum SQLiteRows {
    static func step(_ statement: Statement, _ body: (SQLiteStatement) throws -> Void) throws {
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))
            }
            try body(raw)
        }
    }
}
