import Foundation
import TestSupport
import XCTest

/// Runs the built `wattprint` binary as a user would.
enum CLI {
    static var binary: URL {
        // The test bundle sits next to the products it was built with.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 where !FileManager.default.fileExists(atPath: dir.appendingPathComponent("wattprint").path) {
            dir = dir.deletingLastPathComponent()
        }
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("wattprint").path) {
            return dir.appendingPathComponent("wattprint")
        }
        return Bundle.main.bundleURL.appendingPathComponent("wattprint")
    }

    static let hermeticHome: URL = {
        let url = TestScratch.root.appendingPathComponent("cli-home")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func start(
        _ args: [String], env: [String: String] = [:], executable: URL? = nil, directory: URL? = nil
    ) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = executable ?? binary
        if let directory { p.currentDirectoryURL = directory }
        p.arguments = args
        // Hermetic: no WATTPRINT_* from the developer's shell, and a HOME of its own (no ~/.config/wattprint/config).
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("WATTPRINT_") }
        environment["HOME"] = hermeticHome.path
        environment["XDG_CONFIG_HOME"] = hermeticHome.appendingPathComponent(".config").path
        environment["XDG_DATA_HOME"] = hermeticHome.appendingPathComponent(".local/share").path
        environment["WATTPRINT_NVML_LIBRARY"] = "/nonexistent/libnvidia-ml.so.1"
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    /// The binary and its resource bundles copied to a folder any user can reach, for tests that drop root: the
    /// build folder may be private.
    static func copyReachableByAnyone() throws -> URL {
        let dir = try scratchDirectory("reachable")
        let copy = dir.appendingPathComponent("wattprint")
        try FileManager.default.copyItem(at: binary, to: copy)
        for resource in try FileManager.default.contentsOfDirectory(at: binary.deletingLastPathComponent(), includingPropertiesForKeys: nil)
        where resource.lastPathComponent.hasSuffix(".resources") {
            try FileManager.default.copyItem(at: resource, to: dir.appendingPathComponent(resource.lastPathComponent))
        }
        return copy
    }

    @discardableResult
    static func run(_ args: [String], env: [String: String] = [:], executable: URL? = nil, directory: URL? = nil) throws -> Result {
        let (p, out, err) = try start(args, env: env, executable: executable, directory: directory)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

func scratchDirectory(_ name: String = #function) throws -> URL { try TestScratch.folder(name) }

/// A runtime folder near the root for the collector's socket (Unix socket paths take 107 bytes, which a scratch
/// folder's path can exceed); not created: wattprint makes it 0700 as the collector requires.
func shortRuntimeDirectory() -> String { "/tmp/wp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
