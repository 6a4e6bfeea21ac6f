import Foundation

/// A run's connection to its node's collector: the channels it shares, and its latest reading on request.
public final class CollectorClient: @unchecked Sendable {
    public let hello: CollectorHello
    public let socketPath: String
    private let socket: LineSocket
    private let lock = NSLock()

    /// Connects and reads the collector's hello.
    /// - Throws: `CollectorError` when nothing listens, the peer is not a collector, or its protocol differs.
    public init(socketPath: String) throws {
        self.socketPath = socketPath
        do {
            socket = try LineSocket.connect(to: socketPath)
            guard let hello = try socket.receive(CollectorHello.self) else {
                throw CollectorError("the collector at \(socketPath) closed the connection before greeting")
            }
            guard hello.version == CollectorProtocol.version else {
                throw CollectorError(
                    "the collector at \(socketPath) speaks protocol \(hello.version), this wattprint \(CollectorProtocol.version); stop it (pid \(hello.pid)) or run the same wattprint everywhere"
                )
            }
            self.hello = hello
        } catch let error as CollectorError {
            throw error
        } catch {
            throw CollectorError("\(error)")
        }
    }

    /// Says who this client is, for the collector's status and exporter.
    public func attach(_ attach: CollectorRequest.Attach) throws {
        lock.lock(); defer { lock.unlock() }
        try socket.send(CollectorRequest(attach: attach))
    }

    /// Reports the run's energy so far (for the exporter's per-run series).
    public func report(_ progress: RunProgress) throws {
        lock.lock(); defer { lock.unlock() }
        try socket.send(CollectorRequest.reporting(progress))
    }

    /// The latest reading (`fresh`: taken now).
    /// - Throws: `CollectorError` when the collector is gone or answers out of turn.
    public func read(fresh: Bool) throws -> CollectorReading {
        lock.lock(); defer { lock.unlock() }
        do {
            try socket.send(CollectorRequest.reading(fresh: fresh))
            guard let reading = try socket.receive(CollectorReading.self) else {
                throw CollectorError("the collector at \(socketPath) went away")
            }
            guard reading.values.count == hello.channels.count else {
                throw CollectorError("the collector sent \(reading.values.count) values for \(hello.channels.count) channels")
            }
            return reading
        } catch let error as CollectorError { throw error } catch { throw CollectorError("\(error)") }
    }

    public func status() throws -> CollectorStatus {
        lock.lock(); defer { lock.unlock() }
        do {
            try socket.send(CollectorRequest.statusRequest)
            guard let status = try socket.receive(CollectorStatus.self) else {
                throw CollectorError("the collector at \(socketPath) went away")
            }
            return status
        } catch let error as CollectorError { throw error } catch { throw CollectorError("\(error)") }
    }
}

/// Why a collector could not be used, phrased for the user.
public struct CollectorError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
