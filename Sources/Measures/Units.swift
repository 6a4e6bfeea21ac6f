/// Unit names the meters use, and their factor to SI.
public enum Units {
    /// The factor from `unit` to J, W or s (1 for the context units °C, % and bytes); nil for a unit wattprint does
    /// not know, which a caller must refuse rather than guess.
    public static func factor(_ unit: String) -> Double? {
        switch unit {
        case "uJ", "uW": return 1e-6
        case "mJ", "mW": return 1e-3
        case "J", "W", "s", "C", "%", "B": return 1
        default: return nil
        }
    }
}
