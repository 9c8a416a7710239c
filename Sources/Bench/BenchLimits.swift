import LedgerCore

// The limits of every benchmark and load generator, in one place.

/// Limits of the network benchmark, units last.
public enum NetworkBenchLimits {
    /// Longest sending phase.
    public static let durationSecondsMax = 3600
    /// How long the benchmark waits for outstanding commits after sending stops;
    /// the load phase stops hard at duration + this.
    public static let drainSecondsMax = 30
    /// Sender keys the benchmark may add to the bank (one key stays the bank's own).
    public static let sendersMax = Limits.memberKeysMax - 1
    /// Highest requested rate.
    public static let ratePerSecondMax = 100_000
    /// Transactions signed ahead of the timed phase; bounds the benchmark's memory.
    public static let transactionsMax = 100_000
    /// Commit latencies kept; beyond this a uniform reservoir sample is kept.
    public static let latencySamplesMax = 100_000
    /// Longest wait for the sender keys to commit, and for them to be removed again.
    public static let setupSecondsMax = 60
    /// Back-off after a `busy` answer: first and largest wait.
    public static let backoffMsMin: UInt64 = 5
    public static let backoffMsMax: UInt64 = 200
    /// Transactions a sender posts in one batch at most.
    public static let batchTransactionsMax = 200
    /// Transactions' bytes in one batch at most (a single larger transaction still goes alone).
    public static let batchBytesMax = 1024 * 1024
    /// How long the event stream may take to connect before sending starts.
    public static let streamConnectMs = 300
}

/// Limits of the clearing burst, units last.
public enum ClearingBurstLimits {
    public static let paymentsMax = 100_000
    public static let breakPercentMax = 50.0
    public static let paymentsPerSecondMax = 10_000
    /// Longest wait for the findings once every record has committed.
    public static let settleSecondsMax = 600
    /// Longest batch id; it becomes part of payment ids and account numbers.
    public static let batchIDBytesMax = 24
    /// Pause between rounds of the settle phase (one trailing payment, one breaks query).
    public static let settleRoundMs = 1000
    /// Missing and unexpected findings listed by name in a report.
    public static let listedFindingsMax = 20
}
