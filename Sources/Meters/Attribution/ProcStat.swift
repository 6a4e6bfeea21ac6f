import Foundation
import Measures

/// CPU time from `/proc/stat` and `/proc/<pid>/stat`, in seconds (USER_HZ = 100 ticks per second on Linux).
public enum ProcStat {
    public static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Host CPU time: busy (user, nice, system, irq, softirq) and total (busy + idle + iowait). Steal is time the
    /// hypervisor gave to other guests, so it is neither ours nor idle: left out of both.
    public struct HostTimes: Equatable, Sendable {
        public var busy: Double
        public var total: Double
    }

    /// Reads the aggregate `cpu` line, the first of `/proc/stat`, without allocating (it runs every tick).
    public static func host(paths: SystemPaths) throws -> HostTimes {
        try host(path: paths.proc("stat"))
    }

    public static func host(path: String) throws -> HostTimes {
        let parsed: HostTimes? = KernelFile.withPrefix(path, maxBytes: 256) { bytes -> HostTimes? in
            guard bytes.count > 4, bytes[0] == 99, bytes[1] == 112, bytes[2] == 117, bytes[3] == 32 else { return nil } // "cpu "
            var f = ByteFields(bytes, from: 4)
            guard let user = f.next(), let nice = f.next(), let system = f.next(), let idle = f.next(),
                let iowait = f.next(), let irq = f.next(), let softirq = f.next()
            else { return nil }
            let busy = Double(user + nice + system + irq + softirq)
            return HostTimes(busy: busy / ticksPerSecond, total: (busy + Double(idle + iowait)) / ticksPerSecond)
        }
        guard let parsed else {
            _ = try KernelFile.text(path)
            throw KernelFileError.malformed(path: path, content: "no aggregate cpu line")
        }
        return parsed
    }

    /// One process's line of `/proc/<pid>/stat`: parent and CPU time including reaped children.
    public struct ProcessTimes: Equatable, Sendable {
        public var pid: Int32
        public var ppid: Int32
        /// utime + stime + cutime + cstime, seconds.
        public var cpu: Double
    }

    /// One `/proc/<pid>/stat`, parsed in place. The command name may hold spaces and parentheses, so fields are
    /// counted from the last `)`: state, ppid, then utime/stime/cutime/cstime as fields 14–17.
    public static func process(_ pid: Int32, paths: SystemPaths) -> ProcessTimes? {
        process(pid, path: paths.proc("\(pid)/stat"))
    }

    static func process(_ pid: Int32, path: String) -> ProcessTimes? {
        KernelFile.withPrefix(path, maxBytes: 1024) { bytes -> ProcessTimes? in
            guard let close = bytes.lastIndex(of: 41) else { return nil } // ")"
            var f = ByteFields(bytes, from: close + 1)
            f.skip() // state
            guard let ppid = f.next() else { return nil }
            for _ in 0..<9 { f.skip() } // pgrp … cmajflt
            guard let u = f.next(), let s = f.next(), let cu = f.next(), let cs = f.next() else { return nil }
            return ProcessTimes(pid: pid, ppid: Int32(truncatingIfNeeded: ppid), cpu: Double(u + s + cu + cs) / ticksPerSecond)
        }
    }

    /// A process's children from `/proc/<pid>/task/<tid>/children`, over all its threads (a child belongs to the
    /// thread that forked it). Nil where the kernel lacks the file (CONFIG_PROC_CHILDREN) or the process is gone.
    public static func children(of pid: Int32, paths: SystemPaths) -> [Int32]? {
        let taskDir = paths.proc("\(pid)/task")
        guard FileManager.default.fileExists(atPath: taskDir + "/\(pid)/children"), let dir = opendir(taskDir) else { return nil }
        defer { closedir(dir) }
        var result: [Int32] = []
        while let entry = readdir(dir) {
            guard let tid = pidName(entry) else { continue }
            guard let text = try? KernelFile.text(taskDir + "/\(tid)/children") else { continue }
            result += text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return result
    }

    /// The digits of a `/proc` directory entry as a pid, or nil for any other name.
    static func pidName(_ entry: UnsafeMutablePointer<dirent>) -> Int32? {
        withUnsafeBytes(of: entry.pointee.d_name) { raw -> Int32? in
            var v: Int32 = 0
            var any = false
            for byte in raw {
                if byte == 0 { break }
                guard byte >= 48 && byte <= 57 else { return nil }
                v = v &* 10 &+ Int32(byte - 48)
                any = true
            }
            return any ? v : nil
        }
    }

    /// All processes now, for finding a tree's descendants where the kernel does not list children.
    public static func allProcesses(paths: SystemPaths) -> [ProcessTimes] {
        guard let dir = opendir(paths.procfs) else { return [] }
        defer { closedir(dir) }
        var result: [ProcessTimes] = []
        result.reserveCapacity(256)
        let base = paths.procfs.hasSuffix("/") ? paths.procfs : paths.procfs + "/"
        while let entry = readdir(dir) {
            if let pid = pidName(entry), let p = process(pid, path: base + String(pid) + "/stat") { result.append(p) }
        }
        return result
    }
}

/// CPU time of a process and all its descendants, kept monotone as children exit and are reaped.
///
/// A reaped child's time moves into its parent's cutime/cstime, so summing the live tree's utime+stime+cutime+cstime
/// stays continuous; a child that exits before its parent reaps it can dip the sum briefly, so the total never decreases.
///
/// Descendants are found from the kernel's children lists (`/proc/<pid>/task/<tid>/children`), which reads only the
/// tree's own files, or where those are missing from every process's parent, which reads all of `/proc`. Either
/// scan runs at most every `rescanInterval` (a child that exits before it is found still counts: its time lands in
/// its parent's cutime when reaped); between scans only the known members are read.
public final class ProcessTreeCPU {
    public let root: Int32
    /// This process, when it is the root's parent and a child subreaper: processes that left the root's tree
    /// (detached with `setsid`, orphaned by a double fork) are re-parented to it and still belong to the tree.
    public let adoptiveParent: Int32?
    let paths: SystemPaths
    let rescanInterval: Double
    private var high: Double = 0
    private var members: [(pid: Int32, path: String)] = []
    private var lastScanNs: Int64 = .min

    /// CPU time of this process's reaped children when the tree was attached; see `seconds()`.
    private let reapedBaseline: Double?
    private let rootStatPath: String

    /// - Parameters:
    ///   - isOurChild: the root is a child of this process, so once it has exited and been reaped its whole tree's
    ///     time (every descendant that was waited for) is in this process's `RUSAGE_CHILDREN`.
    ///   - adoptiveParent: this process's pid when it made itself a child subreaper (`ProcessAttribution`): its other
    ///     children are orphans of the root's tree.
    public init(root: Int32, paths: SystemPaths, rescanInterval: Double = 5, isOurChild: Bool = false, adoptiveParent: Int32? = nil) {
        self.root = root
        self.adoptiveParent = adoptiveParent
        self.paths = paths
        self.rescanInterval = rescanInterval
        reapedBaseline = isOurChild ? Self.reapedChildrenSeconds() : nil
        rootStatPath = paths.proc("\(root)/stat")
    }

    static func reapedChildrenSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Makes the next `seconds()` a full scan, so processes started since the last one are found.
    public func rescanOnNextRead() { lastScanNs = .min }

    public func seconds() -> Double {
        let now = MonotonicClock.nowNs()
        var total = 0.0
        if lastScanNs == .min || Double(now - lastScanNs) / 1e9 >= rescanInterval {
            lastScanNs = now
            var roots: [(pid: Int32, parent: Int32?)] = [(root, nil)]
            if let parent = adoptiveParent {
                roots += (ProcStat.children(of: parent, paths: paths) ?? []).filter { $0 != root }.map { ($0, parent) }
            }
            var tree: [ProcStat.ProcessTimes] = []
            var walked = true
            for r in roots {
                guard let part = Self.walk(r.pid, paths: paths, expectedParent: r.parent) else { walked = false; break }
                tree += part
            }
            if walked {
                members = tree.map { ($0.pid, paths.proc("\($0.pid)/stat")) }
                total = tree.reduce(0) { $0 + $1.cpu }
            } else {
                scanAllProcesses(into: &total)
            }
        } else {
            for m in members { total += ProcStat.process(m.pid, path: m.path)?.cpu ?? 0 }
        }
        // The root reaped: its tree's waited-for time moved into ours, beside the orphans still running.
        if let baseline = reapedBaseline, ProcStat.process(root, path: rootStatPath) == nil {
            total += max(Self.reapedChildrenSeconds() - baseline, 0)
        }
        high = max(high, total)
        return high
    }

    /// The tree from the kernel's children lists: reads only the tree's own files, however many processes the
    /// host runs. Nil where the kernel has no children lists.
    static func walk(_ root: Int32, paths: SystemPaths, expectedParent: Int32? = nil) -> [ProcStat.ProcessTimes]? {
        // The root is gone: nothing to walk, and a scan of all of /proc could not find its tree either.
        guard let rootStat = ProcStat.process(root, paths: paths) else { return [] }
        if let expectedParent, rootStat.ppid != expectedParent { return [] }
        guard let rootChildren = ProcStat.children(of: root, paths: paths) else { return nil }
        var tree = [rootStat]
        var queue = rootChildren.map { (pid: $0, parent: root) }, seen: Set<Int32> = [root]
        while let next = queue.popLast() {
            // A pid reused since the list was read belongs to another process: its parent says so.
            guard seen.insert(next.pid).inserted, let p = ProcStat.process(next.pid, paths: paths), p.ppid == next.parent else { continue }
            tree.append(p)
            queue += (ProcStat.children(of: next.pid, paths: paths) ?? []).map { ($0, next.pid) }
        }
        return tree
    }

    /// The tree from every process's parent: reads all of `/proc`.
    private func scanAllProcesses(into total: inout Double) {
        let all = ProcStat.allProcesses(paths: paths)
        var children: [Int32: [ProcStat.ProcessTimes]] = [:]
        for p in all { children[p.ppid, default: []].append(p) }
        members = []
        var stack = all.filter { $0.pid == root || ($0.ppid == adoptiveParent && adoptiveParent != nil) }
        while let p = stack.popLast() {
            total += p.cpu
            members.append((p.pid, paths.proc("\(p.pid)/stat")))
            stack.append(contentsOf: children[p.pid] ?? [])
        }
    }
}
