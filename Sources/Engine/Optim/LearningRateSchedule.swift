/// Linear warmup then cosine decay to a floor, the schedule GPT-2 reproductions use.
public struct LearningRateSchedule: Codable, Sendable, Hashable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    /// The floor as a fraction of `peak` reached at `totalSteps`.
    public var minimumFraction: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minimumFraction: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumFraction = minimumFraction
    }

    /// Learning rate for 0-based `step`: peak·(step+1)/warmup during warmup, then
    /// min + ½(peak − min)(1 + cos(π·progress)) with progress from 0 to 1 over the remaining steps.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let minimum = peak * minimumFraction
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        return minimum + Float(0.5 * (1 + _cos(Double.pi * progress))) * (peak - minimum)
    }
}
