/// Where a figure comes from: the citation, its licence and the attribution text the licence asks for.
public struct DataSource: Hashable, Codable, Sendable {
    /// Short key used in the bundled tables, e.g. "ember".
    public let key: String
    public let citation: String
    public let licence: String
    /// The line to print wherever the figure is shown (Ember's CC-BY-4.0 requires one).
    public let attribution: String

    public init(key: String, citation: String, licence: String, attribution: String) {
        self.key = key
        self.citation = citation
        self.licence = licence
        self.attribution = attribution
    }

    /// For figures typed in by the user.
    public static let userSupplied = DataSource(
        key: "user", citation: "supplied by the user",
        licence: "n/a", attribution: "")
}
