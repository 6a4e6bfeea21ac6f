import CSensors
import Foundation

/// How a run finds the CPU time of the program it measures, so host energy can be attributed to it.
public enum ProcessAttribution: Sendable, Equatable {
    /// A cgroup v2 made for the command (`CgroupScope`): every process it started, however detached, counted by the
    /// kernel.
    case cgroup(CgroupScope)
    /// The command's process tree from `/proc`, with wattprint a child subreaper so that orphans of the tree are
    /// re-parented to it and stay counted.
    case subreaper(parent: Int32)
    /// The process tree from `/proc` alone (a measurement window of wattprint's own work).
    case processTree

    /// Words for the run summary and the run record.
    public var summary: String {
        switch self {
        case let .cgroup(scope): return "cgroup v2 \(scope.path) (cpu.stat usage_usec: every process the command started)"
        case .subreaper: return "process tree from /proc, wattprint a child subreaper (detached children re-parented to it)"
        case .processTree: return "process tree from /proc"
        }
    }

    /// The name recorded with the run.
    public var method: String {
        switch self {
        case .cgroup: return "cgroup"
        case .subreaper: return "subreaper"
        case .processTree: return "process-tree"
        }
    }

    /// Makes this process a child subreaper (`PR_SET_CHILD_SUBREAPER`): descendants orphaned by a double fork or
    /// `setsid` are re-parented here instead of to init. Returns whether the kernel agreed.
    public static func becomeChildSubreaper() -> Bool { wp_become_child_subreaper() == 0 }

    /// Reaps children that have exited (adopted orphans), without blocking. Call only once the command itself was
    /// waited for, so its status is never taken here.
    public static func reapExitedChildren() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }

    public static func == (a: ProcessAttribution, b: ProcessAttribution) -> Bool {
        switch (a, b) {
        case let (.cgroup(x), .cgroup(y)): return x === y
        case let (.subreaper(x), .subreaper(y)): return x == y
        case (.processTree, .processTree): return true
        default: return false
        }
    }
}
