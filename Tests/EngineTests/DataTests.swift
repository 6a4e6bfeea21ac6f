@testable import Engine
import Foundation
import XCTest

/// Corpus loading, the train/validation split and token files (raw u16/u32 and .npy).
final class DataTests: FileTestCase {
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func npy(descr: String, shape: String, payload: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let length = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8) + payload
    }

    func testRawAndNPYTokenFiles() throws {
        XCTAssertEqual(try TokenFile.load(path: write("a.bin", [1, 0, 2, 0, 0xFF, 0xFF]), dtype: .u16), [1, 2, 65535])
        XCTAssertEqual(try TokenFile.load(path: write("b.bin", [1, 0, 0, 0, 0x51, 0xC4, 0, 0]), dtype: .u32), [1, 50257])
        XCTAssertEqual(try TokenFile.load(path: write("c.npy", npy(descr: "<u2", shape: "(3,)", payload: [5, 0, 6, 0, 7, 0]))), [5, 6, 7])
        XCTAssertEqual(
            try TokenFile.load(
                path: write("d.npy", npy(descr: "<i8", shape: "(2,)", payload: [9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]))),
            [9, 257])
        XCTAssertEqual(try TokenFile.load(path: write("e.npy", npy(descr: "<i4", shape: "(1,)", payload: [3, 0, 0, 0]))), [3])
    }

    func testBadTokenFilesAreTypedErrors() {
        assertEngineError(.tokenFileMalformed, mentions: ["--dtype"]) {
            _ = try TokenFile.load(path: write("odd.bin", [1, 2, 3]), dtype: .u16)
        }
        assertEngineError(.tokenFileMalformed, mentions: ["not 1-D"]) {
            _ = try TokenFile.load(path: write("2d.npy", npy(descr: "<u2", shape: "(1, 2)", payload: [1, 0, 2, 0])))
        }
        assertEngineError(.tokenFileMalformed, mentions: ["<f4"]) {
            _ = try TokenFile.load(path: write("f.npy", npy(descr: "<f4", shape: "(1,)", payload: [0, 0, 0, 0])))
        }
        assertEngineError(.tokenFileMalformed, mentions: ["negative"]) {
            _ = try TokenFile.load(path: write("neg.npy", npy(descr: "<i4", shape: "(1,)", payload: [0xFF, 0xFF, 0xFF, 0xFF])))
        }
        assertEngineError(.fileUnreadable) { _ = try TokenFile.load(path: directory + "/absent.bin") }
    }

    func testCorpusFromFileAndFortuneStyleDirectory() throws {
        let fortunes = directory + "/fortunes"
        try FileManager.default.createDirectory(atPath: fortunes, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: fortunes + "/b", contents: Data("second\n%\n".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: fortunes + "/a", contents: Data("first\n%\n".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: fortunes + "/a.dat", contents: Data([0, 1, 2])))
        XCTAssertTrue(FileManager.default.createFile(atPath: fortunes + "/a.u8", contents: Data("ignored".utf8)))
        let corpus = try Corpus.load(path: fortunes)
        XCTAssertEqual(String(decoding: corpus.bytes, as: UTF8.self), "first\n%\nsecond\n%\n")
        XCTAssertEqual(corpus.sources.map { ($0 as NSString).lastPathComponent }, ["a", "b"])
        XCTAssertEqual(try Corpus.load(path: fortunes + "/a").bytes.count, 8)
    }

    func testEmptyOrMissingCorpusAndTooSmallSplit() {
        assertEngineError(.emptyCorpus, mentions: ["empty.txt"]) { _ = try Corpus.load(path: write("empty.txt", [])) }
        assertEngineError(.fileUnreadable, mentions: ["nothing-here"]) { _ = try Corpus.load(path: directory + "/nothing-here") }
        assertEngineError(.corpusTooSmall, mentions: ["--seq"]) {
            _ = try TokenSplit(tokens: [Int32](repeating: 1, count: 100), window: 64)
        }
        let split = try? TokenSplit(tokens: (0..<1000).map { Int32($0 % 7) }, window: 16)
        XCTAssertEqual(split?.train.count, 900)
        XCTAssertEqual(split?.validation.first, Int32(900 % 7))
    }
}
