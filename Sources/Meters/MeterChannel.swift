import Foundation
import Measures

/// One thing a meter reads.
public struct MeterChannel: Sendable, Codable, Equatable {
    /// Stable key within a host, e.g. `rapl:package-0`, `nvml:gpu-0`.
    public var key: String
    /// What is measured: `cpu-package-0`, `dram-0`, `platform`, `gpu-0`, `host-cpu`.
    public var device: String
    /// The meter's own name for it: `package`, `dram`, `psys`, `power1`, …
    public var domain: String
    public var kind: ChannelKind
    /// `uJ`, `mJ`, `J`, `W`, `s`, `C`, `%`.
    public var unit: String
    /// Smallest step of the value, in `unit` (nil when unknown).
    public var resolution: Double?
    /// The counter wraps to 0 after this value (in `unit`); nil for 64-bit counters that never wrap in practice.
    public var wrapRange: Double?
    /// The file or API the value comes from.
    public var source: String
    public var mode: MeasurementMode
    public var role: ChannelRole
    /// Relative half-width of the 90 % band of this channel's energy (0.05 = ±5 %), with `uncertaintyNote` saying why.
    public var uncertainty: Double
    public var uncertaintyNote: String
    /// What kind of device this is, whatever its name says.
    public var deviceClass: DeviceClass
    /// The most power the device can plausibly draw, W (`PowerBound`): readings implying more are failed reads.
    public var maxWatts: Double

    public init(
        key: String, device: String, domain: String, kind: ChannelKind, unit: String, resolution: Double? = nil,
        wrapRange: Double? = nil, source: String, mode: MeasurementMode, role: ChannelRole,
        uncertainty: Double, uncertaintyNote: String, deviceClass: DeviceClass, maxWatts: Double
    ) {
        self.key = key; self.device = device; self.domain = domain; self.kind = kind; self.unit = unit
        self.resolution = resolution; self.wrapRange = wrapRange; self.source = source; self.mode = mode
        self.role = role; self.uncertainty = uncertainty; self.uncertaintyNote = uncertaintyNote
        self.deviceClass = deviceClass; self.maxWatts = maxWatts
    }

    /// The longest time between reads in which this counter cannot wrap twice, at its device's bound (nil when it
    /// never wraps). A powercap zone without `max_energy_range_uj` is bounded as a 32-bit microjoule counter.
    public var wrapBoundSeconds: Double? {
        guard kind == .energy, let range = wrapRange ?? (key.hasPrefix("rapl:") ? Double(UInt32.max) : nil) else { return nil }
        return range * toSI / maxWatts
    }

    /// Multiplier from `unit` to joules (energy), watts (power) or seconds; 1 for context units. Meters only
    /// create channels in units `Units` knows (tested), so the fallback is never taken.
    public var toSI: Double { Units.factor(unit) ?? 1 }
}
