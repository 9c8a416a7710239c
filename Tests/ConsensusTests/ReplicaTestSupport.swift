import ConsensusSimulator
import Consensus
import LedgerCore

/// Accepts every transaction and block; for replica-level unit tests.
struct AcceptAll: ProposalValidator {
    func isAcceptable(_ transaction: Transaction) -> Bool { true }
    func isValid(block: Block, pendingAncestors: [Block]) -> Bool { true }
}

/// Four (or n) replicas built directly, with simulated signatures, driven by hand.
struct Cluster {
    let chainID = "consort-sim"
    let keys: [PrivateKey]
    let validators: ValidatorSet
    let genesis: BlockHeader
    let genesisRoot = Hash.tagged("test/genesis-state", [])
    var parameters: ChainParameters

    init(count: Int = 4) {
        keys = (0..<count).map { SimulatedKeys.privateKey("validator", $0) }
        let members = keys.enumerated().map { index, key in
            Validator(name: "v\(index)", organizationID: "o\(index)", nodeKey: key.publicKey, address: "sim:\(index)")
        }
        guard let set = try? ValidatorSet(members) else { preconditionFailure("distinct keys") }
        validators = set
        genesis = BlockHeader(height: 0, parentHash: .zero, timestampMs: 1_000, proposer: keys[0].publicKey, transactionsRoot: .zero,
                              stateHeight: 0, stateRoot: genesisRoot, validatorSetHash: set.hash)
        var parameters = ChainParameters.defaults
        parameters.checkpointIntervalBlocks = 4
        parameters.watermarkWindowBlocks = 8
        parameters.blockTransactionsMax = 4
        self.parameters = parameters
    }

    func signer(_ index: Int) -> SimulatedSigner { SimulatedSigner(publicKey: keys[index].publicKey) }

    func configuration(_ index: Int) -> ReplicaConfiguration {
        ReplicaConfiguration(chainID: chainID, validators: validators, replicaIndex: index, parameters: parameters,
                             genesisHeader: genesis, genesisStateRoot: genesisRoot,
                             timing: ReplicaTiming(batchTicks: 0, viewChangeTimeoutTicks: 10, retransmitTicks: 5, timestampDriftMsMax: 60_000))
    }

    func replica(_ index: Int, restoring saved: PersistentState? = nil) -> Replica {
        Replica(configuration: configuration(index), signer: signer(index), verifier: SimulatedVerifier(), validator: AcceptAll(),
                head: ChainHead(committedHeader: genesis, executedHeight: 0, executedStateRoot: genesisRoot), restoring: saved)
    }

    func transaction(_ number: Int, expiresAtMs: UInt64 = .max) -> Transaction {
        let client = SimulatedKeys.privateKey("client", 0).publicKey
        let body = TransactionBody(chainID: chainID, sender: client, nonce: UInt64(number), expiresAtMs: expiresAtMs,
                                   call: ContractCall(contract: "t", operation: "op", arguments: [UInt8(number & 0xFF)]))
        return Transaction(body: body, signature: SimulatedSigner(publicKey: client).sign(Transaction.id(of: body)))
    }

    /// A block at `height` on `parent`, proposed by validator `proposer`.
    func block(height: UInt64, parent: BlockHeader, transactions: [Transaction], proposer: Int = 0) -> Block {
        let header = BlockHeader(height: height, parentHash: parent.hash, timestampMs: parent.timestampMs + 1,
                                 proposer: keys[proposer].publicKey, transactionsRoot: MerkleTree.root(of: transactions.map(\.id)),
                                 stateHeight: 0, stateRoot: genesisRoot, validatorSetHash: validators.hash)
        return Block(header: header, transactions: transactions)
    }

    func prePrepare(view: UInt64, block: Block, by index: Int) -> PrePrepare {
        PrePrepare(view: view, block: block, signature: signer(index).sign(
            PrePrepare.signingDigest(chainID: chainID, view: view, height: block.height, blockHash: block.hash)))
    }

    func prepare(view: UInt64, block: Block, by index: Int) -> Prepare {
        let digest = Prepare.signingDigest(chainID: chainID, view: view, height: block.height, blockHash: block.hash, replica: UInt32(index))
        return Prepare(view: view, height: block.height, blockHash: block.hash, replica: UInt32(index), signature: signer(index).sign(digest))
    }

    /// A NEW-VIEW for `view` by validator `index` with O made of `headers`, every part signed by `index`.
    func newView(_ view: UInt64, viewChanges: [ViewChange], headers: [BlockHeader], by index: Int) -> NewView {
        let proposals = headers.map { header in
            NewViewProposal(header: header, signature: signer(index).sign(
                PrePrepare.signingDigest(chainID: chainID, view: view, height: header.height, blockHash: header.hash)))
        }
        let digest = NewView.signingDigest(chainID: chainID, view: view, viewChanges: viewChanges, proposals: proposals)
        return NewView(view: view, viewChanges: viewChanges, proposals: proposals, signature: signer(index).sign(digest))
    }

    func viewChange(to view: UInt64, by index: Int, prepared: [PreparedCertificate] = []) -> ViewChange {
        let digest = ViewChange.signingDigest(chainID: chainID, newView: view, replica: UInt32(index), checkpoint: nil, prepared: prepared)
        return ViewChange(newView: view, replica: UInt32(index), checkpoint: nil, prepared: prepared, signature: signer(index).sign(digest))
    }
}

extension [ReplicaAction] {
    /// The messages among these actions.
    var sentMessages: [ConsensusMessage] {
        compactMap { if case .send(let message, _) = $0 { message } else { nil } }
    }

    var persisted: PersistentState? {
        for action in self { if case .persist(let state) = action { return state } }
        return nil
    }
}
