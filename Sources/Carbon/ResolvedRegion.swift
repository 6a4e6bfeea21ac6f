/// The answer to "what intensity applies here?": the zone, the cloud region if one was named, and the figure.
public struct ResolvedRegion: Hashable, Codable, Sendable {
    /// The text that was looked up.
    public let query: String
    public let zone: GridZone
    public let cloudRegion: CloudRegion?
    public let figure: IntensityFigure
}
