import Foundation
import Ledger
import Meters

extension MeterSet {
    /// The ledger's description of this host, each GPU named with its UUID so a run says which card it measured.
    public func ledgerHost(toolVersion: String) -> HostRecord {
        let gpus = meters.compactMap { $0 as? NVMLMeter }.flatMap { $0.gpus.map { "\($0.name) (\($0.uuid))" } }
        return HostRecord(
            hostname: host.hostname, cpuModel: host.cpuModel, cpuCores: host.logicalCPUs, memoryBytes: host.memoryBytes,
            kernel: host.kernel, gpus: gpus.joined(separator: "; "), toolVersion: toolVersion, bootID: LedgerClock.bootID())
    }
}
