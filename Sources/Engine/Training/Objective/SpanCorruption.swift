/// T5's span-corruption objective (Raffel et al. 2020, §3.1.4; `random_spans_noise_mask` in their code): of a window
/// of T tokens, round(0.15·T) noise tokens in round(noise / 3) spans (mean span length 3) are cut out; the encoder
/// reads the rest with one sentinel per span and an end-of-sequence token, the decoder writes each sentinel followed
/// by its span, then end-of-sequence. Span boundaries are random, but the counts are fixed by T, so every example of a
/// batch has the same source length S and target length.
public struct SpanCorruption: TrainingObjective {
    /// Sentinel i is `firstSentinelID − i` (T5's <extra_id_0> is the last vocabulary id and they count down).
    public var firstSentinelID: Int32
    public var sentinels: Int
    public var endOfSequenceID: Int32
    /// The decoder's first input (T5: the pad token).
    public var decoderStartID: Int32
    public var noiseDensity: Double = 0.15
    public var meanSpanLength: Double = 3

    public init(firstSentinelID: Int32, sentinels: Int, endOfSequenceID: Int32, decoderStartID: Int32) {
        self.firstSentinelID = firstSentinelID; self.sentinels = sentinels
        self.endOfSequenceID = endOfSequenceID; self.decoderStartID = decoderStartID
    }

    public var name: String { "span-corruption" }
    public func windowLength(sequence T: Int) -> Int { T }

    /// Noise tokens and spans in a window of T tokens (at least one of each, and at least one token kept).
    public func counts(sequence T: Int) -> (noise: Int, spans: Int) {
        let noise = min(max(1, Int((Double(T) * noiseDensity).rounded())), max(1, T - 1))
        let spans = min(noise, max(1, Int((Double(noise) / meanSpanLength).rounded())))
        return (noise, spans)
    }

    /// Encoder length S and decoder length of an example built from T tokens.
    public func lengths(sequence T: Int) -> (source: Int, target: Int) {
        let (noise, spans) = counts(sequence: T)
        return (T - noise + spans + 1, noise + spans + 1)
    }

    public func check(sequence T: Int, context: Int) throws {
        guard T >= 2 else {
            throw EngineError.invalidConfiguration(
                "span corruption needs windows of at least 2 tokens, not \(T)", fix: "use --seq 2 or more (e.g. 128)")
        }
        let spans = counts(sequence: T).spans
        guard spans <= sentinels else {
            throw EngineError.invalidConfiguration(
                "span corruption of \(T)-token windows makes \(spans) spans, but the model has only \(sentinels) sentinel tokens",
                fix: "use a shorter --seq or a vocabulary with at least \(spans) sentinels (T5 has 100: <extra_id_0> … <extra_id_99>)")
        }
        let (S, U) = lengths(sequence: T)
        guard max(S, U) <= context else {
            throw EngineError.invalidConfiguration(
                "span corruption turns \(T)-token windows into sources of \(S) and targets of \(U) tokens, beyond the model's context \(context)",
                fix: "use --seq 10 or more (sources and targets are then no longer than the window) or --context \(max(S, U)) or more")
        }
    }

    public func batch(windows: [ArraySlice<Int32>], sequence T: Int, random: inout SplitMix64) -> Batch {
        let (noise, spans) = counts(sequence: T), kept = T - noise
        let (S, U) = lengths(sequence: T)
        var source: [Int32] = [], inputs: [Int32] = [], targets: [Int32] = []
        source.reserveCapacity(windows.count * S)
        for w in windows {
            let tokens = Array(w.prefix(T))
            let noiseLengths = Self.partition(noise, into: spans, random: &random)
            let keptLengths = Self.partition(kept, into: spans, random: &random)
            var encoder: [Int32] = [], decoder: [Int32] = []
            var at = 0
            for s in 0..<spans {
                encoder += tokens[at..<(at + keptLengths[s])]
                at += keptLengths[s]
                let sentinel = firstSentinelID - Int32(s)
                encoder.append(sentinel)
                decoder.append(sentinel)
                decoder += tokens[at..<(at + noiseLengths[s])]
                at += noiseLengths[s]
            }
            encoder.append(endOfSequenceID)
            decoder.append(endOfSequenceID)
            precondition(encoder.count == S && decoder.count == U)
            source += encoder
            inputs.append(decoderStartID)
            inputs += decoder.dropLast()
            targets += decoder
        }
        return .sequenceToSequence(source: source, inputs: inputs, targets: targets, B: windows.count, S: S, T: U)
    }

    /// `n` items cut into `k` non-empty runs at k − 1 distinct random points.
    static func partition(_ n: Int, into k: Int, random: inout SplitMix64) -> [Int] {
        precondition(k >= 1 && n >= k)
        var cuts = Array(1..<n)
        for i in 0..<(k - 1) { cuts.swapAt(i, i + random.nextInt(below: cuts.count - i)) }
        let chosen = ([0] + cuts.prefix(k - 1).sorted() + [n])
        return (0..<k).map { chosen[$0 + 1] - chosen[$0] }
    }
}
