import Accounting
import Foundation

/// Gives a measured command a file to report tokens, phases and steps in (`WATTPRINT_EVENTS`), and records what it
/// writes into the run while it runs: read every 50 ms, each line checked, a malformed one kept with its reason.
final class ProgramEventsFeed {
    let path: String
    private let tail: ProgramEvents.Tail
    private let session: MeasuredSession
    private let queue = DispatchQueue(label: "wattprint.program-events")
    private var timer: DispatchSourceTimer?
    private(set) var malformed: [MalformedEventLine] = []
    private var open: Set<String> = []
    private(set) var recorded = 0

    /// Creates the (empty) file and puts its path in this process's environment, for the command to inherit.
    /// - Throws: `CLIError` when the file cannot be created.
    init(session: MeasuredSession) throws {
        self.session = session
        path = FileManager.default.temporaryDirectory.appendingPathComponent("wattprint-events-\(getpid())-\(session.runID).jsonl").path
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot create the events file \(path); check that the temporary directory is writable")
        }
        tail = ProgramEvents.Tail(path: path)
        setenv(ProgramEvents.environmentVariable, path, 1)
    }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
        timer.setEventHandler { [weak self] in self?.drain(final: false) }
        timer.resume()
        self.timer = timer
    }

    /// Reads what is left (a last line without its newline too), stops reading and removes the file: its lines are
    /// in the ledger now.
    func finish() {
        timer?.cancel()
        queue.sync { drain(final: true) }
        unsetenv(ProgramEvents.environmentVariable)
        try? FileManager.default.removeItem(atPath: path)
    }

    private func drain(final: Bool) {
        for (number, text) in tail.read(final: final) {
            switch ProgramEvents.parse(text, number: number) {
            case let .success(parsed):
                // A start of an open phase or an end of one never started would make a window no one meant.
                if let edge = parsed.events.first, parsed.isPhaseEdge {
                    let (name, starting): (String, Bool)
                    switch edge {
                    case let .phaseStart(m): (name, starting) = (m.name, true)
                    case let .phaseEnd(m): (name, starting) = (m.name, false)
                    default: (name, starting) = ("", true)
                    }
                    if starting == open.contains(name) {
                        let line = MalformedEventLine(
                            line: number, text: String(text.prefix(200)),
                            problem: starting
                                ? "phase '\(name)' is already open; end it first" : "no phase '\(name)' is open; start it first")
                        malformed.append(line)
                        session.record(.malformedEvent(line))
                        continue
                    }
                    if starting { open.insert(name) } else { open.remove(name) }
                }
                let t = time(of: parsed)
                for event in parsed.events { session.recorder.record(event.record(at: t)) }
                recorded += 1
            case let .failure(line):
                malformed.append(line)
                session.record(.malformedEvent(line))
            }
        }
    }

    /// The line's own time when it gives one (clamped to now), else now; a phase edge without one takes a reading,
    /// so the window's edge is a reading within 50 ms of the program's.
    private func time(of parsed: ProgramEvents.Parsed) -> Int64 {
        let now = session.configuration.clock.nowNs()
        if let time = parsed.time {
            let ago = Date().timeIntervalSince1970 - time
            return now - Int64(max(0, ago) * 1e9)
        }
        return parsed.isPhaseEdge ? (session.sampler?.sampleNow() ?? now) : now
    }
}
