import Foundation

/// Which region an estimate is for, and where that choice came from.
///
/// Precedence: an explicit `--region`, then `WATTPRINT_REGION`, then the config file's value. With none of
/// them the world average is used and `isDefaulted` is true, so every output can say so loudly. There is
/// no network geolocation: a guessed location would be silently wrong for remote and cloud machines.
public struct RegionResolution: Hashable, Codable, Sendable {
    public enum Origin: String, Codable, Sendable {
        case flag
        case environment
        case configFile = "config-file"
        case defaulted
    }

    /// The environment variable consulted after the flag.
    public static let environmentVariable = "WATTPRINT_REGION"

    /// The region text to look up; "WORLD" when defaulted.
    public let query: String
    public let origin: Origin

    public var isDefaulted: Bool { origin == .defaulted }

    public init(query: String, origin: Origin) {
        self.query = query
        self.origin = origin
    }

    /// Picks the region from the three places it may be given. Blank values count as absent.
    ///
    /// The caller passes the environment and config value in, so this stays pure and testable.
    public static func resolve(flag: String?, environment: [String: String], configValue: String?) -> RegionResolution {
        func present(_ value: String?) -> String? {
            guard let trimmed = value?.trimmingCharacters(in: .whitespaces), !trimmed.isEmpty else { return nil }
            return trimmed
        }
        if let value = present(flag) { return RegionResolution(query: value, origin: .flag) }
        if let value = present(environment[environmentVariable]) { return RegionResolution(query: value, origin: .environment) }
        if let value = present(configValue) { return RegionResolution(query: value, origin: .configFile) }
        return RegionResolution(query: GridIntensityTable.worldZoneID, origin: .defaulted)
    }
}
