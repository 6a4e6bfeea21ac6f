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
        public var matches: Bool { firstDifference == nil }
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
        let key = try ReportSignature.check(report)
        let rebuilt: SustainabilityReport
        // Rebuilt as the version that made it would word it (its version is part of the quoted sentence).
        let madeBy = report.generatedBy.hasPrefix("wattprint ") ? String(report.generatedBy.dropFirst("wattprint ".count)) : toolVersion
        do {
            rebuilt = try SustainabilityReportBuilder(ledger: ledger, carbon: carbon, toolVersion: madeBy).build(report.request)
        } catch let error as ReportError {
            throw ReportError(
                "the report's figures cannot be rebuilt from \(ledger.path): \(error.description)",
                fix: "pass --ledger with the ledger the report was made from")
        }
        func figures(_ r: SustainabilityReport) throws -> JSONValue {
            guard case var .object(o) = try JSONValue(encoding: r) else { return .null }
            for key in ["generatedBy", "verification", "ledger"] { o[key] = nil }
            return .object(o)
        }
        return Outcome(
            file: file, signedBy: key.rawRepresentation.base64EncodedString(),
            signedByThisHost: hostKey?.rawRepresentation == key.rawRepresentation,
            firstDifference: try figures(report).firstDifference(from: figures(rebuilt)))
    }
}
