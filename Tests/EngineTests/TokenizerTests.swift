@testable import Engine
import Foundation
import XCTest

/// Byte-level and GPT-2 BPE tokenizers, with tiny vocab.json/merges.txt files written by the test.
final class TokenizerTests: FileTestCase {
    /// 256 byte symbols (id = byte) plus merges that build "hello", " the" and "'s", plus <|endoftext|>.
    /// `dropByte` gives that byte's id to an unrelated token; `addMergedTokens: false` leaves merge results out.
    func writeTinyBPE(merges: [String]? = nil, dropByte: UInt8? = nil, addMergedTokens: Bool = true) throws -> GPT2Tokenizer {
        var vocabulary: [String: Int32] = [:]
        for byte in 0..<256 {
            vocabulary[UInt8(byte) == dropByte ? "zz" : String(Character(ByteToUnicode.table[byte]))] = Int32(byte)
        }
        let mergeLines = merges ?? ["l l", "e ll", "h ell", "hell o", "Ġ t", "h e", "Ġt he", "' s"]
        var next = Int32(256)
        for line in mergeLines where addMergedTokens {
            vocabulary[line.replacingOccurrences(of: " ", with: "")] = next
            next += 1
        }
        vocabulary["<|endoftext|>"] = next
        let vocabPath = directory + "/vocab.json", mergesPath = directory + "/merges.txt"
        try JSONSerialization.data(withJSONObject: vocabulary).write(to: URL(fileURLWithPath: vocabPath))
        try ("#version: 0.2\n" + mergeLines.joined(separator: "\n") + "\n").write(toFile: mergesPath, atomically: false, encoding: .utf8)
        return try GPT2Tokenizer(vocabularyPath: vocabPath, mergesPath: mergesPath)
    }

    func testByteTokenizerRoundTrip() {
        let text = "naïve café 東京 🙂\n\ttabs"
        let tokenizer = ByteTokenizer()
        XCTAssertEqual(tokenizer.encode(text).count, text.utf8.count)
        XCTAssertEqual(tokenizer.decodeText(tokenizer.encode(text)), text)
    }

    /// Cases checked against the reference regex `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    func testPreTokenizerMatchesGPT2Pattern() {
        let cases: [(String, [String])] = [
            ("Hello world's  test\n\nok 123!!", ["Hello", " world", "'s", " ", " test", "\n", "\n", "ok", " 123", "!!"]),
            ("  leading\tand trailing  ", [" ", " leading", "\t", "and", " trailing", "  "]),
            ("I'm don't we'LL x're", ["I", "'m", " don", "'t", " we", "'", "LL", " x", "'re"]),
            ("naïve café 東京 ½ e=mc²", ["naïve", " café", " 東京", " ½", " e", "=", "mc", "²"]),
            ("a\n\n\nb  \n c", ["a", "\n\n", "\n", "b", "  \n", " c"]),
            ("end   ", ["end", "   "]),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PreTokenizer.split(text), expected, "split of \(text.debugDescription)")
        }
    }

    func testBPEMergesByRankAndSpecialTokens() throws {
        let tokenizer = try writeTinyBPE()
        XCTAssertEqual(tokenizer.vocabularySize, 265)
        XCTAssertEqual(tokenizer.endOfText, 264)
        let ids = tokenizer.encode("hello the world's<|endoftext|>hello")
        XCTAssertEqual(ids, [259, 262, 32, 119, 111, 114, 108, 100, 263, 264, 259])
        XCTAssertEqual(tokenizer.decodeText(ids), "hello the world's<|endoftext|>hello")
    }

    func testBPERoundTripsArbitraryText() throws {
        let tokenizer = try writeTinyBPE()
        for text in ["naïve café 東京 ½ e=mc² 🙂\n\n  tabs\t", "hellohello the  the\r\n", "", "'''s's"] {
            XCTAssertEqual(tokenizer.decodeText(tokenizer.encode(text)), text)
        }
    }

    func testMalformedTokenizerFilesAreTypedErrors() throws {
        assertEngineError(.tokenizerMalformed, mentions: ["byte symbol"]) { _ = try writeTinyBPE(dropByte: 7) }
        assertEngineError(.tokenizerMalformed, mentions: ["x y"]) { _ = try writeTinyBPE(merges: ["x y"], addMergedTokens: false) }
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: directory + "/vocab.json"))
        try "".write(toFile: directory + "/merges.txt", atomically: false, encoding: .utf8)
        assertEngineError(.tokenizerMalformed, mentions: ["vocab.json"]) {
            _ = try GPT2Tokenizer(vocabularyPath: directory + "/vocab.json", mergesPath: directory + "/merges.txt")
        }
    }
}
