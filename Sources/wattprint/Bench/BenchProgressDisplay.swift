import Benchmarks
import Foundation

/// Progress of a benchmark on standard error: on a terminal one line redrawn in place with a bar, the rate and the
/// time left; otherwise one plain line per step, so logs stay readable.
final class BenchProgressDisplay {
    static var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }
    private let quiet: Bool
    private var lastLabel = ""
    private var drawn = false

    init(quiet: Bool) { self.quiet = quiet }

    func show(_ p: BenchProgress) {
        guard !quiet, p.label != lastLabel else { return }
        lastLabel = p.label
        let eta = p.remainingSeconds.map { ", ~\(Self.clock($0)) left" } ?? ""
        let rate = p.done > 0 ? String(format: ", %.1f s per repeat", p.elapsedSeconds / Double(p.done)) : ""
        if Self.isTerminal {
            let width = 24, filled = p.total > 0 ? width * p.done / p.total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = "[\(bar)] \(p.done)/\(p.total) \(p.label) (\(Self.clock(p.elapsedSeconds)) elapsed\(rate)\(eta))"
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data("… \(p.done)/\(p.total) \(p.label) (\(Self.clock(p.elapsedSeconds)) elapsed\(eta))\n".utf8))
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }
}
