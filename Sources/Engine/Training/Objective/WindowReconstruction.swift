/// An autoencoder's objective: reconstruct each window of T tokens from itself (the model fixes T).
public struct WindowReconstruction: TrainingObjective {
    /// The window the model reads.
    public var window: Int

    public init(window: Int) { self.window = window }

    public var name: String { "window-reconstruction" }
    public func windowLength(sequence T: Int) -> Int { T }

    public func check(sequence T: Int, context: Int) throws {
        guard T == window else {
            throw EngineError.invalidConfiguration(
                "the autoencoder reads windows of \(window) tokens, not \(T)",
                fix: "use --seq \(window) (its window, set by --context when it was built)")
        }
    }

    public func batch(windows: [ArraySlice<Int32>], sequence T: Int, random: inout SplitMix64) -> Batch {
        .reconstruction(tokens: windows.flatMap { $0.prefix(T) }, B: windows.count, T: T)
    }
}
