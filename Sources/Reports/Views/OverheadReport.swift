import Foundation

/// The sampler's cost, measured: its own CPU time ÷ wall time at 10 Hz and 100 Hz (writing to a scratch ledger,
/// as a real run does), and a fixed CPU workload's throughput with and without sampling at 100 Hz.
public struct OverheadReport: Codable, Sendable {
    public struct Rate: Codable, Sendable {
        public var hz: Double
        public var ticks: Int
        public var cpuSeconds: Double
        public var wallSeconds: Double
        public var percentOfOneCore: Double

        public init(hz: Double, ticks: Int, cpuSeconds: Double, wallSeconds: Double, percentOfOneCore: Double) {
            self.hz = hz; self.ticks = ticks; self.cpuSeconds = cpuSeconds; self.wallSeconds = wallSeconds
            self.percentOfOneCore = percentOfOneCore
        }
    }
    public var rates: [Rate]
    public var workloadRepetitions: Int
    public var workloadMedianSecondsWithout: Double
    public var workloadMedianSecondsWith: Double
    /// Median time with sampling ÷ median without, minus 1.
    public var workloadSlowdownPercent: Double
    public var workloadSpreadPercent: Double

    public init(
        rates: [Rate], workloadRepetitions: Int, workloadMedianSecondsWithout: Double, workloadMedianSecondsWith: Double,
        workloadSlowdownPercent: Double, workloadSpreadPercent: Double
    ) {
        self.rates = rates; self.workloadRepetitions = workloadRepetitions
        self.workloadMedianSecondsWithout = workloadMedianSecondsWithout; self.workloadMedianSecondsWith = workloadMedianSecondsWith
        self.workloadSlowdownPercent = workloadSlowdownPercent; self.workloadSpreadPercent = workloadSpreadPercent
    }

    var lines: [String] {
        var lines = ["Sampler overhead (CPU time of the sampler thread ÷ wall time, ledger writes included):"]
        for r in rates {
            lines.append(
                String(
                    format: "  %5.0f Hz: %d readings, %.4f s CPU in %.2f s → %.4f%% of one core", r.hz, r.ticks, r.cpuSeconds,
                    r.wallSeconds, r.percentOfOneCore))
        }
        lines.append(
            String(
                format:
                    "Workload (all cores, %d repetitions each, interleaved): median %.3f s without sampling, %.3f s with 100 Hz sampling → %+.2f%% (spread of repetitions ±%.2f%%)",
                workloadRepetitions, workloadMedianSecondsWithout, workloadMedianSecondsWith, workloadSlowdownPercent, workloadSpreadPercent
            ))
        return lines
    }
}
