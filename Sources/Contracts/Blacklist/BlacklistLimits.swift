import LedgerCore

/// Size limits of the blacklist's arguments and records.
public enum BlacklistLimits {
    /// Longest free text: a note, or the reason given for a corroboration,
    /// dispute, appeal, answer or revocation.
    public static let textBytesMax = 1024
    /// Most subjects an encoded batch may carry; the genesis parameter
    /// ``BlacklistParameters/batchSubjectsMax`` sets the usable number.
    public static let batchSubjectsDecodeMax = 10_000
    /// The most subjects the genesis may let a batch name: each matched subject
    /// yields one receipt event and a receipt holds at most ``Limits/eventsPerReceiptMax``.
    public static let batchSubjectsParameterMax: UInt32 = 1000
    /// Most entries one settle call may name.
    public static let settleEntriesMax = 1000
    /// Most entries ever listed for one subject.
    public static let entriesPerSubjectMax = 10_000
    /// Most institutions recorded on one entry as corroborators, disputers or appellants.
    public static let institutionsPerEntryMax = Limits.organizationsMax
    /// Most history records returned by one query.
    public static let queryRecordsMax = 10_000
    /// Digits in a row that make free text look like a personal identifier
    /// (15-digit and 18-digit resident identity numbers, bank card numbers).
    public static let identifierDigitsMin = 15
    /// Most reason or purpose codes genesis may define.
    public static let codesMax = 256
    /// Longest reason or purpose code.
    public static let codeBytesMax = 64
    /// Largest allowance figure genesis may set, far above any real use and
    /// small enough that allowance arithmetic cannot overflow.
    public static let allowanceMax: UInt64 = 1_000_000_000_000
    /// Decoding limit of a subject's value; larger values are refused outright.
    public static let subjectValueBytesMax = 64
    /// Most entries an institution's report reads from its indexes.
    public static let reportEntriesMax = 100_000
}
