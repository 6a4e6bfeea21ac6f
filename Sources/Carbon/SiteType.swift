/// Where the measured IT equipment runs, which sets the default PUE.
public enum SiteType: String, CaseIterable, Codable, Sendable {
    case aws
    case gcp
    case azure
    /// An enterprise data centre of unknown efficiency.
    case onPremises = "onprem"
    /// No facility overhead: a laptop, a desktop, or energy metered at the wall.
    case none

    /// The site of a cloud region's provider ("aws" from "aws:us-east-1"), nil for other text.
    public static func cloudProvider(_ provider: String) -> SiteType? {
        switch provider.lowercased() {
        case "aws": return .aws
        case "gcp": return .gcp
        case "azure": return .azure
        default: return nil
        }
    }
}
