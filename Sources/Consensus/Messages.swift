import LedgerCore

// The PBFT messages of Castro and Liskov (TOCS 2002, section 4), as signed
// value types in the canonical encoding. No message carries a digest of its
// own content: every digest a replica acts on (block hash, signing digest) is
// recomputed from the decoded content, so a forged claim cannot survive
// decoding. Signatures are checked by the replica, which holds the validator
// set and the verifier.

/// Computes the digest a message's signature covers: a domain-tagged hash of
/// the chain ID and the message's unsigned fields.
enum SigningDigest {
    static func make(_ domain: String, chainID: String, _ fields: (inout CanonicalEncoder) -> Void) -> Hash {
        var encoder = CanonicalEncoder()
        encoder.write(chainID)
        fields(&encoder)
        return Hash.tagged(domain, encoder.bytes)
    }
}

/// ⟨PRE-PREPARE, v, n, d⟩ with the block itself (paper 4.2): the primary of
/// `view` proposes `block` at `block.height`. The digest is the block hash,
/// recomputed from the header; the header's transaction root is recomputed
/// from the transactions when the block is decoded.
public struct PrePrepare: Equatable, Sendable, CanonicalCodable {
    /// The view this message belongs to.
    public let view: UInt64
    /// The proposed block.
    public let block: Block
    /// The primary's signature over ``signingDigest(chainID:)``.
    public let signature: Signature
    /// The block hash, computed once from the header (never read from the wire).
    public let blockHash: Hash

    /// Creates a value from its parts.
    public init(view: UInt64, block: Block, signature: Signature) {
        self.view = view
        self.block = block
        self.signature = signature
        self.blockHash = block.hash
    }

    /// The height (sequence number n in the paper).
    public var height: UInt64 { block.height }

    /// What the primary signs.
    public static func signingDigest(chainID: String, view: UInt64, height: UInt64, blockHash: Hash) -> Hash {
        SigningDigest.make("consort/pbft/pre-prepare", chainID: chainID) { encoder in
            encoder.write(view)
            encoder.write(height)
            encoder.write(blockHash)
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, view: view, height: block.height, blockHash: blockHash)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(view)
        encoder.write(block)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let view = try decoder.readUInt64("pre-prepare view")
        let block = try decoder.read(Block.self, "pre-prepare block")
        let signature = try decoder.read(Signature.self, "pre-prepare signature")
        self.init(view: view, block: block, signature: signature)
    }
}

/// ⟨PREPARE, v, n, d, i⟩ (paper 4.2): backup `replica` accepted the
/// pre-prepare for block `blockHash` at (view, height).
public struct Prepare: Equatable, Sendable, CanonicalCodable {
    /// The view this message belongs to.
    public var view: UInt64
    /// The height (sequence number n in the paper).
    public var height: UInt64
    /// Hash of the block voted for.
    public var blockHash: Hash
    /// Index of the sender in the validator set.
    public var replica: UInt32
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(view: UInt64, height: UInt64, blockHash: Hash, replica: UInt32, signature: Signature) {
        self.view = view
        self.height = height
        self.blockHash = blockHash
        self.replica = replica
        self.signature = signature
    }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, view: UInt64, height: UInt64, blockHash: Hash, replica: UInt32) -> Hash {
        SigningDigest.make("consort/pbft/prepare", chainID: chainID) { encoder in
            encoder.write(view)
            encoder.write(height)
            encoder.write(blockHash)
            encoder.write(replica)
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, view: view, height: height, blockHash: blockHash, replica: replica)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(view)
        encoder.write(height)
        encoder.write(blockHash)
        encoder.write(replica)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        view = try decoder.readUInt64("prepare view")
        height = try decoder.readUInt64("prepare height")
        blockHash = try decoder.read(Hash.self, "prepare block hash")
        replica = try decoder.readUInt32("prepare replica")
        signature = try decoder.read(Signature.self, "prepare signature")
    }
}

/// ⟨COMMIT, v, n, d, i⟩ (paper 4.2). The signature covers exactly
/// ``CommitVote/digest(chainID:height:view:blockHash:)`` so that 2f+1 of them
/// form a ``CommitCertificate``.
public struct Commit: Equatable, Sendable, CanonicalCodable {
    /// The view this message belongs to.
    public var view: UInt64
    /// The height (sequence number n in the paper).
    public var height: UInt64
    /// Hash of the block voted for.
    public var blockHash: Hash
    /// Index of the sending validator in the validator set.
    public var replica: UInt32
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(view: UInt64, height: UInt64, blockHash: Hash, replica: UInt32, signature: Signature) {
        self.view = view
        self.height = height
        self.blockHash = blockHash
        self.replica = replica
        self.signature = signature
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        CommitVote.digest(chainID: chainID, height: height, view: view, blockHash: blockHash)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(view)
        encoder.write(height)
        encoder.write(blockHash)
        encoder.write(replica)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        view = try decoder.readUInt64("commit view")
        height = try decoder.readUInt64("commit height")
        blockHash = try decoder.read(Hash.self, "commit block hash")
        replica = try decoder.readUInt32("commit replica")
        signature = try decoder.read(Signature.self, "commit signature")
    }
}

/// ⟨CHECKPOINT, n, d, i⟩ (paper 4.3): `replica` executed every block up to
/// `header.height`, which has this header, and its state root is `stateRoot`.
/// The header travels whole so that a replica which has not reached the
/// height still learns the block a stable checkpoint names.
public struct Checkpoint: Equatable, Sendable, CanonicalCodable {
    /// Header of the block at the checkpoint height.
    public var header: BlockHeader
    /// State root after executing the checkpoint height.
    public var stateRoot: Hash
    /// Index of the sending validator in the validator set.
    public var replica: UInt32
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(header: BlockHeader, stateRoot: Hash, replica: UInt32, signature: Signature) {
        self.header = header
        self.stateRoot = stateRoot
        self.replica = replica
        self.signature = signature
    }

    /// The height (sequence number n in the paper).
    public var height: UInt64 { header.height }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, height: UInt64, blockHash: Hash, stateRoot: Hash) -> Hash {
        SigningDigest.make("consort/pbft/checkpoint", chainID: chainID) { encoder in
            encoder.write(height)
            encoder.write(blockHash)
            encoder.write(stateRoot)
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, height: header.height, blockHash: header.hash, stateRoot: stateRoot)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(header)
        encoder.write(stateRoot)
        encoder.write(replica)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        header = try decoder.read(BlockHeader.self, "checkpoint header")
        stateRoot = try decoder.read(Hash.self, "checkpoint state root")
        replica = try decoder.readUInt32("checkpoint replica")
        signature = try decoder.read(Signature.self, "checkpoint signature")
    }
}

/// Proof that a checkpoint is stable: 2f+1 checkpoint signatures over the
/// same (height, block hash, state root) (paper 4.3).
public struct CheckpointProof: Equatable, Sendable, CanonicalCodable {
    /// Header of the block at the checkpoint height.
    public var header: BlockHeader
    /// State root after executing the checkpoint height.
    public var stateRoot: Hash
    /// Strictly increasing by validator index.
    public var signatures: [ValidatorSignature]

    /// Creates a value from its parts.
    public init(header: BlockHeader, stateRoot: Hash, signatures: [ValidatorSignature]) {
        self.header = header
        self.stateRoot = stateRoot
        self.signatures = signatures.sorted { $0.validatorIndex < $1.validatorIndex }
    }

    /// The height (sequence number n in the paper).
    public var height: UInt64 { header.height }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(header)
        encoder.write(stateRoot)
        encoder.write(signatures)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        header = try decoder.read(BlockHeader.self, "checkpoint proof header")
        stateRoot = try decoder.read(Hash.self, "checkpoint proof state root")
        signatures = try decoder.readArray(ValidatorSignature.self, "checkpoint proof signatures", limit: ConsensusLimits.validatorsMax)
        try requireStrictlyIncreasing(signatures.map(\.validatorIndex), "checkpoint proof signatures")
    }
}

/// A prepared certificate (paper 4.4, the set P), without the block's
/// transactions: the header of the prepared block (its hash is the digest,
/// and it commits to the transactions through its root), the view, the
/// primary's pre-prepare signature (which covers only chainID, view, height
/// and block hash, so it is checked from the header alone) and 2f matching
/// prepares from distinct backups of that view. View-change messages carry
/// these, so their size does not grow with block size (docs/consensus.md, Messages).
public struct PreparedCertificate: Equatable, Sendable, CanonicalCodable {
    /// The view the block was prepared in.
    public var view: UInt64
    /// Header of the prepared block.
    public let header: BlockHeader
    /// The primary of `view`'s signature over ``PrePrepare/signingDigest(chainID:view:height:blockHash:)``.
    public var signature: Signature
    /// Strictly increasing by replica index.
    public var prepares: [Prepare]
    /// The block hash, computed once from the header (never read from the wire).
    public let blockHash: Hash

    /// Creates a value from its parts.
    public init(view: UInt64, header: BlockHeader, signature: Signature, prepares: [Prepare]) {
        self.view = view
        self.header = header
        self.signature = signature
        self.prepares = prepares.sorted { $0.replica < $1.replica }
        self.blockHash = header.hash
    }

    /// The certificate for a pre-prepare and its prepares; keeps the header only.
    public init(prePrepare: PrePrepare, prepares: [Prepare]) {
        self.view = prePrepare.view
        self.header = prePrepare.block.header
        self.signature = prePrepare.signature
        self.prepares = prepares.sorted { $0.replica < $1.replica }
        self.blockHash = prePrepare.blockHash
    }

    /// The height (sequence number n in the paper).
    public var height: UInt64 { header.height }

    /// The digest the primary's signature must cover, recomputed from the header.
    public func prePrepareDigest(chainID: String) -> Hash {
        PrePrepare.signingDigest(chainID: chainID, view: view, height: header.height, blockHash: blockHash)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(view)
        encoder.write(header)
        encoder.write(signature)
        encoder.write(prepares)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let view = try decoder.readUInt64("prepared certificate view")
        let header = try decoder.read(BlockHeader.self, "prepared certificate header")
        let signature = try decoder.read(Signature.self, "prepared certificate signature")
        let prepares = try decoder.readArray(Prepare.self, "prepared certificate prepares", limit: ConsensusLimits.validatorsMax)
        try requireStrictlyIncreasing(prepares.map(\.replica), "prepared certificate prepares")
        self.init(view: view, header: header, signature: signature, prepares: prepares)
    }
}

/// ⟨VIEW-CHANGE, v+1, n, C, P, i⟩ (paper 4.4): `replica` asks to move to
/// `newView`, carrying its stable checkpoint proof (nil at genesis) and its
/// prepared certificates above it, one per height, ascending.
public struct ViewChange: Equatable, Sendable, CanonicalCodable {
    /// The view the sender asks to move to.
    public var newView: UInt64
    /// Index of the sending validator in the validator set.
    public var replica: UInt32
    /// The sender's stable checkpoint proof; nil at genesis.
    public var checkpoint: CheckpointProof?
    /// Prepared certificates above the checkpoint, ascending by height.
    public var prepared: [PreparedCertificate]
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(newView: UInt64, replica: UInt32, checkpoint: CheckpointProof?, prepared: [PreparedCertificate], signature: Signature) {
        self.newView = newView
        self.replica = replica
        self.checkpoint = checkpoint
        self.prepared = prepared
        self.signature = signature
    }

    /// Height of the checkpoint this message builds on (0 = genesis).
    public var checkpointHeight: UInt64 { checkpoint?.height ?? 0 }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, newView: UInt64, replica: UInt32, checkpoint: CheckpointProof?,
                                     prepared: [PreparedCertificate]) -> Hash {
        SigningDigest.make("consort/pbft/view-change", chainID: chainID) { encoder in
            encoder.write(newView)
            encoder.write(replica)
            encoder.write(checkpoint)
            encoder.write(prepared)
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, newView: newView, replica: replica, checkpoint: checkpoint, prepared: prepared)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(newView)
        encoder.write(replica)
        encoder.write(checkpoint)
        encoder.write(prepared)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        newView = try decoder.readUInt64("view-change new view")
        replica = try decoder.readUInt32("view-change replica")
        checkpoint = try decoder.readOptional(CheckpointProof.self, "view-change checkpoint")
        prepared = try decoder.readArray(PreparedCertificate.self, "view-change prepared", limit: ConsensusLimits.preparedCertificatesMax)
        signature = try decoder.read(Signature.self, "view-change signature")
        try requireStrictlyIncreasing(prepared.map(\.height), "view-change prepared heights")
    }
}

/// One entry of a new view's set O: the header of the block re-proposed (or
/// the null block) at its height, and the new primary's pre-prepare
/// signature for the new view. The transactions are not carried; a replica
/// that lacks them fetches them by hash (``BlockRequest``).
public struct NewViewProposal: Equatable, Sendable, CanonicalCodable {
    /// Header of the proposed block.
    public let header: BlockHeader
    /// The new primary's signature over ``PrePrepare/signingDigest(chainID:view:height:blockHash:)`` for the new view.
    public var signature: Signature
    /// The block hash, computed once from the header (never read from the wire).
    public let blockHash: Hash

    /// Creates a value from its parts.
    public init(header: BlockHeader, signature: Signature) {
        self.header = header
        self.signature = signature
        self.blockHash = header.hash
    }

    /// The height (sequence number n in the paper).
    public var height: UInt64 { header.height }

    /// The digest the signature must cover in view `view`.
    public func signingDigest(chainID: String, view: UInt64) -> Hash {
        PrePrepare.signingDigest(chainID: chainID, view: view, height: header.height, blockHash: blockHash)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(header)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let header = try decoder.read(BlockHeader.self, "new-view proposal header")
        let signature = try decoder.read(Signature.self, "new-view proposal signature")
        self.init(header: header, signature: signature)
    }
}

/// ⟨NEW-VIEW, v+1, V, O⟩ (paper 4.4): the new primary's proof (2f+1
/// view-change messages) and the set O it computed from them, as headers
/// with its pre-prepare signatures. Backups recompute O from V and refuse
/// the message if it differs.
public struct NewView: Equatable, Sendable, CanonicalCodable {
    /// The view this message belongs to.
    public var view: UInt64
    /// V, strictly increasing by replica index.
    public var viewChanges: [ViewChange]
    /// O, ascending by height, each signed by the new primary for `view`.
    public var proposals: [NewViewProposal]
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(view: UInt64, viewChanges: [ViewChange], proposals: [NewViewProposal], signature: Signature) {
        self.view = view
        self.viewChanges = viewChanges.sorted { $0.replica < $1.replica }
        self.proposals = proposals
        self.signature = signature
    }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, view: UInt64, viewChanges: [ViewChange], proposals: [NewViewProposal]) -> Hash {
        SigningDigest.make("consort/pbft/new-view", chainID: chainID) { encoder in
            encoder.write(view)
            encoder.write(UInt64(viewChanges.count))
            for change in viewChanges { encoder.write(change.signingDigest(chainID: chainID)) }
            encoder.write(UInt64(proposals.count))
            for proposal in proposals { encoder.write(proposal.blockHash) }
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, view: view, viewChanges: viewChanges, proposals: proposals)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(view)
        encoder.write(viewChanges)
        encoder.write(proposals)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        view = try decoder.readUInt64("new-view view")
        viewChanges = try decoder.readArray(ViewChange.self, "new-view view changes", limit: ConsensusLimits.validatorsMax)
        proposals = try decoder.readArray(NewViewProposal.self, "new-view proposals", limit: ConsensusLimits.newViewBlocksMax)
        signature = try decoder.read(Signature.self, "new-view signature")
        try requireStrictlyIncreasing(viewChanges.map(\.replica), "new-view view changes")
        try requireStrictlyIncreasing(proposals.map(\.height), "new-view proposal heights")
    }
}

/// A replica asking a peer for the transactions of blocks it knows only by
/// header (named in a new view's O or a restored prepared certificate). The
/// answer is accepted only for blocks whose header hash is one asked for
/// (docs/consensus.md rule 8).
public struct BlockRequest: Equatable, Sendable, CanonicalCodable {
    /// Index of the sending validator in the validator set.
    public var replica: UInt32
    /// Hashes of the blocks wanted, strictly increasing.
    public var hashes: [Hash]
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(replica: UInt32, hashes: [Hash], signature: Signature) {
        self.replica = replica
        self.hashes = hashes
        self.signature = signature
    }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, replica: UInt32, hashes: [Hash]) -> Hash {
        SigningDigest.make("consort/pbft/block-request", chainID: chainID) { encoder in
            encoder.write(replica)
            encoder.write(hashes)
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, replica: replica, hashes: hashes)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(replica)
        encoder.write(hashes)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        replica = try decoder.readUInt32("block request replica")
        hashes = try decoder.readArray(Hash.self, "block request hashes", limit: ConsensusLimits.blockRequestHashesMax)
        signature = try decoder.read(Signature.self, "block request signature")
        try requireStrictlyIncreasing(hashes, "block request hashes")
    }
}

/// The answer to a ``BlockRequest``: whole blocks, as many as fit in one
/// message. Unsigned: the receiver checks each block against the hashes it
/// waits for, and a block decodes only if its transactions match its header's root.
public struct BlockResponse: Equatable, Sendable, CanonicalCodable {
    /// The blocks, in the order they were asked for.
    public var blocks: [Block]

    /// Creates a value from its parts.
    public init(blocks: [Block]) {
        self.blocks = blocks
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(blocks)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blocks = try decoder.readArray(Block.self, "block response blocks", limit: ConsensusLimits.blockResponseBlocksMax)
    }
}

/// A backup relaying client transactions to the primary (paper 4.1 and the
/// rule that backups forward requests and start their timer, docs/consensus.md rule 9).
public struct Forward: Equatable, Sendable, CanonicalCodable {
    /// Index of the sending validator in the validator set.
    public var replica: UInt32
    /// The relayed transactions.
    public var transactions: [Transaction]
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(replica: UInt32, transactions: [Transaction], signature: Signature) {
        self.replica = replica
        self.transactions = transactions
        self.signature = signature
    }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, replica: UInt32, transactions: [Transaction]) -> Hash {
        SigningDigest.make("consort/pbft/forward", chainID: chainID) { encoder in
            encoder.write(replica)
            encoder.write(UInt64(transactions.count))
            for transaction in transactions { encoder.write(transaction.id) }
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, replica: replica, transactions: transactions)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(replica)
        encoder.write(transactions)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        replica = try decoder.readUInt32("forward replica")
        transactions = try decoder.readArray(Transaction.self, "forward transactions", limit: ConsensusLimits.forwardTransactionsMax)
        signature = try decoder.read(Signature.self, "forward signature")
    }
}

/// A replica's report of its view, how far it has committed and whether it
/// suspects the view's primary, sent every retransmit interval and at once
/// when its suspicion starts or ends. A replica that is behind learns it
/// (from f+1 of them) and starts state transfer; one that reports an older
/// view is sent the current new view; and a view is left only once 2f+1
/// replicas report suspecting its primary (docs/consensus.md rule 9).
public struct Status: Equatable, Sendable, CanonicalCodable {
    /// Index of the sending validator in the validator set.
    public var replica: UInt32
    /// The view the sender is in (or is leaving, while it changes view).
    public var view: UInt64
    /// Highest height the sender has committed.
    public var committedHeight: UInt64
    /// Whether the sender's progress timer or censorship check has found
    /// against the primary of `view` (and nothing has cleared it since).
    public var suspectsPrimary: Bool
    /// The sender's signature over the signing digest.
    public var signature: Signature

    /// Creates a value from its parts.
    public init(replica: UInt32, view: UInt64, committedHeight: UInt64, suspectsPrimary: Bool = false, signature: Signature) {
        self.replica = replica
        self.view = view
        self.committedHeight = committedHeight
        self.suspectsPrimary = suspectsPrimary
        self.signature = signature
    }

    /// The digest the sender signs, computed from the fields.
    public static func signingDigest(chainID: String, replica: UInt32, view: UInt64, committedHeight: UInt64,
                                     suspectsPrimary: Bool = false) -> Hash {
        SigningDigest.make("consort/pbft/status", chainID: chainID) { encoder in
            encoder.write(replica)
            encoder.write(view)
            encoder.write(committedHeight)
            encoder.write(suspectsPrimary)
        }
    }

    /// The digest the signature must cover, recomputed from this message's fields.
    public func signingDigest(chainID: String) -> Hash {
        Self.signingDigest(chainID: chainID, replica: replica, view: view, committedHeight: committedHeight, suspectsPrimary: suspectsPrimary)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(replica)
        encoder.write(view)
        encoder.write(committedHeight)
        encoder.write(suspectsPrimary)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        replica = try decoder.readUInt32("status replica")
        view = try decoder.readUInt64("status view")
        committedHeight = try decoder.readUInt64("status committed height")
        suspectsPrimary = try decoder.readBool("status suspects primary")
        signature = try decoder.read(Signature.self, "status signature")
    }
}

/// Every message replicas exchange, tagged on the wire.
public enum ConsensusMessage: Equatable, Sendable, CanonicalCodable {
    case prePrepare(PrePrepare)
    case prepare(Prepare)
    case commit(Commit)
    case checkpoint(Checkpoint)
    case viewChange(ViewChange)
    case newView(NewView)
    case forward(Forward)
    case status(Status)
    case blockRequest(BlockRequest)
    case blockResponse(BlockResponse)

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .prePrepare(let message): encoder.write(UInt64(0)); encoder.write(message)
        case .prepare(let message): encoder.write(UInt64(1)); encoder.write(message)
        case .commit(let message): encoder.write(UInt64(2)); encoder.write(message)
        case .checkpoint(let message): encoder.write(UInt64(3)); encoder.write(message)
        case .viewChange(let message): encoder.write(UInt64(4)); encoder.write(message)
        case .newView(let message): encoder.write(UInt64(5)); encoder.write(message)
        case .forward(let message): encoder.write(UInt64(6)); encoder.write(message)
        case .status(let message): encoder.write(UInt64(7)); encoder.write(message)
        case .blockRequest(let message): encoder.write(UInt64(8)); encoder.write(message)
        case .blockResponse(let message): encoder.write(UInt64(9)); encoder.write(message)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("consensus message tag")
        switch tag {
        case 0: self = .prePrepare(try decoder.read(PrePrepare.self, "pre-prepare"))
        case 1: self = .prepare(try decoder.read(Prepare.self, "prepare"))
        case 2: self = .commit(try decoder.read(Commit.self, "commit"))
        case 3: self = .checkpoint(try decoder.read(Checkpoint.self, "checkpoint"))
        case 4: self = .viewChange(try decoder.read(ViewChange.self, "view-change"))
        case 5: self = .newView(try decoder.read(NewView.self, "new-view"))
        case 6: self = .forward(try decoder.read(Forward.self, "forward"))
        case 7: self = .status(try decoder.read(Status.self, "status"))
        case 8: self = .blockRequest(try decoder.read(BlockRequest.self, "block request"))
        case 9: self = .blockResponse(try decoder.read(BlockResponse.self, "block response"))
        default: throw .unknownTag(field: "consensus message tag", tag: tag)
        }
    }

    /// Decodes one message from the wire: refuses oversized input before
    /// reading it, then decodes strictly (no trailing bytes).
    public static func decode(wire bytes: [UInt8]) throws(CodecError) -> ConsensusMessage {
        guard bytes.count <= ConsensusLimits.messageBytesMax else {
            throw .lengthExceedsLimit(field: "consensus message", length: UInt64(bytes.count), limit: ConsensusLimits.messageBytesMax)
        }
        return try ConsensusMessage(canonicalBytes: bytes)
    }
}

func requireStrictlyIncreasing<T: Comparable>(_ values: [T], _ field: String) throws(CodecError) {
    var index = 1
    while index < values.count {
        guard values[index - 1] < values[index] else {
            throw .invalidValue(field: field, reason: "not in strictly increasing order")
        }
        index += 1
    }
}
