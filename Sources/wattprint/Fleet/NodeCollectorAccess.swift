import ArgumentParser
import Foundation
import Meters

/// When a run reads the hardware meters through the node's collector.
enum CollectorPolicy: String, ExpressibleByArgument, CaseIterable {
    /// Through a collector already running for this node (`wattprint serve`, or one another rank started), or one
    /// started now when the launcher says the job has several processes (`WORLD_SIZE`, `SLURM_NTASKS` above 1).
    case auto
    /// Through the collector, starting one if none runs.
    case always
    /// Read the meters directly.
    case never
}

/// Finds this node's collector for a run, starting one when the policy says so.
enum NodeCollectorAccess {
    struct Outcome {
        var client: CollectorClient?
        /// Set when a collector was wanted but could not be used (the run then reads the meters itself).
        var problem: String?
    }

    /// Seconds a started collector waits with no client before it exits.
    static let idleExitSeconds = 10.0

    static func connect(policy: CollectorPolicy, options: MeterSet.Options, interval: Double) -> Outcome {
        guard policy != .never else { return Outcome() }
        let location = CollectorLocation(options: options)
        if let client = try? CollectorClient(socketPath: location.socketPath) { return Outcome(client: client) }
        guard policy == .always || JobIdentity.expectsSeveralRanks() else { return Outcome() }
        do {
            try location.prepare()
        } catch {
            return Outcome(problem: "cannot create \(location.directory) for the collector's socket (\(error))")
        }
        // One rank starts the collector; the others wait on the lock, then find it.
        let lock = open(location.lockPath, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else { return Outcome(problem: "cannot open \(location.lockPath): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN) }
        if let client = try? CollectorClient(socketPath: location.socketPath) { return Outcome(client: client) }
        if let problem = spawnCollector(interval: interval, log: location.socketPath + ".log") { return Outcome(problem: problem) }
        var last = "it did not start listening"
        // NVML's start on a many-GPU node can take seconds.
        for _ in 0..<1500 {
            do { return Outcome(client: try CollectorClient(socketPath: location.socketPath)) } catch { last = "\(error)" }
            usleep(20_000)
        }
        return Outcome(problem: "the collector started for \(location.socketPath) could not be reached: \(last)")
    }

    /// Starts `wattprint collector` detached: through `sh`, which exits at once, so the collector is nobody's child here
    /// (a run's subreaper attribution would otherwise count its CPU time) and sits in a session of its own (the job's
    /// signals do not reach it). It inherits this process's environment (the same system paths and NVML library) and
    /// nothing else: its standard output and error go to `log`, opened without following links.
    static func spawnCollector(interval: Double, log: String) -> String? {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let script = #"exec "$0" collector --interval "$1" --idle-exit "$2" </dev/null &"#
        let arguments = ["/bin/sh", "-c", script, executable, "\(interval)", "\(idleExitSeconds)"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this run's is inherited: a pipe its caller waits on would stay open for the collector's life.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
        for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26, <spawn.h> under _GNU_SOURCE, which Swift does not import).
        posix_spawnattr_setflags(&attributes, 0x80)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        guard rc == 0 else { return "cannot start \(executable) collector: \(String(cString: strerror(rc)))" }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return nil
    }
}
