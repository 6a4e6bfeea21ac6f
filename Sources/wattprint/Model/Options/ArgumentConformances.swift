import ArgumentParser
import Engine

// Engine enums used as option values; CaseIterable lets --help list the choices.
// (Same package today; if Engine moves to another package these become retroactive conformances.)
extension TokenDType: ExpressibleByArgument {}
extension BenchPhase: ExpressibleByArgument {}
extension Architecture: ExpressibleByArgument {}
extension WeightPrecision: ExpressibleByArgument {}
