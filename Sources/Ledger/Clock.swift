import Foundation
#if canImport(Glibc)
    import Glibc
    import Measures
#endif

/// Time as the ledger records it: UTC text for run boundaries (sample times are `MonotonicClock` nanoseconds).
public enum LedgerClock {
    /// ISO 8601 UTC with milliseconds, e.g. `2026-11-23T05:20:01.123Z`.
    public static func utcString(_ date: Date = Date()) -> String {
        formatter.string(from: date)
    }

    public static func parseUTC(_ text: String) -> Date? { formatter.date(from: text) }

    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }()

    /// When a process started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or nil if it is gone.
    public static func processStartTicks(_ pid: Int32) -> Int64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields after the name start at field 3 (state); starttime is field 22.
        return fields.count > 19 ? Int64(fields[19]) : nil
    }

    /// This boot's identity; a run whose recorder booted elsewhere cannot still be running.
    public static func bootID() -> String {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }
}
