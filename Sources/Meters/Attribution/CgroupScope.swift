import Foundation

/// A cgroup v2 that a run creates for the measured command: every process the command starts stays in it, however it
/// detaches (`setsid`, a double fork, a daemon), and the kernel counts all their CPU time in its `cpu.stat`, dead
/// processes included. Created under wattprint's own cgroup, which works as root or inside a delegated subtree
/// (systemd's user slices); elsewhere `create` says why and the run falls back to a child subreaper.
public final class CgroupScope: @unchecked Sendable {
    /// The run's cgroup directory and the one wattprint lives in.
    public let path: String
    public let parent: String

    /// Why no cgroup could be made for the command.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    init(path: String, parent: String) { self.path = path; self.parent = parent }

    /// Makes `<wattprint's cgroup>/<name>` on the cgroup v2 hierarchy, first removing empty ones that earlier runs
    /// killed before cleaning up left behind (`wattprint-run-<pid>` of a pid no longer alive).
    /// - Throws: `Unavailable` when there is no cgroup v2 hierarchy, wattprint's cgroup is not on it, or the kernel
    ///   refuses the new directory (not root, no delegation).
    public static func create(paths: SystemPaths, name: String = "wattprint-run-\(getpid())") throws -> CgroupScope {
        guard let mountinfo = try? KernelFile.text(paths.proc("self/mountinfo")) else {
            throw Unavailable(description: "\(paths.proc("self/mountinfo")) is not readable")
        }
        // mountinfo: id parent major:minor root mount-point options … - fstype source super-options
        var mount: (root: String, point: String)?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            guard fields.count >= 5 else { continue }
            mount = (String(fields[3]), String(fields[4]))
            break
        }
        guard let mount else { throw Unavailable(description: "no cgroup v2 hierarchy is mounted") }
        let own = ((try? KernelFile.text(paths.proc("self/cgroup"))) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        guard let own, own.hasPrefix(mount.root) else {
            throw Unavailable(description: "this process is not in the cgroup v2 hierarchy mounted at \(mount.point)")
        }
        let relative = String(own.dropFirst(mount.root.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let parent = relative.isEmpty ? mount.point : mount.point + "/" + relative
        removeAbandoned(in: parent)
        let path = parent + "/" + name
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Unavailable(
                description: "cannot create \(path) (\(String(cString: strerror(errno)))); run as root or in a delegated cgroup")
        }
        guard access(path + "/cgroup.procs", W_OK) == 0, access(parent + "/cgroup.procs", W_OK) == 0 else {
            rmdir(path)
            throw Unavailable(description: "\(path)/cgroup.procs is not writable by this user")
        }
        return CgroupScope(path: path, parent: parent)
    }

    /// Empty `wattprint-run-<pid>` cgroups of runs whose wattprint died before removing them.
    static func removeAbandoned(in parent: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries where entry.hasPrefix("wattprint-run-") {
            guard let pid = Int32(entry.dropFirst("wattprint-run-".count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            rmdir(parent + "/" + entry) // fails, harmlessly, while processes remain in it
        }
    }

    /// Starts the command inside the cgroup: this process joins it for the instant of `spawn`, so the child is born
    /// there (no window in which it could fork outside), then returns to its own cgroup.
    /// - Throws: `Unavailable` if this process could not join or leave the cgroup; whatever `spawn` throws.
    public func spawnInside<T>(_ spawn: () throws -> T) throws -> T {
        guard Self.move(getpid(), to: path) else { throw Unavailable(description: "could not join \(path)") }
        defer { _ = Self.move(getpid(), to: parent) }
        return try spawn()
    }

    /// CPU time of every process that ran in the cgroup, seconds (`usage_usec` of `cpu.stat`).
    public func usageSeconds() -> Double? {
        KernelFile.withPrefix(path + "/cpu.stat", maxBytes: 128) { bytes -> Double? in
            // First line: "usage_usec N".
            guard let space = bytes.firstIndex(of: 32) else { return nil }
            var f = ByteFields(bytes, from: space)
            return f.next().map { Double($0) / 1e6 }
        }
    }

    /// Processes still in the cgroup (the command's detached workers that outlived it).
    public var members: [Int32] {
        ((try? KernelFile.text(path + "/cgroup.procs")) ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    /// Moves what is left back to wattprint's cgroup and removes the run's. Returns the processes that were still
    /// running (they go on, outside the measurement).
    @discardableResult
    public func remove() -> [Int32] {
        let left = members
        for pid in left { _ = Self.move(pid, to: parent) }
        // Exiting processes leave the cgroup a moment after they are reaped; give them 200 ms.
        for _ in 0..<20 where rmdir(path) != 0 && errno == EBUSY { usleep(10_000) }
        return left
    }

    static func move(_ pid: Int32, to cgroup: String) -> Bool {
        let fd = open(cgroup + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let text = "\(pid)\n"
        return text.withCString { write(fd, $0, strlen($0)) } > 0
    }
}
