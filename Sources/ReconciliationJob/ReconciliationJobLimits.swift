/// Limits and pacing of the reconciliation job, units last.
public enum ReconciliationJobLimits {
    /// Most calls signed and submitted before waiting for them to commit.
    public static let postBatchCallsMax = 64
    /// Blocks read from the stream but not yet processed; above this the job
    /// drops the connection and reconnects from its cursor once it catches up.
    public static let streamBufferBlocksMax = 256
    /// Most detection delays kept for the percentiles (the oldest are dropped).
    public static let delaySamplesMax = 100_000
    /// How often the job asks whether a posted transaction has committed.
    public static let commitPollIntervalMs: UInt64 = 50
    /// Posts a watching job keeps submitted but not yet seen committed; more
    /// wait for the oldest to commit (the node's nonce window bounds them too).
    public static let postsInFlightMax = 256
    /// How often a watching job checks that its oldest posts have not waited past the commit timeout.
    public static let unconfirmedCheckMs: UInt64 = 500
    /// The largest state file read (the engine is bounded by ``ClearingLimits/trackedPaymentsMax``).
    public static let stateFileBytesMax = 4 * 1024 * 1024 * 1024
}

/// The job's settings when none are given: what suits a job following a live
/// node. Settings, not bounds: an operator may choose others.
public enum ReconciliationJobDefaults {
    /// Lifetime of posted transactions.
    public static let transactionLifetimeMs: UInt64 = 600_000
    /// How long a posted transaction may take to commit before it is posted again.
    public static let commitTimeoutMs: UInt64 = 60_000
    /// First pause after a failure; it doubles up to ``backoffMaxMs``.
    public static let backoffMinMs: UInt64 = 200
    /// Longest pause between retries.
    public static let backoffMaxMs: UInt64 = 10_000
    /// Least time between two saves of the state file while following the stream.
    public static let saveIntervalMs: UInt64 = 1000
}
