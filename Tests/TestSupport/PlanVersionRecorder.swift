import Accounting
import Benchmarks

/// A benchmark's ledger run whose plan says it was recorded under analysis rules `version` (`BenchAnalysis.version`),
/// as an older, or newer, wattprint would have recorded it; everything else goes to `inner` as it is.
public final class PlanVersionRecorder: PhaseRecorder {
    public let inner: LedgerPhaseRecorder
    public let version: Int

    public init(_ inner: LedgerPhaseRecorder, version: Int) { self.inner = inner; self.version = version }

    public func transition(ending: [PhaseMark], beginning: [PhaseMark]) { inner.transition(ending: ending, beginning: beginning) }

    public func record(_ event: RunEvent) {
        guard case var .benchPlan(plan) = event else { return inner.record(event) }
        plan.analysis = version
        inner.record(.benchPlan(plan))
    }
}
