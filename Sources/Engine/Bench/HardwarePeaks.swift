/// One sgemm shape's measured throughput.
public struct SGEMMMeasurement: Codable, Sendable {
    public var m: Int, n: Int, k: Int
    public var bestGFLOPs: Double
    public var medianGFLOPs: Double
    /// Every timed repetition, GFLOP/s.
    public var repetitions: [Double]

    /// This shape's repetitions pooled with another run of the same shape.
    public func merged(with other: SGEMMMeasurement) -> SGEMMMeasurement {
        let all = repetitions + other.repetitions
        return SGEMMMeasurement(m: m, n: n, k: k, bestGFLOPs: all.max() ?? 0, medianGFLOPs: HardwarePeaks.median(all), repetitions: all)
    }
}

/// Measurements of this machine's ceilings, taken with the same OpenBLAS and thread count as the workload.
public enum HardwarePeaks {
    /// Runs `cblas_sgemm` (no transposes, beta 0) on each shape: one warm-up, then `repetitions` timed runs.
    /// The peak is the best single repetition over all shapes: on a shared machine noise only ever slows a
    /// run down, so the best is the closest estimate of what the hardware can do (and the harshest MFU denominator).
    public static func sgemmPeak<C: Clock>(shapes: [(m: Int, n: Int, k: Int)], repetitions: Int = 5, clock: C) -> (
        peak: Double, shapes: [SGEMMMeasurement]
    )
    where C.Duration == Duration {
        let largest = shapes.map { $0.m * $0.k + $0.k * $0.n + $0.m * $0.n }.max() ?? 0
        let storage = FloatStorage(count: largest)
        var rng = SplitMix64(seed: 7)
        rng.fillNormal(storage.buffer, std: 0.1)
        var results: [SGEMMMeasurement] = []
        for shape in shapes {
            let a = storage.buffer.baseAddress!, b = a + shape.m * shape.k, c = b + shape.k * shape.n
            let flops = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k)
            var rates: [Double] = []
            for rep in 0...repetitions {
                let start = clock.now
                BLAS.gemm(
                    transA: false, transB: false, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.k, b: b, ldb: shape.n,
                    beta: 0, c: c, ldc: shape.n)
                let seconds = start.duration(to: clock.now).seconds
                if rep > 0 { rates.append(flops / seconds / 1e9) }
            }
            results.append(
                SGEMMMeasurement(
                    m: shape.m, n: shape.n, k: shape.k, bestGFLOPs: rates.max()!, medianGFLOPs: median(rates),
                    repetitions: rates))
        }
        return (results.map(\.bestGFLOPs).max() ?? 0, results)
    }

    /// Streaming-read bandwidth in bytes/s (`StreamingReadProbe` over `bytes`, ≫ L3): best of `repetitions` passes after
    /// an untimed one.
    public static func readBandwidth<C: Clock>(bytes: Int = 1 << 30, repetitions: Int = 5, clock: C) -> Double
    where C.Duration == Duration {
        let probe = StreamingReadProbe(bytes: bytes)
        _ = probe.measure(clock: clock)
        return (0..<repetitions).map { _ in probe.measure(clock: clock) }.max() ?? 0
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

extension Duration {
    /// This duration in seconds as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
