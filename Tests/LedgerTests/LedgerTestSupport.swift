import Foundation
import TestSupport
import XCTest
@testable import Ledger

/// A fresh folder per test, removed when the test process ends.
func temporaryDirectory(_ name: String = #function) throws -> URL { try TestScratch.folder(name) }

let testHost = HostRecord(
    hostname: ProcessInfo.processInfo.hostName, cpuModel: "Test CPU", cpuCores: 2,
    memoryBytes: 1 << 30, kernel: "6.1.0-test", gpus: "", toolVersion: "test",
    bootID: LedgerClock.bootID())

func energyChannel(_ device: String = "package-0") -> ChannelRecord {
    ChannelRecord(
        index: 0, device: device, domain: "package", kind: .energy, role: .total, unit: "uJ",
        source: "/sys/class/powercap/intel-rapl:0/energy_uj", mode: .measured,
        resolution: 1, wrapRange: 262_143_328_850, uncertainty: 0.05)
}

/// Records a small complete run: one channel, `batches` batches of `perBatch` samples and an event each.
@discardableResult
func recordRun(_ ledger: Ledger, batches: Int = 3, perBatch: Int = 5, close: Bool = true) throws -> RunRecorder {
    let recorder = try ledger.beginRun(host: testHost, command: "test", region: "FR")
    let ch = recorder.addChannel(energyChannel())
    var t: Int64 = 0
    for b in 0..<batches {
        for _ in 0..<perBatch {
            t += 100_000_000
            recorder.record(SampleRecord(channel: ch, tNs: t, value: Double(t / 1000)))
        }
        recorder.record(EventRecord(tNs: t, kind: "step", payload: "{\"step\":\(b)}"))
        try recorder.flush()
    }
    if close { try recorder.close(status: .complete, exitCode: 0) }
    return recorder
}

/// Runs the sqlite3 command-line shell on a database, as an attacker (or a curious user) would.
func sqlite3(_ path: String, _ sql: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sqlite3", path, sql]
    try p.run()
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, "sqlite3 failed on: \(sql)")
}
