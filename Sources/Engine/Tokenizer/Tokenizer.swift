/// Turns text into token ids and back.
public protocol Tokenizer: Sendable {
    /// Number of distinct ids (the model's real vocabulary size must equal it).
    var vocabularySize: Int { get }
    /// Name recorded in checkpoints: "byte" or "gpt2".
    var kind: String { get }
    func encode(bytes: [UInt8]) -> [Int32]
    /// Raw bytes of the tokens; may split a UTF-8 sequence when called on a partial output.
    func decode(_ tokens: [Int32]) -> [UInt8]
    /// Id that ends a document, when the vocabulary has one.
    var endOfText: Int32? { get }
}

extension Tokenizer {
    public func encode(_ text: String) -> [Int32] { encode(bytes: Array(text.utf8)) }

    /// Decoded text, with invalid UTF-8 replaced by U+FFFD.
    public func decodeText(_ tokens: [Int32]) -> String { String(decoding: decode(tokens), as: UTF8.self) }
}
