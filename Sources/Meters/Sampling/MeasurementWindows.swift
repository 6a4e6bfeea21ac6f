import Foundation
import Measures

/// Energy of one named window, per channel.
public struct WindowMeasurement: Sendable, Codable, Equatable {
    public var name: String
    /// Seconds between begin and end.
    public var seconds: Double
    /// Joules per channel key over the window.
    public var joulesByChannel: [String: Double]
    /// Sum of the `total` channels: the energy of the window without double counting, J.
    public var totalJoules: Double
    /// Whether any `total` channel in the sum was estimated rather than measured.
    public var includesEstimates: Bool
}

/// Named, nestable measurement windows over a running sampler, for Swift programs (the engine included) that want
/// the energy of a phase: `begin("train")`, …, `end("train")`.
public final class EnergyMonitor: @unchecked Sendable {
    public enum WindowError: Error, Equatable, CustomStringConvertible {
        case alreadyOpen(String)
        case notOpen(String)
        public var description: String {
            switch self {
            case let .alreadyOpen(n): return "measurement window \"\(n)\" is already open; end it before beginning it again"
            case let .notOpen(n): return "no measurement window \"\(n)\" is open; begin it first"
            }
        }
    }

    public let sampler: Sampler
    private let lock = NSLock()
    private var open: [String: (startNs: Int64, joules: [Double], counted: [Double])] = [:]

    public init(sampler: Sampler) { self.sampler = sampler }

    public func begin(_ name: String) throws {
        sampler.sampleNow()
        let snapshot = sampler.energies().map(\.joules), counted = sampler.countedJoules()
        lock.lock(); defer { lock.unlock() }
        if open[name] != nil { throw WindowError.alreadyOpen(name) }
        open[name] = (sampler.clock.nowNs(), snapshot, counted)
    }

    public func end(_ name: String) throws -> WindowMeasurement {
        sampler.sampleNow()
        let now = sampler.energies().map(\.joules), counted = sampler.countedJoules()
        lock.lock()
        guard let start = open.removeValue(forKey: name) else { lock.unlock(); throw WindowError.notOpen(name) }
        lock.unlock()
        var byChannel: [String: Double] = [:]
        var total = 0.0
        var estimated = false
        for (i, channel) in sampler.channels.enumerated() where channel.kind != .cpuTime && channel.kind != .context {
            byChannel[channel.key] = now[i] - start.joules[i]
            // What counted in the window: a channel that took over counting mid-run (a stuck meter's next method)
            // adds from when it did.
            let j = counted[i] - start.counted[i]
            total += j
            if channel.mode == .estimated && j > 0 { estimated = true }
        }
        return WindowMeasurement(
            name: name, seconds: Double(sampler.clock.nowNs() - start.startNs) / 1e9,
            joulesByChannel: byChannel, totalJoules: total, includesEstimates: estimated)
    }
}
