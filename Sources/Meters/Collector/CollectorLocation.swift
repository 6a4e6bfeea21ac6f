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

    /// Creates the directory (0700) if missing, and checks that it is this user's alone: a folder another user made
    /// (in a shared /tmp) could hold their socket, answering with forged readings, or a link over one of our files.
    /// - Throws: `CollectorError` naming the folder and the fix.
    public func prepare() throws {
        // sockaddr_un's sun_path: 108 bytes with the terminating zero.
        guard socketPath.utf8.count < 108 else {
            throw CollectorError(
                "the collector's socket path \(socketPath) is \(socketPath.utf8.count) bytes, over the 107 a Unix socket takes; set XDG_RUNTIME_DIR (or WATTPRINT_COLLECTOR_SOCKET) to a shorter path"
            )
        }
        let parent = (directory as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            try? FileManager.default.createDirectory(
                atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw CollectorError(
                "cannot create \(directory) (\(String(cString: strerror(errno)))); set XDG_RUNTIME_DIR to a private folder")
        }
        var info = stat()
        guard lstat(directory, &info) == 0 else {
            throw CollectorError("cannot inspect \(directory) (\(String(cString: strerror(errno))))")
        }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        guard isDirectory, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw CollectorError(
                "\(directory) is \(isDirectory ? "" : "not a plain folder, ")owned by uid \(info.st_uid) with mode \(String(info.st_mode & 0o777, radix: 8)); the collector's folder must be a private folder of uid \(getuid()) (mode 700): remove it, or set XDG_RUNTIME_DIR to a private folder"
            )
        }
    }
}
