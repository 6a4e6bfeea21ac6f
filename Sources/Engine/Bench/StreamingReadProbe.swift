/// Streaming-read bandwidth: SIMD sums over a buffer far larger than the last-level cache, split across
/// `Parallel.workers` threads. The buffer is allocated and touched once, so each `measure()` is one timed pass.
final class StreamingReadProbe {
    private let storage: FloatStorage
    /// Bytes one pass reads (the buffer's size rounded down to whole floats).
    let bytes: Int

    /// - Parameter bytes: the buffer; it must be much larger than the last-level cache or the probe measures the cache.
    init(bytes: Int) {
        storage = FloatStorage(count: max(1, bytes / 4))
        storage.buffer.update(repeating: 1)
        self.bytes = storage.buffer.count * 4
    }

    /// One pass over the buffer: bytes/s.
    func measure<C: Clock>(clock: C) -> Double where C.Duration == Duration {
        let base = storage.buffer.baseAddress!, count = storage.buffer.count
        let start = clock.now
        let checksum = withUnsafeTemporaryAllocation(of: Float.self, capacity: Parallel.maxChunks) { partial in
            partial.initialize(repeating: 0)
            let p = partial.baseAddress!
            Parallel.forEachChunk(count, minChunk: 1 << 20) { chunk, range in
                var a0 = Float8(), a1 = Float8(), a2 = Float8(), a3 = Float8()
                var i = range.lowerBound
                while i + 32 <= range.upperBound {
                    a0 += load8(base + i); a1 += load8(base + i + 8)
                    a2 += load8(base + i + 16); a3 += load8(base + i + 24)
                    i += 32
                }
                while i < range.upperBound { a0[0] += base[i]; i += 1 }
                p[chunk] = (a0 + a1 + a2 + a3).sum()
            }
            var total: Float = 0
            for c in 0..<Parallel.maxChunks { total += p[c] }
            return total
        }
        let seconds = start.duration(to: clock.now).seconds
        // Using the sum keeps the loads from being optimised away.
        precondition(checksum > 0, "bandwidth probe read nothing")
        return Double(bytes) / seconds
    }
}
