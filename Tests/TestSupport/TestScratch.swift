import Foundation

/// Temporary folders for tests, all under one folder per test process that is removed when the process exits, so a
/// test run leaves nothing behind however its tests end.
public enum TestScratch {
    /// `<tmp>/wattprint-tests-<pid>`.
    public static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wattprint-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o755)
        rootPath = url.path
        atexit { if let path = TestScratch.rootPath { try? FileManager.default.removeItem(atPath: path) } }
        return url
    }()
    nonisolated(unsafe) static var rootPath: String?

    /// A new, empty folder named after `name` (letters only), readable by any user (tests that drop root use it).
    public static func folder(_ name: String = #function) throws -> URL {
        let url = root.appendingPathComponent("\(name.filter(\.isLetter).prefix(60))-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o755)
        return url
    }

    /// Writes `content` to `url` whole: into a sibling file, then renamed over it, so a reader sees the old content or
    /// the new, never half (Foundation's atomic write leaves folders behind in /tmp on Linux).
    public static func replace(_ url: URL, with content: String) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8))")
        try content.write(to: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }
}
