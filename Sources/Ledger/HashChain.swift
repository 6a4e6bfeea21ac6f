import Crypto
import Foundation

/// The tamper-evidence rules, in one place so the writer and `verify` cannot drift apart.
///
/// - Each row's hash is SHA-256 of its canonical text.
/// - A run's genesis hash is SHA-256 of its header (run, host).
/// - Batch n's hash is SHA-256(previous hash ‖ run id ‖ n ‖ row count ‖ row hashes in row order);
///   batch 0's previous hash is the genesis hash.
/// - The seal is SHA-256(last batch hash ‖ "seal" ‖ status ‖ end time ‖ exit code).
public enum HashChain {
    static func rowHash(_ canonical: String) -> Data {
        Data(SHA256.hash(data: Data(canonical.utf8)))
    }

    static func genesis(_ canonical: String) -> Data {
        Data(SHA256.hash(data: Data(("genesis|" + canonical).utf8)))
    }

    static func batchHash(previous: Data, runID: Int64, seq: Int64, rowHashes: [Data]) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        withUnsafeBytes(of: runID.littleEndian) { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: seq.littleEndian) { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: Int64(rowHashes.count).littleEndian) { hasher.update(bufferPointer: $0) }
        for row in rowHashes { hasher.update(data: row) }
        return Data(hasher.finalize())
    }

    static func seal(last: Data, status: String, endedAt: String, exitCode: Int32?) -> Data {
        var hasher = SHA256()
        hasher.update(data: last)
        hasher.update(data: Data("seal|\(status)|\(endedAt)|\(exitCode.map(String.init) ?? "-")".utf8))
        return Data(hasher.finalize())
    }
}

extension Data {
    /// Lowercase hex, for messages and JSON.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}
