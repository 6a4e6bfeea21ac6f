import Foundation

/// The measured program, started with `posix_spawnp` so that it behaves as if wattprint were not there: it stays in
/// the terminal's foreground process group (Ctrl-C reaches it), and it starts with default signal dispositions and
/// an empty signal mask whatever wattprint does with its own signals.
final class ChildProcess {
    let pid: pid_t
    let argv: [String]

    struct SpawnError: Error, CustomStringConvertible {
        let command: String
        let code: Int32
        var description: String {
            "cannot start \(command): \(String(cString: strerror(code))). Check the command name and PATH."
        }
    }

    init(_ argv: [String]) throws {
        self.argv = argv
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, argv[0], nil, &attr, &cArgs, environ)
        if rc != 0 { throw SpawnError(command: argv[0], code: rc) }
        pid = child
    }

    /// Waits for the program to end and reaps it; returns its exit status, or 128 + the signal that ended it.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    func send(_ signal: Int32) { kill(pid, signal) }
}
