import Consensus
import LedgerCore

// Every limit and timing of the node in one place; `LimitsTests` asserts how
// they relate to each other and to the layers below.

/// Limits of the peer protocol, units last.
public enum PeerLimits {
    /// Bytes a frame adds around its message: the message tag and length prefixes.
    public static let frameEnvelopeBytesMax = 64
    /// Largest frame a peer may send: the largest consensus message in its envelope.
    public static let frameBytesMax = ConsensusLimits.messageBytesMax + frameEnvelopeBytesMax
    /// Largest frame before the handshake completes: a hello or a proof, with headroom.
    /// Nothing larger is buffered for a connection that has not proven its key.
    public static let handshakeFrameBytesMax = 512
    /// Bytes queued for one peer before further messages to it are dropped:
    /// room for two frames of the largest size.
    public static let sendQueueBytesMax = 2 * frameBytesMax
    /// Blocks in one sync response.
    public static let syncBlocksMax = 64
    /// Bytes (by ``CertifiedBlock/encodedBytesBound``) of the blocks in one
    /// sync response beyond its first; the first is one block of any size, which a frame holds.
    public static let syncResponseBytesMax = frameBytesMax / 2
    /// Transactions in one gossip message.
    public static let gossipTransactionsMax = 2_000
    /// Bytes (by ``Transaction/encodedBytesBound``) of the transactions in one
    /// gossip message; one transaction of the largest size always fits.
    public static let gossipBatchBytesMax = ConsensusLimits.messageBytesMax / 2
    /// Time a peer has to complete the handshake.
    public static let handshakeTimeoutMs = 5_000
    /// Connections not yet authenticated, from one address and in all.
    public static let unauthenticatedPerAddressMax = 4
    public static let unauthenticatedMax = 32
    /// How often an authenticated link sends a keep-alive, and how long a
    /// link may stay silent before it counts as dead and may be replaced.
    public static let keepAliveMs = 1_000
    public static let livenessTimeoutMs = 4_000
    public static let reconnectDelayMsMin: UInt64 = 100
    public static let reconnectDelayMsMax: UInt64 = 5_000
    /// Version 2: an X25519 key exchange signed by the node keys, then every
    /// frame sealed with ChaCha20-Poly1305.
    public static let protocolVersion: UInt64 = 2
}

/// Limits and timings of the node shell, units last.
public enum NodeTiming {
    /// One logical consensus tick.
    public static let tickMs = 10
    /// How often a node that is catching up logs how far it has come.
    public static let catchUpLogInterval = Duration.seconds(2)
    /// Bytes of input waiting for the consensus loop from one source (a peer,
    /// or this node's API and sync) before that source's further input is
    /// dropped: room for two consensus messages of the largest size.
    public static let inboxBytesPerSourceMax = 2 * ConsensusLimits.messageBytesMax
    /// Transactions gossiped in one message.
    public static let gossipBatchMax = 500
    /// Bytes (by ``Transaction/encodedBytesBound``) of admitted transactions
    /// waiting for the next tick to reach the replica; one tick's flush always
    /// fits the inbox. Beyond it the API answers `busy`.
    public static let submittedBufferBytesMax = ConsensusLimits.messageBytesMax
    /// Bytes of admitted transactions waiting to be gossiped; beyond it a
    /// transaction is not gossiped (it still reaches the primary by the replica's forward).
    public static let gossipBufferBytesMax = ConsensusLimits.messageBytesMax
    /// Signature ids remembered as verified, so each is checked once.
    public static let verifiedCacheEntriesMax = 400_000
    /// Signatures verified per task when a batch of transactions is spread over the cores.
    public static let verificationChunkTransactions = 32
    /// How often an observer polls the validators it follows when it is caught up.
    public static let observerPollMs: UInt64 = 200
    /// Admission times kept for the commit-latency histogram.
    public static let latencySamplesMax = 200_000
    /// How often expired transactions are dropped from the mempool.
    public static let expirySweepMs = 1_000
    /// How long a node may stay at one height while others are ahead before
    /// it counts as stalled (``NodeHealth``): well above a block interval and
    /// the status reports that tell it where the others are.
    public static let stalledMsMax: UInt64 = 10_000
}

/// Bounds of the mempool, the node's one request pool: by default the
/// consensus layer's (``ConsensusLimits/pendingTransactionsMax``).
public struct MempoolLimits: Sendable {
    public var transactionsMax: Int
    /// Bytes by ``Transaction/encodedBytesBound``.
    public var bytesMax: Int
    /// The retry hint when the pool is at its hard bounds.
    public static let fullRetryAfterMs = 1_000

    public init(transactionsMax: Int = ConsensusLimits.pendingTransactionsMax, bytesMax: Int = ConsensusLimits.pendingTransactionBytesMax) {
        self.transactionsMax = transactionsMax
        self.bytesMax = bytesMax
    }
}

/// Bounds of the API's back-pressure (``AdmissionBacklog``).
public struct AdmissionBacklogLimits: Sendable, Equatable {
    /// The most work the pool may hold, in milliseconds of commits at the
    /// window's rate: about the longest a transaction admitted now waits.
    public var poolWorkMsMax: Int
    /// Transactions always admitted: a pool this small is no queue, and an
    /// idle cluster has no commits to judge by.
    public var floorTransactions: Int
    /// How far back commits count when judging the rate.
    public var windowMs: Int
    /// The width of one slot of that window.
    public var slotMs: Int
    /// The retry hint's bounds.
    public var retryAfterMsMin: Int
    public var retryAfterMsMax: Int
    /// The hint while nothing commits: soon, since a stalled cluster may
    /// resume at any moment and a pool at the floor costs little to ask.
    public var stalledRetryAfterMs: Int

    /// The bound must exceed the time a transaction takes from the pool to
    /// commit at light load, or the pool it allows cannot keep the pipeline
    /// full and the rate it judges by falls with it.
    public init(poolWorkMsMax: Int = 2_000, floorTransactions: Int = 1_000, windowMs: Int = 2_000, slotMs: Int = 250,
                retryAfterMsMin: Int = 100, retryAfterMsMax: Int = 10_000, stalledRetryAfterMs: Int = 1_000) {
        self.poolWorkMsMax = poolWorkMsMax
        self.floorTransactions = floorTransactions
        self.windowMs = windowMs
        self.slotMs = slotMs
        self.retryAfterMsMin = retryAfterMsMin
        self.retryAfterMsMax = retryAfterMsMax
        self.stalledRetryAfterMs = stalledRetryAfterMs
    }
}
