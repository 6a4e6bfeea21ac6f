import Foundation
import Meters

/// A clock a test moves by hand: the sampler's thread sleeps on it until the test advances time past what it waits
/// for, reads, and goes back to sleep; `advance` returns once it has, so a test counts readings exactly instead of
/// sleeping and hoping.
public final class ManualClock: SamplerClock, @unchecked Sendable {
    private let condition = NSCondition()
    private var now: Int64
    private var target: Int64?
    private var entries = 0
    private var woken = false

    public init(startNs: Int64 = 1_000_000_000) { now = startNs }

    public func nowNs() -> Int64 {
        condition.lock(); defer { condition.unlock() }
        return now
    }

    public func sleep(untilNs targetNs: Int64) {
        condition.lock()
        target = targetNs
        entries += 1
        condition.broadcast()
        while now < targetNs && !woken { condition.wait() }
        target = nil
        condition.unlock()
    }

    public func wake() {
        condition.lock(); woken = true; condition.broadcast(); condition.unlock()
    }

    /// Waits until a thread sleeps on this clock (the sampler started and took its first reading).
    public func waitForSleeper() {
        condition.lock()
        while target == nil && !woken { condition.wait() }
        condition.unlock()
    }

    /// Moves time on by `seconds`; if that reaches what the sleeping thread waits for, returns only once it has done
    /// its work and slept again.
    public func advance(seconds: Double) {
        condition.lock()
        now += Int64((seconds * 1e9).rounded())
        if let target, now >= target {
            let before = entries
            condition.broadcast()
            while entries == before && !woken { condition.wait() }
        }
        condition.unlock()
    }
}
