import LedgerCore

/// Every bound the consensus core enforces, in one place. Decoders check the
/// counts before allocating; the replica checks the queue sizes before it
/// stores anything a peer sent. Units are last in each name.
public enum ConsensusLimits {
    /// Largest encoded consensus message the shell hands to the decoder; the
    /// peer protocol's frames are sized to carry it. It holds at least one
    /// block of the largest size with its certificate.
    public static let messageBytesMax = 2 * Limits.blockBytesMax
    /// Validators in a set, as in the ledger.
    public static let validatorsMax = Limits.validatorsMax
    /// Prepared certificates one view-change message may carry; the watermark
    /// window is never allowed to be larger.
    public static let preparedCertificatesMax = 1024
    /// Largest watermark window (high − low watermark) the replica accepts.
    public static let watermarkWindowBlocksMax = preparedCertificatesMax
    /// Entries a new-view message may carry (its set O, headers only).
    public static let newViewBlocksMax = preparedCertificatesMax
    /// Block hashes one block request may name: every height of the largest window.
    public static let blockRequestHashesMax = watermarkWindowBlocksMax
    /// Blocks one block response may carry; the answering replica also keeps
    /// the encoded response within ``messageBytesMax``.
    public static let blockResponseBlocksMax = 256
    /// Encoded bytes of blocks one block response carries: room for the
    /// message's own framing is left below ``messageBytesMax``, and one block
    /// of the largest size always fits.
    public static let blockResponseBytesMax = messageBytesMax - 4096
    /// Block requests from one peer answered per retransmit interval, so a
    /// Byzantine replica cannot make another send unbounded traffic.
    public static let blockRequestsAnsweredPerIntervalMax = 2
    /// Bytes of block bodies a replica keeps (the blocks it saw proposed above
    /// its low watermark, at most one watermark window's worth of them).
    public static let retainedBlockBytesMax = 8 * Limits.blockBytesMax
    /// Transactions a backup relays to the primary in one message (rule 9).
    public static let forwardTransactionsMax = 256
    /// Blocks a primary keeps proposed but not yet committed. Deeper pipelines
    /// only queue work at the backups: under load each extra full block delays
    /// the next commit past the view-change timer and costs a view change.
    public static let proposalsInFlightMax: UInt64 = 4
    /// Transactions waiting in a validator's request pool to be ordered (the
    /// node's mempool, ``RequestPool``).
    public static let pendingTransactionsMax = 100_000
    /// Bytes (by ``Transaction/encodedBytesBound``) waiting in a validator's request pool.
    public static let pendingTransactionBytesMax = 128 * 1024 * 1024
    /// Checkpoint messages kept per sender (the highest heights win).
    public static let checkpointsPerReplicaMax = 4
    /// Blocks accepted in one state-transfer batch.
    public static let stateTransferBlocksMax = 1024
    /// View numbers at or above this are refused, so `view + 1` and the
    /// back-off arithmetic can never overflow.
    public static let viewNumberMax: UInt64 = UInt64.max / 4
    /// Back-off doublings before the view-change timeout stops growing.
    public static let viewChangeBackoffDoublingsMax = 16
    /// Longest the view-change timeout grows to by back-off, whatever the
    /// doublings: a cluster that lost its primary waits at most this long.
    public static let viewChangeTimeoutMsMax = 120_000
    /// Pooled requests a backup examines, oldest first, when it asks whether
    /// a block the primary left short omitted a request it had long enough.
    public static let censorshipCheckRequestsMax = 1024
}
