/// A central value with the bounds of its 90 % interval.
///
/// Every figure wattprint reports comes with one, so a reader sees how far to trust it.
public struct Interval<Value> {
    public var central: Value
    public var low: Value
    public var high: Value

    public init(central: Value, low: Value, high: Value) {
        self.central = central
        self.low = low
        self.high = high
    }

    /// The same interval in another type or unit; `transform` must be increasing.
    public func map<T>(_ transform: (Value) -> T) -> Interval<T> {
        Interval<T>(central: transform(central), low: transform(low), high: transform(high))
    }
}

extension Interval: Equatable where Value: Equatable {}
extension Interval: Hashable where Value: Hashable {}
extension Interval: Sendable where Value: Sendable {}
extension Interval: Codable where Value: Codable {}
