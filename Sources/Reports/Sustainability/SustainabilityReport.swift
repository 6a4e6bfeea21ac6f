/// A sustainability report as data: what every format (Markdown, HTML, JSON, CSV) shows, built from the ledger alone
/// so `wattprint verify --report` can rebuild it and compare figure by figure. `Schemas/sustainability-report.schema.json`
/// describes it; the JSON format is this type encoded with sorted keys.
///
/// Content follows the Green Software Foundation's SCI report template: the functional unit and why, the boundary,
/// E, I and M each marked measured, modelled or sourced, a coefficients table, SCI per unit with components that add
/// up; then Scope 2 (location-based always, market-based when contractual data was given), embodied emissions,
/// 90 % intervals with their dominant contributor, the methodology, and the ledger's chain heads.
public struct SustainabilityReport: Codable, Sendable, Equatable {
    /// The schema reports are made with. The shape is the same in all; what changed is how some content is worded and
    /// chosen, and `verify --report` rebuilds a report under the rules of the schema it carries:
    /// - 1: the first.
    /// - 2: headlines say the kWh are IT energy and that the grams include the PUE (a run's names it), and "estimated
    ///   with wattprint" for an estimate; a comparison's or a period's also says whether its energy was measured or
    ///   estimated, and counts runs in words ("1 run", "2 runs"); side-by-side reductions need their J/token intervals apart and windows that pass
    ///   the checks ranking needs, and ones that runs contradict are dropped (`OffsetAdvice.sideBySide`, `withoutContradictions`); grouping by workload keeps a
    ///   wattprint command's first argument (`wattprint bench small`, not `wattprint bench`); the durability table's
    ///   definitions are worded as such, not as "stored in -", its quality and price tables for a reader, and a price
    ///   known only as an upper bound is costed from 0 (`OffsetPlan.make(revised:)`); notes name `wattprint offsets` for comparing regions, and
    ///   say when bench measured an alternative that was inconclusive.
    /// - 3: a period grouped by model splits a benchmark run among its workloads' models by their windows' energy, the
    ///   rest of the run a group of its own (`SustainabilityReportBuilder.benchShares`), where 2 put the whole run under
    ///   "no model recorded"; grouped by workload, a findings rerun counts with the benchmark that measured it, where 2
    ///   grouped it under its own command (`wattprint bench Workloads/small/gpt2.json`).
    /// - 4: a period grouped by workload splits a benchmark run among its workloads by name (`small-gpt2`), as 3 splits
    ///   it by model, the rest of the run a group of its own; a findings rerun's windows go to the workload it measured.
    ///   3 put the whole run, and its reruns, under the benchmark's command (`wattprint bench small`). Runs that are not
    ///   benchmarks are grouped by their command, as before.
    public static let schemaVersion = 4
    /// The schemas this wattprint reads and rebuilds.
    public static let readableSchemas = 1...4

    public enum Kind: String, Codable, Sendable { case run, comparison, period }

    /// What the report was asked for, so `verify --report` rebuilds the same one.
    public struct Request: Codable, Sendable, Equatable {
        public var kind: Kind
        public var runs: [Int64]
        public var since: String?
        public var until: String?
        public var groupBy: String?
        public init(kind: Kind, runs: [Int64] = [], since: String? = nil, until: String? = nil, groupBy: String? = nil) {
            self.kind = kind; self.runs = runs; self.since = since; self.until = until; self.groupBy = groupBy
        }
    }

    /// A figure's origin in the SCI template's terms.
    public enum Basis: String, Codable, Sendable { case measured, modelled, sourced, mixed, excluded }

    public struct Component: Codable, Sendable, Equatable {
        public var value: Double
        public var unit: String
        public var basis: Basis
        public var note: String
    }

    public struct SCI: Codable, Sendable, Equatable {
        /// R: what the score is per, and why that unit.
        public var functionalUnit: String
        public var functionalUnits: Double
        public var functionalUnitReason: String
        public var included: [String]
        public var excluded: [String]
        /// E (facility energy, kWh), I (g CO2e/kWh, location-based), M (g CO2e, embodied share).
        public var energy: Component
        public var intensity: Component
        public var embodied: Component
        /// E × I and M, g, adding up to `totalGrams`; `perUnitGrams` = total ÷ R.
        public var operationalGrams: Double
        public var embodiedGrams: Double
        public var totalGrams: Double
        public var perUnitGrams: Double
    }

    public struct Coefficient: Codable, Sendable, Equatable {
        public var name: String
        public var value: Double
        public var unit: String
        public var source: String
        public var year: Int?
        public var licence: String
    }

    public struct Channel: Codable, Sendable, Equatable {
        public var key: String
        public var device: String
        public var domain: String
        /// total (adds up) or detail (another view of energy already counted).
        public var role: String
        public var mode: String
        public var source: String
        public var kWh: Double
        public var meanWatts: Double
    }

    /// Power of one channel over the run, W, at up to `PowerSeries.maximumPoints` times (seconds from the start).
    public struct PowerSeries: Codable, Sendable, Equatable {
        public static let maximumPoints = 200
        public var key: String
        public var role: String
        public var seconds: [Double]
        public var watts: [Double]
    }

    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
        public var kWh: Double
        public var tokens: Double
        public var joulesPerToken: Double?
    }

    /// Hugging Face's model-card `co2_eq_emissions` block for a training run, with kWh and hours beside it.
    public struct ModelCard: Codable, Sendable, Equatable {
        public var emissions: Double
        public var source: String
        public var trainingType: String
        public var geographicalLocation: String
        public var hardwareUsed: String
        public var kWh: Double
        public var hours: Double
    }

    public struct RunSection: Codable, Sendable, Equatable {
        public var id: Int64
        public var command: String
        public var startedAt: String
        public var endedAt: String?
        public var seconds: Double
        public var status: String
        public var host: String
        public var hardware: String
        public var region: String
        public var regionName: String
        /// The run's seal (hex): the head of its hash chain.
        public var seal: String?
        public var kWh: Double
        public var kWhLow: Double
        public var kWhHigh: Double
        public var measuredShare: Double
        public var channels: [Channel]
        public var phases: [Phase]
        public var tokens: Double?
        public var joulesPerToken: Double?
        public var sci: SCI
        public var coefficients: [Coefficient]
        public var locationBasedGrams: Double
        /// Market-based Scope 2, only when the run was given contractual instruments.
        public var marketBasedGrams: Double?
        public var embodiedGrams: Double
        public var totalGrams: Double
        public var totalGramsLow: Double
        public var totalGramsHigh: Double
        public var dominantContributor: String?
        public var flags: [String]
        public var attribution: [String]
        public var modelCard: ModelCard?
        public var power: [PowerSeries]
        public var quotable: String
    }

    public struct Group: Codable, Sendable, Equatable {
        public var name: String
        /// Runs with a part in the group. From schema 3 a benchmark grouped by model has a part in each of its models'
        /// groups, and from schema 4 one grouped by workload in each of its workloads', so the groups' runs can add up to
        /// more than the period's; kWh, grams and tokens add up to its totals.
        public var runs: Int
        public var kWh: Double
        public var grams: Double
        public var tokens: Double?
    }

    public struct Day: Codable, Sendable, Equatable {
        public var day: String
        public var runs: Int
        public var kWh: Double
        public var grams: Double
    }

    public struct Totals: Codable, Sendable, Equatable {
        public var runs: Int
        public var kWh: Double
        public var kWhLow: Double
        public var kWhHigh: Double
        public var locationBasedGrams: Double
        public var marketBasedGrams: Double?
        public var embodiedGrams: Double
        public var totalGrams: Double
    }

    public struct Methodology: Codable, Sendable, Equatable {
        public var meters: [String]
        public var formulas: [String]
        public var dataSources: [String]
    }

    public struct Verification: Codable, Sendable, Equatable {
        /// The command that rebuilds every figure from the ledger's raw samples and checks the signature.
        public var command: String
        /// Ed25519 over the report's canonical JSON with this field empty: the host's public key and the signature,
        /// both base64.
        public var publicKey: String?
        public var signature: String?
    }

    public var schema: Int
    public var request: Request
    public var title: String
    public var generatedBy: String
    public var ledger: String
    public var runs: [RunSection]
    public var totals: Totals
    public var groups: [Group]
    public var trend: [Day]
    /// Interrupted runs, gaps and unmeasured stretches in what the report covers.
    public var gaps: [String]
    public var methodology: Methodology
    public var quotable: String
    /// Reductions first (time shift, regions, measured efficiency), then an offset plan shown apart; nil in reports
    /// made before it was added.
    public var offsets: OffsetAdvice?
    public var verification: Verification
}
