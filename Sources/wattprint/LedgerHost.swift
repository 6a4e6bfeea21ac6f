import Foundation
import Ledger
import Meters

extension HostDescription {
    /// The ledger's description of this host.
    func ledgerHost(gpus: [String]) -> HostRecord {
        HostRecord(hostname: hostname, cpuModel: cpuModel, cpuCores: logicalCPUs, memoryBytes: memoryBytes, kernel: kernel,
             gpus: gpus.joined(separator: "; "), toolVersion: Wattprint.version, bootID: LedgerClock.bootID())
    }
}

extension MeterSet {
    /// The ledger's description of this host, each GPU named with its UUID so a run says which card it measured.
    var ledgerHost: HostRecord {
        host.ledgerHost(gpus: meters.compactMap { $0 as? NVMLMeter }.flatMap { $0.gpus.map { "\($0.name) (\($0.uuid))" } })
    }
}
