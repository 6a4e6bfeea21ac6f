import Foundation

/// A connected Unix stream socket carrying newline-terminated JSON messages, blocking, for one thread at a time.
final class LineSocket {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Connects to a listening socket.
    /// - Throws: `Failure` naming the path and the system's reason (ENOENT: no collector; ECONNREFUSED: a stale one).
    static func connect(to path: String, timeoutSeconds: Int = 5) throws -> LineSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = try unixAddress(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let reason = errno
            close(fd)
            throw Failure(description: "cannot connect to \(path): \(String(cString: strerror(reason)))")
        }
        // Only a collector of this user (or root's) is trusted with a run's readings.
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var size = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0, credentials.uid == getuid() || credentials.uid == 0 else {
            close(fd)
            throw Failure(
                description:
                    "the process answering at \(path) belongs to uid \(credentials.uid), not to this user (\(getuid())): its readings are not used"
            )
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return LineSocket(fd: fd)
    }

    /// True when nothing listens at `path` (a collector that died): its file may be removed.
    static func isStale(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, var address = try? unixAddress(path) else { return false }
        defer { close(fd) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc != 0 && errno == ECONNREFUSED
    }

    /// Binds and listens at `path`, which must not exist.
    static func listen(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = try unixAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = errno
            close(fd)
            throw Failure(description: "cannot listen at \(path): \(String(cString: strerror(reason)))")
        }
        chmod(path, 0o600)
        return fd
    }

    static func unixAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw Failure(description: "the socket path \(path) is \(bytes.count) bytes, over the \(capacity - 1) a Unix socket takes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return address
    }

    func send<T: Encodable>(_ message: T) throws {
        var data = try JSONEncoder().encode(message)
        data.append(10)
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw Failure(description: "the collector connection closed (\(String(cString: strerror(errno))))") }
                offset += n
            }
        }
    }

    /// The next message; nil when the peer closed the connection.
    func receive<T: Decodable>(_ type: T.Type) throws -> T? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = Data(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return try JSONDecoder().decode(T.self, from: line)
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return nil }
            guard n > 0 else { throw Failure(description: "reading from the collector failed: \(String(cString: strerror(errno)))") }
            buffer += chunk[0..<n]
            if buffer.count > 16 << 20 { throw Failure(description: "a collector message over 16 MiB: not a wattprint collector") }
        }
    }
}
