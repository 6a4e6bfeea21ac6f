import Foundation
import Ledger
import Meters

/// Sends the sampler's readings to a run in the ledger.
final class LedgerSink: SampleSink {
    let recorder: RunRecorder

    init(recorder: RunRecorder) { self.recorder = recorder }

    func register(_ channels: [MeterChannel]) -> [Int] {
        channels.map { c in
            recorder.addChannel(ChannelRecord(index: 0, device: c.device, domain: c.domain, kind: c.kind.rawValue,
                                              role: c.role.rawValue, unit: c.unit, source: c.source,
                                              mode: c.mode == .measured ? .measured : .estimated,
                                              resolution: c.resolution, wrapRange: c.wrapRange, uncertainty: c.uncertainty))
        }
    }

    func record(channel: Int, tNs: Int64, value: Double) {
        recorder.record(SampleRecord(channel: channel, tNs: tNs, value: value))
    }

    func event(tNs: Int64, kind: String, payload: String) {
        recorder.record(EventRecord(tNs: tNs, kind: kind, payload: payload))
    }

    func flush() throws { try recorder.flush() }
}

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
