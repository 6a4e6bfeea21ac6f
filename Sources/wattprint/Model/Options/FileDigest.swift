import Crypto
import Foundation

/// SHA-256 of a file's bytes as lower-case hex, read in 1 MiB pieces (checkpoints run to gigabytes).
/// - Throws: `ModelCommandError` naming the file when it cannot be read.
func fileSHA256(_ path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw ModelCommandError("cannot read \(path) to hash it", fix: "check the path and its permissions")
    }
    defer { try? handle.close() }
    var hasher = SHA256()
    while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { hasher.update(data: piece) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
