/// Every size limit of the ledger's data, in one place. Decoders check these
/// before allocating; units are last in each name.
public enum Limits {
    public static let chainIDBytesMax = 64
    public static let identifierBytesMax = 128
    public static let nameBytesMax = 256
    public static let textBytesMax = 4096
    public static let contractNameBytesMax = 64
    public static let operationNameBytesMax = 64
    public static let callArgumentsBytesMax = 512 * 1024
    public static let transactionBytesMax = 600 * 1024
    public static let blockTransactionsMax = 20_000
    public static let blockBytesMax = 32 * 1024 * 1024
    /// Bytes of a block's encoding beyond its transactions (the header and the
    /// transaction count) at their largest: what a block's size bound reserves.
    public static let blockHeaderBytesBound = 512
    public static let eventsPerReceiptMax = 1024
    public static let eventAttributesMax = 64
    public static let eventValueBytesMax = 4096
    public static let validatorsMax = 256
    public static let organizationsMax = 100_000
    public static let memberKeysMax = 64
    public static let addressBytesMax = 256
    public static let stateKeyBytesMax = 512
    public static let stateValueBytesMax = 4 * 1024 * 1024
    public static let proofSiblingsMax = 256
    public static let receiptsPerBlockMax = blockTransactionsMax
    public static let indexEntriesPerTransactionMax = 4096
    public static let stateWritesPerTransactionMax = 100_000
    /// Public keys remembered as valid points; more than the signers active at
    /// once in a consortium. A key forgotten costs only its point check when
    /// it is next decoded.
    public static let validatedPublicKeysMax = 16_384
}
