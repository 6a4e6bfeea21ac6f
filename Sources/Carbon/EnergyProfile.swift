import Foundation
import Measures

/// Energy measured over time, as a list of segments: `energy` was used evenly between `start` and `end`.
///
/// Segments may overlap (two devices measured separately) and need not be sorted.
public struct EnergyProfile: Hashable, Sendable {
    public struct Segment: Hashable, Sendable {
        public let start: Date
        public let end: Date
        public let energy: Energy

        public init(start: Date, end: Date, energy: Energy) {
            self.start = start
            self.end = end
            self.energy = energy
        }
    }

    public let segments: [Segment]

    /// - Throws: `CarbonError.invalidProfile` for a segment that ends before it starts, has negative or
    ///   non-finite energy, or has energy but no duration (it could not be placed in any hour).
    public init(segments: [Segment]) throws {
        for (i, s) in segments.enumerated() {
            guard s.energy.joules.isFinite, s.energy.joules >= 0 else {
                throw CarbonError(.invalidProfile, "segment \(i + 1): energy \(s.energy.joules) J must be finite and zero or more")
            }
            guard s.end >= s.start else {
                throw CarbonError(.invalidProfile, "segment \(i + 1): ends before it starts; swap start and end")
            }
            if s.end == s.start && s.energy.joules > 0 {
                throw CarbonError(.invalidProfile, "segment \(i + 1): has energy but zero duration; give it an end after its start")
            }
        }
        self.segments = segments
    }

    /// Constant `power` watts from `start` for `duration` seconds.
    public static func constant(watts power: Double, from start: Date, duration: TimeInterval) throws -> EnergyProfile {
        try EnergyProfile(segments: [
            Segment(
                start: start, end: start.addingTimeInterval(duration),
                energy: .joules(power * duration))
        ])
    }

    public var totalEnergy: Energy {
        segments.reduce(.zero) { $0 + $1.energy }
    }
}
