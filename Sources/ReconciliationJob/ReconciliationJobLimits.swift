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
