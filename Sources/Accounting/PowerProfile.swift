import Ledger
import Measures

/// A run's power over time per channel, for charts: each counted channel's energy as the integration rules counted
/// it (so a wrap or a rejected glitch never shows as a spike), and each detail power channel's readings, averaged into
/// at most `points` equal slices of the run.
public struct ChannelPower: Codable, Sendable, Equatable {
    public var key: String
    /// `total` channels add up (stack them); `detail` ones are another view of energy already counted.
    public var role: ChannelRole
    /// Slice midpoints, seconds from the run's first sample, and the mean power in each, W.
    public var seconds: [Double]
    public var watts: [Double]

    /// - Throws: what `RunEnergy.compute` throws.
    public static func profile(ledger: Ledger, run id: Int64, points: Int) throws -> [ChannelPower] {
        let records = try ledger.channels(run: id)
        let samples = try ledger.samples(run: id)
        guard let first = samples.map(\.tNs).min(), let last = samples.map(\.tNs).max(), last > first, points > 0 else { return [] }
        let slice = Double(last - first) / Double(points)
        var counted = [[Double]](repeating: [Double](repeating: 0, count: points), count: records.count)
        var seen = [Bool](repeating: false, count: records.count)
        // Each interval's joules spread over the slices it covers, in proportion to time.
        _ = try RecordedIntegration(events: try ledger.events(run: id)).replay(records: records, samples: samples) { p, from, to, joules in
            seen[p] = true
            let a = Double(from - first), b = Double(to - first)
            guard b > a else { return }
            var k = max(0, min(points - 1, Int(a / slice)))
            while k < points, Double(k) * slice < b {
                let overlap = min(b, Double(k + 1) * slice) - max(a, Double(k) * slice)
                if overlap > 0 { counted[p][k] += joules * overlap / (b - a) }
                k += 1
            }
        }
        let mids = (0..<points).map { (Double($0) + 0.5) * slice / 1e9 }
        var out: [ChannelPower] = []
        for (p, r) in records.enumerated() {
            let key = r.key ?? "channel-\(r.index)"
            if seen[p] {
                out.append(ChannelPower(key: key, role: r.role, seconds: mids, watts: counted[p].map { $0 / (slice / 1e9) }))
            } else if r.role == .detail, r.kind == .power || r.kind == .intervalPower, let toSI = Units.factor(r.unit) {
                var sum = [Double](repeating: 0, count: points), n = [Double](repeating: 0, count: points)
                for s in samples where s.channel == r.index {
                    let k = max(0, min(points - 1, Int(Double(s.tNs - first) / slice)))
                    sum[k] += s.value * toSI
                    n[k] += 1
                }
                let present = (0..<points).filter { n[$0] > 0 }
                guard !present.isEmpty else { continue }
                out.append(ChannelPower(key: key, role: r.role, seconds: present.map { mids[$0] }, watts: present.map { sum[$0] / n[$0] }))
            }
        }
        return out
    }
}
