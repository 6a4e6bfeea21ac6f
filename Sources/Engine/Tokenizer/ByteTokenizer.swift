/// One token per byte (vocabulary 256): the default for workloads, since it needs no vocabulary files
/// and every FLOP of the LM head is accounted for with a small V.
public struct ByteTokenizer: Tokenizer {
    public init() {}
    public var vocabularySize: Int { 256 }
    public var kind: String { "byte" }
    public var endOfText: Int32? { nil }
    public func encode(bytes: [UInt8]) -> [Int32] { bytes.map { Int32($0) } }
    public func decode(_ tokens: [Int32]) -> [UInt8] { tokens.map { UInt8(truncatingIfNeeded: $0) } }
}
