import CSensors
import Foundation
import Measures

/// Reads hwmon power, energy and temperature through libsensors (lm-sensors).
///
/// libsensors finds chips under the real `/sys/class/hwmon` (it does not honour `WATTPRINT_SYSFS_ROOT`), scales
/// values to SI (W, J, °C) and applies `/etc/sensors3.conf`. Energy inputs (amd_energy, Ampere Altra, Intel Xe)
/// are 64-bit counters; power inputs are gauges. ACPI `power_meter` is the whole platform, so it always overlaps the
/// CPU and GPU meters and is shown as detail.
public final class HwmonSensorsMeter: Meter {
    public let name = "hwmon"
    public private(set) var channels: [MeterChannel] = []
    public private(set) var blocked: [BlockedChannel] = []
    public private(set) var decisions: [MeterDecision] = []
    /// Why libsensors could not start, if it could not.
    public private(set) var initError: String?
    private var readers: [(chip: UnsafePointer<sensors_chip_name>, subfeature: Int32, isContext: Bool)] = []

    /// Power readings of hwmon drivers vary by driver; ±10 % is our documented band where the driver states none.
    static let uncertainty = 0.10

    private static let lock = NSLock()
    nonisolated(unsafe) private static var initialised = false

    /// - Parameter countsAsCPU: whether CPU energy drivers (amd_energy, zenpower) form the CPU total, i.e. no RAPL meter does.
    public init(countsAsCPU: Bool) {
        Self.lock.lock(); defer { Self.lock.unlock() }
        if !Self.initialised {
            let rc = sensors_init(nil)
            if rc != 0 {
                initError = "libsensors could not start: \(String(cString: sensors_strerror(rc)))"
                return
            }
            Self.initialised = true
        }
        var chipNr: Int32 = 0
        var instances: [String: Int] = [:]
        while let chip = sensors_get_detected_chips(nil, &chipNr) {
            let chipName = Self.name(of: chip)
            let driver = chip.pointee.prefix.map { String(cString: $0) } ?? chipName
            let path = chip.pointee.path.map { String(cString: $0) } ?? "hwmon"
            // A CPU energy driver registers one chip per socket, in socket order.
            let instance = instances[driver, default: 0]
            instances[driver] = instance + 1
            var featureNr: Int32 = 0
            while let feature = sensors_get_features(chip, &featureNr) {
                let type = feature.pointee.type
                let featureName = String(cString: feature.pointee.name)
                let label =
                    sensors_get_label(chip, feature).map { p -> String in
                        defer { free(p) }; return String(cString: p)
                    } ?? featureName
                let wanted: [(sensors_subfeature_type, ChannelKind, String)]
                switch type {
                case SENSORS_FEATURE_ENERGY: wanted = [(SENSORS_SUBFEATURE_ENERGY_INPUT, .energy, "J")]
                case SENSORS_FEATURE_POWER:
                    wanted = [(SENSORS_SUBFEATURE_POWER_INPUT, .power, "W"), (SENSORS_SUBFEATURE_POWER_AVERAGE, .power, "W")]
                case SENSORS_FEATURE_TEMP: wanted = [(SENSORS_SUBFEATURE_TEMP_INPUT, .context, "C")]
                default: continue
                }
                // A power or energy feature with no input to read (only a cap or an alarm) is said, not dropped.
                if channelKind(of: type) != .context, !wanted.contains(where: { sensors_get_subfeature(chip, feature, $0.0) != nil }) {
                    decisions.append(
                        MeterDecision(
                            kind: .skipped, subject: "\(path)/\(featureName)",
                            reason: "\(chipName) \(label) has no input or average reading (only limits or alarms)"))
                    continue
                }
                for (subType, kind, unit) in wanted {
                    guard let sub = sensors_get_subfeature(chip, feature, subType) else { continue }
                    let subName = String(cString: sub.pointee.name)
                    let source = "libsensors \(chipName) \(subName) (\(path)/\(subName))"
                    var probe = 0.0
                    let rc = sensors_get_value(chip, sub.pointee.number, &probe)
                    if rc != 0 {
                        blocked.append(Self.blocked(device: "\(driver):\(label)", file: "\(path)/\(subName)", source: source, error: rc))
                        continue
                    }
                    // amd_energy lists per-core counters (Ecore000…) beside the socket's (Esocket0): only sockets add up.
                    let isCPUDriver = ["amd_energy", "zenpower"].contains(driver)
                    let isSocket = isCPUDriver && (driver == "zenpower" || label.hasPrefix("Esocket"))
                    let role: ChannelRole
                    if kind == .context { role = .context } else if countsAsCPU && isSocket { role = .total } else { role = .detail }
                    let device: String
                    if isSocket && driver == "amd_energy", let socket = Int(label.dropFirst("Esocket".count)) {
                        device = "cpu-package-\(socket) (amd_energy)"
                    } else if isSocket {
                        device = "cpu-package-\(instance) (\(driver) \(label))"
                    } else {
                        device = "\(driver):\(label)"
                    }
                    readers.append((chip, sub.pointee.number, kind == .context))
                    let platform = driver == "power_meter" || driver.hasPrefix("acpi")
                    channels.append(
                        MeterChannel(
                            key: "hwmon:\(chipName):\(subName)", device: device, domain: subName, kind: kind, unit: unit,
                            resolution: nil, wrapRange: nil, source: source, mode: .measured, role: role,
                            uncertainty: kind == .context ? 0 : Self.uncertainty,
                            uncertaintyNote: kind == .context ? "context only" : "hwmon driver reading; ±10 % documented default band",
                            deviceClass: isSocket ? .cpuPackage : platform ? .platform : .other,
                            maxWatts: isSocket ? PowerBound.cpuPackage : PowerBound.platform))
                    break
                }
            }
        }
    }

    private func channelKind(of type: sensors_feature_type) -> ChannelKind {
        switch type {
        case SENSORS_FEATURE_ENERGY: return .energy
        case SENSORS_FEATURE_POWER: return .power
        default: return .context
        }
    }

    /// A reading libsensors could not take, and why: amd_energy's counters are root-only since the Platypus
    /// fix (CVE-2020-8694), so permission is the usual reason, and a udev rule the least-privilege fix.
    static func blocked(device: String, file: String, source: String, error: Int32) -> BlockedChannel {
        let why = String(cString: sensors_strerror(error))
        guard access(file, R_OK) != 0 && errno == EACCES else {
            return BlockedChannel(device: device, source: source, reason: "libsensors could not read it: \(why)", fixes: [])
        }
        let name = (file as NSString).lastPathComponent
        return BlockedChannel(
            device: device, source: source, reason: "\(file) is not readable by this user",
            fixes: [
                "udev rule giving one group read access: SUBSYSTEM==\"hwmon\", ACTION==\"add\", RUN+=\"/bin/sh -c 'chgrp wattprint /sys%p/\(name) && chmod g+r /sys%p/\(name)'\" in /etc/udev/rules.d/90-wattprint-hwmon.rules, then add yourself to group wattprint"
            ])
    }

    static func name(of chip: UnsafePointer<sensors_chip_name>) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = sensors_snprintf_chip_name(&buffer, buffer.count, chip)
        return n > 0 ? String(cString: buffer) : "unknown-chip"
    }

    public func read(into values: inout [Double?], at offset: Int) { read(into: &values, at: offset, context: true) }

    public func read(into values: inout [Double?], at offset: Int, context: Bool) {
        for (i, r) in readers.enumerated() where context || !r.isContext {
            var v = 0.0
            values[offset + i] = sensors_get_value(r.chip, r.subfeature, &v) == 0 ? v : nil
        }
    }
}
