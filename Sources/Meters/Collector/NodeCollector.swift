import Foundation

/// One reader of a node's hardware meters for every run on it: a `SampleSink` of a sampler that reads them (in
/// `wattprint serve`, or a `wattprint collector` that the first run of a job starts), answering each client on a
/// Unix socket with the latest reading, or a fresh one (a forced tick of that sampler) when a run starts, stops or
/// marks a window edge.
///
/// Shared are the channels of the hardware meters only: each run keeps its own estimation meter, which carries its
/// process tree's CPU time for attribution. A channel not read in the latest tick keeps its last value; one that
/// stopped answering is nil until it answers again.
public final class NodeCollector: SampleSink, @unchecked Sendable {
    private let lock = NSLock()
    private var unavailable: [CollectorHello.Unavailable] = []
    private var sampler: Sampler?
    private var hello: CollectorHello?
    /// Sink channel index → position in the hello's channels (nil: not shared).
    private var slots: [Int?] = []
    private var latest: CollectorReading?
    private var current: [Double?] = []
    private var readings = 0
    private var clients = 0
    private var clientsEver = 0
    private var attached: [ObjectIdentifier: AttachedRun] = [:]
    private var lastActivity = Date()
    private let started = Date()
    private var listener: Int32 = -1
    private var socketPath: String?
    private var socketIdentity: (dev_t, ino_t)?
    private var blocked: [BlockedChannel] = []
    private var decisions: [MeterDecision] = []

    /// - Parameter meters: the meters the sampler reads (or give them to `describe` before sampling starts).
    public init(meters: MeterSet? = nil) {
        if let meters { describe(meters) }
    }

    /// What the meters cannot read (blocked) and decided (mirrored zones), and the meters missing here, passed on to
    /// every client; before sampling starts.
    public func describe(_ meters: MeterSet) {
        lock.lock(); defer { lock.unlock() }
        unavailable = meters.unavailable.map { CollectorHello.Unavailable(meter: $0.meter, reason: $0.reason) }
        blocked = meters.blocked
        decisions = meters.decisions
    }

    /// The sampler whose ticks this sink receives; fresh reads force one of its ticks.
    public func attach(sampler: Sampler) {
        lock.lock(); self.sampler = sampler; lock.unlock()
    }

    /// Whether a channel is a hardware one to share (the estimation model's stay with each run).
    public static func isShared(_ channel: MeterChannel) -> Bool {
        !(channel.key.hasPrefix("estimate:") || channel.key.hasPrefix("procfs:"))
    }

    // MARK: SampleSink

    public func register(_ channels: [MeterChannel]) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        let base = slots.count
        var shared = hello?.channels ?? []
        for c in channels {
            if Self.isShared(c) {
                slots.append(shared.count)
                shared.append(c)
            } else {
                slots.append(nil)
            }
        }
        current = Array(repeating: nil, count: shared.count)
        hello = CollectorHello(
            version: CollectorProtocol.version, pid: getpid(), intervalSeconds: sampler?.interval ?? 0, channels: shared,
            blocked: blocked, decisions: decisions.filter { d in shared.contains { $0.key == d.subject } }, unavailable: unavailable)
        return channels.indices.map { base + $0 }
    }

    public func record(channel: Int, tNs: Int64, value: Double) {
        lock.lock(); defer { lock.unlock() }
        if let slot = slots[channel] { current[slot] = value }
    }

    public func tickFinished(tNs: Int64) {
        lock.lock(); defer { lock.unlock() }
        latest = CollectorReading(tNs: tNs, values: current)
        readings += 1
    }

    public func event(tNs: Int64, _ event: SamplerEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .channelGap(channel, _): if let slot = slots[channel] { current[slot] = nil }
        case let .started(start):
            hello?.intervalSeconds = start.intervalSeconds
        default: break
        }
    }

    public func flush() throws {}

    // MARK: Serving

    /// Listens at `path` (replacing a stale socket nobody answers on) and serves each client on a thread of its own.
    /// - Throws: `CollectorError` when another collector already answers there, or the socket cannot be made.
    public func listen(at path: String) throws {
        if FileManager.default.fileExists(atPath: path) {
            // Only a socket nobody listens on is a dead collector's; anything that answers is left alone.
            guard LineSocket.isStale(path) else { throw CollectorError("a collector (or another program) already answers at \(path)") }
            unlink(path)
        }
        do { listener = try LineSocket.listen(at: path) } catch { throw CollectorError("\(error)") }
        socketPath = path
        var info = stat()
        if stat(path, &info) == 0 { socketIdentity = (info.st_dev, info.st_ino) }
        let fd = listener
        let thread = Thread { [weak self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                guard let self else { close(client); return }
                let serving = Thread { self.serve(LineSocket(fd: client)) }
                serving.name = "wattprint-collector-client"
                serving.start()
            }
        }
        thread.name = "wattprint-collector"
        thread.start()
    }

    /// Stops accepting, and removes the socket.
    public func stop() {
        lock.lock()
        let fd = listener, path = socketPath
        listener = -1
        socketPath = nil
        lock.unlock()
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
        // Removed only if it is still this collector's socket, not one a later collector made at the same path.
        var info = stat()
        if let path, stat(path, &info) == 0, let identity = socketIdentity, identity == (info.st_dev, info.st_ino) { unlink(path) }
    }

    /// Seconds since a client last connected or left, when none is connected now; nil while one is.
    public var idleSeconds: Double? {
        lock.lock(); defer { lock.unlock() }
        return clients == 0 ? Date().timeIntervalSince(lastActivity) : nil
    }

    public func status() -> CollectorStatus {
        lock.lock(); defer { lock.unlock() }
        return CollectorStatus(
            pid: getpid(), readings: readings, clients: clients, clientsEver: clientsEver,
            attached: attached.values.sorted { $0.run.pid < $1.run.pid },
            uptimeSeconds: Date().timeIntervalSince(started))
    }

    private func serve(_ socket: LineSocket) {
        let id = ObjectIdentifier(socket)
        lock.lock()
        clients += 1
        clientsEver += 1
        lastActivity = Date()
        let greeting = hello
        lock.unlock()
        defer {
            lock.lock()
            clients -= 1
            attached[id] = nil
            lastActivity = Date()
            lock.unlock()
        }
        guard let greeting, (try? socket.send(greeting)) != nil else { return }
        while let request = try? socket.receive(CollectorRequest.self) {
            if let attach = request.attach {
                lock.lock(); attached[id] = AttachedRun(run: attach, progress: nil); lock.unlock()
            }
            if let progress = request.progress {
                lock.lock(); attached[id]?.progress = progress; lock.unlock()
            }
            if request.status == true {
                guard (try? socket.send(status())) != nil else { return }
            }
            if request.read == true {
                if request.fresh == true {
                    lock.lock(); let sampler = self.sampler; lock.unlock()
                    sampler?.sampleNow()
                }
                lock.lock()
                let reading = latest ?? CollectorReading(tNs: 0, values: Array(repeating: nil, count: greeting.channels.count))
                lock.unlock()
                guard (try? socket.send(reading)) != nil else { return }
            }
        }
    }
}
