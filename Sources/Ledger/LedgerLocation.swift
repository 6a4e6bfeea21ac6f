import Foundation

/// Where the ledger lives when the user names none.
///
/// Order: an explicit path, then `WATTPRINT_LEDGER`, then `$XDG_DATA_HOME/wattprint/ledger.sqlite`,
/// then `~/.local/share/wattprint/ledger.sqlite`, following the XDG base-directory convention.
public enum LedgerLocation {
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["WATTPRINT_LEDGER"], !env.isEmpty { return env }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return (xdg as NSString).appendingPathComponent("wattprint/ledger.sqlite")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/wattprint/ledger.sqlite")
    }
}
