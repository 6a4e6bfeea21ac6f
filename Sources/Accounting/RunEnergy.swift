import Foundation
import Ledger
import Measures
import Meters

/// A run's energy, recomputed from the raw samples in the ledger: the same numbers `verify` can vouch for.
public struct RunEnergy: Codable, Sendable {
    public struct Channel: Codable, Sendable {
        public var index: Int
        public var key: String
        public var deviceClass: DeviceClass
        public var device: String
        public var domain: String
        public var kind: ChannelKind
        public var role: ChannelRole
        public var mode: MeasurementMode
        public var source: String
        /// The channel's own integration over the run, J.
        public var joules: Double
        /// What it added to the total while it counted, J: all of `joules` for a `total` channel that counted
        /// throughout, a share for one that stopped or took over counting mid-run (see `anomalies`), 0 for detail.
        public var countedJoules: Double
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
        /// How the tree's CPU time was found (`cgroup`, `subreaper`, `process-tree`) and in words, from the run's
        /// `attribution` event; nil for runs recorded before it.
        public var method: String?
        public var methodDetail: String?
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
    /// What the integration rules decided about readings (glitches, resets, late reads, stuck meters), recomputed.
    public var anomalies: [Anomaly]
    /// What the meters skipped or decided about what counts when the run began (mirrored zones, skipped entries).
    public var decisions: [MeterDecision]
    /// The integration rules the run was sampled under.
    public var integrationRules: Int
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
        /// (check − counted) ÷ counted; nil when the counted reading saw no energy at all.
        public var relativeDifference: Double?
    }

    /// A decision of the integration rules, with the channels it names.
    public struct Anomaly: Codable, Sendable {
        public var decision: ReadingAnomaly
        public var device: String
        public var domain: String
        /// Seconds from the run's first sample to the judged reading.
        public var atSeconds: Double
        /// The channel that counts instead, or bridged the interval, where there is one.
        public var replacement: String?
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

    /// Recomputes a run's energy from its raw rows.
    /// - Throws: `LedgerError` for an unknown run or unreadable rows, `UnknownIntegrationRules` for a run sampled by a
    ///   newer wattprint, `UnknownUnit` for a channel in a unit this build does not know.
    public static func compute(ledger: Ledger, run id: Int64) throws -> RunEnergy {
        try compute(ledger: ledger, run: id, phases: false).energy
    }

    /// The run's energy and, with `phases`, its phase windows (`PhaseEnergy`) from the same single replay.
    static func compute(ledger: Ledger, run id: Int64, phases: Bool) throws -> (energy: RunEnergy, windows: [PhaseWindow]) {
        let run = try ledger.run(id)
        let status = try ledger.effectiveStatus(of: run)
        let records = try ledger.channels(run: id)
        let samples = try ledger.samples(run: id)
        let events = try ledger.events(run: id)
        // Only the kinds read below are decoded: a long program's token events can number in the hundreds of thousands.
        let wanted: Set<String> = ["sampler_overhead", "tokens", "attribution", "meters_blocked"]
        let typed = RunEvent.decodeAll(events.lazy.filter { wanted.contains($0.kind) })
        let integration = try RecordedIntegration(events: events)
        let sweep = phases ? PhaseEnergy.Sweep(events: events, records: records) : nil
        let integrator = try integration.replay(records: records, samples: samples, onTick: sweep?.add)
        var firstNs = Int64.max, lastNs = Int64.min
        for s in samples {
            firstNs = min(firstNs, s.tNs)
            lastNs = max(lastNs, s.tNs)
        }

        var channels: [Channel] = []
        var total = 0.0, measured = 0.0, estimated = 0.0, variance = 0.0
        for (k, r) in records.enumerated() {
            let kind = r.kind
            let e = integrator.energy(of: k)
            let counted = integrator.countedJoules[k]
            let spec = integrator.channels[k]
            channels.append(
                Channel(
                    index: r.index, key: spec.key, deviceClass: spec.deviceClass, device: r.device,
                    domain: r.domain, kind: r.kind, role: r.role, mode: r.mode, source: r.source,
                    joules: e.joules, countedJoules: counted, meanWatts: e.meanWatts, samples: e.samples,
                    wraps: e.wraps, resets: e.resets, unmeasuredSeconds: e.unmeasuredSeconds, uncertainty: r.uncertainty))
            guard kind != .cpuTime && kind != .context else { continue }
            total += counted
            if r.mode == .measured { measured += counted } else { estimated += counted }
            variance += (r.uncertainty * counted) * (r.uncertainty * counted)
        }
        let halfWidth = variance.squareRoot()
        var overhead: SamplerOverhead?
        var tokens = 0.0
        var sawTokens = false
        var attributionRecord: AttributionRecord?
        var blocked: [BlockedChannel] = []
        for e in typed {
            switch e {
            case let .samplerOverhead(o): overhead = o
            case let .tokens(t):
                tokens += t.count
                sawTokens = true
            case let .attribution(a): attributionRecord = a
            case let .metersBlocked(b) where blocked.isEmpty: blocked = b
            default: break
            }
        }
        let seconds: Double
        if let start = LedgerClock.parseUTC(run.startedAt), let endText = run.endedAt, let end = LedgerClock.parseUTC(endText) {
            seconds = end.timeIntervalSince(start)
        } else {
            seconds = lastNs > firstNs ? Double(lastNs - firstNs) / 1e9 : 0
        }
        let origin = firstNs == .max ? 0 : firstNs
        let anomalies = integrator.anomalies.map { a -> Anomaly in
            let other = a.switchedTo ?? a.bridgedBy
            return Anomaly(
                decision: a.renumbered { records[$0].index }, device: records[a.channel].device, domain: records[a.channel].domain,
                atSeconds: Double(a.tNs - origin) / 1e9,
                replacement: other.map { "\(records[$0].device) \(records[$0].domain) (\(records[$0].source))" })
        }
        let windows = sweep?.finish(events: events, lastSampleNs: lastNs == .min ? 0 : lastNs) ?? []
        let energy = RunEnergy(
            runID: id, command: run.command, region: run.region, status: status.rawValue, startedAt: run.startedAt,
            endedAt: run.endedAt, seconds: seconds, channels: channels, totalJoules: total,
            measuredJoules: measured, estimatedJoules: estimated,
            totalLowJoules: max(total - halfWidth, 0), totalHighJoules: total + halfWidth,
            attribution: attribution(records: records, integrator: integrator, samples: samples).map { a in
                var a = a
                a.method = attributionRecord?.method
                a.methodDetail = attributionRecord?.detail
                return a
            },
            crossChecks: crossChecks(channels),
            gaps: gaps(events: events, records: records, originNs: origin),
            blocked: blocked,
            anomalies: anomalies, decisions: integration.decisions, integrationRules: integration.rules.version,
            tokens: sawTokens ? tokens : nil,
            samplerOverhead: overhead, seal: run.sealHash?.hex)
        return (energy, windows)
    }

    /// Pairs each counted energy channel with every measured detail channel of the same device (the same energy
    /// read through another interface: perf beside powercap, NVML's power readings beside its counter), whatever
    /// either saw: a counter that never moved is exactly what a cross-check must show.
    static func crossChecks(_ channels: [Channel]) -> [CrossCheck] {
        channels.filter { $0.role == .total && $0.mode == .measured && Self.isEnergy($0) }
            .flatMap { counted in
                channels.filter {
                    $0.role == .detail && $0.device == counted.device && $0.index != counted.index
                        && $0.mode == .measured && Self.isEnergy($0)
                }.map { check in
                    CrossCheck(
                        device: counted.device, countedSource: counted.source, checkSource: check.source,
                        countedJoules: counted.joules, checkJoules: check.joules,
                        relativeDifference: counted.joules > 0 ? (check.joules - counted.joules) / counted.joules : nil)
                }
            }
    }

    static func isEnergy(_ c: Channel) -> Bool { c.kind != .cpuTime && c.kind != .context }

    /// Pairs each `channel_gap` event the sampler wrote with the `channel_resumed` that followed it, if any.
    static func gaps(events: [EventRecord], records: [ChannelRecord], originNs: Int64) -> [Gap] {
        var gaps: [Gap] = []
        var open: [Int: Int] = [:]
        for e in events where e.kind == "channel_gap" || e.kind == "channel_resumed" {
            let index: Int, isGap: Bool
            switch RunEvent(e) {
            case let .channelGap(channel, _): (index, isGap) = (channel, true)
            case let .channelResumed(channel): (index, isGap) = (channel, false)
            default: continue
            }
            guard let record = records.first(where: { $0.index == index }) else { continue }
            let at = Double(e.tNs - originNs) / 1e9
            if isGap {
                open[index] = gaps.count
                gaps.append(Gap(device: record.device, domain: record.domain, source: record.source, atSeconds: at, resumedAtSeconds: nil))
            } else if let g = open.removeValue(forKey: index) {
                gaps[g].resumedAtSeconds = at
            }
        }
        return gaps
    }

    static func attribution(records: [ChannelRecord], integrator: RunIntegrator, samples: [SampleRecord]) -> Attribution? {
        let specs = integrator.channels
        guard let tree = specs.firstIndex(where: { $0.kind == .cpuTime && $0.deviceClass == .processTree }),
            let host = specs.firstIndex(where: { $0.kind == .cpuTime && $0.deviceClass == .hostCPU })
        else { return nil }
        // Host CPU energy: what the CPU packages (or the CPU estimate) counted, whichever counted when.
        var hostJ = 0.0
        for (k, c) in specs.enumerated() where c.isCPUEnergy { hostJ += integrator.countedJoules[k] }
        func span(_ k: Int) -> Double {
            let series = samples.filter { $0.channel == records[k].index }
            return (series.last?.value ?? 0) - (series.first?.value ?? 0)
        }
        let treeCPU = span(tree), hostBusy = span(host)
        let share = hostBusy > 0 ? min(max(treeCPU / hostBusy, 0), 1) : 0
        return Attribution(
            method: nil, methodDetail: nil, processTree: records[tree].device, treeCPUSeconds: treeCPU, hostBusyCPUSeconds: hostBusy,
            share: share,
            hostCPUJoules: hostJ, attributedCPUJoules: hostJ * share)
    }
}

extension RunIntegrator.Channel {
    /// Energy of the host's CPUs: a CPU package read by a meter, or the CPU estimate.
    var isCPUEnergy: Bool {
        (deviceClass == .cpuPackage || deviceClass == .hostCPU) && kind != .cpuTime && kind != .context
    }
}
