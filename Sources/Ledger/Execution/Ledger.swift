import LedgerCore
/// Why the ledger refused a block or could not serve a request.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case storage(StorageError)
    case genesis(GenesisError)
    /// The block does not extend the current head.
    case notNextBlock(expectedHeight: UInt64, expectedParent: Hash, gotHeight: UInt64, gotParent: Hash)
    case invalidBlock(height: UInt64, reason: String)
    /// The header breaks a rule of ``BlockHeader/checkFollows(_:validators:proposer:localStateRoot:)``.
    case invalidHeader(height: UInt64, HeaderError)
    /// The block's header names a state root this node did not compute: either
    /// the proposer lied or this node's state has diverged. Signing on would be
    /// wrong either way; the node must stop and report.
    case stateRootMismatch(height: UInt64, stateHeight: UInt64, claimed: Hash, local: Hash)
    case certificate(CertificateError)
    case executedBlockStale(height: UInt64)

    public var description: String {
        switch self {
        case .storage(let error): error.description
        case .genesis(let error): error.description
        case .notNextBlock(let expectedHeight, let expectedParent, let gotHeight, let gotParent):
            "block \(gotHeight) (parent \(gotParent.short)…) does not extend the head: expected height \(expectedHeight) with parent \(expectedParent.short)…"
        case .invalidBlock(let height, let reason): "block \(height) is invalid: \(reason)"
        case .invalidHeader(let height, let error): "block \(height) has an invalid header: \(error)"
        case .stateRootMismatch(let height, let stateHeight, let claimed, let local):
            "block \(height) claims state root \(claimed.short)… at height \(stateHeight), this node computed \(local.short)…"
        case .certificate(let error): "commit certificate rejected: \(error)"
        case .executedBlockStale(let height): "block \(height) was executed against a head that has since moved"
        }
    }
}

/// The latest committed block and the state it left.
public struct LedgerHead: Equatable, Sendable, CanonicalCodable {
    public var height: UInt64
    public var blockHash: Hash
    public var timestampMs: UInt64
    /// The state root after executing block ``height``.
    public var stateRoot: Hash

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(height)
        encoder.write(blockHash)
        encoder.write(timestampMs)
        encoder.write(stateRoot)
    }

    public init(height: UInt64, blockHash: Hash, timestampMs: UInt64, stateRoot: Hash) {
        self.height = height
        self.blockHash = blockHash
        self.timestampMs = timestampMs
        self.stateRoot = stateRoot
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.readUInt64("head height")
        blockHash = try decoder.read(Hash.self, "head block hash")
        timestampMs = try decoder.readUInt64("head timestamp")
        stateRoot = try decoder.read(Hash.self, "head state root")
    }
}

/// A block executed against the current head but not yet written.
public struct ExecutedBlock: Sendable {
    public let block: Block
    public let receipts: [Receipt]
    /// The state root after this block.
    public let stateRoot: Hash
    let parentHead: LedgerHead
    let stateWrites: [[UInt8]: [UInt8]?]
    let indexWrites: [(key: [UInt8], value: [UInt8]?)]
    let createdNodes: [Hash: StateTreeNode]
    /// Positions of transactions not recorded under their id: duplicates and bad signatures.
    let duplicates: Set<Int>

    /// How many state keys the block changes.
    public var stateWriteCount: Int { stateWrites.count }
}

/// A committed transaction with where it sits and what happened.
public struct TransactionRecord: Equatable, Sendable {
    public let transaction: Transaction
    public let location: TransactionLocation
    public let receipt: Receipt
}

/// The replicated ledger of one node: blocks with their certificates,
/// receipts, world state with its Merkle root, and contract indexes, on a
/// ``KeyValueStore``. Executes blocks deterministically and commits each one
/// in a single synced batch, so a node killed at any instant restarts at its
/// last fully written block.
///
/// Thread-safe: reads may run while a block is being executed; commits are serialized.
public final class Ledger: @unchecked Sendable {
    public let genesis: Genesis
    public let registry: ContractRegistry
    private let store: any KeyValueStore
    private let lock = Lock()
    private var currentHead: LedgerHead
    /// The header of the head block, which the next header must follow.
    private var currentHeadHeader: BlockHeader
    /// Tree nodes recently created or read, shared by execution, proofs and recomputations.
    private let nodeCache = StateNodeCache(generationEntriesMax: LedgerLimits.stateNodeCacheEntriesMax)

    /// The format marker written into every ledger store.
    public static let formatMarker = "consort-ledger/1"

    /// Opens the ledger in `store`, writing the genesis state if the store is
    /// new. A store written for another genesis, or by another program, is refused.
    public init(store: any KeyValueStore, genesis: Genesis, registry: ContractRegistry) throws(LedgerError) {
        self.store = store
        self.genesis = genesis
        self.registry = registry
        do {
            let format = try store.get(StoreKey.format)
            if let format {
                guard format == Array(Ledger.formatMarker.utf8) else {
                    throw LedgerError.storage(.foreign(reason: "format marker is '\(String(decoding: format, as: UTF8.self))', expected '\(Ledger.formatMarker)'"))
                }
                guard let storedGenesis = try store.get(StoreKey.genesis), storedGenesis == genesis.hash.bytes else {
                    throw LedgerError.storage(.foreign(reason: "it was created from a different genesis (chain id or members differ)"))
                }
                guard let rawHead = try store.get(StoreKey.head) else {
                    throw LedgerError.storage(.corrupted(reason: "the chain head record is missing"))
                }
                do {
                    currentHead = try LedgerHead(canonicalBytes: rawHead)
                } catch {
                    throw LedgerError.storage(.corrupted(reason: "the chain head record does not decode: \(error)"))
                }
                guard let rawBlock = try store.get(StoreKey.block(currentHead.height)) else {
                    throw LedgerError.storage(.corrupted(reason: "the head block \(currentHead.height) is missing"))
                }
                do {
                    currentHeadHeader = try Block(canonicalBytes: rawBlock).header
                } catch {
                    throw LedgerError.storage(.corrupted(reason: "the head block \(currentHead.height) does not decode: \(error)"))
                }
            } else {
                guard try store.scan(prefix: [], start: nil, limit: 1).isEmpty else {
                    throw LedgerError.storage(.foreign(reason: "the store holds data but no Consort format marker"))
                }
                currentHead = LedgerHead(height: 0, blockHash: .zero, timestampMs: 0, stateRoot: .zero)
                currentHeadHeader = BlockHeader(height: 0, parentHash: .zero, timestampMs: 0, proposer: genesis.validators[0].nodeKey,
                                                transactionsRoot: .zero, stateHeight: 0, stateRoot: .zero, validatorSetHash: .zero)
                try writeGenesis()
            }
        } catch let error as LedgerError {
            throw error
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.readFailed(reason: "\(error)"))
        }
    }

    private func writeGenesis() throws(LedgerError) {
        var entries: [[UInt8]: [UInt8]?] = [:]
        for name in registry.names {
            guard let contract = registry.contract(named: name) else { continue }
            let initial: [(key: [UInt8], value: [UInt8])]
            do {
                initial = try contract.genesisState(genesis)
            } catch {
                throw .genesis(error)
            }
            for entry in initial { entries[namespacedKey(name, entry.key)] = .some(entry.value) }
        }
        var updater = StateTreeUpdater(source: StoreNodeSource(store: store, cache: StateNodeCache(generationEntriesMax: 0)))
        let root: Hash
        do {
            root = try updater.apply(root: .zero, updates: Self.treeUpdates(entries))
        } catch {
            throw .storage(error)
        }
        let header = BlockHeader(
            height: 0, parentHash: .zero, timestampMs: genesis.timestampMs, proposer: genesis.validators[0].nodeKey,
            transactionsRoot: .zero, stateHeight: 0, stateRoot: root, validatorSetHash: genesis.validators.hash)
        let block = Block(header: header, transactions: [])
        let head = LedgerHead(height: 0, blockHash: block.hash, timestampMs: genesis.timestampMs, stateRoot: root)
        var batch = WriteBatch()
        batch.put(StoreKey.format, Array(Ledger.formatMarker.utf8))
        batch.put(StoreKey.genesis, genesis.hash.bytes)
        batch.put(StoreKey.block(0), block.canonicalBytes)
        batch.put(StoreKey.blockHeight(block.hash), StoreKey.bigEndian(0))
        batch.put(StoreKey.stateRoot(0), root.bytes)
        batch.put(StoreKey.blockReceipts(0), [Receipt]().encodedList)
        for (key, value) in entries { if let value { batch.put(StoreKey.state(key), value) } }
        for (hash, node) in updater.created { batch.put(StoreKey.node(hash), node.canonicalBytes) }
        batch.put(StoreKey.head, head.canonicalBytes)
        do {
            try store.write(batch, sync: true)
        } catch {
            throw .storage(error)
        }
        currentHead = head
        currentHeadHeader = header
    }

    /// The latest committed block and state root.
    public var head: LedgerHead { lock.withLock { currentHead } }
    public var chainID: String { genesis.chainID }
    public var validators: ValidatorSet { genesis.validators }

    // MARK: Execution

    /// Checks a block's header against the current head, without executing it,
    /// by the rules every backup applies before it prepares
    /// (``BlockHeader/checkFollows(_:validators:proposer:localStateRoot:)``).
    public func checkHeader(_ header: BlockHeader) throws(LedgerError) {
        let (head, parent) = lock.withLock { (currentHead, currentHeadHeader) }
        guard header.height == head.height + 1, header.parentHash == head.blockHash else {
            throw .notNextBlock(expectedHeight: head.height + 1, expectedParent: head.blockHash, gotHeight: header.height, gotParent: header.parentHash)
        }
        let localRoot = header.stateHeight <= head.height ? try stateRoot(at: header.stateHeight) : nil
        do {
            try header.checkFollows(parent, validators: genesis.validators, proposer: nil, localStateRoot: localRoot)
        } catch {
            if case .stateRootMismatch(let stateHeight, let claimed, let local) = error {
                throw .stateRootMismatch(height: header.height, stateHeight: stateHeight, claimed: claimed, local: local)
            }
            throw .invalidHeader(height: header.height, error)
        }
    }

    /// Executes `block` on top of the current head without writing anything.
    ///
    /// - Parameter signatureAlreadyVerified: lets the node skip transactions
    ///   whose signature its mempool has verified, so each signature is checked
    ///   once per node.
    public func execute(_ block: Block, signatureAlreadyVerified: (Hash) -> Bool = { _ in false }) throws(LedgerError) -> ExecutedBlock {
        try checkHeader(block.header)
        guard block.transactions.count <= Limits.blockTransactionsMax else {
            throw .invalidBlock(height: block.height, reason: "\(block.transactions.count) transactions, above the limit of \(Limits.blockTransactionsMax)")
        }
        guard MerkleTree.root(of: block.transactions.map(\.id)) == block.header.transactionsRoot else {
            throw .invalidBlock(height: block.height, reason: "transactions root does not match its transactions")
        }
        let parentHead = head
        let base = CommittedState(store: store)
        var blockWrites: [[UInt8]: [UInt8]?] = [:]
        var indexWrites: [(key: [UInt8], value: [UInt8]?)] = []
        var receipts: [Receipt] = []
        receipts.reserveCapacity(block.transactions.count)
        var seen = Set<Hash>()
        var duplicates = Set<Int>()
        do {
            for (position, transaction) in block.transactions.enumerated() {
                // An unauthenticated copy of someone's transaction body shares its id; it
                // must neither be recorded under that id nor make the genuine one a duplicate.
                guard signatureAlreadyVerified(transaction.id) || transaction.hasValidSignature else {
                    duplicates.insert(position)
                    receipts.append(Receipt(transactionID: transaction.id, status: .rejected(LedgerRejection.badSignature()), events: []))
                    continue
                }
                let alreadyCommitted = try store.get(StoreKey.transaction(transaction.id)) != nil
                if alreadyCommitted || !seen.insert(transaction.id).inserted {
                    duplicates.insert(position)
                    receipts.append(Receipt(transactionID: transaction.id, status: .rejected(LedgerRejection.duplicate(transaction.id)), events: []))
                    continue
                }
                let overlay = StateOverlay(base: base, blockWrites: blockWrites)
                let outcome = try run(transaction, header: block.header, overlay: overlay)
                switch outcome {
                case .rejected(let rejection):
                    receipts.append(Receipt(transactionID: transaction.id, status: .rejected(rejection), events: []))
                case .applied(let writes, let events, let indexes):
                    for (key, value) in writes { blockWrites[key] = value }
                    indexWrites.append(contentsOf: indexes)
                    receipts.append(Receipt(transactionID: transaction.id, status: .success, events: events))
                }
            }
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.readFailed(reason: "\(error)"))
        }
        var updater = StateTreeUpdater(source: StoreNodeSource(store: store, cache: nodeCache))
        let root: Hash
        do {
            root = try updater.apply(root: parentHead.stateRoot, updates: Self.treeUpdates(blockWrites))
        } catch {
            throw .storage(error)
        }
        return ExecutedBlock(block: block, receipts: receipts, stateRoot: root, parentHead: parentHead, stateWrites: blockWrites,
                             indexWrites: indexWrites, createdNodes: updater.created, duplicates: duplicates)
    }

    /// A block's state writes as the tree's updates: sorted by path, so one
    /// walk over the tree applies them all and shares its upper levels.
    static func treeUpdates(_ writes: [[UInt8]: [UInt8]?]) -> [(path: Hash, valueHash: Hash?)] {
        writes.map { (path: Hash.sha256($0.key), valueHash: $0.value.map { Hash.sha256($0) }) }.sorted { $0.path < $1.path }
    }

    /// The state root of `executed` computed again from its writes on its
    /// parent's tree, without changing anything: `batched` walks the tree
    /// once over the sorted changed keys, as execution does; otherwise each
    /// key is applied on its own, one walk from the root per key. Both must
    /// give ``ExecutedBlock/stateRoot``; the second is the reference the
    /// batched walk is checked and benchmarked against.
    public func recomputedStateRoot(of executed: ExecutedBlock, batched: Bool) throws(LedgerError) -> Hash {
        var updater = StateTreeUpdater(source: StoreNodeSource(store: store, cache: nodeCache))
        let updates = Self.treeUpdates(executed.stateWrites)
        do {
            if batched { return try updater.apply(root: executed.parentHead.stateRoot, updates: updates) }
            var root = executed.parentHead.stateRoot
            for update in updates { root = try updater.apply(root: root, updates: [update]) }
            return root
        } catch {
            throw .storage(error)
        }
    }

    private enum Outcome {
        case rejected(Rejection)
        case applied(writes: [[UInt8]: [UInt8]?], events: [Event], indexes: [(key: [UInt8], value: [UInt8]?)])
    }

    /// Runs one authenticated transaction (its signature was checked by the caller).
    private func run(_ transaction: Transaction, header: BlockHeader, overlay: StateOverlay) throws -> Outcome {
        let body = transaction.body
        guard body.chainID == genesis.chainID else { return .rejected(LedgerRejection.wrongChain(expected: genesis.chainID, got: body.chainID)) }
        guard !body.isExpired(atMs: header.timestampMs) else {
            return .rejected(LedgerRejection.expired(expiresAtMs: body.expiresAtMs, blockTimeMs: header.timestampMs))
        }
        guard let organization = try registry.directory.organization(forMember: body.sender, in: overlay) else {
            return .rejected(LedgerRejection.unknownSender(body.sender))
        }
        guard organization.status == .active else { return .rejected(LedgerRejection.suspended(organization.id)) }
        guard let contract = registry.contract(named: body.call.contract) else {
            return .rejected(LedgerRejection.unknownContract(body.call.contract))
        }
        guard let kinds = contract.permittedKinds(for: body.call.operation) else {
            return .rejected(LedgerRejection.unknownOperation(contract: contract.name, operation: body.call.operation))
        }
        guard kinds.contains(organization.kind) else {
            return .rejected(LedgerRejection.notPermitted(kind: organization.kind, contract: contract.name, operation: body.call.operation))
        }
        let nonceKey = Nonces.key(for: body.sender)
        let expectedNonce = try Nonces.decode(overlay.value(forFullKey: nonceKey))
        guard body.nonce == expectedNonce else { return .rejected(LedgerRejection.badNonce(expected: expectedNonce, got: body.nonce)) }
        var context = TransactionContext(
            chainID: genesis.chainID, blockHeight: header.height, blockTimestampMs: header.timestampMs, transactionID: transaction.id,
            sender: body.sender, organization: organization, contract: contract.name, directory: registry.directory, state: overlay)
        do {
            try contract.execute(body.call, in: &context)
        } catch let rejection as Rejection {
            return .rejected(rejection)
        } catch let error as CodecError {
            return .rejected(LedgerRejection.badArguments(error))
        } catch let error as StorageError {
            throw error
        } catch {
            // Execution of a committed block is total: whatever a transaction
            // makes its contract do ends in a receipt; only storage can fail it.
            return .rejected(LedgerRejection.contractFailed(contract: contract.name, error: error))
        }
        guard context.indexWrites.count <= Limits.indexEntriesPerTransactionMax, context.events.count <= Limits.eventsPerReceiptMax,
              context.state.transactionWrites.count <= Limits.stateWritesPerTransactionMax else {
            return .rejected(Rejection(code: "too_large", message: "the transaction writes more than a transaction may"))
        }
        var writes = context.state.transactionWrites
        writes[nonceKey] = .some(Nonces.encode(expectedNonce + 1))
        return .applied(writes: writes, events: context.events, indexes: context.indexWrites)
    }

    /// Writes an executed block with its certificate in one synced batch and
    /// moves the head. The certificate is verified against the validator set first.
    public func commit(_ executed: ExecutedBlock, certificate: CommitCertificate) throws(LedgerError) {
        do {
            try certificate.verify(header: executed.block.header, validators: genesis.validators, chainID: genesis.chainID)
        } catch {
            throw .certificate(error)
        }
        try lock.withLock { () throws(LedgerError) in
            guard currentHead == executed.parentHead else { throw LedgerError.executedBlockStale(height: executed.block.height) }
            let block = executed.block
            let height = block.height
            var batch = WriteBatch()
            batch.put(StoreKey.block(height), block.canonicalBytes)
            batch.put(StoreKey.blockHeight(block.hash), StoreKey.bigEndian(height))
            batch.put(StoreKey.certificate(height), certificate.canonicalBytes)
            batch.put(StoreKey.blockReceipts(height), executed.receipts.encodedList)
            batch.put(StoreKey.stateRoot(height), executed.stateRoot.bytes)
            for (index, transaction) in block.transactions.enumerated() where !executed.duplicates.contains(index) {
                batch.put(StoreKey.transaction(transaction.id), TransactionLocation(height: height, index: UInt32(index)).canonicalBytes)
            }
            for (key, value) in executed.stateWrites {
                if let value { batch.put(StoreKey.state(key), value) } else { batch.delete(StoreKey.state(key)) }
            }
            for (key, value) in executed.indexWrites {
                if let value { batch.put(key, value) } else { batch.delete(key) }
            }
            for (hash, node) in executed.createdNodes { batch.put(StoreKey.node(hash), node.canonicalBytes) }
            let newHead = LedgerHead(height: height, blockHash: block.hash, timestampMs: block.header.timestampMs, stateRoot: executed.stateRoot)
            batch.put(StoreKey.head, newHead.canonicalBytes)
            do throws(StorageError) {
                try store.write(batch, sync: true)
            } catch {
                throw LedgerError.storage(error)
            }
            currentHead = newHead
            currentHeadHeader = block.header
            nodeCache.insert(executed.createdNodes)
        }
    }

    /// Executes and commits a certified block in one step (block sync, replay).
    @discardableResult
    public func apply(_ block: Block, certificate: CommitCertificate, signatureAlreadyVerified: (Hash) -> Bool = { _ in false }) throws(LedgerError) -> ExecutedBlock {
        let executed = try execute(block, signatureAlreadyVerified: signatureAlreadyVerified)
        try commit(executed, certificate: certificate)
        return executed
    }

    // MARK: Reads

    /// The state root after block `height`, if that block is committed.
    public func stateRoot(at height: UInt64) throws(LedgerError) -> Hash? {
        guard let raw = try read(StoreKey.stateRoot(height)) else { return nil }
        do {
            return try Hash(bytes: raw)
        } catch {
            throw .storage(.corrupted(reason: "state root record of height \(height) is malformed"))
        }
    }

    public func block(at height: UInt64) throws(LedgerError) -> Block? {
        try decodeRecord(StoreKey.block(height), Block.self, "block \(height)")
    }

    /// The stored records of committed block `height` (at least 1) in the
    /// canonical encoding, as they are in the store, for streams that pass
    /// blocks on without decoding them; nil when it is not committed.
    public func storedRecords(at height: UInt64) throws(LedgerError) -> StoredBlockRecords? {
        guard height >= 1, let block = try read(StoreKey.block(height)) else { return nil }
        func part(_ key: [UInt8], _ what: String) throws(LedgerError) -> [UInt8] {
            guard let raw = try read(key) else { throw .storage(.corrupted(reason: "the \(what) of committed block \(height) is missing")) }
            return raw
        }
        let stateRoot = try part(StoreKey.stateRoot(height), "state root")
        guard stateRoot.count == Hash.zero.bytes.count else { throw .storage(.corrupted(reason: "state root record of height \(height) is malformed")) }
        return StoredBlockRecords(block: block, certificate: try part(StoreKey.certificate(height), "certificate"),
                                  receipts: try part(StoreKey.blockReceipts(height), "receipts"), stateRoot: stateRoot)
    }

    public func block(hash: Hash) throws(LedgerError) -> Block? {
        guard let raw = try read(StoreKey.blockHeight(hash)), raw.count == 8 else { return nil }
        let height = raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return try block(at: height)
    }

    public func certificate(at height: UInt64) throws(LedgerError) -> CommitCertificate? {
        try decodeRecord(StoreKey.certificate(height), CommitCertificate.self, "certificate \(height)")
    }

    public func receipts(at height: UInt64) throws(LedgerError) -> [Receipt]? {
        guard let raw = try read(StoreKey.blockReceipts(height)) else { return nil }
        do {
            return try [Receipt].decodeList(raw)
        } catch {
            throw .storage(.corrupted(reason: "receipts of block \(height) do not decode: \(error)"))
        }
    }

    /// Whether a transaction has committed. Reads only the transaction's index
    /// entry, unlike ``transaction(_:)``, which decodes its whole block and receipts.
    public func isCommitted(_ id: Hash) throws(LedgerError) -> Bool {
        try read(StoreKey.transaction(id)) != nil
    }

    /// A committed transaction, where it is and its receipt.
    public func transaction(_ id: Hash) throws(LedgerError) -> TransactionRecord? {
        guard let location = try decodeRecord(StoreKey.transaction(id), TransactionLocation.self, "transaction location") else { return nil }
        guard let block = try block(at: location.height), let receipts = try receipts(at: location.height),
              Int(location.index) < block.transactions.count, Int(location.index) < receipts.count else {
            throw .storage(.corrupted(reason: "transaction \(id.short)… points at a block that does not hold it"))
        }
        return TransactionRecord(transaction: block.transactions[Int(location.index)], location: location, receipt: receipts[Int(location.index)])
    }

    /// The sender's next nonce in committed state.
    public func nextNonce(for sender: PublicKey) throws(LedgerError) -> UInt64 {
        do {
            return try Nonces.decode(CommittedState(store: store).value(forFullKey: Nonces.key(for: sender)))
        } catch {
            throw .storage(error)
        }
    }

    /// The organization a key signs for, in committed state.
    public func organization(forMember key: PublicKey) throws(LedgerError) -> Organization? {
        do {
            return try registry.directory.organization(forMember: key, in: CommittedState(store: store))
        } catch {
            throw .storage(error)
        }
    }

    /// The committed value of a contract's key.
    public func stateValue(contract: String, key: [UInt8]) throws(LedgerError) -> [UInt8]? {
        try read(StoreKey.state(namespacedKey(contract, key)))
    }

    /// A proof of a contract key's current value (or absence) against the head's state root.
    public func proof(contract: String, key: [UInt8]) throws(LedgerError) -> (root: Hash, height: UInt64, proof: StateProof) {
        let fullKey = namespacedKey(contract, key)
        let head = lock.withLock { currentHead }
        let updater = StateTreeUpdater(source: StoreNodeSource(store: store, cache: nodeCache))
        do {
            let (siblings, terminal) = try updater.prove(root: head.stateRoot, path: Hash.sha256(fullKey))
            var value: [UInt8]?
            if case .leaf(let path, _) = terminal, path == Hash.sha256(fullKey) {
                value = try store.get(StoreKey.state(fullKey))
            }
            return (head.stateRoot, head.height, StateProof(key: fullKey, value: value, siblings: siblings, terminal: terminal))
        } catch {
            throw .storage(error)
        }
    }

    /// A read-only view of committed state for contract queries.
    public func queryView() -> any QueryView {
        LedgerQueryView(ledger: self, head: head)
    }

    /// Runs a contract query against committed state.
    public func query(contract name: String, _ query: String, parameters: [String: String]) throws(QueryError) -> JSONValue {
        guard let contract = registry.contract(named: name) else {
            throw QueryError(.unknownQuery, "no contract named '\(name)'")
        }
        return try contract.query(query, parameters: parameters, in: queryView())
    }

    func read(_ key: [UInt8]) throws(LedgerError) -> [UInt8]? {
        do {
            return try store.get(key)
        } catch {
            throw .storage(error)
        }
    }

    func scanStore(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        try store.scan(prefix: prefix, start: start, limit: limit)
    }

    private func decodeRecord<T: CanonicalDecodable>(_ key: [UInt8], _ type: T.Type, _ what: String) throws(LedgerError) -> T? {
        guard let raw = try read(key) else { return nil }
        do {
            return try T(canonicalBytes: raw)
        } catch {
            throw .storage(.corrupted(reason: "\(what) does not decode: \(error)"))
        }
    }
}

/// A committed block's records as stored, each in its canonical encoding:
/// the block, its commit certificate, its receipts (a list) and the state root after it.
public struct StoredBlockRecords: Sendable, Equatable {
    public let block: [UInt8]
    public let certificate: [UInt8]
    public let receipts: [UInt8]
    public let stateRoot: [UInt8]
}

/// Reads tree nodes through the node cache, and from the store on a miss
/// (remembering what it read). Nodes are named by their hash, so whatever
/// the cache holds is right for any reader at any time.
struct StoreNodeSource: StateNodeSource {
    let store: any KeyValueStore
    let cache: StateNodeCache

    func node(_ hash: Hash) throws(StorageError) -> StateTreeNode? {
        if let cached = cache.node(hash) { return cached }
        guard let raw = try store.get(StoreKey.node(hash)) else { return nil }
        do {
            let node = try StateTreeNode(canonicalBytes: raw)
            guard node.hash == hash else { throw StorageError.corrupted(reason: "state tree node \(hash.short)… does not match its hash") }
            cache.insert([hash: node])
            return node
        } catch let error as StorageError {
            throw error
        } catch {
            throw .corrupted(reason: "state tree node \(hash.short)… does not decode: \(error)")
        }
    }
}

struct LedgerQueryView: QueryView {
    let ledger: Ledger
    let head: LedgerHead

    var height: UInt64 { head.height }
    var blockTimestampMs: UInt64 { head.timestampMs }

    func get(contract: String, _ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        try CommittedState(store: ledgerStore).value(forFullKey: namespacedKey(contract, key))
    }

    private var ledgerStore: any KeyValueStore { LedgerStoreAccess.store(of: ledger) }

    func scan(contract: String, prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        let namespace = namespacedKey(contract, [])
        let entries = try CommittedState(store: ledgerStore).entries(fullPrefix: namespace + prefix, start: start.map { namespace + $0 }, limit: limit)
        return entries.map { (Array($0.key.dropFirst(namespace.count)), $0.value) }
    }

    func scanIndex(contract: String, index: String, prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        let base = indexKey(contract, index, [])
        let entries = try ledger.scanStore(prefix: base + prefix, start: start.map { base + $0 }, limit: limit)
        return entries.map { (Array($0.key.dropFirst(base.count)), $0.value) }
    }

    func organization(id: String) throws(StorageError) -> Organization? {
        try ledger.registry.directory.organization(id: id, in: CommittedState(store: ledgerStore))
    }

    func organization(forMember key: PublicKey) throws(StorageError) -> Organization? {
        try ledger.registry.directory.organization(forMember: key, in: CommittedState(store: ledgerStore))
    }

    func transactionLocation(_ id: Hash) throws(StorageError) -> TransactionLocation? {
        guard let raw = try ledgerStore.get(StoreKey.transaction(id)) else { return nil }
        do {
            return try TransactionLocation(canonicalBytes: raw)
        } catch {
            throw .corrupted(reason: "transaction location does not decode: \(error)")
        }
    }

    func blockHeader(at height: UInt64) throws(StorageError) -> BlockHeader? {
        do {
            return try ledger.block(at: height)?.header
        } catch {
            throw Self.storageError(error)
        }
    }

    func certificate(at height: UInt64) throws(StorageError) -> CommitCertificate? {
        do {
            return try ledger.certificate(at: height)
        } catch {
            throw Self.storageError(error)
        }
    }

    static func storageError(_ error: LedgerError) -> StorageError {
        if case .storage(let inner) = error { return inner }
        return .readFailed(reason: error.description)
    }
}

enum LedgerStoreAccess {
    static func store(of ledger: Ledger) -> any KeyValueStore { ledger.underlyingStore }
}

extension Ledger {
    var underlyingStore: any KeyValueStore { store }
}

extension Array where Element == Receipt {
    var encodedList: [UInt8] {
        var encoder = CanonicalEncoder()
        encoder.write(self)
        return encoder.bytes
    }

    static func decodeList(_ raw: [UInt8]) throws(CodecError) -> [Receipt] {
        var decoder = CanonicalDecoder(raw)
        let receipts = try decoder.readArray(Receipt.self, "receipts", limit: Limits.receiptsPerBlockMax)
        try decoder.finish("receipts")
        return receipts
    }
}

/// State-tree nodes by hash, in two generations: new entries go to the
/// recent one; when it is full it becomes the older one (the previous older
/// one is dropped), and a node found in the older one moves back to the
/// recent one. So the nodes every block walks through (the tree's upper
/// levels) stay, however much the tree grows, and memory stays within two
/// generations of ``generationEntriesMax`` entries. Thread-safe.
final class StateNodeCache: @unchecked Sendable {
    private let lock = Lock()
    private var recent: [Hash: StateTreeNode] = [:]
    private var older: [Hash: StateTreeNode] = [:]
    let generationEntriesMax: Int

    /// A cache of at most two generations of `generationEntriesMax` nodes; 0 keeps nothing.
    init(generationEntriesMax: Int) {
        self.generationEntriesMax = generationEntriesMax
    }

    var count: Int { lock.withLock { recent.count + older.count } }

    func node(_ hash: Hash) -> StateTreeNode? {
        lock.withLock {
            if let node = recent[hash] { return node }
            guard let node = older.removeValue(forKey: hash) else { return nil }
            insertLocked(hash, node)
            return node
        }
    }

    func insert(_ nodes: [Hash: StateTreeNode]) {
        lock.withLock { for (hash, node) in nodes { insertLocked(hash, node) } }
    }

    private func insertLocked(_ hash: Hash, _ node: StateTreeNode) {
        guard generationEntriesMax > 0 else { return }
        if recent.count >= generationEntriesMax && recent[hash] == nil {
            older = recent
            recent = Dictionary(minimumCapacity: generationEntriesMax)
        }
        recent[hash] = node
    }
}
