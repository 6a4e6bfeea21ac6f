import Foundation

/// Settings a user keeps in `$XDG_CONFIG_HOME/wattprint/config` (else `~/.config/wattprint/config`): `key = value`
/// lines, `#` comments. Only keys wattprint knows are accepted, so a typo is an error rather than silently ignored.
struct UserConfig {
    static let knownKeys: Set<String> = ["region"]
    var region: String?
    var path: String?

    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/wattprint/config" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.config/wattprint/config"
    }

    static func load(path: String = defaultPath()) throws -> UserConfig {
        guard let data = FileManager.default.contents(atPath: path) else { return UserConfig() }
        var config = UserConfig(path: path)
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line =
                raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            let kv = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[1].isEmpty else {
                throw CLIError("\(path) line \(n + 1): expected `key = value`, e.g. `region = FR`")
            }
            guard knownKeys.contains(kv[0]) else {
                throw CLIError("\(path) line \(n + 1): unknown setting '\(kv[0])'; known: \(knownKeys.sorted().joined(separator: ", "))")
            }
            config.region = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return config
    }

}
