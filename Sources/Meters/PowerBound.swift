/// The most power a device can plausibly draw, in watts. A reading above it, or a counter step implying more, is a
/// failed read (integration rules version 3); the bound also sets how late a read of a wrapping counter may be
/// before the number of wraps in between is unknowable.
///
/// Each channel carries its own bound (`MeterChannel.maxWatts`), recorded in the ledger with the channel so a
/// recomputation judges the readings the same way.
public enum PowerBound {
    /// A CPU package and its core and uncore subdomains: twice the highest TDP of a shipping server CPU (500 W,
    /// AMD EPYC 9965 and Intel Xeon 6980P), leaving room for short-term limits (PL2) above TDP.
    public static let cpuPackage = 1000.0
    /// DRAM of one socket: 12 channels × 2 DIMMs at about 10 W each is 240 W; 400 W with margin.
    public static let dram = 400.0
    /// A whole platform (RAPL psys, ACPI power_meter, a power supply): a 4-socket server's supplies stay under 3 kW.
    public static let platform = 3000.0
    /// A GPU may briefly exceed its power-management limit; readings up to this multiple of it are plausible.
    public static let gpuLimitMargin = 1.5
    /// A GPU whose limit NVML does not report: 1.5 × the highest board power shipping (NVIDIA B200, 1000 W).
    public static let gpuWithoutLimit = 1500.0
    /// Runs recorded before per-channel bounds (integration rules 1 and 2) were judged against this one bound.
    public static let legacy = 1500.0

    /// The bound for a GPU from its power-management limit, if NVML reports one.
    public static func gpu(limitWatts: Double?) -> Double {
        guard let limit = limitWatts, limit > 0 else { return gpuWithoutLimit }
        return limit * gpuLimitMargin
    }
}
