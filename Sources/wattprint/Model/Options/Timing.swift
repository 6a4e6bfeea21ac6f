/// Seconds since `start` on a continuous clock (the CLI owns timing; the engine never reads a clock itself).
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let d = start.duration(to: ContinuousClock.now)
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
