import Foundation

/// Where `/metrics` listens: an IPv4 or IPv6 address and a TCP port, `127.0.0.1:9464` unless asked otherwise.
///
/// Written `HOST:PORT`, `[IPv6]:PORT` or `localhost:PORT`; port 0 lets the kernel choose a free one. 9464 is the
/// port OpenTelemetry's Prometheus exporter registered on the Prometheus wiki's default-port allocations.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Family: Sendable, Equatable { case ipv4, ipv6 }

    public static let defaultPort: UInt16 = 9464
    public static let loopback = ListenAddress(host: "127.0.0.1", port: defaultPort, family: .ipv4)

    /// A numeric address (`localhost` is read as 127.0.0.1).
    public var host: String
    public var port: UInt16
    public var family: Family

    public init(host: String, port: UInt16, family: Family) {
        self.host = host; self.port = port; self.family = family
    }

    /// - Throws: `ExporterError.badAddress` naming what is wrong and a valid example.
    public init(parsing text: String) throws {
        func bad(_ problem: String) -> ExporterError {
            ExporterError(
                .badAddress, "--listen '\(text)' \(problem)", fix: "give HOST:PORT, e.g. --listen 127.0.0.1:9464 or --listen [::1]:9464")
        }
        var hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw bad("has an IPv6 address without ']:PORT' after it")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad("has no port") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { throw bad("is an IPv6 address without brackets") }
        }
        guard let port = UInt16(portPart) else { throw bad("has port '\(portPart)', not a number from 0 to 65535") }
        if hostPart.isEmpty || hostPart == "localhost" { hostPart = "127.0.0.1" }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, String(hostPart), &v4) == 1 {
            self.init(host: String(hostPart), port: port, family: .ipv4)
        } else if inet_pton(AF_INET6, String(hostPart), &v6) == 1 {
            self.init(host: String(hostPart), port: port, family: .ipv6)
        } else {
            throw bad("has host '\(hostPart)', which is not a numeric IPv4 or IPv6 address")
        }
    }

    /// True for 127.0.0.0/8 and ::1: only this machine can connect.
    public var isLoopback: Bool {
        switch family {
        case .ipv4: return host.split(separator: ".").first == "127"
        case .ipv6:
            var a = in6_addr()
            guard inet_pton(AF_INET6, host, &a) == 1 else { return false }
            return withUnsafeBytes(of: &a) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
    }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
