import Foundation

/// Where `/sys` and `/proc` are. Every kernel file the meters read goes through here, so tests (and a user
/// inspecting a copied tree) can point the meters at a fake root with `WATTPRINT_SYSFS_ROOT` / `WATTPRINT_PROCFS_ROOT`.
public struct SystemPaths: Sendable, Equatable {
    public var sysfs: String
    public var procfs: String

    public init(sysfs: String = "/sys", procfs: String = "/proc") {
        self.sysfs = sysfs
        self.procfs = procfs
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> SystemPaths {
        SystemPaths(
            sysfs: env["WATTPRINT_SYSFS_ROOT"].flatMap { $0.isEmpty ? nil : $0 } ?? "/sys",
            procfs: env["WATTPRINT_PROCFS_ROOT"].flatMap { $0.isEmpty ? nil : $0 } ?? "/proc")
    }

    public var isRealSysfs: Bool { sysfs == "/sys" }

    public func sys(_ relative: String) -> String { (sysfs as NSString).appendingPathComponent(relative) }
    public func proc(_ relative: String) -> String { (procfs as NSString).appendingPathComponent(relative) }
}

/// Why a kernel file could not be read, with the path, so a message can name it.
public enum KernelFileError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case permissionDenied(String)
    case malformed(path: String, content: String)
    case unreadable(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .missing(p): return "\(p) does not exist"
        case let .permissionDenied(p): return "\(p) is not readable by this user"
        case let .malformed(p, c): return "\(p) holds \"\(c.prefix(40))\", not a number"
        case let .unreadable(p, e): return "\(p) could not be read (\(String(cString: strerror(e))))"
        }
    }
}

/// Small, allocation-light readers for one-value kernel files.
public enum KernelFile {
    /// `open(2)` for reading, with the failure named: missing, permission denied, or another errno.
    static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { return fd }
        let e = errno
        if e == ENOENT || e == ENOTDIR { throw KernelFileError.missing(path) }
        if e == EACCES || e == EPERM { throw KernelFileError.permissionDenied(path) }
        throw KernelFileError.unreadable(path: path, errno: e)
    }

    /// Reads a whole small file with `open`/`read`, reporting why it failed.
    public static func text(_ path: String) throws -> String {
        let fd = try openForReading(path)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var result = [UInt8]()
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EACCES || e == EPERM { throw KernelFileError.permissionDenied(path) }
                if e == ENODEV || e == ENOENT { throw KernelFileError.missing(path) }
                throw KernelFileError.unreadable(path: path, errno: e)
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: result, as: UTF8.self)
    }

    public static func trimmed(_ path: String) throws -> String {
        try text(path).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Reads a decimal counter such as `energy_uj` without allocating: this runs on the sampler's hot path.
    public static func uint64(_ path: String) throws -> UInt64 {
        let fd = try openForReading(path)
        defer { close(fd) }
        let parsed: UInt64?? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buf -> UInt64?? in
            let n = read(fd, buf.baseAddress, 32)
            if n <= 0 { return .some(nil) }
            var value: UInt64 = 0
            var digits = 0
            for i in 0..<n {
                let c = buf[i]
                if c >= 48 && c <= 57 {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(c - 48))
                    if o1 || o2 { return .some(nil) }
                    value = a; digits += 1
                } else if c == 10 || c == 32 {
                    if digits > 0 { break }
                } else {
                    return .some(nil)
                }
            }
            return digits > 0 ? .some(value) : .some(nil)
        }
        guard let value = parsed ?? nil else {
            let t = (try? trimmed(path)) ?? ""
            if t.isEmpty { throw KernelFileError.unreadable(path: path, errno: errno) }
            throw KernelFileError.malformed(path: path, content: t)
        }
        return value
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Reads at most `maxBytes` of a file into a stack buffer and hands the bytes to `body`, without allocating:
    /// the hot-path readers (`/proc/stat`, `/proc/<pid>/stat`) parse in place. Nil when the file cannot be read.
    public static func withPrefix<T>(_ path: String, maxBytes: Int = 512, _ body: (UnsafeBufferPointer<UInt8>) -> T?) -> T? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxBytes) { buf -> T? in
            var filled = 0
            while filled < maxBytes {
                let n = read(fd, buf.baseAddress! + filled, maxBytes - filled)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                filled += n
            }
            return body(UnsafeBufferPointer(rebasing: buf[0..<filled]))
        }
    }
}

/// In-place parsing of whitespace-separated decimal fields.
struct ByteFields {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, from position: Int = 0) { self.bytes = bytes; self.position = position }

    /// Skips spaces, then reads one unsigned decimal; nil at the end of the line or on a non-digit.
    mutating func next() -> UInt64? {
        while position < bytes.count && bytes[position] == 32 { position += 1 }
        var value: UInt64 = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
            value = value &* 10 &+ UInt64(bytes[position] - 48)
            position += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// Skips one field of any content.
    mutating func skip() {
        while position < bytes.count && bytes[position] == 32 { position += 1 }
        while position < bytes.count && bytes[position] != 32 && bytes[position] != 10 { position += 1 }
    }
}
