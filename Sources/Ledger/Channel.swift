import Foundation
import GRDB
import Measures

/// What a meter reads, as recorded in a run: one energy counter, power gauge or estimate.
public struct ChannelRecord: Codable, Equatable, Sendable {
    /// Channel number within its run (0, 1, …); samples refer to it.
    public var index: Int
    public var device: String
    public var domain: String
    /// How values become energy.
    public var kind: ChannelKind
    /// Whether it adds into the run's energy, overlaps a channel that does, or is context.
    public var role: ChannelRole
    public var unit: String
    public var source: String
    public var mode: MeasurementMode
    public var resolution: Double?
    public var wrapRange: Double?
    /// Relative half-width of the channel's uncertainty band (0.05 = ±5 %).
    public var uncertainty: Double
    /// The meter's stable key for the channel (`rapl:intel-rapl:0`); nil in runs recorded before schema v2.
    public var key: String?
    /// What kind of device it is; nil in runs recorded before schema v2.
    public var deviceClass: DeviceClass?
    /// The most power the device can plausibly draw, W, against which readings were judged; nil before schema v2.
    public var maxWatts: Double?

    public init(
        index: Int, device: String, domain: String, kind: ChannelKind, role: ChannelRole, unit: String, source: String,
        mode: MeasurementMode, resolution: Double? = nil, wrapRange: Double? = nil, uncertainty: Double,
        key: String? = nil, deviceClass: DeviceClass? = nil, maxWatts: Double? = nil
    ) {
        self.index = index; self.device = device; self.domain = domain; self.kind = kind; self.role = role; self.unit = unit
        self.source = source; self.mode = mode; self.resolution = resolution; self.wrapRange = wrapRange
        self.uncertainty = uncertainty; self.key = key; self.deviceClass = deviceClass; self.maxWatts = maxWatts
    }

    var canonical: String {
        Self.canonical(
            index: index, device: device, domain: domain, kind: kind.rawValue, role: role.rawValue, unit: unit,
            source: source, mode: mode.rawValue, resolution: resolution, wrapRange: wrapRange, uncertainty: uncertainty,
            key: key, deviceClass: deviceClass?.rawValue, maxWatts: maxWatts)
    }

    /// The hashed text of a channel row from its stored values, whatever they are (`verify` hashes rows a newer
    /// wattprint wrote, whose kinds this build may not know). Rows recorded before schema v2 hash as they always
    /// did; rows with the v2 fields hash them too.
    static func canonical(
        index: Int, device: String, domain: String, kind: String, role: String, unit: String, source: String,
        mode: String, resolution: Double?, wrapRange: Double?, uncertainty: Double, key: String?,
        deviceClass: String?, maxWatts: Double?
    ) -> String {
        let fields = [
            "\(index)", device, domain, kind, role, unit, source, mode,
            Canonical.double(resolution), Canonical.double(wrapRange), Canonical.double(uncertainty),
        ]
        guard key != nil || deviceClass != nil || maxWatts != nil else { return Canonical.record("C", fields) }
        return Canonical.record("C2", fields + [key ?? "-", deviceClass ?? "-", Canonical.double(maxWatts)])
    }
}

/// One reading of one channel: a monotonic time and a raw cumulative value or a power.
public struct SampleRecord: Codable, Equatable, Sendable {
    public var channel: Int
    public var tNs: Int64
    public var value: Double
    public init(channel: Int, tNs: Int64, value: Double) { self.channel = channel; self.tNs = tNs; self.value = value }
    /// `Canonical.record("S", [channel, tNs, double(value)])`, built without the intermediate arrays (a run has millions).
    var canonical: String {
        let c = String(channel), t = String(tNs), v = String(value.bitPattern, radix: 16)
        var out = "S|"
        out.reserveCapacity(12 + c.utf8.count + t.utf8.count + v.utf8.count)
        out += String(c.utf8.count); out += ":"; out += c
        out += "|"; out += String(t.utf8.count); out += ":"; out += t
        out += "|"; out += String(v.utf8.count); out += ":"; out += v
        return out
    }
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
