/// A validity check a benchmark figure failed, with what it means for the reader.
public struct BenchFlag: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Windows shorter than the steady-state minimum (`BenchAnalysis.minimumWindowSeconds`).
        case shortWindow
        /// Idle power after the workloads differs from before by more than `BenchAnalysis.maximumIdleDrift`.
        case idleDrift
        /// The sampler used more than `BenchAnalysis.maximumSamplerShare` of one core.
        case samplerOverhead
        /// Some energy came from the estimation model, not a counter.
        case estimated
        /// A counter existed but could not be read.
        case countersBlocked
        /// A repeat far from the others (`RepeatSummary.disagreeing`).
        case disagreeingRepeat
        /// The corpus differs from the spec's standard hash.
        case nonStandardCorpus
        /// The spec names no corpus hash: nothing ties the figures to a known corpus.
        case unverifiedCorpus
        /// Too few repeats for a 95 % interval of the median.
        case smallSample
        /// Prefill + decode windows differ from the inference windows they make up by more than 0.5 %.
        case inferenceClosure
        /// No idle baseline: dynamic energy could not be separated.
        case noIdleBaseline
        /// Other processes used more than `BenchAnalysis.maximumOtherProcessShare` of the host's busy CPU time during
        /// the run (analysis rules 4 on).
        case sharedHost

        /// Flags under which two workloads' J/token cannot be ranked: windows too short for steady state, or a repeat far
        /// from the others. Reports claim no reduction between such phases; `compare` marks their grades.
        public static let unranking: Set<Kind> = [.shortWindow, .disagreeingRepeat]
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
}
