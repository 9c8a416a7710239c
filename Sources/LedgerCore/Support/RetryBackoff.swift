/// The wait before the next retry: it starts at `minimumMs`, doubles after
/// each failure up to `maximumMs`, and starts over once a try succeeds. The
/// one back-off of the project (peer dialling, the reconciliation job, the
/// load generator).
public struct RetryBackoff: Sendable, Equatable {
    public let minimumMs: UInt64
    public let maximumMs: UInt64
    /// How long to wait before the next retry.
    public private(set) var currentMs: UInt64

    /// A back-off waiting `minimumMs` first; `maximumMs` below it is raised to it.
    public init(minimumMs: UInt64, maximumMs: UInt64) {
        self.minimumMs = max(1, minimumMs)
        self.maximumMs = max(self.minimumMs, maximumMs)
        currentMs = self.minimumMs
    }

    /// A try failed: the wait after this one is twice as long, within the maximum.
    public mutating func failed() {
        currentMs = currentMs > maximumMs / 2 ? maximumMs : currentMs * 2
    }

    /// A try succeeded: the next failure waits the minimum again.
    public mutating func succeeded() {
        currentMs = minimumMs
    }
}
