import Foundation

/// The raw bytes of a training text, from one file or a directory of files concatenated.
///
/// Engine does not hash the corpus: callers that record its identity (SHA-256 in wattprint's ledger)
/// hash `bytes` themselves, so this module stays free of crypto dependencies.
public struct Corpus: Sendable {
    /// Every byte, files concatenated in `sources` order.
    public let bytes: [UInt8]
    /// The files read, in order.
    public let sources: [String]

    public init(bytes: [UInt8], sources: [String]) {
        self.bytes = bytes
        self.sources = sources
    }

    /// Reads `path`: a regular file, or a directory whose regular files (sorted by name, not
    /// recursing, skipping hidden files and fortune indexes `.dat`/`.u8`) are concatenated —
    /// so Debian's `/usr/share/games/fortunes` works as is.
    /// - Throws: `fileUnreadable` when nothing can be read, `emptyCorpus` when the text is empty.
    public static func load(path: String) throws -> Corpus {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EngineError.fileUnreadable(path, "no such file or directory")
        }
        var files: [String] = [path]
        if isDirectory.boolValue {
            let names: [String]
            do { names = try manager.contentsOfDirectory(atPath: path) } catch {
                throw EngineError.fileUnreadable(path, "cannot list directory")
            }
            files = names.sorted().filter { name in
                guard !name.hasPrefix("."), !name.hasSuffix(".dat"), !name.hasSuffix(".u8") else { return false }
                var childIsDirectory: ObjCBool = false
                let full = (path as NSString).appendingPathComponent(name)
                return manager.fileExists(atPath: full, isDirectory: &childIsDirectory) && !childIsDirectory.boolValue
            }.map { (path as NSString).appendingPathComponent($0) }
        }
        var bytes: [UInt8] = []
        for file in files {
            guard let data = manager.contents(atPath: file) else { throw EngineError.fileUnreadable(file, "read failed") }
            bytes.append(contentsOf: data)
        }
        if bytes.isEmpty {
            throw EngineError(
                .emptyCorpus, "corpus '\(path)' is empty",
                fix: "name a non-empty text file or a directory of text files, e.g. /usr/share/games/fortunes")
        }
        return Corpus(bytes: bytes, sources: files)
    }
}
