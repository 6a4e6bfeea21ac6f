import Foundation

/// The estimate used where no counter can be read: `P = P_idle + (P_max − P_idle) × u`.
///
/// `P_max` is the TDP share of the CPUs this system sees; `P_idle` is a fixed fraction of it. Both come with the
/// source of their numbers, and the estimate carries a band that reports propagate.
public struct CPUPowerModel: Sendable, Codable, Equatable {
    public var maxWatts: Double
    public var idleWatts: Double
    /// Relative half-width of the 90 % band.
    public var uncertainty: Double
    /// How the numbers were chosen, for reports.
    public var basis: String

    /// Cloud Carbon Footprint's AWS coefficients (SPECpower-derived): 0.74 W per vCPU at idle, 3.5 W at full load
    /// (cloud-carbon-footprint, METHODOLOGY.md, Appendix I). Used per logical CPU when the model is unknown, and
    /// their ratio (0.21) as the idle share of TDP when it is known.
    public static let ccfIdleWattsPerVCPU = 0.74
    public static let ccfMaxWattsPerVCPU = 3.5
    public static var idleFraction: Double { ccfIdleWattsPerVCPU / ccfMaxWattsPerVCPU }
    /// TDP is a thermal design figure, not a power reading: sustained package power spans roughly 0.7–1.2 × TDP,
    /// so a known model gets ±30 %. An unknown model, priced per vCPU from a fleet average, gets ±50 %.
    public static let knownModelBand = 0.30
    public static let unknownModelBand = 0.50

    public func watts(utilisation u: Double) -> Double {
        idleWatts + (maxWatts - idleWatts) * min(max(u, 0), 1)
    }

    public static func forHost(_ host: HostDescription, table: CPUTDPTable = .bundled) -> CPUPowerModel {
        if let entry = table.lookup(host.cpuModel) {
            let share: Double
            let how: String
            if host.isVirtualMachine, let threads = entry.threads, threads > 0 {
                share = min(Double(host.logicalCPUs) / Double(threads), Double(host.sockets))
                how = "\(host.logicalCPUs) of \(threads) threads (VM share)"
            } else if host.isVirtualMachine {
                let maxW = ccfMaxWattsPerVCPU * Double(host.logicalCPUs)
                return CPUPowerModel(
                    maxWatts: maxW, idleWatts: ccfIdleWattsPerVCPU * Double(host.logicalCPUs),
                    uncertainty: unknownModelBand,
                    basis:
                        "\(entry.model) known (TDP \(Int(entry.tdpWatts)) W, \(entry.source)) but its thread count is not, so this VM's \(host.logicalCPUs) vCPUs are priced at CCF's 0.74–3.5 W per vCPU"
                )
            } else {
                share = Double(host.sockets)
                how = "\(host.sockets) socket(s)"
            }
            let maxW = entry.tdpWatts * share
            return CPUPowerModel(
                maxWatts: maxW, idleWatts: maxW * idleFraction, uncertainty: knownModelBand,
                basis: "TDP \(Int(entry.tdpWatts)) W of \(entry.model) (\(entry.source)) × \(how); idle = 0.21 × max (CCF AWS coefficients)"
            )
        }
        let n = Double(host.logicalCPUs)
        return CPUPowerModel(
            maxWatts: ccfMaxWattsPerVCPU * n, idleWatts: ccfIdleWattsPerVCPU * n, uncertainty: unknownModelBand,
            basis:
                "CPU model \"\(host.cpuModel)\" not in the TDP table: default of 0.74 W idle to 3.5 W full per logical CPU (Cloud Carbon Footprint AWS coefficients) for \(host.logicalCPUs) CPUs, ±50 %"
        )
    }
}

/// Memory power estimate: 0.392 W per GB in use (Cloud Carbon Footprint, 0.000392 kWh per GB-hour, METHODOLOGY.md
/// Appendix I). DRAM power depends on technology and activity far more than on size, hence a ±50 % band.
public enum MemoryPowerModel {
    public static let wattsPerGB = 0.392
    public static let uncertainty = 0.50
}
