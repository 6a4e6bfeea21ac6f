import Dispatch
import Foundation

/// Signals taken from their default action and handled on a queue instead, for as long as this object lives: a
/// command that must close its run when it is told to stop (serve, the collector) or pass a signal on (run).
final class SignalHandlers {
    private let sources: [DispatchSourceSignal]

    init(_ signals: [Int32], handler: @escaping (Int32) -> Void) {
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP.
final class StopRequest {
    private let stop = DispatchSemaphore(value: 0)
    private var handlers: SignalHandlers?

    init() {
        let stop = self.stop
        handlers = SignalHandlers([SIGINT, SIGTERM, SIGHUP]) { _ in stop.signal() }
    }

    /// True when a stop was asked for within `seconds` (forever when nil).
    @discardableResult
    func wait(seconds: Double?) -> Bool {
        guard let seconds else {
            stop.wait()
            return true
        }
        return stop.wait(timeout: .now() + seconds) == .success
    }
}
