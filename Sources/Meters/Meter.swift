import Foundation

/// A source of channels. `read` fills one value per channel (in the channel's unit) starting at `offset`, and leaves
/// nil where a read failed. It must not allocate: it runs on the sampler's hot path.
public protocol Meter: AnyObject {
    /// Short name of the meter: `powercap`, `perf`, `hwmon`, `nvml`, `estimate`, `procfs`.
    var name: String { get }
    var channels: [MeterChannel] { get }
    /// Channels found but not readable, with the fix; shown by `wattprint sensors`.
    var blocked: [BlockedChannel] { get }
    /// What the meter skipped or decided about what counts, with why; shown by `sensors`, recorded by each run.
    var decisions: [MeterDecision] { get }
    func read(into values: inout [Double?], at offset: Int)
    /// Like `read(into:at:)`, skipping the `context` channels (temperature, utilisation) unless `context` is true:
    /// they are read at most once a second, since each costs a file or driver call and adds no energy.
    func read(into values: inout [Double?], at offset: Int, context: Bool)
    /// Shortest useful time between reads, in seconds; the sampler reads this meter less often than its own
    /// interval when this is longer (0: every tick).
    var period: Double { get }
    /// Called before a read the sampler forces (start, stop, a measurement window's edge), where completeness
    /// matters more than cost.
    func prepareForcedRead()
}

extension Meter {
    public var decisions: [MeterDecision] { [] }
    public var period: Double { 0 }
    public func prepareForcedRead() {}
    public func read(into values: inout [Double?], at offset: Int, context: Bool) { read(into: &values, at: offset) }
}
