/// Size limits of the statements contract's arguments and records.
public enum StatementsLimits {
    public static let identifierBytesMax = 128
    public static let referenceBytesMax = 64
    public static let nameBytesMax = 256
    public static let narrativeBytesMax = 1024
    public static let reasonBytesMax = 1024
    public static let linesPerStatementMax = 10_000
    public static let entriesPerBatchMax = 10_000
    /// The largest magnitude of any amount or balance, in minor units (10^15),
    /// so that sums of many items stay far from `Int64` overflow.
    public static let amountMinorMax: Int64 = 1_000_000_000_000_000
    /// The amounts and balances the contract takes: ±``amountMinorMax``.
    public static let amountMinorRange: ClosedRange<Int64> = -amountMinorMax...amountMinorMax
    /// The longest identifier once escaped for use in a state key.
    public static let escapedIdentifierBytesMax = 160
    public static let referencesPerItemMax = 4
    public static let matchMembersMax = 64
    public static let historyEntriesMax = 1024
}
