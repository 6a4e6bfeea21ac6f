import Foundation
import Meters

/// A meter whose readings a test scripts by read number (nil: that read failed), for the sampler and the ledger's
/// recomputation without any kernel file.
public final class ScriptedMeter: Meter, @unchecked Sendable {
    public let name = "scripted"
    public let channels: [MeterChannel]
    public let blocked: [BlockedChannel] = []
    private let script: (_ read: Int) -> [Double?]
    private let lock = NSLock()
    private var count = 0

    /// - Parameter script: the values of every channel at read `n` (0, 1, …), in `channels` order.
    public init(channels: [MeterChannel], script: @escaping (_ read: Int) -> [Double?]) {
        self.channels = channels
        self.script = script
    }

    /// Reads taken so far.
    public var reads: Int { lock.lock(); defer { lock.unlock() }; return count }

    public func read(into values: inout [Double?], at offset: Int) {
        lock.lock()
        let n = count
        count += 1
        lock.unlock()
        for (i, v) in script(n).enumerated() where i < channels.count { values[offset + i] = v }
    }
}
