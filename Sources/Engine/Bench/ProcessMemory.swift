import Foundation

/// Peak resident memory of this process and the memory available on the host, read from procfs.
public enum ProcessMemory {
    /// Default status file; a parameter so tests and containers can point elsewhere.
    public static let selfStatusPath = "/proc/self/status"

    /// `VmHWM` (peak RSS) in bytes.
    /// - Throws: `fileUnreadable` when the file or the field is missing.
    public static func peakResidentBytes(statusPath: String = selfStatusPath) throws -> Int {
        guard let data = FileManager.default.contents(atPath: statusPath) else {
            throw EngineError.fileUnreadable(statusPath, "read failed")
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        throw EngineError.fileUnreadable(statusPath, "no VmHWM line")
    }

    /// `MemAvailable` in bytes: the kernel's estimate of the memory new work can take without swapping
    /// (`/proc/meminfo`); nil where it cannot be read.
    public static func availableBytes(meminfoPath: String = "/proc/meminfo") -> Int? {
        guard let data = FileManager.default.contents(atPath: meminfoPath) else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 2 ? Int(fields[1]).map { $0 * 1024 } : nil
        }
        return nil
    }
}
