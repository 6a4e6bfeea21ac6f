/// How the next token is chosen from logits.
public struct SamplingOptions: Codable, Sendable, Hashable {
    /// 0 means greedy (arg-max); otherwise logits are divided by it before the softmax.
    public var temperature: Float
    /// Keep only the k most likely tokens (nil: no limit).
    public var topK: Int?
    /// Keep the smallest most-likely set whose probability reaches p (nil: no limit).
    public var topP: Float?

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public static let greedy = SamplingOptions(temperature: 0)
}

/// Draws tokens from logits with temperature, top-k and top-p, reproducibly from a seed.
///
/// Scratch arrays are kept between calls so sampling a 50k vocabulary does not allocate per token.
/// Ties are broken by lower token id, so results do not depend on sort stability.
public struct TokenSampler: Sendable {
    private var rng: SplitMix64
    private var probabilities: [Float] = []
    private var candidates: [Int32] = []

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    public mutating func sample(logits: UnsafeBufferPointer<Float>, options: SamplingOptions) -> Int32 {
        let V = logits.count
        if options.temperature <= 0 || options.topK == 1 { return argmax(logits) }
        if probabilities.count != V { probabilities = [Float](repeating: 0, count: V) }
        let inverse = 1 / options.temperature
        probabilities.withUnsafeMutableBufferPointer { p in
            for i in 0..<V { p[i] = logits[i] * inverse }
            Softmax.inPlace(p.baseAddress!, count: V)
        }
        candidates.removeAll(keepingCapacity: true)
        if let k = options.topK, k > 0, k < V {
            selectTopK(k)
        } else if let topP = options.topP, topP < 1 {
            selectAbove(massAtLeast: topP)
        } else {
            return draw(fromAll: V)
        }
        let p = probabilities
        candidates.sort { p[Int($0)] > p[Int($1)] || (p[Int($0)] == p[Int($1)] && $0 < $1) }
        if let topP = options.topP, topP < 1 {
            // Nucleus over what top-k kept, renormalised: the smallest prefix holding topP of the candidates' mass.
            var kept: Float = 0
            for id in candidates { kept += p[Int(id)] }
            var mass: Float = 0, keep = 0
            for id in candidates {
                mass += p[Int(id)]
                keep += 1
                if mass >= topP * kept { break }
            }
            candidates.removeLast(candidates.count - keep)
        }
        var total: Float = 0
        for id in candidates { total += p[Int(id)] }
        var u = rng.nextUnitFloat() * total
        for id in candidates {
            u -= p[Int(id)]
            if u < 0 { return id }
        }
        return candidates.last!
    }

    private func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return Int32(best)
    }

    /// Draws against the probabilities' own float sum, so rounding cannot leave `u` above the total and send the
    /// draw to the last id (GPT-2's `<|endoftext|>`).
    private mutating func draw(fromAll V: Int) -> Int32 {
        var total: Float = 0
        var lastPositive = 0
        for i in 0..<V where probabilities[i] > 0 {
            total += probabilities[i]
            lastPositive = i
        }
        var u = rng.nextUnitFloat() * total
        for i in 0..<V {
            u -= probabilities[i]
            if u < 0 { return Int32(i) }
        }
        return Int32(lastPositive)
    }

    /// The k most likely ids via a min-heap of size k: O(V log k).
    private mutating func selectTopK(_ k: Int) {
        let p = probabilities
        func less(_ a: Int32, _ b: Int32) -> Bool { p[Int(a)] < p[Int(b)] || (p[Int(a)] == p[Int(b)] && a > b) }
        var heap: [Int32] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count, less(heap[l], heap[smallest]) { smallest = l }
                if r < heap.count, less(heap[r], heap[smallest]) { smallest = r }
                if smallest == i { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        for id in 0..<Int32(p.count) {
            if heap.count < k {
                heap.append(id)
                var i = heap.count - 1
                while i > 0, less(heap[i], heap[(i - 1) / 2]) { heap.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
            } else if less(heap[0], id) {
                heap[0] = id
                siftDown(0)
            }
        }
        candidates.append(contentsOf: heap)
    }

    /// All ids with probability ≥ τ, halving τ from the maximum until their mass reaches `massAtLeast`.
    /// Any such set contains the nucleus (a prefix of the sorted order), so cutting it after sorting is exact.
    private mutating func selectAbove(massAtLeast target: Float) {
        let p = probabilities
        var threshold = p.max() ?? 0
        while true {
            var mass: Float = 0
            for value in p where value >= threshold { mass += value }
            if mass >= target || threshold == 0 { break }
            threshold = threshold > 1e-30 ? threshold / 2 : 0
        }
        for i in 0..<p.count where p[i] >= threshold { candidates.append(Int32(i)) }
    }
}
