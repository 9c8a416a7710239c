import Ledger
import LedgerCore

/// Validator keys held in one process, which build and certify blocks
/// without running consensus: the one block builder and certificate signer
/// of the fixtures and benchmarks. Its keys are made for a test or a
/// benchmark, never those of a running chain.
public struct LocalValidators: Sendable {
    /// The validators' node keys, in the validator set's order.
    public let keys: [PrivateKey]
    /// The chain the certificates are for.
    public let chainID: String
    /// The hash of the validator set the keys form, which every header carries.
    public let validatorSetHash: Hash
    /// How many signatures a certificate carries by default.
    public let quorum: Int

    /// Validators of `genesis` whose node keys are `keys`, in its validator set's order.
    public init(keys: [PrivateKey], genesis: Genesis) {
        self.keys = keys
        self.chainID = genesis.chainID
        self.validatorSetHash = genesis.validators.hash
        self.quorum = genesis.validators.quorum
    }

    /// The block that follows `head` at `timestampMs`, holding `transactions`,
    /// proposed by the first validator and carrying `head`'s state root.
    public func block(after head: LedgerHead, timestampMs: UInt64, _ transactions: [Transaction]) -> Block {
        let header = BlockHeader(
            height: head.height + 1, parentHash: head.blockHash, timestampMs: timestampMs, proposer: keys[0].publicKey,
            transactionsRoot: MerkleTree.root(of: transactions.map(\.id)), stateHeight: head.height, stateRoot: head.stateRoot,
            validatorSetHash: validatorSetHash)
        return Block(header: header, transactions: transactions)
    }

    /// A certificate for `header` in `view`, signed by the first `signers`
    /// validators (a quorum when nil).
    public func certificate(for header: BlockHeader, view: UInt64 = 0, signers: Int? = nil) -> CommitCertificate {
        let digest = CommitVote.digest(chainID: chainID, height: header.height, view: view, blockHash: header.hash)
        let signatures = keys.prefix(signers ?? quorum).enumerated().map { index, key in
            ValidatorSignature(validatorIndex: UInt32(index), signature: key.sign(digest))
        }
        return CommitCertificate(height: header.height, view: view, blockHash: header.hash, signatures: signatures)
    }
}
