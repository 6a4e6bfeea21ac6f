import Accounting
import Carbon
import Crypto
import Foundation
import Ledger

/// `verify --report`: the signature, then every figure rebuilt from the ledger's raw samples and compared.
public enum ReportVerification {
    public struct Outcome: Codable, Sendable {
        public var file: String
        /// The signing key (base64) and whether it is this host's.
        public var signedBy: String
        public var signedByThisHost: Bool
        /// The first figure that differs from the ledger ("runs[0].kWh: 0.0123 ≠ 0.0124"), nil when all match.
        public var firstDifference: String?
        /// When a figure differs and a run of the report (one it recorded sealed) is not that run in the ledger (another
        /// seal, none, or no such run): which run, and where to look instead (the ledger the report names, or the run of
        /// this ledger with that seal); nil otherwise.
        public var otherLedger: String?
        /// The first of the report's runs whose rows no longer match their hash chain (`firstBrokenChain`): figures
        /// rebuilt from altered rows match a report made from them, so a match means nothing without this.
        public var brokenChain: String?
        public var matches: Bool { firstDifference == nil && brokenChain == nil }
    }

    /// The first of `runs` whose rows no longer match the hash chain they were recorded under, in a sentence naming the
    /// run, the ledger and where the chain breaks; nil when every chain holds (interrupted and still-recording runs hold
    /// up to their last batch).
    /// - Throws: `LedgerError` when the ledger cannot be read.
    public static func firstBrokenChain(runs: [Int64], ledger: Ledger) throws -> String? {
        // Each chain is independent and the ledger takes concurrent readers (up to GRDB's reader limit): the cores hash
        // runs at once.
        let results = ChainResults(count: runs.count)
        DispatchQueue.concurrentPerform(iterations: runs.count) { i in
            results.set(i, Result { try ledger.verify(run: runs[i]).mismatchDescription })
        }
        for (id, result) in zip(runs, results.values) {
            if let why = try result?.get() {
                return
                    "run \(id) of \(ledger.path) does not verify against its hash chain (\(why)): the ledger was changed after it was recorded"
            }
        }
        return nil
    }

    /// - Throws: `ReportError` for an unsigned, edited or malformed report; what rebuilding throws (an unknown run:
    ///   the report is from another ledger).
    public static func verify(
        file: String, ledger: Ledger, carbon: CarbonData, toolVersion: String, hostKey: Curve25519.Signing.PublicKey?
    ) throws -> Outcome {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ReportError("cannot read \(file)", fix: "pass the .json report `wattprint report` wrote")
        }
        let report = try SustainabilityJSON.read(data, path: file)
        // An edited report is still rebuilt, so the error can name the figure that differs.
        let (key, signatureMatches) = try ReportSignature.signer(of: report)
        var rebuilt: SustainabilityReport
        // Rebuilt as the version that made it would word it (its version is part of the quoted sentence).
        let madeBy = report.generatedBy.hasPrefix("wattprint ") ? String(report.generatedBy.dropFirst("wattprint ".count)) : toolVersion
        // A period report made without an end (before wattprint recorded it) covers the runs up to the last it lists:
        // runs recorded since must not make it fail.
        var request = report.request
        if request.kind == .period, request.until == nil, let last = report.runs.compactMap({ LedgerClock.parseUTC($0.startedAt) }).max() {
            request.until = LedgerClock.utcString(last.addingTimeInterval(0.0015))
        }
        // A run's seal (the head of its hash chain) names it across ledgers: another seal, or none, means the report
        // was made from another ledger, or from one since replaced at the same path.
        var otherLedger: String?
        let runs = try ledger.runs()
        let seals = Dictionary(runs.compactMap { r in r.id.map { ($0, r.sealHash?.hex) } }, uniquingKeysWith: { a, _ in a })
        if let run = report.runs.first(where: { $0.seal != nil && seals[$0.id] != .some($0.seal) }), let seal = run.seal {
            let here = seals[run.id].map { $0.map { "is sealed \($0.prefix(12))…" } ?? "has no seal" } ?? "is absent"
            let mine = "the report's run \(run.id) is sealed \(seal.prefix(12))…, and run \(run.id) of \(ledger.path) \(here)"
            if let same = runs.first(where: { $0.sealHash?.hex == seal })?.id {
                otherLedger = "\(mine); this ledger holds that run as run \(same) (merged from another ledger?)"
            } else if URL(fileURLWithPath: report.ledger).standardizedFileURL.path
                == URL(fileURLWithPath: ledger.path).standardizedFileURL.path
            {
                otherLedger =
                    "\(mine): the ledger at this path no longer holds the run the report was made from (replaced or rebuilt since)"
            } else {
                otherLedger = "\(mine): the report was made from \(report.ledger); pass --ledger \(report.ledger)"
            }
        }
        do {
            rebuilt = try SustainabilityReportBuilder(ledger: ledger, carbon: carbon, toolVersion: madeBy).build(
                request, schema: report.schema)
            if request != report.request {
                rebuilt.request = report.request
                rebuilt.title = report.title
            }
        } catch let error as ReportError {
            throw ReportError(
                "the report's figures cannot be rebuilt from \(ledger.path): \(error.description)",
                fix: "pass --ledger with the ledger the report was made from (it names \(report.ledger))")
        }
        func figures(_ r: SustainabilityReport) throws -> JSONValue {
            guard case var .object(o) = try JSONValue(encoding: r) else { return .null }
            for key in ["generatedBy", "verification", "ledger"] { o[key] = nil }
            return .object(o)
        }
        let difference = try figures(report).firstDifference(from: figures(rebuilt))
        guard signatureMatches else {
            throw ReportError(
                "the report's signature does not match its contents: it was edited after signing; "
                    + (difference.map { "the first figure that differs from the ledger's raw samples: \($0)" }
                        ?? "its figures still match the ledger's raw samples, so the edit is elsewhere"),
                fix: "make it again with `wattprint report`")
        }
        return Outcome(
            file: file, signedBy: key.rawRepresentation.base64EncodedString(),
            signedByThisHost: hostKey?.rawRepresentation == key.rawRepresentation, firstDifference: difference,
            otherLedger: difference == nil ? nil : otherLedger,
            brokenChain: try firstBrokenChain(runs: rebuilt.runs.map(\.id), ledger: ledger))
    }
}

/// Each run's chain check, filled in by concurrent workers, one slot each.
private final class ChainResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<String?, Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ result: Result<String?, Error>) { lock.withLock { slots[i] = result } }
    var values: [Result<String?, Error>?] { lock.withLock { slots } }
}
