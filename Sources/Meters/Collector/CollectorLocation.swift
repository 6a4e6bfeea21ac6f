import Foundation

/// Where this node's collector listens: one Unix socket per user and per view of the machine (system paths, NVML
/// library, libsensors), so a run never reads another root's meters through a collector started for it.
///
/// `$XDG_RUNTIME_DIR/wattprint/` (a per-user tmpfs on systemd machines), else `/tmp/wattprint-UID/`, made mode 0700.
public struct CollectorLocation: Sendable, Equatable {
    public var directory: String
    public var socketPath: String
    /// Held (flock) while a client checks for a collector and starts one, so two ranks starting at once start one.
    public var lockPath: String

    public init(options: MeterSet.Options, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let explicit = environment["WATTPRINT_COLLECTOR_SOCKET"], !explicit.isEmpty {
            socketPath = explicit
            directory = (explicit as NSString).deletingLastPathComponent
        } else {
            let base =
                environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }.map { $0 + "/wattprint" } ?? "/tmp/wattprint-\(getuid())"
            let view = "\(options.paths.sysfs)|\(options.paths.procfs)|\(options.nvmlLibrary)|\(options.useLibsensors)"
            // FNV-1a (64-bit): a name, not a secret.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in view.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            let digest = String(hash, radix: 16)
            directory = base
            socketPath = base + "/collector-\(digest).sock"
        }
        lockPath = socketPath + ".lock"
    }

    /// Creates the directory (0700) if missing.
    public func prepare() throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
