import Foundation
import Ledger
import Meters

/// A run's energy, recomputed from the raw samples in the ledger: the same numbers `verify` can vouch for.
public struct RunEnergy: Codable, Sendable {
    public struct Channel: Codable, Sendable {
        public var index: Int
        public var device: String
        public var domain: String
        public var kind: String
        public var role: String
        public var mode: String
        public var source: String
        public var joules: Double
        public var meanWatts: Double
        public var samples: Int
        public var wraps: Int
        public var resets: Int
        /// Seconds of gaps this channel could not bridge (see `EnergyAccumulator`): no energy counted for them.
        public var unmeasuredSeconds: Double
        /// Relative half-width of this channel's 90 % band.
        public var uncertainty: Double
    }

    /// Energy attributed to the wrapped command's process tree: the host CPU energy times the tree's share of the
    /// host's busy CPU time over the run. The share is taken over the whole run, not interval by interval, because
    /// a short-lived child's CPU time only becomes visible when its parent reaps it, often intervals later.
    public struct Attribution: Codable, Sendable {
        public var processTree: String
        public var treeCPUSeconds: Double
        public var hostBusyCPUSeconds: Double
        public var share: Double
        public var hostCPUJoules: Double
        public var attributedCPUJoules: Double
    }

    public var runID: Int64
    public var command: String
    public var region: String?
    public var status: String
    public var startedAt: String
    public var endedAt: String?
    public var seconds: Double
    public var channels: [Channel]
    /// Sum of the non-overlapping (`total`) channels, J.
    public var totalJoules: Double
    public var measuredJoules: Double
    public var estimatedJoules: Double
    /// 90 % band of the total, J (channel bands combined in quadrature, treated as independent).
    public var totalLowJoules: Double
    public var totalHighJoules: Double
    public var attribution: Attribution?
    /// The same device read two ways (RAPL through powercap and through perf): the detail reading checks the total.
    public var crossChecks: [CrossCheck]
    /// Channels that stopped answering during the run (a GPU lost, a zone removed): their energy counts up to the
    /// last reading, and again from a resumption.
    public var gaps: [Gap]
    /// Channels that existed but could not be read during the run, with their fixes (from the `meters_blocked` event).
    public var blocked: [BlockedChannel]
    public var tokens: Double?
    public var samplerOverhead: SamplerOverhead?
    /// The run's seal (hex), once closed: keep it elsewhere, and a ledger rewritten end to end no longer ends in it.
    public var seal: String?

    public struct CrossCheck: Codable, Sendable {
        public var device: String
        public var countedSource: String
        public var checkSource: String
        public var countedJoules: Double
        public var checkJoules: Double
        /// (check − counted) ÷ counted.
        public var relativeDifference: Double
    }

    public struct Gap: Codable, Sendable {
        public var device: String
        public var domain: String
        public var source: String
        /// Seconds from the run's first sample to the first failed reading.
        public var atSeconds: Double
        /// Seconds from the run's first sample to the reading that came back, if one did.
        public var resumedAtSeconds: Double?
    }

    public var kWh: Double { totalJoules / 3.6e6 }
    public var meanWatts: Double { seconds > 0 ? totalJoules / seconds : 0 }
    public var joulesPerToken: Double? { tokens.flatMap { $0 > 0 ? totalJoules / $0 : nil } }

    public static func compute(ledger: Ledger, run id: Int64) throws -> RunEnergy {
        let run = try ledger.run(id)
        let status = try ledger.effectiveStatus(of: run)
        let records = try ledger.channels(run: id)
        let samples = try ledger.samples(run: id)
        let events = try ledger.events(run: id)
        var byChannel: [Int: [(tNs: Int64, value: Double)]] = [:]
        for s in samples { byChannel[s.channel, default: []].append((s.tNs, s.value)) }
        let integration = try RecordedIntegration(events: events)

        var channels: [Channel] = []
        var total = 0.0, measured = 0.0, estimated = 0.0, variance = 0.0
        var firstNs = Int64.max, lastNs = Int64.min
        for r in records {
            let series = byChannel[r.index] ?? []
            if let f = series.first { firstNs = min(firstNs, f.tNs) }
            if let l = series.last { lastNs = max(lastNs, l.tNs) }
            guard let kind = ChannelKind(rawValue: r.kind) else { continue }
            let e = integration.energy(of: r, kind: kind, series: series)
            channels.append(Channel(index: r.index, device: r.device, domain: r.domain, kind: r.kind, role: r.role,
                                    mode: r.mode.rawValue, source: r.source, joules: e.joules, meanWatts: e.meanWatts,
                                    samples: e.samples, wraps: e.wraps, resets: e.resets, unmeasuredSeconds: e.unmeasuredSeconds,
                                    uncertainty: r.uncertainty))
            if r.role == ChannelRole.total.rawValue && kind != .cpuTime && kind != .context {
                total += e.joules
                if r.mode == .measured { measured += e.joules } else { estimated += e.joules }
                variance += (r.uncertainty * e.joules) * (r.uncertainty * e.joules)
            }
        }
        let halfWidth = variance.squareRoot()
        var overhead: SamplerOverhead?
        var tokens = 0.0
        var sawTokens = false
        for e in events {
            if e.kind == "sampler_overhead", let data = e.payload.data(using: .utf8),
               let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                overhead = SamplerOverhead(cpuSeconds: obj["cpu_s"] as? Double ?? 0, wallSeconds: obj["wall_s"] as? Double ?? 0,
                                           ticks: obj["ticks"] as? Int ?? 0, intervalSeconds: obj["interval_s"] as? Double ?? 0)
            }
            if e.kind == "tokens", let data = e.payload.data(using: .utf8),
               let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let n = obj["count"] as? Double {
                tokens += n
                sawTokens = true
            }
        }
        let seconds: Double
        if let start = LedgerClock.parseUTC(run.startedAt), let endText = run.endedAt, let end = LedgerClock.parseUTC(endText) {
            seconds = end.timeIntervalSince(start)
        } else {
            seconds = lastNs > firstNs ? Double(lastNs - firstNs) / 1e9 : 0
        }
        return RunEnergy(runID: id, command: run.command, region: run.region, status: status.rawValue, startedAt: run.startedAt,
                         endedAt: run.endedAt, seconds: seconds, channels: channels, totalJoules: total,
                         measuredJoules: measured, estimatedJoules: estimated,
                         totalLowJoules: max(total - halfWidth, 0), totalHighJoules: total + halfWidth,
                         attribution: attribution(records: records, byChannel: byChannel, integration: integration),
                         crossChecks: crossChecks(channels),
                         gaps: gaps(events: events, records: records, originNs: firstNs == .max ? 0 : firstNs),
                         blocked: events.first { $0.kind == "meters_blocked" }
                             .flatMap { try? JSONDecoder().decode([BlockedChannel].self, from: Data($0.payload.utf8)) } ?? [],
                         tokens: sawTokens ? tokens : nil,
                         samplerOverhead: overhead, seal: run.sealHash?.hex)
    }

    /// Pairs each counted energy channel with every measured detail channel of the same device (the same energy
    /// read through another interface: perf beside powercap, NVML's power readings beside its counter), when both
    /// saw energy.
    static func crossChecks(_ channels: [Channel]) -> [CrossCheck] {
        channels.filter { $0.role == ChannelRole.total.rawValue && $0.mode == MeasurementMode.measured.rawValue && $0.joules > 0 }
            .flatMap { counted in
                channels.filter {
                    $0.role == ChannelRole.detail.rawValue && $0.device == counted.device && $0.index != counted.index
                        && $0.mode == MeasurementMode.measured.rawValue && $0.joules > 0
                }.map { check in
                    CrossCheck(device: counted.device, countedSource: counted.source, checkSource: check.source,
                               countedJoules: counted.joules, checkJoules: check.joules,
                               relativeDifference: (check.joules - counted.joules) / counted.joules)
                }
            }
    }

    /// Pairs each `channel_gap` event the sampler wrote with the `channel_resumed` that followed it, if any.
    static func gaps(events: [EventRecord], records: [ChannelRecord], originNs: Int64) -> [Gap] {
        var gaps: [Gap] = []
        var open: [Int: Int] = [:]
        for e in events where e.kind == "channel_gap" || e.kind == "channel_resumed" {
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(e.payload.utf8))) as? [String: Any],
                  let index = obj["channel"] as? Int, let record = records.first(where: { $0.index == index }) else { continue }
            let at = Double(e.tNs - originNs) / 1e9
            if e.kind == "channel_gap" {
                open[index] = gaps.count
                gaps.append(Gap(device: record.device, domain: record.domain, source: record.source, atSeconds: at, resumedAtSeconds: nil))
            } else if let g = open.removeValue(forKey: index) {
                gaps[g].resumedAtSeconds = at
            }
        }
        return gaps
    }

    static func attribution(records: [ChannelRecord], byChannel: [Int: [(tNs: Int64, value: Double)]],
                            integration: RecordedIntegration) -> Attribution? {
        guard let tree = records.first(where: { $0.kind == ChannelKind.cpuTime.rawValue && $0.device.hasPrefix("process-tree") }),
              let host = records.first(where: { $0.kind == ChannelKind.cpuTime.rawValue && $0.device == "host-cpu" }) else { return nil }
        var hostJ = 0.0
        for c in records where c.role == ChannelRole.total.rawValue && (c.device.hasPrefix("cpu-package") || c.device == "host-cpu") {
            guard let kind = ChannelKind(rawValue: c.kind), kind != .cpuTime else { continue }
            hostJ += integration.energy(of: c, kind: kind, series: byChannel[c.index] ?? []).joules
        }
        let treeSeries = byChannel[tree.index] ?? [], hostSeries = byChannel[host.index] ?? []
        let treeCPU = (treeSeries.last?.value ?? 0) - (treeSeries.first?.value ?? 0)
        let hostBusy = (hostSeries.last?.value ?? 0) - (hostSeries.first?.value ?? 0)
        let share = hostBusy > 0 ? min(max(treeCPU / hostBusy, 0), 1) : 0
        return Attribution(processTree: tree.device, treeCPUSeconds: treeCPU, hostBusyCPUSeconds: hostBusy, share: share,
                           hostCPUJoules: hostJ, attributedCPUJoules: hostJ * share)
    }
}
