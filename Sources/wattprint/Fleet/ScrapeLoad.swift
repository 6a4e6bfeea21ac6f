import Foundation
import Measures

/// A Prometheus-like scraper for load-testing `/metrics`: one keep-alive HTTP/1.1 connection over loopback, a GET at
/// fixed times (`rate` a second, open loop: a late request is sent at once, and counted), each response read whole.
/// Blocking sockets on the calling thread, so its own CPU time is known and can be taken off the process's.
struct ScrapeLoad {
    struct Result {
        var sent = 0
        var ok = 0
        var failures: [String] = []
        /// Requests sent more than 10 ms after their time (the client or the server fell behind).
        var late = 0
        var latencies: [Double] = []
        var bytes = 0
        var seconds = 0.0
        var clientCPUSeconds = 0.0

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
        }
    }

    let port: UInt16
    let rate: Double
    let duration: Double

    func run() -> Result {
        var result = Result()
        let cpu0 = MonotonicClock.threadCPUSeconds()
        let start = MonotonicClock.nowNs()
        let count = Int(rate * duration)
        var fd: Int32 = -1
        defer { if fd >= 0 { close(fd) } }
        for i in 0..<count {
            let due = start + Int64(Double(i) / rate * 1e9)
            let now = MonotonicClock.nowNs()
            if due > now {
                var ts = timespec(tv_sec: Int((due - now) / 1_000_000_000), tv_nsec: Int((due - now) % 1_000_000_000))
                nanosleep(&ts, nil)
            } else if now - due > 10_000_000 {
                result.late += 1
            }
            let t0 = MonotonicClock.nowNs()
            result.sent += 1
            do {
                if fd < 0 { fd = try connect() }
                let bytes = try scrape(fd)
                result.ok += 1
                result.bytes = bytes
                result.latencies.append(Double(MonotonicClock.nowNs() - t0) / 1e6)
            } catch {
                if result.failures.count < 5 { result.failures.append("\(error)") }
                if fd >= 0 { close(fd) }
                fd = -1
            }
        }
        result.seconds = Double(MonotonicClock.nowNs() - start) / 1e9
        result.clientCPUSeconds = MonotonicClock.threadCPUSeconds() - cpu0
        return result
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// One GET /metrics; returns the body's size. Throws on anything but a whole 200 response.
    private func scrape(_ fd: Int32) throws -> Int {
        let request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: wattprint-load\r\nAccept: text/plain\r\n\r\n"
        let sent = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        guard sent == request.utf8.count else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var received: [UInt8] = []
        var headerEnd: Int?
        var contentLength: Int?
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else {
                throw Failure(description: n == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))")
            }
            received += buffer[0..<n]
            if headerEnd == nil, let end = Self.find([13, 10, 13, 10], in: received) {
                headerEnd = end + 4
                let head = String(decoding: received[0..<end], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 200") else { throw Failure(description: "answered \(head.prefix(40))") }
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
                }
                guard contentLength != nil else { throw Failure(description: "no Content-Length in \(head.prefix(80))") }
            }
            if let headerEnd, let contentLength, received.count >= headerEnd + contentLength { return contentLength }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}
