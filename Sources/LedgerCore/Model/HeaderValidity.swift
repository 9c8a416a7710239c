/// Why a block header cannot follow its parent. The backups' check before
/// PREPARE and the ledger's check before execution both use
/// ``BlockHeader/checkFollows(_:validators:proposer:localStateRoot:)``, so a
/// header that a quorum of honest backups prepared is one that every honest
/// ledger executes.
public enum HeaderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The height is not the parent's plus one.
    case notNextHeight(parentHeight: UInt64, height: UInt64)
    /// The parent hash names another block.
    case wrongParent(expected: Hash, got: Hash)
    /// The timestamp does not increase.
    case timestampNotAfterParent(timestampMs: UInt64, parentTimestampMs: UInt64)
    /// The header names a validator set other than the current one.
    case foreignValidatorSet
    /// The proposer key belongs to no validator.
    case proposerNotValidator(PublicKey)
    /// The proposer key is a validator's, but not the one that had to propose.
    case wrongProposer(expected: PublicKey, got: PublicKey)
    /// The state claim is below the parent's, or not below the block's own height.
    case stateHeightOutOfRange(stateHeight: UInt64, parentStateHeight: UInt64, height: UInt64)
    /// The checker has not executed the claimed state height, so cannot compare the root.
    case stateNotExecuted(stateHeight: UInt64)
    /// The claimed state root differs from the checker's root at that height.
    case stateRootMismatch(stateHeight: UInt64, claimed: Hash, local: Hash)

    public var description: String {
        switch self {
        case .notNextHeight(let parentHeight, let height): "height \(height) does not follow the parent's \(parentHeight)"
        case .wrongParent(let expected, let got): "parent \(got.short)… is not the block \(expected.short)… below"
        case .timestampNotAfterParent(let timestamp, let parent): "timestamp \(timestamp) is not after the parent's \(parent)"
        case .foreignValidatorSet: "names a validator set other than the current one"
        case .proposerNotValidator(let key): "proposer \(key.short)… is not a validator"
        case .wrongProposer(let expected, let got): "proposer \(got.short)… is not the primary \(expected.short)…"
        case .stateHeightOutOfRange(let stateHeight, let parentStateHeight, let height):
            "state height \(stateHeight) is not between the parent's \(parentStateHeight) and the block's height \(height)"
        case .stateNotExecuted(let stateHeight): "state height \(stateHeight) has not been executed here"
        case .stateRootMismatch(let stateHeight, let claimed, let local):
            "claims state root \(claimed.short)… at height \(stateHeight), this node computed \(local.short)…"
        }
    }
}

extension BlockHeader {
    /// Checks that this header may follow `parent`: next height and parent
    /// hash, increasing timestamp, the current validator set, a proposer that
    /// is a validator (and is `proposer` when one is required), a state claim
    /// not below the parent's and below this height, and a claimed root equal
    /// to `localStateRoot`, the checker's own root at ``stateHeight`` (nil if
    /// it has not executed that height, which is an error: an unchecked claim
    /// is never accepted).
    public func checkFollows(_ parent: BlockHeader, validators: ValidatorSet, proposer required: PublicKey?,
                             localStateRoot: Hash?) throws(HeaderError) {
        guard parent.height < UInt64.max, height == parent.height + 1 else {
            throw .notNextHeight(parentHeight: parent.height, height: height)
        }
        let parentHash = parent.hash
        guard self.parentHash == parentHash else { throw .wrongParent(expected: parentHash, got: self.parentHash) }
        guard timestampMs > parent.timestampMs else {
            throw .timestampNotAfterParent(timestampMs: timestampMs, parentTimestampMs: parent.timestampMs)
        }
        guard validatorSetHash == validators.hash else { throw .foreignValidatorSet }
        guard validators.index(of: proposer) != nil else { throw .proposerNotValidator(proposer) }
        if let required, required != proposer { throw .wrongProposer(expected: required, got: proposer) }
        guard stateHeight >= parent.stateHeight, stateHeight < height else {
            throw .stateHeightOutOfRange(stateHeight: stateHeight, parentStateHeight: parent.stateHeight, height: height)
        }
        guard let localStateRoot else { throw .stateNotExecuted(stateHeight: stateHeight) }
        guard localStateRoot == stateRoot else {
            throw .stateRootMismatch(stateHeight: stateHeight, claimed: stateRoot, local: localStateRoot)
        }
    }
}
