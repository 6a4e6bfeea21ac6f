/// `bench_plan`: what a benchmark run measured, resolved before it started.
public struct BenchPlanRecord: Codable, Sendable, Equatable {
    public struct Workload: Codable, Sendable, Equatable {
        public var name: String
        public var file: String
        public var architecture: String
        public var parameters: Int
        public var activeParameters: Int
        /// FLOPs per token of each measured phase at its sequence length, by the configuration's formula.
        public var flopsPerToken: [String: Double]
        /// The model configuration and the spec as read.
        public var configuration: JSONValue
        public var spec: JSONValue
        public var corpus: String
        public var corpusSHA256: String
        public var corpusBytes: Int
        /// True when the corpus has the spec's standard hash; `corpusChecked` false when the spec named none.
        public var standard: Bool
        public var corpusChecked: Bool?
        public var phases: [String]
        /// The weights evaluation, prefill and decode ran with when not fp32: `bf16` or `int8`, int8's weights per
        /// scale, and the kernel that multiplied them on this CPU. Nil: fp32 (and every run recorded before variants).
        public var precision: String?
        public var groupSize: Int?
        public var weightKernel: String?

        public init(
            name: String, file: String, architecture: String, parameters: Int, activeParameters: Int, flopsPerToken: [String: Double],
            configuration: JSONValue, spec: JSONValue, corpus: String, corpusSHA256: String, corpusBytes: Int, standard: Bool,
            corpusChecked: Bool? = nil, phases: [String], precision: String? = nil, groupSize: Int? = nil, weightKernel: String? = nil
        ) {
            self.name = name; self.file = file; self.architecture = architecture; self.parameters = parameters
            self.activeParameters = activeParameters; self.flopsPerToken = flopsPerToken; self.configuration = configuration
            self.spec = spec; self.corpus = corpus; self.corpusSHA256 = corpusSHA256; self.corpusBytes = corpusBytes
            self.standard = standard; self.corpusChecked = corpusChecked; self.phases = phases
            self.precision = precision; self.groupSize = groupSize; self.weightKernel = weightKernel
        }
    }

    /// Version of the benchmark's analysis these runs are read with (`BenchAnalysis.version`).
    public var analysis: Int
    public var suite: String?
    public var repeats: Int
    public var idleSeconds: Double
    public var threads: Int
    public var workloads: [Workload]

    public init(analysis: Int, suite: String?, repeats: Int, idleSeconds: Double, threads: Int, workloads: [Workload]) {
        self.analysis = analysis; self.suite = suite; self.repeats = repeats; self.idleSeconds = idleSeconds; self.threads = threads
        self.workloads = workloads
    }
}

/// `compute_peaks`: the arithmetic peaks measured in a run and what ran them.
public struct ComputePeaksRecord: Codable, Sendable, Equatable {
    /// Best single sgemm repetition over model-shaped products, before and after the workloads, GFLOP/s.
    public var sgemmGFLOPs: Double
    /// Independent multiply-add chains on the widest vector ISA, every thread at once, GFLOP/s.
    public var fmaGFLOPs: Double
    /// "AVX-512F", "AVX2+FMA" or "SSE2": the ISA of the FMA probe, the widest the CPU reports.
    public var vectorISA: String
    /// The kernel family OpenBLAS ran (`openblas_get_corename`), and `OPENBLAS_CORETYPE` if it was set.
    public var blasCore: String?
    public var blasCoreOverride: String?
    public var threads: Int
    /// Logical CPUs this process may run on.
    public var cpus: Int

    public init(
        sgemmGFLOPs: Double, fmaGFLOPs: Double, vectorISA: String, blasCore: String?, blasCoreOverride: String?, threads: Int, cpus: Int
    ) {
        self.sgemmGFLOPs = sgemmGFLOPs; self.fmaGFLOPs = fmaGFLOPs; self.vectorISA = vectorISA; self.blasCore = blasCore
        self.blasCoreOverride = blasCoreOverride; self.threads = threads; self.cpus = cpus
    }
}

/// `malformed_event`: a line of `WATTPRINT_EVENTS` that is not an event wattprint reads, and why.
public struct MalformedEventLine: Codable, Sendable, Equatable, Error {
    public var line: Int
    public var text: String
    public var problem: String

    public init(line: Int, text: String, problem: String) { self.line = line; self.text = text; self.problem = problem }
}
