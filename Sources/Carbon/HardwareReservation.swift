import Foundation

/// Hardware a job held: `count` units of a class for `hours` hours.
public struct HardwareReservation: Hashable, Codable, Sendable {
    /// A `HardwareTable` class id, e.g. "h100".
    public let hardware: String
    /// Units reserved (RR), e.g. 8 cards.
    public let count: Double
    /// Time reserved (TiR) in hours.
    public let hours: Double

    /// - Throws: `CarbonError.invalidNumber` unless `count` and `hours` are finite and above zero.
    public init(hardware: String, count: Double, hours: Double) throws {
        guard count.isFinite, count > 0 else {
            throw CarbonError(.invalidNumber, "hardware count \(count) must be above zero, e.g. --count 8")
        }
        guard hours.isFinite, hours > 0 else {
            throw CarbonError(.invalidNumber, "hours \(hours) must be above zero, e.g. --hours 24")
        }
        self.hardware = hardware
        self.count = count
        self.hours = hours
    }
}
