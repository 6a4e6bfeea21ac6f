import Accounting

/// Where a benchmark's phases and events go: a measured ledger run (`MeasuredSession`), or a test's recording.
public protocol PhaseRecorder: AnyObject {
    /// Ends and begins windows at one reading of every meter, recording each mark at that reading's time, so adjacent
    /// and nested windows share their edges exactly (nothing falls between them).
    func transition(ending: [PhaseMark], beginning: [PhaseMark])
    func record(_ event: RunEvent)
}

extension PhaseRecorder {
    public func begin(_ marks: PhaseMark...) { transition(ending: [], beginning: marks) }
    public func end(_ marks: PhaseMark...) { transition(ending: marks, beginning: []) }
}

extension MeasuredSession: PhaseRecorder {
    public func transition(ending: [PhaseMark], beginning: [PhaseMark]) {
        let t = sampler?.sampleNow() ?? configuration.clock.nowNs()
        for mark in ending { recorder.record(RunEvent.phaseEnd(mark).record(at: t)) }
        for mark in beginning { recorder.record(RunEvent.phaseStart(mark).record(at: t)) }
    }
}
