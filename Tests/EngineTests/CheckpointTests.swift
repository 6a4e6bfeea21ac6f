@testable import Engine
import Foundation
import TestSupport
import XCTest

/// Safetensors round trips in the Hugging Face GPT-2 layout, and every way a bad file must fail.
final class CheckpointTests: FileTestCase {
    /// Writes `model` exactly as Hugging Face's GPT2LMHeadModel would: `transformer.` prefix, wte without
    /// padding, causal-mask buffers, a tied `lm_head.weight`, `{"format": "pt"}` metadata. `edit` may alter entries.
    func writeHuggingFaceLayout(
        _ model: GPT2, to path: String,
        edit: (inout [(name: String, shape: [Int], data: [Float])]) -> Void = { _ in }
    ) throws {
        let c = model.config
        var tensors: [(name: String, shape: [Int], data: [Float])] = []
        for (i, spec) in model.parameters.layout.specs.enumerated() {
            var data = Array(model.parameters.view(i)), shape = spec.shape
            if spec.name == "wte.weight" {
                data = Array(data[0..<(c.vocabularySize * c.channels)])
                shape = [c.vocabularySize, c.channels]
                tensors.append(("lm_head.weight", shape, data))
            }
            tensors.append(("transformer." + spec.name, shape, data))
            if spec.name.hasSuffix("ln_1.bias") {
                let layer = spec.name.split(separator: ".")[1]
                let mask = [Float](repeating: 1, count: c.maxSequence * c.maxSequence)
                tensors.append(("transformer.h.\(layer).attn.bias", [1, 1, c.maxSequence, c.maxSequence], mask))
                tensors.append(("transformer.h.\(layer).attn.masked_bias", [], [-1e4]))
            }
        }
        edit(&tensors)
        try writeTensors(tensors, to: path, metadata: ["format": "pt"])
    }

    func writeTensors(_ tensors: [(name: String, shape: [Int], data: [Float])], to path: String, metadata: [String: String]) throws {
        let storages = tensors.map { Buffer($0.data) }
        try SafeTensorsWriter.write(
            path: path, tensors: zip(tensors, storages).map { ($0.name, $0.shape, UnsafeBufferPointer($1.p)) }, metadata: metadata)
    }

    func logits(_ model: GPT2, _ tokens: [Int32]) throws -> [Float] {
        try model.forwardLogits(inputs: tokens, B: 1, T: tokens.count)
        return (0..<tokens.count).flatMap { Array(model.logits(row: $0)) }
    }

    func testHuggingFaceLayoutLoadsWithIdenticalLogits() throws {
        let model = try tinyModel()
        let path = directory + "/model.safetensors"
        try writeHuggingFaceLayout(model, to: path)
        try Data(#"{"n_head": 2, "n_layer": 2}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        let (loaded, info) = try GPT2.load(path: path)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(info.headsSource, "config.json")
        XCTAssertNil(info.tokenizer)
        let tokens = randomTokens(8, vocabulary: 60, seed: 1)
        XCTAssertEqual(try logits(loaded, tokens), try logits(model, tokens))
    }

    func testOwnCheckpointRoundTripAndHeadsFromMetadata() throws {
        let model = try tinyModel(channels: 24, heads: 3)
        let path = directory + "/own.safetensors"
        try model.save(path: path, tokenizer: "byte")
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.entries["wte.weight"]?.shape, [60, 24], "wte is written without vocabulary padding")
        XCTAssertEqual(file.entries["h.1.attn.c_attn.weight"]?.shape, [24, 72], "Conv1D layout [C, 3C]")
        let (loaded, info) = try GPT2.load(path: path)
        XCTAssertEqual(loaded.config.heads, 3)
        XCTAssertEqual(info.headsSource, "metadata")
        XCTAssertEqual(info.tokenizer, "byte")
        let tokens = randomTokens(8, vocabulary: 60, seed: 2)
        XCTAssertEqual(try logits(loaded, tokens), try logits(model, tokens))
    }

    func testWrongShapeIsNamed() throws {
        let model = try tinyModel()
        let path = directory + "/bad-shape.safetensors"
        try writeHuggingFaceLayout(model, to: path) { tensors in
            let i = tensors.firstIndex { $0.name == "transformer.h.1.mlp.c_fc.weight" }!
            tensors[i].shape = [64, 16]
        }
        assertEngineError(.checkpointMismatch, mentions: ["h.1.mlp.c_fc.weight", "[64, 16]", "[16, 64]"]) {
            _ = try GPT2.load(path: path, heads: 2)
        }
    }

    func testMissingAndUnexpectedTensorsAreNamed() throws {
        let model = try tinyModel()
        let missing = directory + "/missing.safetensors"
        try writeHuggingFaceLayout(model, to: missing) { $0.removeAll { $0.name == "transformer.h.0.ln_2.bias" } }
        assertEngineError(.checkpointMismatch, mentions: ["h.0.ln_2.bias", "missing"]) { _ = try GPT2.load(path: missing, heads: 2) }
        let extra = directory + "/extra.safetensors"
        try writeHuggingFaceLayout(model, to: extra) { $0.append(("transformer.h.0.mlp.gate.weight", [2], [0, 0])) }
        assertEngineError(.checkpointMismatch, mentions: ["h.0.mlp.gate.weight"]) { _ = try GPT2.load(path: extra, heads: 2) }
        let untied = directory + "/untied.safetensors"
        try writeHuggingFaceLayout(model, to: untied) { tensors in
            let i = tensors.firstIndex { $0.name == "lm_head.weight" }!
            tensors[i].data[0] += 1
        }
        assertEngineError(.checkpointMismatch, mentions: ["lm_head.weight"]) { _ = try GPT2.load(path: untied, heads: 2) }
    }

    func testTruncatedAndCorruptFilesFailCleanly() throws {
        let model = try tinyModel()
        let path = directory + "/whole.safetensors"
        try model.save(path: path, tokenizer: "byte")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cases: [(String, Data, EngineError.Kind)] = [
            ("short-data", bytes.prefix(bytes.count - 100), .checkpointTruncated),
            ("short-header", bytes.prefix(40), .checkpointTruncated),
            ("tiny", bytes.prefix(5), .checkpointTruncated),
            ("garbage-header", Data([16, 0, 0, 0, 0, 0, 0, 0]) + Data("not json at all!".utf8), .checkpointMalformed),
        ]
        for (name, data, kind) in cases {
            let broken = directory + "/\(name).safetensors"
            try data.write(to: URL(fileURLWithPath: broken))
            assertEngineError(kind, mentions: [broken]) { _ = try GPT2.load(path: broken) }
        }
        assertEngineError(.fileUnreadable, mentions: ["nope.safetensors"]) { _ = try GPT2.load(path: directory + "/nope.safetensors") }
    }

    func testNonF32DTypeIsRejectedWithFix() throws {
        let model = try tinyModel()
        let path = directory + "/f32.safetensors"
        try model.save(path: path, tokenizer: "byte")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        let marker = #""ln_f.bias":{"data_offsets":"#
        let range = header.range(of: marker)!
        let dtypeRange = header.range(of: #""dtype":"F32""#, range: range.upperBound..<header.endIndex)!
        header.replaceSubrange(dtypeRange, with: #""dtype":"BF6""#)
        bytes.replaceSubrange(8..<(8 + length), with: Data(header.utf8))
        try bytes.write(to: URL(fileURLWithPath: path))
        assertEngineError(.unsupportedDType, mentions: ["ln_f.bias", "BF6", "float32"]) { _ = try GPT2.load(path: path) }
    }
}

/// Forged headers must be errors, never traps or reads past the end of the file.
final class SafeTensorsForgeryTests: XCTestCase {
    private func file(_ header: String, lengthOverride: UInt64? = nil, data: Int = 16) throws -> String {
        let url = try TestScratch.folder().appendingPathComponent("forged.safetensors")
        var bytes = Data()
        var length = (lengthOverride ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header.utf8)
        bytes.append(Data(count: data))
        try bytes.write(to: url)
        return url.path
    }

    func testForgedLengthsShapesAndOffsetsAreErrors() throws {
        let cases = [
            try file("{}", lengthOverride: UInt64.max),
            try file(#"{"wte.weight":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#),
            try file(#"{"wte.weight":{"dtype":"F16","shape":[2,2],"data_offsets":[0,9223372036854775807]}}"#),
            try file(#"{"wte.weight":{"dtype":"F16","shape":[50000,1099511627776],"data_offsets":[0,8]}}"#),
        ]
        for path in cases {
            XCTAssertThrowsError(try SafeTensorsFile(path: path), path)
        }
    }
}

/// Llama and Mixtral checkpoints: the engine's own round trip, Hugging Face files without metadata, and every
/// mismatch named.
final class LlamaCheckpointTests: FileTestCase {
    let mixture = LlamaConfig(
        layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 32, vocabularySize: 60, maxSequence: 16, ropeBase: 5000, experts: 4)

    func testOwnCheckpointRoundTripsWithIdenticalLogits() throws {
        let model = try Llama(config: mixture, seed: 4)
        let path = directory + "/moe.safetensors"
        try model.save(path: path, tokenizer: "byte")
        let (loaded, info) = try Checkpoint.load(path: path)
        XCTAssertEqual(info.config, .llama(mixture))
        XCTAssertEqual(info.headsSource, "metadata")
        XCTAssertEqual(info.tokenizer, "byte")
        let tokens = randomTokens(8, vocabulary: 60, seed: 1)
        XCTAssertEqual(try (loaded as! Llama).logits(inputs: tokens, B: 1, T: 8), try model.logits(inputs: tokens, B: 1, T: 8))
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.entries["model.embed_tokens.weight"]?.shape, [60, 32], "saved without the engine's vocabulary padding")
        XCTAssertEqual(file.metadata["wattprint.format"], "2")
    }

    /// A file as Transformers writes it: no engine metadata, settings in config.json, tied embeddings without lm_head.
    func testHuggingFaceFileTakesItsSettingsFromConfigJSON() throws {
        let dense = LlamaConfig(layers: 1, channels: 32, heads: 4, kvHeads: 1, hidden: 48, vocabularySize: 60, maxSequence: 16)
        let model = try Llama(config: dense, seed: 5)
        let path = directory + "/model.safetensors"
        var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
        for (i, spec) in model.parameters.layout.specs.enumerated() where spec.name != "lm_head.weight" {
            let view = model.parameters.view(i)
            let rows = spec.name == "model.embed_tokens.weight" ? 60 * 32 : view.count
            tensors.append(
                (
                    spec.name, spec.name == "model.embed_tokens.weight" ? [60, 32] : spec.shape,
                    UnsafeBufferPointer(rebasing: view[0..<rows])
                ))
        }
        try SafeTensorsWriter.write(path: path, tensors: tensors, metadata: ["format": "pt"])
        assertEngineError(.invalidConfiguration, mentions: ["head count", "config.json", "--heads"]) { _ = try Checkpoint.load(path: path) }
        assertEngineError(.checkpointMismatch, mentions: ["lm_head.weight", "tie_word_embeddings"]) {
            _ = try Checkpoint.load(path: path, heads: 4)
        }
        try Data(#"{"tie_word_embeddings": true}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        let withHeads = try Checkpoint.load(path: path, heads: 4).info
        XCTAssertEqual(withHeads.headsSource, "argument")
        XCTAssertTrue(withHeads.assumed.contains { $0.hasPrefix("rope_theta = 10000.0 (a default") }, "\(withHeads.assumed)")
        try Data(
            #"{"num_attention_heads": 4, "num_key_value_heads": 1, "rope_parameters": {"rope_theta": 500000.0, "rope_type": "default"}, "rms_norm_eps": 1e-6, "max_position_embeddings": 64, "tie_word_embeddings": true}"#
                .utf8
        ).write(to: URL(fileURLWithPath: directory + "/config.json"))
        let (loaded, info) = try Checkpoint.load(path: path)
        guard case let .llama(c) = info.config else { return XCTFail("not a Llama: \(info.config)") }
        XCTAssertEqual([c.kvHeads, c.maxSequence], [1, 64])
        XCTAssertEqual(c.ropeBase, 500_000)
        XCTAssertEqual(c.normEpsilon, 1e-6)
        XCTAssertEqual(info.headsSource, "config.json")
        XCTAssertEqual(
            info.assumed, ["lm_head.weight = model.embed_tokens.weight (config.json ties them; the engine trains an untied copy)"])
        assertEngineError(.invalidConfiguration, mentions: ["records 4 heads (config.json)", "--heads says 2"]) {
            _ = try Checkpoint.load(path: path, heads: 2)
        }
        let tied = (loaded as! Llama).parameters["lm_head.weight"]
        XCTAssertEqual(Array(tied[0..<(60 * 32)]), Array(model.parameters["model.embed_tokens.weight"][0..<(60 * 32)]))

        for (json, words) in [
            (
                #"{"num_attention_heads": 4, "model_type": "granite", "tie_word_embeddings": true}"#,
                ["model_type granite", "llama, mistral and mixtral"]
            ),
            (
                #"{"num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": true}"#,
                ["num_key_value_heads 2", "tensors hold 1"]
            ),
            (
                #"{"num_attention_heads": 4, "intermediate_size": 64, "tie_word_embeddings": true}"#,
                ["intermediate_size 64", "tensors hold 48"]
            ),
        ] {
            try Data(json.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
            XCTAssertThrowsError(try Checkpoint.load(path: path)) { error in
                for word in words { XCTAssertTrue("\(error)".contains(word), "\(json): \(error)") }
            }
        }
        try Data(#"{"num_attention_heads": 4, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/config.json"))
        assertEngineError(.invalidConfiguration, mentions: ["rope_scaling"]) { _ = try Checkpoint.load(path: path) }
        try Data(#"{"num_attention_heads": 4, "attention_bias": true}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        assertEngineError(.invalidConfiguration, mentions: ["attention biases"]) { _ = try Checkpoint.load(path: path) }
    }

    func testMismatchesNameTheTensor() throws {
        let model = try Llama(config: mixture, seed: 6)
        let path = directory + "/moe.safetensors"
        try model.save(path: path, tokenizer: "byte")
        let file = try SafeTensorsFile(path: path)
        func rewrite(_ edit: (inout [(name: String, shape: [Int], data: [Float])]) -> Void, metadata: [String: String]? = nil) throws
            -> String
        {
            var tensors: [(name: String, shape: [Int], data: [Float])] = []
            for (name, entry) in file.entries.sorted(by: { $0.key < $1.key }) {
                var data = [Float](repeating: 0, count: entry.shape.reduce(1, *))
                try data.withUnsafeMutableBufferPointer { try file.read(name, into: $0) }
                tensors.append((name, entry.shape, data))
            }
            edit(&tensors)
            let out = directory + "/edited-\(UUID().uuidString).safetensors"
            let storages = tensors.map { Buffer($0.data) }
            try SafeTensorsWriter.write(
                path: out, tensors: zip(tensors, storages).map { ($0.name, $0.shape, UnsafeBufferPointer($1.p)) },
                metadata: metadata ?? file.metadata)
            return out
        }
        let missing = try rewrite { $0.removeAll { $0.name == "model.layers.1.block_sparse_moe.experts.2.w3.weight" } }
        assertEngineError(.checkpointMismatch, mentions: ["experts.2.w3.weight", "missing"]) { _ = try Checkpoint.load(path: missing) }
        let extra = try rewrite { $0.append(("model.layers.0.mlp.up_proj.weight", [1], [0])) }
        assertEngineError(.checkpointMismatch, mentions: ["unexpected tensor 'model.layers.0.mlp.up_proj.weight'"]) {
            _ = try Checkpoint.load(path: extra)
        }
        let reshaped = try rewrite { tensors in
            let i = tensors.firstIndex { $0.name == "model.norm.weight" }!
            tensors[i] = (tensors[i].name, [16, 2], tensors[i].data)
        }
        assertEngineError(.checkpointMismatch, mentions: ["model.norm.weight", "[16, 2]", "[32]"]) {
            _ = try Checkpoint.load(path: reshaped)
        }
        var gpt2Tag = file.metadata
        gpt2Tag["wattprint.config"] =
            #"{"architecture": "gpt2", "layers": 2, "channels": 32, "heads": 4, "vocabularySize": 60, "maxSequence": 16}"#
        let mislabelled = try rewrite({ _ in }, metadata: gpt2Tag)
        assertEngineError(.checkpointMismatch, mentions: ["wte.weight", "missing"]) { _ = try Checkpoint.load(path: mislabelled) }
        let neither = try rewrite { $0.removeAll { $0.name == "model.embed_tokens.weight" } }
        var untagged = file.metadata
        untagged["wattprint.config"] = nil
        let anonymous = try rewrite({ $0.removeAll { $0.name == "model.embed_tokens.weight" } }, metadata: untagged)
        assertEngineError(.checkpointMismatch, mentions: ["model.embed_tokens.weight"]) { _ = try Checkpoint.load(path: neither) }
        assertEngineError(.checkpointMismatch, mentions: ["none of GPT-2", "Llama/Mixtral", "BERT", "T5"]) {
            _ = try Checkpoint.load(path: anonymous)
        }
    }
}

/// Half-precision checkpoints (how most published Llama and Mixtral weights come) widen exactly to Float.
final class HalfPrecisionTests: FileTestCase {
    func testBF16AndF16AreWidenedExactly() throws {
        let values: [Float] = [0, 1, -2.5, 0.15625, 65504, -0.0009765625]
        let bf16 = values.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
        let f16 = values.map { Float16($0).bitPattern }
        var header = #"{"a":{"dtype":"BF16","shape":[6],"data_offsets":[0,12]},"b":{"dtype":"F16","shape":[2,3],"data_offsets":[12,24]}}"#
        while (header.utf8.count) % 8 != 0 { header += " " }
        var bytes = Data()
        var length = UInt64(header.utf8.count).littleEndian
        bytes.append(Data(bytes: &length, count: 8))
        bytes.append(Data(header.utf8))
        for h in bf16 + f16 { var le = h.littleEndian; bytes.append(Data(bytes: &le, count: 2)) }
        let path = directory + "/half.safetensors"
        try bytes.write(to: URL(fileURLWithPath: path))
        let file = try SafeTensorsFile(path: path)
        var a = [Float](repeating: .nan, count: 6), b = a
        try a.withUnsafeMutableBufferPointer { try file.read("a", into: $0) }
        try b.withUnsafeMutableBufferPointer { try file.read("b", into: $0) }
        XCTAssertEqual(a, values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }, "BF16 keeps the top 16 bits")
        XCTAssertEqual(b, values.map { Float(Float16($0)) })
        XCTAssertEqual(b[4], 65504, "F16's largest value survives")
    }
}
