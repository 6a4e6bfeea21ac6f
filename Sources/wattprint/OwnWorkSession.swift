import Accounting
import Carbon
import Foundation
import Ledger
import Reports

extension MeasuredSession {
    /// A session measuring work wattprint does itself (a benchmark, a training job), recorded as a ledger run like any
    /// wrapped command, attributed to wattprint's own process tree, sampling from now.
    static func ownWork(ledger options: LedgerOptions, region: RegionResolution, interval: Double = 0.1) throws -> MeasuredSession {
        try CarbonTables.checkRegion(region, data: try CarbonTables.load())
        let store = try options.open(create: true)
        let cloud = region.query.firstIndex(of: ":").flatMap { SiteType.cloudProvider(String(region.query[..<$0])) }
        let session = try CLIError.wrapping {
            try MeasuredSession(
                ledger: store, command: "wattprint " + CommandLine.arguments.dropFirst().joined(separator: " "),
                settings: FootprintSettings(region: region, site: cloud, pue: nil), processRoot: getpid(),
                configuration: .init(interval: interval, toolVersion: Wattprint.version))
        }
        FileHandle.standardError.write(Data(RunReport.notices(session.start()).utf8))
        return session
    }
}
