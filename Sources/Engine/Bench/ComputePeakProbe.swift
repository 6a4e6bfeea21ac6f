import CPeaks
import Dispatch

/// The machine's arithmetic peaks a benchmark's MFU is measured against, measured in the same process: the best
/// sgemm repetition (what the BLAS achieves on model-shaped products) and the FMA peak (what the cores can do at all:
/// independent multiply-add chains on the widest vector ISA the CPU reports, on every thread at once).
public enum ComputePeakProbe {
    /// The widest vector ISA the FMA probe uses here: "AVX-512F", "AVX2+FMA" or "SSE2".
    public static var vectorISA: String {
        switch wp_fma_isa() {
        case 3: return "AVX-512F"
        case 2: return "AVX2+FMA"
        default: return "SSE2"
        }
    }

    /// Floats per vector of `vectorISA`.
    public static var vectorFloats: Int {
        switch wp_fma_isa() {
        case 3: return 16
        case 2: return 8
        default: return 4
        }
    }

    /// FLOP/s of the FMA loop on `threads` threads at once, best of `repetitions` runs of about `seconds` each.
    public static func fmaPeak(threads: Int, seconds: Double = 0.2, repetitions: Int = 3) -> Double {
        let isa = wp_fma_isa()
        // Calibrate: iterations for ~`seconds` on one thread.
        var iterations = 1 << 16
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = wp_fma_run(isa, iterations, 1)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed > seconds / 4 || iterations > 1 << 30 {
                iterations = max(1, Int(Double(iterations) * seconds / max(elapsed, 1e-9)))
                break
            }
            iterations *= 4
        }
        var best = 0.0
        for _ in 0..<repetitions {
            let flops = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
            defer { flops.deallocate() }
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                flops[t] = wp_fma_run(isa, iterations, Float(t + 1))
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, flops.reduce(0, +) / elapsed)
        }
        return best
    }
}
