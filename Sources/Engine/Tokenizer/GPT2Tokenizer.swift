import Foundation

/// GPT-2's byte-level BPE, loaded from Hugging Face `vocab.json` and `merges.txt`.
///
/// Text is pre-tokenised (`PreTokenizer`), each piece's UTF-8 bytes are mapped to printable
/// characters (`ByteToUnicode`), and adjacent symbols are merged lowest-rank first until no ranked
/// pair remains. Special tokens of the form `<|…|>` found in the vocabulary are matched literally.
public final class GPT2Tokenizer: Tokenizer, @unchecked Sendable {
    private struct Pair: Hashable { let left: String, right: String }

    private let encoder: [String: Int32]
    private let decoder: [[UInt8]]
    private let ranks: [Pair: Int]
    private let specials: [(text: String, id: Int32)]
    private var cache: [String: [Int32]] = [:]
    private let lock = NSLock()

    public let vocabularySize: Int
    public var kind: String { "gpt2" }
    public let endOfText: Int32?

    /// - Throws: `fileUnreadable`, or `tokenizerMalformed` when the files are not GPT-2 BPE files
    ///   (bad JSON, ids not 0..<N, a byte symbol or merge result missing from the vocabulary).
    public convenience init(vocabularyPath: String, mergesPath: String) throws {
        guard let vocabData = FileManager.default.contents(atPath: vocabularyPath) else {
            throw EngineError.fileUnreadable(vocabularyPath, "read failed")
        }
        guard let mergesData = FileManager.default.contents(atPath: mergesPath) else {
            throw EngineError.fileUnreadable(mergesPath, "read failed")
        }
        guard let json = try? JSONSerialization.jsonObject(with: vocabData) as? [String: Any] else {
            throw EngineError(
                .tokenizerMalformed, "'\(vocabularyPath)' is not a JSON object of token → id",
                fix: "pass the vocab.json that ships with the GPT-2 tokenizer")
        }
        var vocabulary: [String: Int32] = [:]
        for (token, value) in json {
            guard let id = (value as? NSNumber)?.int32Value else {
                throw EngineError(
                    .tokenizerMalformed, "'\(vocabularyPath)': id of '\(token)' is not an integer",
                    fix: "pass the vocab.json that ships with the GPT-2 tokenizer")
            }
            vocabulary[token] = id
        }
        let lines = String(decoding: mergesData, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        var merges: [(String, String)] = []
        for line in lines where !line.hasPrefix("#version") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else {
                throw EngineError(
                    .tokenizerMalformed, "'\(mergesPath)': line '\(line)' is not two symbols",
                    fix: "pass the merges.txt that ships with the GPT-2 tokenizer")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        try self.init(vocabulary: vocabulary, merges: merges, source: vocabularyPath)
    }

    /// Builds a tokenizer from an in-memory vocabulary and ranked merges (rank = array index).
    public init(vocabulary: [String: Int32], merges: [(String, String)], source: String = "vocabulary") throws {
        let count = vocabulary.count
        var decoder = [[UInt8]](repeating: [], count: count)
        var seen = [Bool](repeating: false, count: count)
        for (token, id) in vocabulary {
            guard id >= 0, Int(id) < count, !seen[Int(id)] else {
                throw EngineError(
                    .tokenizerMalformed, "'\(source)': ids are not exactly 0..<\(count) (bad id \(id))",
                    fix: "pass an unmodified GPT-2 vocab.json")
            }
            seen[Int(id)] = true
            if token.hasPrefix("<|"), token.hasSuffix("|>") {
                decoder[Int(id)] = Array(token.utf8)
            } else {
                var bytes: [UInt8] = []
                for scalar in token.unicodeScalars {
                    guard let byte = ByteToUnicode.inverse[scalar] else {
                        throw EngineError(
                            .tokenizerMalformed, "'\(source)': token '\(token)' has a character outside GPT-2's byte map",
                            fix: "pass a byte-level BPE vocab.json (GPT-2 style)")
                    }
                    bytes.append(byte)
                }
                decoder[Int(id)] = bytes
            }
        }
        for scalar in ByteToUnicode.table where vocabulary[String(Character(scalar))] == nil {
            throw EngineError(
                .tokenizerMalformed, "'\(source)': byte symbol U+\(String(scalar.value, radix: 16)) is missing",
                fix: "a byte-level BPE vocabulary must contain all 256 byte symbols")
        }
        var ranks: [Pair: Int] = [:]
        for (rank, merge) in merges.enumerated() {
            guard vocabulary[merge.0 + merge.1] != nil else {
                throw EngineError(
                    .tokenizerMalformed, "'\(source)': merge '\(merge.0) \(merge.1)' produces a token missing from the vocabulary",
                    fix: "pass the vocab.json and merges.txt from the same tokenizer")
            }
            if ranks[Pair(left: merge.0, right: merge.1)] == nil { ranks[Pair(left: merge.0, right: merge.1)] = rank }
        }
        self.encoder = vocabulary
        self.decoder = decoder
        self.ranks = ranks
        self.vocabularySize = count
        self.specials = vocabulary.filter { $0.key.hasPrefix("<|") && $0.key.hasSuffix("|>") }
            .map { ($0.key, $0.value) }.sorted { $0.text.count > $1.text.count }
        self.endOfText = vocabulary["<|endoftext|>"]
    }

    public func encode(bytes: [UInt8]) -> [Int32] {
        let text = String(decoding: bytes, as: UTF8.self)
        var out: [Int32] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            var earliest: (range: Range<Substring.Index>, id: Int32)?
            for special in specials {
                if let range = rest.range(of: special.text), range.lowerBound < (earliest?.range.lowerBound ?? rest.endIndex) {
                    earliest = (range, special.id)
                }
            }
            let plainEnd = earliest?.range.lowerBound ?? rest.endIndex
            for piece in PreTokenizer.split(String(rest[rest.startIndex..<plainEnd])) {
                out.append(contentsOf: encodePiece(piece))
            }
            guard let earliest else { break }
            out.append(earliest.id)
            rest = rest[earliest.range.upperBound...]
        }
        return out
    }

    public func decode(_ tokens: [Int32]) -> [UInt8] {
        var bytes: [UInt8] = []
        for token in tokens where token >= 0 && Int(token) < decoder.count { bytes.append(contentsOf: decoder[Int(token)]) }
        return bytes
    }

    /// BPE of one pre-token, memoised (pre-tokens repeat heavily in natural text).
    private func encodePiece(_ piece: String) -> [Int32] {
        lock.lock()
        if let hit = cache[piece] { lock.unlock(); return hit }
        lock.unlock()
        var symbols = piece.utf8.map { String(Character(ByteToUnicode.table[Int($0)])) }
        while symbols.count > 1 {
            var best = Int.max, bestIndex = -1
            for i in 0..<(symbols.count - 1) {
                if let rank = ranks[Pair(left: symbols[i], right: symbols[i + 1])], rank < best {
                    best = rank
                    bestIndex = i
                }
            }
            guard bestIndex >= 0 else { break }
            let left = symbols[bestIndex], right = symbols[bestIndex + 1]
            var merged: [String] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count, symbols[i] == left, symbols[i + 1] == right {
                    merged.append(left + right)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        let ids = symbols.map { encoder[$0]! }
        lock.lock()
        cache[piece] = ids
        lock.unlock()
        return ids
    }
}
