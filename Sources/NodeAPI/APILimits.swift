import LedgerCore

/// Limits of the client API.
public enum APILimits {
    /// Largest request body: one encoded transaction as hex in JSON, with headroom.
    public static let requestBodyBytesMax = 2 * Limits.transactionBytesMax + 4096
    /// Transactions in one `POST /v1/transactions/batch` at most.
    public static let batchTransactionsMax = 2_000
    /// Largest body of a batch submission: many ordinary transactions, or
    /// one of the largest size with room to spare. A client splits larger batches.
    public static let batchBodyBytesMax = 4 * 1024 * 1024
    /// Blocks sent per wake-up on the event stream.
    public static let streamBatchBlocksMax = 64
    /// How long an idle event stream waits before sending a keep-alive comment.
    public static let streamKeepAliveMs: UInt64 = 15_000
    /// Largest response body a client buffers: a block of the largest size, hex-encoded twice (its transactions and its canonical bytes), with headroom.
    public static let responseBodyBytesMax = 4 * Limits.blockBytesMax + 1_048_576
    /// API connections at most, whatever the descriptor limit allows; the
    /// node takes fewer when its descriptors are scarcer (see `APIConnectionBudget`).
    public static let connectionsMax = 1024
    /// API connections at least, however scarce descriptors are.
    public static let connectionsMin = 8
    /// How long a connection may sit without a request in progress, including
    /// one whose request head trickles in, before it is closed.
    public static let idleTimeoutMs = 10_000
    /// How long a request may take to arrive whole once its head has.
    public static let requestReadTimeoutMs = 10_000
    /// How long a stopping API lets requests in progress finish after it has
    /// stopped accepting connections, before it cancels them.
    public static let shutdownGraceMs = 2_000
}
