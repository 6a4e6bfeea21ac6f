import Crypto
import Foundation

/// This host's Ed25519 key for signing reports: `$XDG_DATA_HOME/wattprint/host-key.ed25519` (else
/// `~/.local/share/wattprint/…`), the private key in base64, created on first use with mode 0600.
enum HostKey {
    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return base + "/wattprint/host-key.ed25519"
    }

    /// The key, created (and its public half announced on standard error) if there is none.
    /// - Throws: `CLIError` when the file cannot be read, created or is not a key.
    static func load(create: Bool) throws -> Curve25519.Signing.PrivateKey? {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path) {
            guard let raw = Data(base64Encoded: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else { throw CLIError("\(path) is not a wattprint host key; move it aside and a new one is made on the next report") }
            return key
        }
        guard create else { return nil }
        let key = Curve25519.Signing.PrivateKey()
        do {
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the folder for the host key \(path) (\(error)); check that it is writable")
        }
        guard
            fm.createFile(
                atPath: path, contents: Data((key.rawRepresentation.base64EncodedString() + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw CLIError("cannot create the host key \(path); check that the folder is writable") }
        FileHandle.standardError.write(
            Data(
                "wattprint: created this host's report-signing key \(path); public key \(key.publicKey.rawRepresentation.base64EncodedString())\n"
                    .utf8))
        return key
    }
}
