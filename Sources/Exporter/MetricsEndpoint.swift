import FlyingFox
import FlyingSocks
import Foundation

/// `/metrics` over HTTP/1.1 (FlyingFox), answering from `NodeMetrics` without touching the sampler: a scrape reads the
/// latest published tick under the metrics' lock and never waits on a meter.
///
/// Answers: 200 with Prometheus's text format (0.0.4) for `GET`/`HEAD /metrics`; 404 for any other path; 405 for
/// another method on /metrics; 431 when the request line and headers exceed `maximumHeaderBytes`. FlyingFox reads a
/// request's whole head (within its 15 s timeout) before this code sees it, and keeps one value per header name, so
/// the 431 check counts distinct headers, and the connection stays open after it: it protects the answer, not the
/// server's memory. Keep the exporter on loopback, or behind a proxy that bounds request heads.
public final class MetricsEndpoint: @unchecked Sendable {
    /// Request line plus headers, bytes; 8 KiB, as many servers' default (nginx's `large_client_header_buffers`
    /// buffer size). Prometheus's own scrape requests are a few hundred bytes.
    public static let maximumHeaderBytes = 8_192
    /// Content type of the text exposition format, as Prometheus's scrape documentation gives it.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public let requested: ListenAddress
    private let server: HTTPServer
    private var task: Task<Void, Never>?

    /// - Parameters:
    ///   - beforeScrape: runs before each scrape's rendering (brings the sampler's own cost up to date).
    public init(address: ListenAddress, metrics: NodeMetrics, beforeScrape: @escaping @Sendable () -> Void = {}) throws {
        requested = address
        let socketAddress: any SocketAddress
        switch address.family {
        case .ipv4: socketAddress = try sockaddr_in.inet(ip4: address.host, port: address.port)
        case .ipv6: socketAddress = try sockaddr_in6.inet6(ip6: address.host, port: address.port)
        }
        server = HTTPServer(
            config: .init(address: socketAddress, timeout: 15, logger: .disabled),
            handler: ClosureHTTPHandler { request in
                Self.respond(to: request, metrics: metrics, beforeScrape: beforeScrape)
            })
    }

    /// Binds and starts answering; returns the address bound (the kernel's port when 0 was asked for).
    /// - Throws: `ExporterError.cannotListen` when the address is taken or cannot be bound.
    public func start() async throws -> ListenAddress {
        let server = self.server
        let state = ServerState()
        let task = Task {
            do { try await server.run() } catch { state.set(failure: error) }
            state.set(ended: true)
        }
        self.task = task
        // Listening, or the server's task ended (the address could not be bound), whichever comes first.
        var listening = false
        for _ in 0..<500 {
            if await server.isListening {
                listening = true
                break
            }
            if state.ended { break }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        if !listening {
            task.cancel()
            var reason = "it did not start listening within 5 s"
            if let failed = state.failure {
                if case let .failed(type, _, message) = failed as? SocketError {
                    reason = "\(type.lowercased()): \(message)"
                } else {
                    reason = "\(failed)"
                }
            }
            throw ExporterError(
                .cannotListen, "cannot listen on \(requested) (\(reason))",
                fix:
                    "choose a free port with --listen \(requested.family == .ipv6 ? "[::1]" : "127.0.0.1"):PORT, or stop what holds this one"
            )
        }
        let bound: ListenAddress
        switch await server.listeningAddress {
        case let .ip4(host, port)?: bound = ListenAddress(host: host, port: port, family: .ipv4)
        case let .ip6(host, port)?: bound = ListenAddress(host: host, port: port, family: .ipv6)
        default: bound = requested
        }
        Self.disableNagle(listeningOn: bound.port)
        return bound
    }

    /// FlyingFox writes a response's head and body separately; with Nagle's algorithm the body then waits for the
    /// scraper's delayed ACK (40 ms on Linux) on every keep-alive scrape. Linux copies TCP_NODELAY from a listening
    /// socket to the sockets it accepts, and FlyingFox does not expose its socket, so it is found by its port.
    static func disableNagle(listeningOn port: UInt16) {
        for fd in Int32(3)..<Int32(4096) {
            var storage = sockaddr_storage()
            var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
            }
            guard named == 0 else { continue }
            var listening: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 1 else { continue }
            let boundPort: UInt16
            switch Int32(storage.ss_family) {
            case AF_INET:
                boundPort = withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
                }
            case AF_INET6:
                boundPort = withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                }
            default: continue
            }
            guard boundPort == port else { continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Stops listening; open connections (a scraper's keep-alive) are closed at once.
    public func stop() async {
        await server.stop(timeout: 0)
        task?.cancel()
        task = nil
    }

    /// How the server's task ended, written by it and read while waiting for it to listen.
    private final class ServerState: @unchecked Sendable {
        private let lock = NSLock()
        private var _failure: Error?
        private var _ended = false
        var failure: Error? { lock.lock(); defer { lock.unlock() }; return _failure }
        var ended: Bool { lock.lock(); defer { lock.unlock() }; return _ended }
        func set(failure: Error) { lock.lock(); _failure = failure; lock.unlock() }
        func set(ended: Bool) { lock.lock(); _ended = ended; lock.unlock() }
    }

    /// The answer to one request.
    static func respond(to request: HTTPRequest, metrics: NodeMetrics, beforeScrape: () -> Void) -> HTTPResponse {
        // "METHOD TARGET HTTP/1.1\r\n", then "Name: value\r\n" per header.
        var headerBytes: Int = request.method.rawValue.utf8.count + request.target.rawValue.utf8.count + 12
        for (name, value) in request.headers {
            let line: Int = name.rawValue.utf8.count + value.utf8.count + 4
            headerBytes += line
        }
        func text(_ status: HTTPStatusCode, _ body: String, _ extra: [HTTPHeader: String] = [:]) -> HTTPResponse {
            var headers: HTTPHeaders = [.contentType: "text/plain; charset=utf-8"]
            for (k, v) in extra { headers[k] = v }
            return HTTPResponse(statusCode: status, headers: headers, body: Data(body.utf8))
        }
        if headerBytes > maximumHeaderBytes {
            return text(
                .requestHeaderFieldsTooLarge,
                "request line and headers are \(headerBytes) bytes; this exporter takes at most \(maximumHeaderBytes)\n",
                [.connection: "close"])
        }
        guard request.path == "/metrics" else {
            return text(.notFound, "not found: \(request.path); wattprint serves Prometheus metrics on /metrics only\n")
        }
        guard request.method == .GET || request.method == .HEAD else {
            return text(
                .methodNotAllowed, "\(request.method.rawValue) is not served; scrape /metrics with GET\n",
                [HTTPHeader("Allow"): "GET, HEAD"])
        }
        beforeScrape()
        let body = metrics.render()
        return HTTPResponse(
            statusCode: .ok, headers: [.contentType: contentType], body: request.method == .HEAD ? Data() : Data(body))
    }
}
