import Foundation

/// Events a measured program reports about itself by appending JSON lines to the file named in `WATTPRINT_EVENTS`:
///
/// ```
/// {"tokens": 128, "phase": "decode"}          tokens produced (phase optional)
/// {"phase": "prefill", "event": "start"}      a phase begins ("end" ends it); J/token is then reported per phase
/// {"step": 1, "loss": 2.31, "tokens": 512}    a training step (loss and tokens optional; its tokens count)
/// ```
///
/// Any line may carry `"time"`: Unix seconds when it happened (else it counts when wattprint reads it, within 50 ms).
/// A line that is not one of these is kept as written with the reason (`malformed_event`) and counted, never fatal.
public enum ProgramEvents {
    public static let environmentVariable = "WATTPRINT_EVENTS"
    static let keys: Set<String> = ["tokens", "phase", "event", "step", "loss", "time"]

    /// What one line says: events to record (a step with tokens is also a token count), and when, if it says.
    public struct Parsed: Equatable, Sendable {
        public var events: [RunEvent]
        /// Unix seconds, when the line gives one.
        public var time: Double?
        /// Whether the events start or end a phase (their window's edge should be a meter reading).
        public var isPhaseEdge: Bool
    }

    /// Reads line `number` (1-based) of the file.
    public static func parse(_ line: String, number lineNumber: Int) -> Result<Parsed, MalformedEventLine> {
        func bad(_ problem: String) -> Result<Parsed, MalformedEventLine> {
            .failure(MalformedEventLine(line: lineNumber, text: String(line.prefix(200)), problem: problem))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            return bad(
                line.contains("NaN") || line.contains("Infinity")
                    ? "not valid JSON: NaN and Infinity are not JSON numbers (Python: json.dumps(..., allow_nan=False) says so at the source)"
                    : "not a JSON object")
        }
        if let unknown = object.keys.filter({ !keys.contains($0) }).sorted().first {
            return bad("unknown key '\(unknown)' (wattprint reads \(keys.sorted().joined(separator: ", ")))")
        }
        struct Line: Decodable {
            var tokens, step, loss, time: Double?
            var phase, event: String?
        }
        guard let fields = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else {
            return bad(
                object["phase"].map { !($0 is String) } == true || object["event"].map { !($0 is String) } == true
                    ? "phase and event must be strings" : "time, tokens, step and loss must be finite numbers")
        }
        let (time, tokens, step, loss) = (fields.time, fields.tokens, fields.step, fields.loss)
        let phase = fields.phase
        if let tokens, tokens < 0 { return bad("tokens must be 0 or more") }
        if let tokens, tokens.rounded() != tokens || tokens > 1e15 { return bad("tokens must be a whole number up to 10^15") }
        if let time, abs(time - Date().timeIntervalSince1970) > 86_400 {
            return bad("time \(time) is not within a day of now: give Unix seconds (time.time() in Python)")
        }
        if let edge = fields.event {
            guard edge == "start" || edge == "end" else { return bad("event must be \"start\" or \"end\"") }
            guard let name = phase, !name.isEmpty else { return bad("a start or end needs the phase it marks") }
            guard tokens == nil, step == nil else {
                return bad("a phase start or end carries no tokens or step; write them on their own line")
            }
            let mark = PhaseMark(name: name)
            return .success(Parsed(events: [edge == "start" ? .phaseStart(mark) : .phaseEnd(mark)], time: time, isPhaseEdge: true))
        }
        if let step {
            guard step >= 0, step.rounded() == step else { return bad("step must be a whole number") }
            var events: [RunEvent] = [.step(StepRecord(index: Int(step), tokens: tokens.map { Int($0) }, loss: loss))]
            if let tokens { events.append(.tokens(TokenCount(count: tokens, phase: phase))) }
            return .success(Parsed(events: events, time: time, isPhaseEdge: false))
        }
        if let tokens {
            guard loss == nil else { return bad("loss belongs to a step: add \"step\"") }
            return .success(Parsed(events: [.tokens(TokenCount(count: tokens, phase: phase))], time: time, isPhaseEdge: false))
        }
        return bad("neither tokens, a step, nor a phase start or end")
    }

    /// A file being appended to, read a complete line at a time from where the last read stopped.
    public final class Tail {
        public let path: String
        private var offset: UInt64 = 0
        private var partial = Data()
        public private(set) var lines = 0

        public init(path: String) { self.path = path }

        /// The complete lines added since the last call (a line still being written waits for its newline, unless
        /// `final`), with their 1-based numbers.
        public func read(final: Bool = false) -> [(number: Int, text: String)] {
            guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
            defer { try? handle.close() }
            try? handle.seek(toOffset: offset)
            let data = (try? handle.readToEnd()) ?? Data()
            offset += UInt64(data.count)
            partial.append(data)
            var out: [(Int, String)] = []
            while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                let line = partial[partial.startIndex..<newline]
                partial.removeSubrange(partial.startIndex...newline)
                lines += 1
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty { out.append((lines, text)) }
            }
            if final, !partial.isEmpty {
                lines += 1
                let text = String(decoding: partial, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                partial.removeAll()
                if !text.isEmpty { out.append((lines, text)) }
            }
            return out
        }
    }
}
