import LedgerCore

/// Checks and orders the content of proposals: what the application knows
/// and the consensus core does not (transaction signatures, expiry, whether a
/// transaction already committed, and in which order transactions may run).
/// The node plugs in its mempool and ledger; the simulator plugs in a table of
/// submitted transactions.
public protocol ProposalValidator {
    /// Whether a transaction may wait in the pool to be ordered: well signed,
    /// for this chain, not committed, not expired.
    func isAcceptable(_ transaction: Transaction) -> Bool
    /// Admits a transaction another validator relayed to this primary through
    /// the application's own admission (membership, nonce window, the pool's
    /// byte bound), the path every other source takes; true if it may be pooled.
    func admitRelayed(_ transaction: Transaction) -> Bool
    /// Whether `block`'s transactions are valid on top of the committed chain
    /// followed by `pendingAncestors` (the uncommitted blocks between the last
    /// committed block and `block`, oldest first). The replica has already
    /// checked the header links and that no transaction repeats among them.
    func isValid(block: Block, pendingAncestors: [Block]) -> Bool
    /// The primary's next batch, for a block with timestamp `blockTimestampMs`:
    /// at most `limit` of `candidates` (pooled transactions in none of
    /// `ancestors`, oldest first), each acceptable and none expired at the
    /// block's time, in the order they are to run after `ancestors` (the
    /// blocks committed here but not yet reported executed, then the
    /// uncommitted blocks below the proposal, oldest first). The
    /// application's ordering rules live here.
    func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int) -> [Transaction]
    /// The state root the ledger recorded after executing `height`, nil if it
    /// has not executed it or cannot read it. Lets a restarted replica check
    /// state claims below the heights it has seen executed since it started.
    func executedStateRoot(at height: UInt64) -> Hash?
}

extension ProposalValidator {
    /// Without an admission path of its own: relayed requests are judged like any other.
    public func admitRelayed(_ transaction: Transaction) -> Bool { isAcceptable(transaction) }

    /// Without a ledger to ask: only the roots the replica saw executed are known.
    public func executedStateRoot(at height: UInt64) -> Hash? { nil }

    /// Without ordering rules: the acceptable candidates not expired at the block's time, in pool order.
    public func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int) -> [Transaction] {
        var batch: [Transaction] = []
        for transaction in candidates where batch.count < limit && !transaction.body.isExpired(atMs: blockTimestampMs) && isAcceptable(transaction) {
            batch.append(transaction)
        }
        return batch
    }
}

/// Timers of the replica, in logical ticks (the shell decides how long a tick
/// is; the core never reads a clock).
public struct ReplicaTiming: Equatable, Sendable {
    /// Longest a primary holds a non-full batch before proposing it.
    public var batchTicks: Int
    /// First view-change timeout; doubles with each view change, and the
    /// doublings decay while views deliver (paper 4.5.2, docs/consensus.md rule 7).
    public var viewChangeTimeoutTicks: Int
    /// Interval of retransmissions and status reports.
    public var retransmitTicks: Int
    /// How far into the future (in ms, by the replica's own clock reading) a
    /// proposed block's timestamp may be.
    public var timestampDriftMsMax: UInt64
    /// Doublings of the view-change timeout before it stops growing.
    public var viewChangeBackoffDoublingsMax: Int
    /// Longest the view-change timeout grows to, in ticks.
    public var viewChangeTimeoutTicksMax: Int

    /// Creates a value from its parts; without `viewChangeTimeoutTicksMax`,
    /// the timeout is capped by the doublings alone.
    public init(batchTicks: Int, viewChangeTimeoutTicks: Int, retransmitTicks: Int, timestampDriftMsMax: UInt64,
                viewChangeBackoffDoublingsMax: Int = ConsensusLimits.viewChangeBackoffDoublingsMax,
                viewChangeTimeoutTicksMax: Int? = nil) {
        precondition(batchTicks >= 0 && viewChangeTimeoutTicks >= 1 && retransmitTicks >= 1, "timers must be positive")
        precondition((0...ConsensusLimits.viewChangeBackoffDoublingsMax).contains(viewChangeBackoffDoublingsMax),
                     "back-off doublings are bounded")
        self.batchTicks = batchTicks
        self.viewChangeTimeoutTicks = viewChangeTimeoutTicks
        self.retransmitTicks = retransmitTicks
        self.timestampDriftMsMax = timestampDriftMsMax
        self.viewChangeBackoffDoublingsMax = viewChangeBackoffDoublingsMax
        self.viewChangeTimeoutTicksMax = max(viewChangeTimeoutTicks, viewChangeTimeoutTicksMax ?? (viewChangeTimeoutTicks << viewChangeBackoffDoublingsMax))
    }

    /// The view-change timeout after `attempts` view changes not yet decayed.
    public func viewChangeTimeoutTicks(afterAttempts attempts: Int) -> Int {
        let doublings = min(max(attempts, 0), viewChangeBackoffDoublingsMax)
        return min(viewChangeTimeoutTicks << doublings, viewChangeTimeoutTicksMax)
    }

    /// Derives the timers from the chain parameters for a shell that ticks every
    /// `tickMs`; the back-off stops at ``ConsensusLimits/viewChangeTimeoutMsMax``.
    public static func from(_ parameters: ChainParameters, tickMs: Int) -> ReplicaTiming {
        let tick = max(1, tickMs)
        let base = max(2, parameters.viewChangeTimeoutMs / tick)
        return ReplicaTiming(
            batchTicks: max(1, parameters.blockIntervalMs / tick),
            viewChangeTimeoutTicks: base,
            retransmitTicks: max(1, parameters.viewChangeTimeoutMs / (4 * tick)),
            timestampDriftMsMax: 60_000,
            viewChangeTimeoutTicksMax: max(base, ConsensusLimits.viewChangeTimeoutMsMax / tick))
    }
}

/// Everything fixed about one replica.
public struct ReplicaConfiguration: Sendable {
    /// The chain the replica serves; part of every signed digest.
    public var chainID: String
    /// The validator set, in order.
    public var validators: ValidatorSet
    /// This replica's position in ``validators``.
    public var replicaIndex: Int
    /// The chain parameters (batch size, checkpoint interval, window).
    public var parameters: ChainParameters
    /// The block at height 0, which every chain starts from.
    public var genesisHeader: BlockHeader
    /// The state root after genesis (height 0).
    public var genesisStateRoot: Hash
    /// Timers in ticks.
    public var timing: ReplicaTiming

    /// Creates a value from its parts.
    public init(chainID: String, validators: ValidatorSet, replicaIndex: Int, parameters: ChainParameters,
                genesisHeader: BlockHeader, genesisStateRoot: Hash, timing: ReplicaTiming) {
        precondition(replicaIndex >= 0 && replicaIndex < validators.count, "replica index outside the validator set")
        precondition(parameters.checkpointIntervalBlocks >= 1, "checkpoint interval must be positive")
        precondition(parameters.watermarkWindowBlocks >= parameters.checkpointIntervalBlocks
                     && parameters.watermarkWindowBlocks <= ConsensusLimits.watermarkWindowBlocksMax,
                     "watermark window must hold a checkpoint interval and fit a view-change message")
        precondition(genesisHeader.height == 0, "the genesis header has height 0")
        self.chainID = chainID
        self.validators = validators
        self.replicaIndex = replicaIndex
        self.parameters = parameters
        self.genesisHeader = genesisHeader
        self.genesisStateRoot = genesisStateRoot
        self.timing = timing
    }
}

/// What the shell's ledger knows at start-up.
public struct ChainHead: Equatable, Sendable {
    /// Header of the highest committed block (the genesis header on a fresh node).
    public var committedHeader: BlockHeader
    /// Highest executed height and its state root.
    public var executedHeight: UInt64
    /// State root after ``executedHeight``.
    public var executedStateRoot: Hash

    /// Creates a value from its parts.
    public init(committedHeader: BlockHeader, executedHeight: UInt64, executedStateRoot: Hash) {
        self.committedHeader = committedHeader
        self.executedHeight = executedHeight
        self.executedStateRoot = executedStateRoot
    }
}

/// An input to ``Replica/step(_:)``.
public enum ReplicaInput: Sendable {
    /// A decoded message from a peer.
    case message(ConsensusMessage)
    /// Raw bytes from a peer; decoded strictly, counted as malformed on failure.
    case messageBytes([UInt8])
    /// One logical tick; `clockMs` is the shell's clock reading, used only for
    /// block timestamps (never for timeouts).
    case tick(clockMs: UInt64)
    /// Transactions the mempool has checked and that are ready to be ordered.
    case submit([Transaction])
    /// The shell executed the committed block with this header; `stateRoot` is the result.
    case executed(header: BlockHeader, stateRoot: Hash)
    /// Blocks with certificates fetched from peers, ascending, in answer to
    /// ``ReplicaAction/requestStateTransfer(fromHeight:toHeight:)``.
    case stateTransfer([CertifiedBlock])
}

/// Which peer a message goes to.
public enum Destination: Equatable, Sendable {
    /// Every other validator.
    case all
    /// One validator, by index.
    case replica(Int)
}

/// Something wrong that the replica cannot fix and an operator must see. The
/// replica stops signing after reporting one.
public enum ReplicaFault: Equatable, Sendable, CustomStringConvertible {
    /// The state root this node computed differs from the one certified by a
    /// commit certificate (a header's stateRoot) or a stable checkpoint.
    case stateRootMismatch(height: UInt64, local: Hash, certified: Hash)
    /// A block with 2f+1 commits does not extend this node's committed chain.
    case certifiedBlockDoesNotExtendChain(height: UInt64)
    /// A valid new-view message re-proposes a block other than the one this node committed.
    case newViewContradictsCommittedBlock(height: UInt64)

    public var description: String {
        switch self {
        case .stateRootMismatch(let height, let local, let certified):
            "state root after height \(height) is \(local.short)…, but \(certified.short)… is certified"
        case .certifiedBlockDoesNotExtendChain(let height):
            "certified block at height \(height) does not extend the committed chain"
        case .newViewContradictsCommittedBlock(let height):
            "new view re-proposes a different block at committed height \(height)"
        }
    }
}

/// What the shell must do, in order. Persistence contract: when a step
/// returns a ``persist(_:)`` action it is the first action of the list, and the
/// shell must make it durable (one atomic write) before it carries out any
/// later action of the same list; a replica that signed something always
/// returns the record that remembers it first.
public enum ReplicaAction: Sendable {
    /// Replace the persisted record with this one, durably, before the rest.
    case persist(PersistentState)
    /// Send a message.
    case send(ConsensusMessage, to: Destination)
    /// Append this block to the ledger with its certificate, then execute it
    /// and report ``ReplicaInput/executed(header:stateRoot:)``. Comes in height order.
    case commit(Block, CommitCertificate)
    /// Fetch certified blocks in this height range from peers and hand them
    /// back as ``ReplicaInput/stateTransfer(_:)``.
    case requestStateTransfer(fromHeight: UInt64, toHeight: UInt64)
    /// Report a fault; the replica has stopped signing.
    case fault(ReplicaFault)
}

/// Why a replica left its view; the node logs it with the view change.
public enum ViewChangeReason: Equatable, Sendable, CustomStringConvertible {
    /// The progress timer ran out with an accepted proposal still uncommitted.
    case proposalNotCommitted
    /// The progress timer ran out while a pooled request could have been proposed.
    case requestNotProposed
    /// A short block left out a request this backup forwarded a timeout ago.
    case requestCensored(Hash)
    /// f+1 other replicas asked for a higher view.
    case joinedOtherReplicas
    /// The new view's primary did not deliver its new-view message in time.
    case newViewTimedOut
    /// 2f+1 replicas suspect the primary, this one not (yet) among them.
    case primarySuspectedByQuorum

    public var description: String {
        switch self {
        case .proposalNotCommitted: "an accepted proposal did not commit within the timeout"
        case .requestNotProposed: "a request that could be proposed was not, within the timeout"
        case .requestCensored(let id): "a short block left out request \(id.short)…, forwarded a timeout earlier"
        case .joinedOtherReplicas: "f+1 other validators asked for a higher view"
        case .newViewTimedOut: "the new primary sent no new-view message in time"
        case .primarySuspectedByQuorum: "2f+1 validators suspect the primary"
        }
    }
}

/// Why an input was ignored. The node exports ``Replica/dropCounts`` as metrics.
public enum DropReason: String, CaseIterable, Sendable {
    case halted
    case malformed
    case unknownSender
    case fromSelf
    case badSignature
    case oldView
    case futureView
    case viewChanging
    case outsideWatermarks
    case alreadyCommitted
    case duplicate
    case conflictingPrePrepare
    case conflictsWithOwnVote
    case conflictingVote
    case prepareFromPrimary
    case invalidProposal
    case viewNumberTooLarge
    case staleViewChange
    case invalidViewChange
    case invalidNewView
    case newViewMismatch
    case invalidCheckpoint
    case staleCheckpoint
    case invalidCertificate
    case stateTransferOutOfOrder
    case executionOutOfOrder
    case poolFull
    case unacceptableTransaction
    /// A block in a block response that this replica did not ask for (or whose transactions do not match its header).
    case unrequestedBlock
    /// A block request beyond the per-peer allowance of one retransmit interval.
    case blockRequestRateLimited
}

/// A vote this replica signed in its current view: the one digest it will
/// ever sign at that height in this view.
public struct OwnVote: Equatable, Sendable, CanonicalCodable {
    /// The height (sequence number n in the paper).
    public var height: UInt64
    /// Hash of the block voted for.
    public var blockHash: Hash
    /// Whether a COMMIT was signed too (needed by the pipelining rule after a restart).
    public var commitSent: Bool

    /// Creates a value from its parts.
    public init(height: UInt64, blockHash: Hash, commitSent: Bool) {
        self.height = height
        self.blockHash = blockHash
        self.commitSent = commitSent
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(height)
        encoder.write(blockHash)
        encoder.write(commitSent)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.readUInt64("own vote height")
        blockHash = try decoder.read(Hash.self, "own vote block hash")
        commitSent = try decoder.readBool("own vote commit sent")
    }
}

/// The replica's durable record (docs/consensus.md rule 11): view, view-change
/// target, own votes of the current view, prepared certificates (headers and
/// signatures), the stable checkpoint, and the block bodies the replica
/// retains, so that after a restart it can still prepare, commit and serve
/// the blocks a new view re-proposes, and the new-view message the current
/// view was entered by, so that it can still bring a replica that missed it
/// into the view. Written whole, atomically, before any message that depends
/// on it leaves the node.
public struct PersistentState: Equatable, Sendable, CanonicalCodable {
    /// The view this message belongs to.
    public var view: UInt64
    /// The view-change target, if changing view.
    public var changingTo: UInt64?
    /// View changes since the last commit (sets the back-off).
    public var viewChangeAttempts: UInt32
    /// The block this replica signed at each height of its current view.
    public var ownVotes: [OwnVote]
    /// Prepared certificates above the checkpoint, ascending by height.
    public var prepared: [PreparedCertificate]
    /// The stable checkpoint proof, nil at genesis.
    public var stableCheckpoint: CheckpointProof?
    /// Bodies of blocks seen proposed above the stable checkpoint, strictly
    /// increasing by block hash; at most a watermark window of them.
    public var blockBodies: [Block]
    /// The new-view message this replica entered ``view`` by; nil in view 0,
    /// and in a record written before new-view messages were persisted.
    /// Decoding refuses one for another view.
    public var newView: NewView?
    /// The highest view this replica has sent a VIEW-CHANGE for (0 if none):
    /// it votes in no view below it (docs/consensus.md rule 7). At least
    /// ``changingTo``.
    public var viewChangeSentFor: UInt64

    /// Creates a value from its parts.
    public init(view: UInt64, changingTo: UInt64?, viewChangeAttempts: UInt32, ownVotes: [OwnVote],
                prepared: [PreparedCertificate], stableCheckpoint: CheckpointProof?, blockBodies: [Block] = [],
                newView: NewView? = nil, viewChangeSentFor: UInt64? = nil) {
        self.view = view
        self.changingTo = changingTo
        self.viewChangeAttempts = viewChangeAttempts
        self.ownVotes = ownVotes
        self.prepared = prepared
        self.stableCheckpoint = stableCheckpoint
        self.blockBodies = blockBodies.sorted { $0.hash < $1.hash }
        self.newView = newView
        self.viewChangeSentFor = max(viewChangeSentFor ?? 0, changingTo ?? 0)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(view)
        encoder.write(optional: changingTo)
        encoder.write(viewChangeAttempts)
        encoder.write(ownVotes)
        encoder.write(prepared)
        encoder.write(stableCheckpoint)
        encoder.write(blockBodies)
        encoder.write(newView)
        encoder.write(viewChangeSentFor)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        try self.init(decoding: &decoder, withNewView: true)
    }

    /// Decodes a record in the format written before the new-view message
    /// was persisted: the same fields without it (``newView`` is nil) and
    /// without ``viewChangeSentFor`` (no view then was entered below a view
    /// asked for, so it is taken as the view-change target, or 0).
    public init(decodingWithoutNewView decoder: inout CanonicalDecoder) throws(CodecError) {
        try self.init(decoding: &decoder, withNewView: false)
    }

    init(decoding decoder: inout CanonicalDecoder, withNewView: Bool) throws(CodecError) {
        view = try decoder.readUInt64("persisted view")
        changingTo = try decoder.readOptionalUInt64("persisted view-change target")
        viewChangeAttempts = try decoder.readUInt32("persisted view-change attempts")
        ownVotes = try decoder.readArray(OwnVote.self, "persisted own votes", limit: ConsensusLimits.watermarkWindowBlocksMax)
        prepared = try decoder.readArray(PreparedCertificate.self, "persisted prepared", limit: ConsensusLimits.preparedCertificatesMax)
        stableCheckpoint = try decoder.readOptional(CheckpointProof.self, "persisted stable checkpoint")
        blockBodies = try decoder.readArray(Block.self, "persisted block bodies", limit: ConsensusLimits.watermarkWindowBlocksMax)
        try requireStrictlyIncreasing(blockBodies.map(\.hash), "persisted block bodies")
        try requireStrictlyIncreasing(ownVotes.map(\.height), "persisted own votes")
        try requireStrictlyIncreasing(prepared.map(\.height), "persisted prepared")
        newView = withNewView ? try decoder.readOptional(NewView.self, "persisted new view") : nil
        if let newView, newView.view != view {
            throw .invalidValue(field: "persisted new view", reason: "for view \(newView.view), not the persisted view \(view)")
        }
        viewChangeSentFor = withNewView ? try decoder.readUInt64("persisted view-change view") : (changingTo ?? 0)
        if let changingTo, viewChangeSentFor < changingTo {
            throw .invalidValue(field: "persisted view-change view", reason: "below the view-change target")
        }
    }
}
