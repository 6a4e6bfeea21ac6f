import Foundation

/// Peak resident memory of this process, read from procfs.
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
}
