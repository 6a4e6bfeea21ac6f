import Foundation
import GRDB

/// What a meter reads, as recorded in a run: one energy counter, power gauge or estimate.
public struct ChannelRecord: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable, CaseIterable { case measured, estimated }

    /// Channel number within its run (0, 1, …); samples refer to it.
    public var index: Int
    public var device: String
    public var domain: String
    /// `energy` (cumulative counter), `power` (gauge) or `estimate` (modelled power).
    public var kind: String
    /// `total` (adds into the run's energy), `detail` (overlaps a total channel) or `context`.
    public var role: String
    public var unit: String
    public var source: String
    public var mode: Mode
    public var resolution: Double?
    public var wrapRange: Double?
    /// Relative half-width of the channel's uncertainty band (0.05 = ±5 %).
    public var uncertainty: Double

    public init(index: Int, device: String, domain: String, kind: String, role: String, unit: String, source: String,
                mode: Mode, resolution: Double? = nil, wrapRange: Double? = nil, uncertainty: Double) {
        self.index = index; self.device = device; self.domain = domain; self.kind = kind; self.role = role; self.unit = unit
        self.source = source; self.mode = mode; self.resolution = resolution; self.wrapRange = wrapRange
        self.uncertainty = uncertainty
    }

    var canonical: String {
        Canonical.record("C", ["\(index)", device, domain, kind, role, unit, source, mode.rawValue,
                               Canonical.double(resolution), Canonical.double(wrapRange), Canonical.double(uncertainty)])
    }
}

/// One reading of one channel: a monotonic time and a raw cumulative value or a power.
public struct SampleRecord: Codable, Equatable, Sendable {
    public var channel: Int
    public var tNs: Int64
    public var value: Double
    public init(channel: Int, tNs: Int64, value: Double) { self.channel = channel; self.tNs = tNs; self.value = value }
    var canonical: String { Canonical.record("S", ["\(channel)", "\(tNs)", Canonical.double(value)]) }
}

/// Something that happened during a run: a phase began or ended, a step finished, tokens were produced.
public struct EventRecord: Codable, Equatable, Sendable {
    public var tNs: Int64
    public var kind: String
    /// JSON text; its bytes are hashed as written.
    public var payload: String
    public init(tNs: Int64, kind: String, payload: String = "{}") { self.tNs = tNs; self.kind = kind; self.payload = payload }
    var canonical: String { Canonical.record("E", ["\(tNs)", kind, payload]) }
}

enum Canonical {
    /// A record as hashed: a tag, then each field prefixed by its UTF-8 length, so no text can move across a field
    /// boundary (`a|b` + `c` and `a` + `b|c` hash differently).
    static func record(_ tag: String, _ fields: [String]) -> String {
        tag + fields.map { "|\($0.utf8.count):\($0)" }.joined()
    }

    /// Doubles are hashed by their exact bit pattern, so no formatting choice can hide a change.
    static func double(_ v: Double?) -> String {
        guard let v else { return "-" }
        return String(v.bitPattern, radix: 16)
    }
}
