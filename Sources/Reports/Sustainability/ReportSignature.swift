import Crypto
import Foundation

/// Signs and checks a report: Ed25519 (swift-crypto) over the report's canonical JSON — sorted keys, the signature and
/// public key left out — so any edit to any figure, label or note breaks the signature.
public enum ReportSignature {
    /// The bytes that are signed.
    /// - Throws: when the report cannot be encoded.
    public static func canonical(_ report: SustainabilityReport) throws -> Data {
        var unsigned = report
        unsigned.verification.publicKey = nil
        unsigned.verification.signature = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(unsigned)
    }

    public static func sign(_ report: SustainabilityReport, with key: Curve25519.Signing.PrivateKey) throws -> SustainabilityReport {
        var signed = report
        signed.verification.publicKey = key.publicKey.rawRepresentation.base64EncodedString()
        signed.verification.signature = try key.signature(for: canonical(report)).base64EncodedString()
        return signed
    }

    /// The key that signed the report.
    /// - Throws: `ReportError` for an unsigned report, a malformed key or signature, or a signature that does not match.
    public static func check(_ report: SustainabilityReport) throws -> Curve25519.Signing.PublicKey {
        let (key, matches) = try signer(of: report)
        guard matches else {
            throw ReportError(
                "the report's signature does not match its contents: it was edited after signing",
                fix: "make it again with `wattprint report`")
        }
        return key
    }

    /// The key that signed `report` and whether the signature matches its contents.
    /// - Throws: `ReportError` for an unsigned report or a damaged key or signature.
    public static func signer(of report: SustainabilityReport) throws -> (key: Curve25519.Signing.PublicKey, matches: Bool) {
        guard let keyText = report.verification.publicKey, let signatureText = report.verification.signature else {
            throw ReportError("the report is not signed", fix: "make it with `wattprint report`, which signs with this host's key")
        }
        guard let keyData = Data(base64Encoded: keyText), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            let signature = Data(base64Encoded: signatureText)
        else {
            throw ReportError(
                "the report's public key or signature is not valid base64 Ed25519", fix: "the file was damaged; make it again")
        }
        return (key, key.isValidSignature(signature, for: try canonical(report)))
    }
}

/// The JSON format: the report encoded with sorted keys, non-finite numbers as strings.
public enum SustainabilityJSON {
    public static func render(_ r: SustainabilityReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(r), as: UTF8.self) + "\n"
    }

    /// - Throws: `ReportError` naming what is wrong with the file.
    public static func read(_ data: Data, path: String) throws -> SustainabilityReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let report = try decoder.decode(SustainabilityReport.self, from: data)
            let readable = SustainabilityReport.readableSchemas
            guard readable.contains(report.schema) else {
                throw ReportError(
                    "\(path) is a report of schema \(report.schema); this wattprint reads schemas \(readable.lowerBound) to \(readable.upperBound)",
                    fix: "use the wattprint that made it")
            }
            return report
        } catch let error as ReportError { throw error } catch {
            // Markdown, HTML and CSV carry no signature of their own: the JSON written beside them holds it.
            let stem = (path as NSString).deletingPathExtension
            let written = ["md", "html", "csv"].contains((path as NSString).pathExtension.lowercased())
            throw ReportError(
                written
                    ? "\(path) is not the signed report: Markdown, HTML and CSV are renderings of the JSON report written beside them"
                    : "\(path) is not a wattprint JSON report (it does not parse as one)",
                fix: written ? "verify \(stem).json, and read the figures from it" : "pass the .json file `wattprint report` wrote")
        }
    }
}
