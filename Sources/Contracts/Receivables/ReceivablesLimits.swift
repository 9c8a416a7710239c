/// Size limits of the receivables contract's records, in one place.
public enum ReceivablesLimits {
    public static let voucherIDBytesMax = 64
    public static let currencyBytes = 3
    public static let invoicesMax = 100
    public static let invoiceNumberBytesMax = 64
    public static let noteBytesMax = 1024
    public static let reasonBytesMax = 512
    public static let registrationNumberBytesMax = 64
    /// Largest face amount of one voucher, in minor units (10 trillion yuan).
    public static let amountMax: UInt64 = 1_000_000_000_000_000
    /// Highest annual discount rate, in basis points (100 %).
    public static let discountRateBpsMax: UInt32 = 10_000
    /// Most steps one piece's history may hold; a move that would exceed it is refused.
    public static let pieceHistoryMax = 64
    /// Most clearing lines (one per holder) a settlement records.
    public static let clearingLinesMax = 200_000
    /// Most pieces a query returns.
    public static let queryPiecesMax = 200_000
    /// Most ancestors a piece's parent chain is followed through before it
    /// counts as broken (splits nest far less deeply).
    public static let pieceAncestorsMax = 64 * 1024
    /// Most totals (one per currency) and credit lines (one per bank) an issuer's disclosure reads.
    public static let disclosureEntriesMax = 1024
    /// Entries read per storage scan while walking a range.
    static let scanBatchEntries = 512
}
