import Engine

/// The seeded generator property tests use, so their traces are the same on every run: the engine's SplitMix64.
public typealias SplitMix = SplitMix64
