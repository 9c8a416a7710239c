/// Size limits of clearing records, in one place (units last).
public enum ClearingLimits {
    /// Longest payment id (end-to-end id or message id), in UTF-8 bytes.
    public static let paymentIDBytesMax = 128
    /// Longest account identifier, in UTF-8 bytes.
    public static let accountBytesMax = 64
    /// Longest channel name (for example `CNAPS-HVPS`, `IBPS`, `CIPS`), in UTF-8 bytes.
    public static let channelBytesMax = 32
    /// Longest settlement cycle id, in UTF-8 bytes.
    public static let cycleIDBytesMax = 64
    /// Longest free-text details of a finding or resolution, in UTF-8 bytes.
    public static let detailsBytesMax = 1024
    /// Most versions (the first record plus its updates) one side of a payment may have.
    public static let versionsPerSideMax = 64
    /// Largest amount a genesis may allow per record (10^15 minor units).
    public static let amountMinorCeiling: UInt64 = 1_000_000_000_000_000
    /// Most institutions that may take part in one settlement cycle.
    public static let cycleParticipantsMax = 4096
    /// Most (institution, currency) positions one settlement cycle may hold.
    public static let cyclePositionsMax = 16_384
    /// Most organizations a genesis may name as reconcilers.
    public static let reconcilersMax = 256
    /// Most entries a list query returns.
    public static let queryResultsMax = 10_000
    /// Entries a list query returns when no `limit` is given.
    public static let queryResultsDefault = 1000
    /// Most payments one reconciliation engine tracks.
    public static let trackedPaymentsMax = 16_000_000
}
