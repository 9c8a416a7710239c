/// Size limits of the statements contract's arguments and records.
public enum StatementsLimits {
    public static let identifierBytesMax = 128
    /// An ISO 4217 currency code.
    public static let currencyBytes = 3
    public static let referenceBytesMax = 64
    public static let nameBytesMax = 256
    public static let narrativeBytesMax = 1024
    /// A line's transaction type code (MT940 `:61:` or camt `BkTxCd` proprietary code), 35 characters at the most.
    public static let transactionTypeCodeBytesMax = 35
    public static let reasonBytesMax = 1024
    public static let linesPerStatementMax = 10_000
    public static let entriesPerBatchMax = 10_000
    /// The largest magnitude of any amount or balance, in minor units (10^15),
    /// so that sums of many items stay far from `Int64` overflow.
    public static let amountMinorMax: Int64 = 1_000_000_000_000_000
    /// The largest bank fee an account's matching rules may tolerate, in minor units.
    public static let feeToleranceMinorMax: Int64 = 1_000_000_000
    /// The amounts and balances the contract takes: ±``amountMinorMax``.
    public static let amountMinorRange: ClosedRange<Int64> = -amountMinorMax...amountMinorMax
    /// The longest identifier once escaped for use in a state key.
    public static let escapedIdentifierBytesMax = 160
    public static let referencesPerItemMax = 4
    public static let matchMembersMax = 64
    /// The most banks that may each register one account number (accounts
    /// are keyed by number and bank); resolving a number reads them all.
    public static let accountHoldersMax = 64
    /// The most equally good alternatives an ambiguous match lists.
    public static let matchAlternativesMax = 8
    public static let historyEntriesMax = 1024
    /// The most open items of one side of an account carrying one reference.
    /// Each arrival with that reference reads them all (reference, fee and
    /// split rules compare dates and amounts), so the bucket is kept small;
    /// an item that would exceed it rejects its transaction
    /// (`reference_bucket_full`).
    public static let openItemsPerReferenceMax = 256
    /// The most (counterparty, kind) groups of open items of one side with one
    /// currency, amount and day. Amount matching reads the group list of each
    /// day in its window, because counterparties agree by containment, not
    /// only equality; beyond it the transaction is rejected (`amount_day_full`).
    public static let groupsPerAmountDayMax = 512
    /// The most open items in one group (same side, currency, amount, day,
    /// counterparty and kind). Groups are heaps costing O(log n) per arrival,
    /// so this only keeps the size field and slot numbers bounded; beyond it
    /// the transaction is rejected (`amount_group_full`).
    public static let openItemsPerGroupMax = 10_000_000
    /// The most amount-day keys an open-item index keeps decoded between
    /// arrivals (a transaction's index, or the benchmark's); when full it
    /// starts afresh. Only memory depends on it, never a result.
    public static let cachedAmountDaysMax = 65_536
    /// The most bytes that cache holds in all, counting each group's
    /// counterparty name and the heap top id it remembers: 128 MiB however
    /// long the names, and room for every amount day of a million open items.
    public static let cachedAmountGroupBytesMax = 128 * 1024 * 1024
    /// The longest item id in the matching index: an escaped statement id,
    /// `/` and an escaped line id.
    public static let matchItemIDBytesMax = 2 * escapedIdentifierBytesMax + 1
    /// The longest balance type code of an intraday report, in bytes.
    public static let balanceCodeBytesMax = 8
    /// The most balances one intraday report carries.
    public static let reportBalancesMax = 32

    // The statement importers.

    /// The largest MT940 or MT942 file the importer reads.
    public static let mt940FileBytesMax = 16 * 1024 * 1024
    /// The most lines in a row that may stand outside any MT940 field (a bank
    /// header) before the text counts as unreadable.
    public static let mt940SkippedLinesMax = 8
    /// The largest camt.052, camt.053 or camt.054 file the importer reads.
    public static let camtFileBytesMax = 32 * 1024 * 1024
    /// How deep camt elements may nest, and how many one file may hold.
    public static let camtDepthMax = 64
    public static let camtElementsMax = 2_000_000
    /// The longest text one camt element may hold.
    public static let camtElementTextBytesMax = 64 * 1024
    /// The largest books CSV file the importer reads.
    public static let booksCSVFileBytesMax = 32 * 1024 * 1024
    /// Warnings of one kind kept for one statement; one more warning counts those left out.
    public static let importWarningsPerKindMax = 20
    /// Outstanding items listed per class in the `status` query and in the
    /// reconciliation report (the counts and totals always cover all of them).
    public static let statusItemsListedMax = 200
    public static let reportItemsListedMax = 500
    /// Records one query reads for an account: statements or intraday reports
    /// listed, statements and confirmations behind a report, and lines, book
    /// entries or matches behind it.
    public static let queryRecordsListedMax = 100_000
    public static let reportStatementsReadMax = 1_000_000
    public static let reportItemsReadMax = 10_000_000
    /// The characters of a reason an event repeats; the record keeps it whole.
    public static let eventReasonCharactersMax = 200
}
