import Foundation

/// The node collector's hardware channels, read through its socket: the counters are read once for every run on the
/// node, each run integrating them on its own ticks. Unlike the local meters its read allocates (a JSON line each
/// way).
///
/// If the collector stops answering (killed, or exited with its last run's serve), the run does not lose its
/// hardware energy: the connection is dropped for good (so no late answer is taken for the next one) and the same
/// meters are opened here and read directly from the next tick on, when they offer the same channels; the tick of
/// the failure is a gap. `lost` says when and why.
public final class RemoteMeter: Meter {
    public let name = "collector"
    public let channels: [MeterChannel]
    public let blocked: [BlockedChannel]
    public let decisions: [MeterDecision]
    private var client: CollectorClient?
    private let openDirectly: () -> [Meter]
    private var direct: [Meter]?
    private var fresh = false
    /// Why the collector was given up, and whether the meters are now read here.
    public private(set) var lost: (reason: String, readingDirectly: Bool)?

    /// - Parameter openDirectly: opens the hardware meters in this process, for when the collector is gone.
    public init(client: CollectorClient, openDirectly: @escaping () -> [Meter]) {
        self.client = client
        self.openDirectly = openDirectly
        // Each channel says where it was read: the collector's source, through the socket.
        channels = client.hello.channels.map { c in
            var c = c
            c.source = "\(c.source) (via collector pid \(client.hello.pid))"
            return c
        }
        blocked = client.hello.blocked
        decisions = client.hello.decisions
    }

    public func prepareForcedRead() {
        fresh = true
        direct?.forEach { $0.prepareForcedRead() }
    }

    public func read(into values: inout [Double?], at offset: Int) { read(into: &values, at: offset, context: true) }

    public func read(into values: inout [Double?], at offset: Int, context: Bool) {
        defer { fresh = false }
        if let direct {
            var position = offset
            for meter in direct {
                meter.read(into: &values, at: position, context: context)
                position += meter.channels.count
            }
            return
        }
        for i in channels.indices { values[offset + i] = nil }
        guard let client else { return }
        do {
            let reading = try client.read(fresh: fresh)
            for (i, v) in reading.values.enumerated() { values[offset + i] = v }
        } catch {
            self.client = nil
            let meters = openDirectly()
            let same = meters.flatMap(\.channels).map(\.key) == channels.map(\.key)
            if same { direct = meters }
            lost = ("\(error)", same)
        }
    }
}
