import Foundation
import Measures

/// The time the sampler reads and waits on: the monotonic clock in use, a manual one in tests (TestSupport's
/// `ManualClock`), so a test can step the sampler reading by reading instead of sleeping.
public protocol SamplerClock: AnyObject, Sendable {
    /// Now, in nanoseconds on this clock.
    func nowNs() -> Int64
    /// Returns at `targetNs` or later, or earlier when `wake()` is called.
    func sleep(untilNs targetNs: Int64)
    /// Ends a `sleep` early (the sampler is stopping).
    func wake()
}

/// `CLOCK_MONOTONIC`. Its sleeps are not interruptible: the sampler never sleeps longer than its flush interval.
public final class SystemClock: SamplerClock {
    public init() {}
    public func nowNs() -> Int64 { MonotonicClock.nowNs() }
    public func sleep(untilNs targetNs: Int64) { MonotonicClock.sleep(untilNs: targetNs) }
    public func wake() {}
}
