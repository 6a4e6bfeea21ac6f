/// A decoder conditioned on a source sequence (T5): before decoding a sequence slot, its source is encoded once and
/// what the decoder needs from it (each layer's cross-attention keys and values) is cached in the decode state.
public protocol EncoderDecoderModel: DecodingModel, EncodingModel {
    /// Encodes `tokens` as the source of slot `sequence` and caches its cross-attention keys and values; the slot's
    /// decoder cache is then empty.
    /// - Throws: `promptTooLong` beyond the context, `tokenOutOfRange`, `invalidArgument` for an empty source.
    func setSource(_ tokens: [Int32], sequence: Int, state: any DecodeState) throws
    /// The token the decoder starts from (T5: the pad token).
    var decoderStartToken: Int32 { get }
    /// FLOPs of `setSource` for a source of `tokens`: the encoder and what it caches for the decoder.
    func sourceFLOPs(tokens: Int) -> Double
}
