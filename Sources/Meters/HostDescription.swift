import Foundation

/// The machine as `/proc` and `uname` describe it: what the ledger records with every run.
public struct HostDescription: Sendable, Codable, Equatable {
    public var hostname: String
    public var cpuModel: String
    /// Logical CPUs visible to this system.
    public var logicalCPUs: Int
    public var sockets: Int
    /// True when `/proc/cpuinfo` shows the `hypervisor` flag: a VM sees a share of a CPU, not all of it.
    public var isVirtualMachine: Bool
    public var memoryBytes: Int64
    public var kernel: String

    public static func current(paths: SystemPaths) -> HostDescription {
        let cpuinfo = (try? KernelFile.text(paths.proc("cpuinfo"))) ?? ""
        var model = "unknown CPU", logical = 0
        var sockets = Set<String>()
        var hypervisor = false
        for line in cpuinfo.split(separator: "\n") {
            let kv = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "model name": model = kv[1]
            case "processor": logical += 1
            case "physical id": sockets.insert(kv[1])
            case "flags": if kv[1].split(separator: " ").contains("hypervisor") { hypervisor = true }
            default: break
            }
        }
        let meminfo = (try? KernelFile.text(paths.proc("meminfo"))) ?? ""
        let memKB =
            meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int64($0) } } ?? 0
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return HostDescription(
            hostname: ProcessInfo.processInfo.hostName, cpuModel: model,
            logicalCPUs: max(logical, 1), sockets: max(sockets.count, 1),
            isVirtualMachine: hypervisor, memoryBytes: memKB * 1024, kernel: release)
    }
}
