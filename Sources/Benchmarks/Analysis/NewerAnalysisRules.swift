/// A benchmark run recorded under analysis rules newer than this wattprint's (`BenchAnalysis.version`): its figures
/// cannot be computed here as it computed them, so its recorded summary is neither recomputed nor called different.
public struct NewerAnalysisRules: Error, CustomStringConvertible, Sendable {
    public let run: Int64
    public let version: Int

    public var description: String {
        "benchmark summary not recomputed: run \(run) was analysed under rules v\(version), newer than this wattprint's v\(BenchAnalysis.version); check it with that wattprint or a newer one"
    }
}
