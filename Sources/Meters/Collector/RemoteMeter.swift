import Foundation

/// The node collector's hardware channels, read through its socket: the counters are read once for every run on the
/// node, each run integrating them on its own ticks. A failed exchange leaves the tick's values nil (a gap the run
/// records), as a failed kernel read would. Unlike the local meters its read allocates (a JSON line each way).
public final class RemoteMeter: Meter {
    public let name = "collector"
    public let channels: [MeterChannel]
    public let blocked: [BlockedChannel]
    public let decisions: [MeterDecision]
    public let client: CollectorClient
    private var fresh = false
    /// Failed exchanges so far, and the first one's reason.
    public private(set) var failures = 0
    public private(set) var firstFailure: String?

    public init(client: CollectorClient) {
        self.client = client
        // Each channel says where it was read: the collector's source, through the socket.
        channels = client.hello.channels.map { c in
            var c = c
            c.source = "\(c.source) (via collector pid \(client.hello.pid))"
            return c
        }
        blocked = client.hello.blocked
        decisions = client.hello.decisions
    }

    public func prepareForcedRead() { fresh = true }

    public func read(into values: inout [Double?], at offset: Int) {
        defer { fresh = false }
        do {
            let reading = try client.read(fresh: fresh)
            for (i, v) in reading.values.enumerated() { values[offset + i] = v }
        } catch {
            failures += 1
            if firstFailure == nil { firstFailure = "\(error)" }
            for i in channels.indices { values[offset + i] = nil }
        }
    }
}
