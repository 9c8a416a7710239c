import Contracts
import Ledger
import LedgerCore
import LedgerTesting

/// A consortium whose keys are all held in one process: it builds a genesis,
/// runs a ledger and certifies blocks by signing commit votes with every
/// validator key. Used by the benchmark and by tests that need committed
/// blocks without running consensus.
public final class LocalConsortium: @unchecked Sendable {
    /// A member organization with its signing keys.
    public struct Member: Sendable {
        public let organization: Organization
        public let keys: [PrivateKey]
        public var key: PrivateKey { keys[0] }
        public var id: String { organization.id }
    }

    public let genesis: Genesis
    public let ledger: Ledger
    public private(set) var members: [String: Member]
    /// The validator keys, which build and certify this consortium's blocks.
    public let validators: LocalValidators
    private var nonces: [PublicKey: UInt64] = [:]
    private var clockMs: UInt64

    /// Creates a consortium of `organizations` (id and kind; each gets
    /// `keysPerOrganization` fresh keys) whose validators are the first
    /// `validatorCount` banks' nodes.
    public init(
        chainID: String = "local-test",
        organizations: [(id: String, kind: OrganizationKind)],
        keysPerOrganization: Int = 2,
        validatorCount: Int = 4,
        contracts: [String: JSONValue] = [:],
        registry: ContractRegistry = StandardContracts.registry(),
        store: any KeyValueStore = MemoryStore(),
        genesisTimestampMs: UInt64 = 1_767_225_600_000
    ) throws {
        var members: [String: Member] = [:]
        var organizationList: [Organization] = []
        for entry in organizations {
            var keys: [PrivateKey] = []
            for _ in 0..<keysPerOrganization { keys.append(try PrivateKey.generate()) }
            let organization = Organization(id: entry.id, name: entry.id, kind: entry.kind, memberKeys: keys.map(\.publicKey))
            organizationList.append(organization)
            members[entry.id] = Member(organization: organization, keys: keys)
        }
        let banks = organizationList.filter { $0.kind == .bank }
        guard !banks.isEmpty else { throw GenesisError("a local consortium needs at least one bank to run validators") }
        var validatorKeys: [PrivateKey] = []
        var validatorList: [Validator] = []
        for index in 0..<validatorCount {
            let key = try PrivateKey.generate()
            validatorKeys.append(key)
            let bank = banks[index % banks.count]
            validatorList.append(Validator(name: "node\(index)", organizationID: bank.id, nodeKey: key.publicKey, address: "127.0.0.1:\(7000 + index)"))
        }
        self.genesis = try Genesis(chainID: chainID, timestampMs: genesisTimestampMs, organizations: organizationList,
                                   validators: try ValidatorSet(validatorList), contracts: contracts)
        self.ledger = try Ledger(store: store, genesis: genesis, registry: registry)
        self.members = members
        self.validators = LocalValidators(keys: validatorKeys, genesis: genesis)
        self.clockMs = ledger.head.timestampMs
    }

    public func member(_ id: String) -> Member {
        guard let member = members[id] else { preconditionFailure("no member '\(id)' in this local consortium") }
        return member
    }

    /// The node key of validator `index`, for tests that run a node of this consortium.
    public func validatorKey(_ index: Int) -> PrivateKey { validators.keys[index] }

    /// The block time the next block will carry.
    public var nextBlockTimeMs: UInt64 { max(clockMs, ledger.head.timestampMs) + 1000 }

    /// Moves the consortium's clock forward, e.g. past a due date.
    public func advanceClock(byMs milliseconds: UInt64) {
        clockMs = max(clockMs, ledger.head.timestampMs) + milliseconds
    }

    /// Signs a call as `member` (with key `keyIndex`) using the sender's next nonce.
    public func transaction(_ member: String, keyIndex: Int = 0, _ call: ContractCall) -> Transaction {
        let key = self.member(member).keys[keyIndex]
        let nonce = nonces[key.publicKey] ?? ((try? ledger.nextNonce(for: key.publicKey)) ?? 0)
        nonces[key.publicKey] = nonce + 1
        return Transaction.signed(chainID: genesis.chainID, key: key, nonce: nonce, expiresAtMs: UInt64.max / 2, call: call)
    }

    /// A block of this consortium's that follows `head` at `timestampMs`,
    /// holding `transactions`; ``certificate(for:view:)`` certifies it. Also
    /// serves other ledgers of the same genesis (a benchmark's disk copy).
    public func block(after head: LedgerHead, timestampMs: UInt64, _ transactions: [Transaction]) -> Block {
        validators.block(after: head, timestampMs: timestampMs, transactions)
    }

    /// Builds, certifies and commits a block holding `transactions`; returns the receipts.
    @discardableResult
    public func commit(_ transactions: [Transaction]) throws -> [Receipt] {
        let timestamp = nextBlockTimeMs
        clockMs = timestamp
        let block = block(after: ledger.head, timestampMs: timestamp, transactions)
        let executed = try ledger.execute(block)
        try ledger.commit(executed, certificate: certificate(for: block.header))
        // Rejected transactions leave their nonce unused.
        for (transaction, receipt) in zip(transactions, executed.receipts) where !receipt.isSuccess {
            nonces[transaction.body.sender] = nil
        }
        return executed.receipts
    }

    /// Submits one call and returns its receipt.
    @discardableResult
    public func submit(_ member: String, keyIndex: Int = 0, _ call: ContractCall) throws -> Receipt {
        let receipts = try commit([transaction(member, keyIndex: keyIndex, call)])
        return receipts[0]
    }

    /// A certificate for `header` signed by a quorum of the validator keys.
    public func certificate(for header: BlockHeader, view: UInt64 = 0) -> CommitCertificate {
        validators.certificate(for: header, view: view)
    }
}
