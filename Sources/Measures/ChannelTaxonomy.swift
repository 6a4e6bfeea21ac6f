import Foundation

/// How a channel's values turn into energy.
public enum ChannelKind: String, Codable, Sendable {
    /// A cumulative energy counter; energy is the sum of deltas, with wraps at `wrapRange`.
    case energy
    /// An instantaneous power gauge; energy is the trapezoid integral.
    case power
    /// Mean power over the interval ending at each sample (estimates computed from utilisation deltas);
    /// energy is the exact rectangle sum.
    case intervalPower = "interval_power"
    /// A cumulative CPU-time counter in seconds, used to attribute host energy to a process tree.
    case cpuTime = "cpu_time"
    /// A reading kept as context only (temperature, utilisation); never summed into energy.
    case context
}

/// Whether a channel's numbers come from a hardware counter or from a model.
public enum MeasurementMode: String, Codable, Sendable { case measured, estimated }

/// Whether a channel counts towards the total, or overlaps one that does and is shown as detail.
public enum ChannelRole: String, Codable, Sendable {
    /// Part of the non-overlapping set whose energies add up to the total.
    case total
    /// Contained in a `total` channel (core and uncore in package; package in psys); shown, never added.
    case detail
    /// Not energy: CPU time, temperature, utilisation.
    case context
}
