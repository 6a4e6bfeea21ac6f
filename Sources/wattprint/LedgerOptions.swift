import ArgumentParser
import Ledger

/// `--ledger`, shared by every command that reads or writes runs.
struct LedgerOptions: ParsableArguments {
    @Option(
        name: .customLong("ledger"),
        help: ArgumentHelp(
            "The ledger file (default: $WATTPRINT_LEDGER, else $XDG_DATA_HOME/wattprint/ledger.sqlite, else ~/.local/share/wattprint/ledger.sqlite).",
            valueName: "path"))
    var path: String?

    var resolvedPath: String { LedgerLocation.resolve(explicit: path) }

    func open(create: Bool) throws -> Ledger {
        do { return try Ledger(path: resolvedPath, create: create) } catch let error as LedgerError {
            throw CLIError(error.description)
        }
    }
}

/// A failure already phrased for the user: one line naming the problem and the fix.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }

    /// Runs `body`, turning a library error that explains itself into a `CLIError` with its words.
    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as CLIError { throw error } catch let error as CustomStringConvertible & Error {
            throw CLIError(error.description)
        }
    }
}
