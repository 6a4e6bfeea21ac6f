import Foundation
import Ledger
import Meters

/// Everything a run records besides its channels and samples, as one type written and read through one definition:
/// the ledger stores each as an `EventRecord` (a kind and a JSON payload, hashed as written) and `RunEvent(record)`
/// reads it back, older payload shapes included. A kind this build does not know, or a payload it cannot read,
/// is kept as `.other`, never guessed at.
///
/// Version 1 (`RunEvent.version`, recorded in each run's `sampler_start`): the payloads below. Runs recorded before
/// it (no version) wrote `step` in two shapes (a training step's report; a benchmark step's index, seconds and
/// FLOPs), both read into `StepRecord`.
public enum RunEvent: Sendable, Equatable {
    case samplerStart(SamplerStart)
    case metersBlocked([BlockedChannel])
    case meterDecisions([MeterDecision])
    case channelGap(channel: Int, key: String)
    case channelResumed(channel: Int)
    case anomaly(ReadingAnomaly)
    case samplerOverhead(SamplerOverhead)
    /// The run's energy as it was reported when it closed.
    case result(RecordedResult)
    case tokens(TokenCount)
    case phaseStart(PhaseMark)
    case phaseEnd(PhaseMark)
    case step(StepRecord)
    case evaluation(EvaluationRecord)
    case corpus(CorpusRecord)
    /// The model or workload the run executed.
    case workload(WorkloadDescription)
    /// A benchmark's full result, in the engine's own shape.
    case benchmark(JSONValue)
    case footprintSettings(FootprintSettings)
    case hourlyIntensity(RecordedHourlyIntensity)
    case attribution(AttributionRecord)
    /// What `wattprint bench` was asked to run, resolved: workloads, their specs and corpora, repeats, idle baseline.
    case benchPlan(BenchPlanRecord)
    /// The machine's arithmetic peaks measured in the run (sgemm, FMA) and the BLAS kernels in use.
    case computePeaks(ComputePeaksRecord)
    /// The benchmark's figures as it printed them; `verify` recomputes them from the samples and events.
    case benchSummary(JSONValue)
    /// Waste the benchmark found and what removing it saved (its alternatives are ledger runs of their own).
    case benchFindings(JSONValue)
    /// A line of a measured program's event file that could not be read, kept as written.
    case malformedEvent(MalformedEventLine)
    /// The distributed job this run is a rank of (SLURM and torchrun's environment), and whether it read the
    /// hardware meters through the node's collector.
    case job(JobRecord)
    case other(kind: String, payload: String)

    /// The event schema's version, recorded with each run.
    public static let version = 1

    /// The ledger's name for the event.
    public var kind: String {
        switch self {
        case .samplerStart: return "sampler_start"
        case .metersBlocked: return "meters_blocked"
        case .meterDecisions: return "meter_decisions"
        case .channelGap: return "channel_gap"
        case .channelResumed: return "channel_resumed"
        case .anomaly: return "anomaly"
        case .samplerOverhead: return "sampler_overhead"
        case .result: return "result"
        case .tokens: return "tokens"
        case .phaseStart: return "phase_start"
        case .phaseEnd: return "phase_end"
        case .step: return "step"
        case .evaluation: return "eval"
        case .corpus: return "corpus"
        case .workload: return "model"
        case .benchmark: return "bench"
        case .footprintSettings: return "footprint_settings"
        case .hourlyIntensity: return "hourly_intensity"
        case .attribution: return "attribution"
        case .benchPlan: return "bench_plan"
        case .computePeaks: return "compute_peaks"
        case .benchSummary: return "bench_summary"
        case .benchFindings: return "bench_findings"
        case .malformedEvent: return "malformed_event"
        case .job: return "job"
        case let .other(kind, _): return kind
        }
    }

    /// The payload as written: JSON with sorted keys, so an event is the same bytes every time.
    public var payload: String {
        func json<T: Encodable>(_ value: T) -> String {
            (try? Self.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
        switch self {
        case let .samplerStart(s): return json(SamplerStartPayload(s))
        case let .metersBlocked(b): return json(b)
        case let .meterDecisions(d): return json(d)
        case let .channelGap(channel, key): return json(ChannelGapPayload(channel: channel, key: key))
        case let .channelResumed(channel): return json(ChannelGapPayload(channel: channel, key: nil))
        case let .anomaly(a): return json(a)
        case let .samplerOverhead(o): return json(OverheadPayload(o))
        case let .result(r): return json(r)
        case let .tokens(t): return json(t)
        case let .phaseStart(mark), let .phaseEnd(mark): return json(mark)
        case let .step(s): return json(s)
        case let .evaluation(e): return json(e)
        case let .corpus(c): return json(c)
        case let .workload(w): return json(w)
        case let .benchmark(b): return json(b)
        case let .footprintSettings(f): return json(f)
        case let .hourlyIntensity(h): return json(h)
        case let .attribution(a): return json(a)
        case let .benchPlan(p): return json(p)
        case let .computePeaks(p): return json(p)
        case let .benchSummary(s): return json(s)
        case let .benchFindings(f): return json(f)
        case let .malformedEvent(m): return json(m)
        case let .job(j): return json(j)
        case let .other(_, payload): return payload
        }
    }

    /// The event as the ledger stores it, at `tNs` on the run's monotonic clock.
    public func record(at tNs: Int64) -> EventRecord { EventRecord(tNs: tNs, kind: kind, payload: payload) }

    /// Reads a stored event.
    public init(_ record: EventRecord) { self.init(kind: record.kind, payload: record.payload) }

    /// Reads stored events, decoding each distinct (kind, payload) once: long runs repeat the same few payloads
    /// (a phase's start, a step's token count) thousands of times.
    public static func decodeAll<S: Sequence>(_ records: S) -> [RunEvent] where S.Element == EventRecord {
        var seen: [String: [String: RunEvent]] = [:]
        return records.map { r in
            if let known = seen[r.kind]?[r.payload] { return known }
            let event = RunEvent(r)
            seen[r.kind, default: [:]][r.payload] = event
            return event
        }
    }

    public init(kind: String, payload: String) {
        let data = Data(payload.utf8)
        func read<T: Decodable>(_ type: T.Type) -> T? { try? JSONDecoder().decode(type, from: data) }
        let event: RunEvent?
        switch kind {
        case "sampler_start": event = read(SamplerStartPayload.self).map { .samplerStart($0.start) }
        case "meters_blocked": event = read([BlockedChannel].self).map { .metersBlocked($0) }
        case "meter_decisions": event = read([MeterDecision].self).map { .meterDecisions($0) }
        case "channel_gap": event = read(ChannelGapPayload.self).map { .channelGap(channel: $0.channel, key: $0.key ?? "") }
        case "channel_resumed": event = read(ChannelGapPayload.self).map { .channelResumed(channel: $0.channel) }
        case "anomaly": event = read(ReadingAnomaly.self).map { .anomaly($0) }
        case "sampler_overhead": event = read(OverheadPayload.self).map { .samplerOverhead($0.overhead) }
        case "result": event = read(RecordedResult.self).map { .result($0) }
        case "tokens": event = read(TokenCount.self).map { .tokens($0) }
        case "phase_start": event = read(PhaseMark.self).map { .phaseStart($0) }
        case "phase_end": event = read(PhaseMark.self).map { .phaseEnd($0) }
        case "step": event = read(StepRecord.self).map { .step($0) }
        case "eval": event = read(EvaluationRecord.self).map { .evaluation($0) }
        case "corpus": event = read(CorpusRecord.self).map { .corpus($0) }
        case "model": event = read(WorkloadDescription.self).map { .workload($0) }
        case "bench": event = read(JSONValue.self).map { .benchmark($0) }
        case "footprint_settings": event = read(FootprintSettings.self).map { .footprintSettings($0) }
        case "hourly_intensity": event = read(RecordedHourlyIntensity.self).map { .hourlyIntensity($0) }
        case "attribution": event = read(AttributionRecord.self).map { .attribution($0) }
        case "bench_plan": event = read(BenchPlanRecord.self).map { .benchPlan($0) }
        case "compute_peaks": event = read(ComputePeaksRecord.self).map { .computePeaks($0) }
        case "bench_summary": event = read(JSONValue.self).map { .benchSummary($0) }
        case "bench_findings": event = read(JSONValue.self).map { .benchFindings($0) }
        case "malformed_event": event = read(MalformedEventLine.self).map { .malformedEvent($0) }
        case "job": event = read(JobRecord.self).map { .job($0) }
        default: event = nil
        }
        self = event ?? .other(kind: kind, payload: payload)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()
}

/// `sampler_start` as stored: `interval_s`, `integration` (absent before the rules were versioned: version 1),
/// `note`, and the event schema `events` (absent before version 1).
struct SamplerStartPayload: Codable {
    var interval_s: Double
    var integration: Int?
    var note: String
    var events: Int?

    init(_ s: SamplerStart) { interval_s = s.intervalSeconds; integration = s.integration; note = s.note; events = RunEvent.version }
    var start: SamplerStart { SamplerStart(intervalSeconds: interval_s, integration: integration ?? 1, note: note) }
}

struct ChannelGapPayload: Codable {
    var channel: Int
    var key: String?
}

/// `sampler_overhead` as stored: `cpu_s`, `wall_s`, `ticks`, `interval_s`.
struct OverheadPayload: Codable {
    var cpu_s: Double
    var wall_s: Double
    var ticks: Int
    var interval_s: Double

    init(_ o: SamplerOverhead) { cpu_s = o.cpuSeconds; wall_s = o.wallSeconds; ticks = o.ticks; interval_s = o.intervalSeconds }
    var overhead: SamplerOverhead { SamplerOverhead(cpuSeconds: cpu_s, wallSeconds: wall_s, ticks: ticks, intervalSeconds: interval_s) }
}

/// Tokens processed, with the phase they belong to where the program says (`train`, `prefill`, `decode`, `encode`).
/// The start or end of a phase of a run's work: its name (`train`, `prefill`, `decode`, `encode`, `idle`, or a
/// program's own), and in a benchmark the workload and repeat it belongs to. A start and the next end with an equal
/// mark bound one window; `PhaseEnergy` recomputes each window's energy from the samples.
public struct PhaseMark: Codable, Sendable, Hashable {
    public var name: String
    public var workload: String?
    /// 1-based repeat of the workload.
    public var `repeat`: Int?

    public init(name: String, workload: String? = nil, repeat: Int? = nil) {
        self.name = name; self.workload = workload; self.repeat = `repeat`
    }
}

public struct TokenCount: Codable, Sendable, Equatable {
    public var count: Double
    public var phase: String?

    public init(count: Double, phase: String? = nil) { self.count = count; self.phase = phase }
}

/// One step of a training or benchmark loop. A training step has its loss, learning rate and gradient norm; a
/// benchmark step its seconds; both their tokens and FLOPs where known.
public struct StepRecord: Codable, Sendable, Equatable {
    /// 1-based optimizer step, or the benchmark's step index.
    public var index: Int
    public var seconds: Double?
    public var tokens: Int?
    public var flops: Double?
    public var loss: Double?
    public var learningRate: Double?
    public var gradientNorm: Double?

    public init(
        index: Int, seconds: Double? = nil, tokens: Int? = nil, flops: Double? = nil, loss: Double? = nil,
        learningRate: Double? = nil, gradientNorm: Double? = nil
    ) {
        self.index = index; self.seconds = seconds; self.tokens = tokens; self.flops = flops; self.loss = loss
        self.learningRate = learningRate; self.gradientNorm = gradientNorm
    }

    enum CodingKeys: String, CodingKey { case index, step, seconds, tokens, flops, loss, learningRate, gradientNorm }

    /// Reads version 1 and both earlier shapes: a training report (`step`, `loss`, …) and a benchmark step
    /// (`index` written as a number with a fraction).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let i = try? c.decode(Int.self, forKey: .index) {
            index = i
        } else if let d = try? c.decode(Double.self, forKey: .index) {
            index = Int(d)
        } else {
            index = try c.decode(Int.self, forKey: .step)
        }
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds)
        tokens = try c.decodeIfPresent(Int.self, forKey: .tokens)
        flops = try c.decodeIfPresent(Double.self, forKey: .flops)
        loss = try c.decodeIfPresent(Double.self, forKey: .loss)
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate)
        gradientNorm = try c.decodeIfPresent(Double.self, forKey: .gradientNorm)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encodeIfPresent(seconds, forKey: .seconds)
        try c.encodeIfPresent(tokens, forKey: .tokens)
        try c.encodeIfPresent(flops, forKey: .flops)
        try c.encodeIfPresent(loss, forKey: .loss)
        try c.encodeIfPresent(learningRate, forKey: .learningRate)
        try c.encodeIfPresent(gradientNorm, forKey: .gradientNorm)
    }
}

/// A rank of a distributed job, and how it read the node's hardware meters.
public struct JobRecord: Codable, Sendable, Equatable {
    public var identity: JobIdentity?
    /// The collector's pid when the run read the hardware meters through it; nil when it read them itself.
    public var collectorPID: Int32?
    /// Why the run read the meters itself although asked to share them (the collector could not be reached).
    public var collectorUnavailable: String?

    public init(identity: JobIdentity?, collectorPID: Int32?, collectorUnavailable: String? = nil) {
        self.identity = identity; self.collectorPID = collectorPID; self.collectorUnavailable = collectorUnavailable
    }
}

/// A held-out evaluation during or after training.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var step: Int
    /// Mean cross-entropy, nats per token.
    public var loss: Double
    public var tokens: Int
    /// In a benchmark: the workload and repeat whose training it evaluates.
    public var workload: String?
    public var `repeat`: Int?
    /// Share of scored tokens predicted right, for objectives that report it (BERT's masked tokens, T5's spans).
    public var accuracy: Double?
    /// A VAE's reconstruction loss (its `loss` is then the negative ELBO per token).
    public var reconstruction: Double?
    /// A GAN's discriminator loss (its `loss` is the generator's) and the squared MMD of its vectors against the real ones.
    public var discriminatorLoss: Double?
    public var discrepancy: Double?
    /// The weights evaluated when not fp32 (`bf16`, `int8`); nil: fp32.
    public var precision: String?

    public init(
        step: Int, loss: Double, tokens: Int, workload: String? = nil, repeat: Int? = nil, accuracy: Double? = nil,
        reconstruction: Double? = nil, discriminatorLoss: Double? = nil, discrepancy: Double? = nil, precision: String? = nil
    ) {
        self.step = step; self.loss = loss; self.tokens = tokens; self.workload = workload; self.repeat = `repeat`
        self.accuracy = accuracy; self.reconstruction = reconstruction; self.discriminatorLoss = discriminatorLoss
        self.discrepancy = discrepancy; self.precision = precision
    }
}

/// The corpus a run trained or evaluated on.
public struct CorpusRecord: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    /// Size in bytes (written as text before version 1).
    public var bytes: String
    public var tokenizer: String

    public init(path: String, sha256: String, bytes: Int, tokenizer: String) {
        self.path = path; self.sha256 = sha256; self.bytes = "\(bytes)"; self.tokenizer = tokenizer
    }
}

/// The model a run executed: its architecture, size and full configuration.
public struct WorkloadDescription: Codable, Sendable, Equatable {
    /// `gpt2`, … (absent before version 1: those runs were GPT-2).
    public var architecture: String
    public var parameters: Int?
    /// Parameters one token passes through, where fewer than `parameters` (a mixture of experts).
    public var activeParameters: Int?
    /// The configuration as the engine writes it.
    public var configuration: JSONValue
    /// The checkpoint the run started from (`model train --initial`), and what pruning made it; nil for a fresh model.
    public var origin: CheckpointOrigin?

    public init(
        architecture: String, parameters: Int?, activeParameters: Int? = nil, configuration: JSONValue, origin: CheckpointOrigin? = nil
    ) {
        self.architecture = architecture; self.parameters = parameters; self.activeParameters = activeParameters
        self.configuration = configuration; self.origin = origin
    }

    enum CodingKeys: String, CodingKey { case architecture, parameters, activeParameters, configuration, origin }

    /// Reads version 1, and earlier runs' bare GPT-2 configuration.
    public init(from decoder: Decoder) throws {
        if let c = try? decoder.container(keyedBy: CodingKeys.self), let architecture = try? c.decode(String.self, forKey: .architecture) {
            self.architecture = architecture
            parameters = try c.decodeIfPresent(Int.self, forKey: .parameters)
            activeParameters = try c.decodeIfPresent(Int.self, forKey: .activeParameters)
            configuration = try c.decode(JSONValue.self, forKey: .configuration)
            origin = try c.decodeIfPresent(CheckpointOrigin.self, forKey: .origin)
        } else {
            architecture = "gpt2"
            parameters = nil
            activeParameters = nil
            configuration = try JSONValue(from: decoder)
        }
    }
}

/// A checkpoint a run started from: the path as given, its SHA-256 (hex), and the `wattprint.pruning` record it
/// carried (what `model prune` removed, and from which file), as written there.
public struct CheckpointOrigin: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var pruning: JSONValue?

    public init(path: String, sha256: String, pruning: JSONValue?) {
        self.path = path; self.sha256 = sha256; self.pruning = pruning
    }
}
