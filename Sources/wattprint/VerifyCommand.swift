import ArgumentParser
import Foundation
import Ledger
import Reports
import Accounting

/// `wattprint verify`: recompute every hash chain, and every recorded result, from the raw rows.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute runs' hash chains and recorded results from their raw rows, and report any that do not match.",
        discussion: """
            Exit status 0 when every run checked is intact (interrupted runs are intact up to their last batch), \
            1 when any row, batch or seal does not match, or a run's recorded energy differs from its raw samples.

            Example:
              wattprint verify          # every run
              wattprint verify 3 7      # runs 3 and 7
            """)

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: "Run ids to check (default: all).") var runs: [Int64] = []
    @Option(help: "A JSON report from `wattprint report`: check its signature and recompute every figure from the ledger.")
    var report: String?
    @OptionGroup var output: OutputOptions

    /// `verify`'s exit status when any run does not match.
    static let mismatchExitCode: Int32 = 1

    func validate() throws {
        if let bad = runs.first(where: { $0 < 1 }) {
            throw ValidationError("'\(bad)' is not a run id: ids count from 1; pass numbers from `wattprint runs`, or none for every run")
        }
    }

    func run() throws {
        if let report { return try verifyReport(report) }
        let store = try ledger.open(create: false)
        let carbon = try CarbonTables.load()
        let ids: [Int64]
        do { ids = runs.isEmpty ? try store.runs().compactMap(\.id) : runs } catch let error as LedgerError {
            throw CLIError(error.description)
        }
        // Each run's chain and its recomputation from raw samples are independent: they run at once.
        let rows = try ids.map { id -> VerifyReport.Row in
            let box = RecomputationBox()
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { box.value = VerifyReport.Row.recompute(ledger: store, run: id, carbon: carbon) }
            let verification: RunVerification
            do { verification = try store.verify(run: id) } catch let error as LedgerError {
                group.wait()
                throw CLIError(error.description)
            }
            group.wait()
            var row = VerifyReport.Row(verification)
            if !row.isMismatch { row.apply(try box.value!.get()) }
            return row
        }
        try output.emit(VerifyReport.build(rows, path: store.path))
        if rows.contains(where: \.isMismatch) { throw ExitCode(Self.mismatchExitCode) }
    }
}

extension Verify {
    func verifyReport(_ file: String) throws {
        let store = try ledger.open(create: false)
        let outcome = try CLIError.wrapping {
            try ReportVerification.verify(
                file: file, ledger: store, carbon: try CarbonTables.load(), toolVersion: Wattprint.version,
                hostKey: try HostKey.load(create: false)?.publicKey)
        }
        var lines = [
            "report \(file): signature valid (Ed25519, key \(outcome.signedBy)\(outcome.signedByThisHost ? ", this host's" : ", NOT this host's key: made elsewhere"))"
        ]
        if let difference = outcome.firstDifference {
            lines.append("MISMATCH: the first figure that differs from the ledger's raw samples: \(difference)")
            if let other = outcome.otherLedger { lines.append(other) }
        } else if outcome.brokenChain == nil {
            lines.append("every figure matches its recomputation from \(store.path)")
        }
        if let broken = outcome.brokenChain {
            lines.append(
                "MISMATCH: \(broken), so figures rebuilt from it prove nothing\(outcome.firstDifference == nil ? " (they match the report)" : ""); `wattprint verify` lists every run that fails"
            )
        }
        try output.emit(Report(blocks: lines.map(Block.line), data: outcome))
        if !outcome.matches { throw ExitCode(Self.mismatchExitCode) }
    }
}

/// The recomputation a background queue hands back to `verify`.
private final class RecomputationBox: @unchecked Sendable {
    var value: Result<VerifyReport.Row.Recomputation, Error>?
}
