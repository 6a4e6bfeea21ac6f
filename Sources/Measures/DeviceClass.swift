/// What kind of device a channel measures, so attribution and the fault rules find channels by what they are, not
/// by the spelling of their device names.
public enum DeviceClass: String, Codable, Sendable, CaseIterable {
    /// A CPU package (socket, or die where RAPL is per die), whichever interface reads it.
    case cpuPackage = "cpu-package"
    /// Cores or uncore of a package: inside the package's energy.
    case cpuSubdomain = "cpu-subdomain"
    case dram
    case gpu
    /// A GPU inside the CPU package (RAPL `energy-gpu`).
    case integratedGPU = "integrated-gpu"
    /// The whole platform: RAPL psys, ACPI power_meter, a power supply.
    case platform
    /// The host's CPUs as the estimation model or `/proc/stat` sees them.
    case hostCPU = "host-cpu"
    /// The host's memory as the estimation model sees it.
    case hostMemory = "host-memory"
    /// The measured program's process tree (its CPU time).
    case processTree = "process-tree"
    /// Anything else a meter reads (a hwmon rail, a fan, a board sensor).
    case other

    /// The class of a channel recorded before classes were stored, from its device name.
    public static func inferred(fromDevice device: String, kind: ChannelKind) -> DeviceClass {
        if device.hasPrefix("cpu-package") { return .cpuPackage }
        if device.hasPrefix("cpu-cores") || device.hasPrefix("cpu-uncore") { return .cpuSubdomain }
        if device.hasPrefix("dram") { return .dram }
        if device.hasPrefix("gpu-") { return .gpu }
        if device.hasPrefix("igpu") { return .integratedGPU }
        if device.hasPrefix("platform") { return .platform }
        if device == "host-cpu" { return .hostCPU }
        if device == "host-memory" { return .hostMemory }
        if device.hasPrefix("process-tree") { return .processTree }
        return .other
    }
}
