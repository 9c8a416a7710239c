/// A duration in the units figures, metrics and status reports use, so that
/// each conversion is written once.
extension Duration {
    /// In seconds, with fractions: for rates and benchmark figures.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// In milliseconds, with fractions: for latencies and waits.
    public var inMilliseconds: Double {
        Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15
    }

    /// Whole milliseconds, rounded down; a negative duration counts as zero.
    public var wholeMilliseconds: UInt64 {
        guard self > .zero else { return 0 }
        return UInt64(components.seconds) * 1_000 + UInt64(components.attoseconds / 1_000_000_000_000_000)
    }

    /// Whole nanoseconds, rounded toward zero.
    public var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
