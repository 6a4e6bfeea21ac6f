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
        var text = canonical
        return text.withUTF8 { Data(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
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

    /// The same, over digests not yet copied into `Data` (the verifier's path).
    static func batchHash(previous: Data, runID: Int64, seq: Int64, rowDigests: [SHA256.Digest]) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        withUnsafeBytes(of: runID.littleEndian) { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: seq.littleEndian) { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: Int64(rowDigests.count).littleEndian) { hasher.update(bufferPointer: $0) }
        for digest in rowDigests { digest.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        return Data(hasher.finalize())
    }

    /// SHA-256 of a sample's canonical text (`SampleRecord.canonical`), spelled into a stack buffer byte for byte
    /// instead of through `String`: a long run has millions of samples to rehash.
    static func sampleHash(channel: Int, tNs: Int64, value: Double) -> SHA256.Digest {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { buffer in
            var n = 0
            func put(_ byte: UInt8) { buffer[n] = byte; n += 1 }
            // "|<byte count>:<digits>" of a magnitude in `radix`, lowercase, most significant digit first.
            func field(_ magnitude: UInt64, negative: Bool, radix: UInt64) {
                var count = 0, m = magnitude
                repeat { count += 1; m /= radix } while m > 0
                let length = count + (negative ? 1 : 0)
                put(UInt8(ascii: "|"))
                var lengthDigits = 0, l = length
                repeat { lengthDigits += 1; l /= 10 } while l > 0
                var p = n + lengthDigits - 1, lv = length
                repeat { buffer[p] = UInt8(ascii: "0") + UInt8(lv % 10); lv /= 10; p -= 1 } while lv > 0
                n += lengthDigits
                put(UInt8(ascii: ":"))
                if negative { put(UInt8(ascii: "-")) }
                p = n + count - 1
                m = magnitude
                repeat {
                    let d = UInt8(m % radix)
                    buffer[p] = d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10
                    m /= radix; p -= 1
                } while m > 0
                n += count
            }
            put(UInt8(ascii: "S"))
            field(UInt64(channel.magnitude), negative: channel < 0, radix: 10)
            field(tNs.magnitude, negative: tNs < 0, radix: 10)
            field(value.bitPattern, negative: false, radix: 16)
            return SHA256.hash(data: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<n]))
        }
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
