import LedgerCore

/// The body of `POST /v1/transactions`: `{"transaction": "<hex of the signed canonical bytes>"}`.
public struct SubmissionRequest: Codable, Sendable, Equatable {
    /// The signed transaction's canonical bytes.
    public var transaction: HexBytes

    public init(transaction: HexBytes) {
        self.transaction = transaction
    }

    public init(_ transaction: Transaction) {
        self.transaction = HexBytes(transaction.canonicalBytes)
    }
}

/// Where a transaction stands on the node that answers.
public enum TransactionState: String, Codable, Sendable, Equatable {
    /// In the node's mempool, not yet in a committed block.
    case pending
    /// In a committed block, with its receipt.
    case committed
}

/// The answer to `POST /v1/transactions`: the transaction is pending; `new`
/// is false when the node already had it.
public struct SubmissionAnswer: Codable, Sendable, Equatable {
    public var id: Hash
    public var status: TransactionState
    public var isNew: Bool

    public init(id: Hash, status: TransactionState = .pending, isNew: Bool) {
        self.id = id
        self.status = status
        self.isNew = isNew
    }

    enum CodingKeys: String, CodingKey {
        case id, status, isNew = "new"
    }
}

/// The body of `POST /v1/transactions/batch` (`application/octet-stream`):
/// signed transactions in the canonical encoding, a count and then each
/// transaction's canonical bytes with their length. The binary path for
/// load: no hex, no JSON, one request for many transactions.
public struct TransactionBatchRequest: Sendable, Equatable, CanonicalCodable {
    /// Each transaction's canonical bytes, in the order they are to be admitted.
    public var transactions: [[UInt8]]

    public init(encoded transactions: [[UInt8]]) {
        self.transactions = transactions
    }

    public init(_ transactions: [Transaction]) {
        self.transactions = transactions.map(\.canonicalBytes)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(UInt64(transactions.count))
        for transaction in transactions { encoder.write(bytes: transaction) }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let count = try decoder.readLength("batch transactions", limit: APILimits.batchTransactionsMax)
        var transactions: [[UInt8]] = []
        transactions.reserveCapacity(count)
        for _ in 0..<count { transactions.append(try decoder.readBytes("batch transaction", limit: Limits.transactionBytesMax)) }
        self.transactions = transactions
    }
}

/// What became of one transaction of a batch.
public enum BatchSubmissionStatus: String, Codable, Sendable, Equatable {
    /// Admitted, or already pending on the node (`new` says which).
    case pending
    /// Not admitted now: the node holds as much as the cluster can commit
    /// soon; send it again after the answer's `retryAfterMs`.
    case busy
    /// Refused for good, with the reason in `error` (a bad signature, a nonce
    /// already used, bytes that do not decode, …).
    case refused
}

/// The answer for one transaction of a batch, in the batch's order.
public struct BatchSubmissionResult: Codable, Sendable, Equatable {
    /// The transaction's id; absent when its bytes do not decode.
    public var id: Hash?
    public var status: BatchSubmissionStatus
    /// For `pending`: false when the node already had the transaction.
    public var isNew: Bool?
    /// For `busy` and `refused`: the code and message a single submission would have answered.
    public var error: APIErrorDetail?

    public init(id: Hash?, status: BatchSubmissionStatus, isNew: Bool? = nil, error: APIErrorDetail? = nil) {
        self.id = id
        self.status = status
        self.isNew = isNew
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, status, isNew = "new", error
    }
}

/// The answer to `POST /v1/transactions/batch`: one result per transaction,
/// in order, and when any was `busy`, how long to wait before sending those again.
public struct BatchSubmissionAnswer: Codable, Sendable, Equatable {
    public var results: [BatchSubmissionResult]
    public var retryAfterMs: Int?

    public init(results: [BatchSubmissionResult], retryAfterMs: Int? = nil) {
        self.results = results
        self.retryAfterMs = retryAfterMs
    }
}

/// Offline evidence that a transaction is in a certified block: the block's
/// header, the Merkle path from the transaction id to the header's
/// transactions root, and the block's commit certificate, each in canonical bytes.
public struct InclusionEvidence: Codable, Sendable, Equatable {
    /// The canonical bytes of the block header.
    public var header: HexBytes
    /// The canonical encoding of the Merkle steps (an array of `MerkleStep`).
    public var merkleProof: HexBytes
    /// The canonical bytes of the commit certificate.
    public var certificate: HexBytes

    public init(header: HexBytes, merkleProof: HexBytes, certificate: HexBytes) {
        self.header = header
        self.merkleProof = merkleProof
        self.certificate = certificate
    }
}

/// A committed transaction with where it is and what it did.
public struct CommittedTransaction: Codable, Sendable, Equatable {
    public var id: Hash
    public var height: UInt64
    /// The transaction's position in its block.
    public var index: UInt32
    public var receipt: APIReceipt
    public var transaction: APITransaction
    /// Absent when the node cannot read the block's certificate.
    public var inclusion: InclusionEvidence?

    public init(id: Hash, height: UInt64, index: UInt32, receipt: APIReceipt, transaction: APITransaction, inclusion: InclusionEvidence?) {
        self.id = id
        self.height = height
        self.index = index
        self.receipt = receipt
        self.transaction = transaction
        self.inclusion = inclusion
    }
}

/// The answer to `GET /v1/transactions/{id}` (an unknown id is a 404):
/// `{"id", "status": "pending"}` or `{"id", "status": "committed", "height", "index", "receipt", "transaction", "inclusion"}`.
public enum TransactionStatusAnswer: Codable, Sendable, Equatable {
    case pending(id: Hash)
    case committed(CommittedTransaction)

    public var id: Hash {
        switch self {
        case .pending(let id): id
        case .committed(let committed): committed.id
        }
    }

    /// The committed transaction, or nil while it is pending.
    public var committed: CommittedTransaction? {
        if case .committed(let committed) = self { committed } else { nil }
    }

    enum CodingKeys: String, CodingKey {
        case id, status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(TransactionState.self, forKey: .status) {
        case .pending: self = .pending(id: try container.decode(Hash.self, forKey: .id))
        case .committed: self = .committed(try CommittedTransaction(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .pending(let id):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(TransactionState.pending, forKey: .status)
        case .committed(let committed):
            try committed.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(TransactionState.committed, forKey: .status)
        }
    }
}

/// The answer to `GET /v1/blocks/{height|latest}` and the data of each
/// event of `GET /v1/events`. The genesis block has no certificate, and so
/// no `certificate` or `encoded`.
public struct BlockAnswer: Codable, Sendable, Equatable {
    public var header: APIBlockHeader
    public var transactions: [APITransaction]
    /// Absent when the node cannot read them.
    public var receipts: [APIReceipt]?
    public var certificate: APICertificate?
    /// The state root after executing this block.
    public var resultingStateRoot: Hash?
    /// The canonical bytes of the block with its certificate (a `CertifiedBlock`), to verify offline.
    public var encoded: HexBytes?

    public init(header: APIBlockHeader, transactions: [APITransaction], receipts: [APIReceipt]?, certificate: APICertificate?,
                resultingStateRoot: Hash?, encoded: HexBytes?) {
        self.header = header
        self.transactions = transactions
        self.receipts = receipts
        self.certificate = certificate
        self.resultingStateRoot = resultingStateRoot
        self.encoded = encoded
    }
}

/// One validator as a node sees it in `GET /v1/status`.
public struct ValidatorStatus: Codable, Sendable, Equatable {
    public var name: String
    public var nodeKey: PublicKey
    public var address: String
    /// Whether the answering node has a connection to it.
    public var connected: Bool
    /// Whether it is the answering node.
    public var isSelf: Bool

    public init(name: String, nodeKey: PublicKey, address: String, connected: Bool, isSelf: Bool) {
        self.name = name
        self.nodeKey = nodeKey
        self.address = address
        self.connected = connected
        self.isSelf = isSelf
    }

    enum CodingKeys: String, CodingKey {
        case name, nodeKey, address, connected, isSelf = "self"
    }
}

/// The answer to `GET /v1/status`; `primary` and `fault` are always present, null when there is none.
public struct StatusAnswer: Codable, Sendable, Equatable {
    public var node: String
    /// `validator` or `observer`.
    public var role: String
    public var height: UInt64
    public var lastBlockHash: Hash
    public var stateRoot: Hash
    public var lastBlockTimeMs: UInt64
    public var view: UInt64
    /// The name of the primary of the current view.
    public var primary: String?
    public var mempoolSize: Int
    public var syncing: Bool
    public var validators: [ValidatorStatus]
    /// Why the node stopped signing, if it did.
    public var fault: String?

    public init(node: String, role: String, height: UInt64, lastBlockHash: Hash, stateRoot: Hash, lastBlockTimeMs: UInt64, view: UInt64,
                primary: String?, mempoolSize: Int, syncing: Bool, validators: [ValidatorStatus], fault: String?) {
        self.node = node
        self.role = role
        self.height = height
        self.lastBlockHash = lastBlockHash
        self.stateRoot = stateRoot
        self.lastBlockTimeMs = lastBlockTimeMs
        self.view = view
        self.primary = primary
        self.mempoolSize = mempoolSize
        self.syncing = syncing
        self.validators = validators
        self.fault = fault
    }

    enum CodingKeys: String, CodingKey {
        case node, role, height, lastBlockHash, stateRoot, lastBlockTimeMs, view, primary, mempoolSize, syncing, validators, fault
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        node = try container.decode(String.self, forKey: .node)
        role = try container.decode(String.self, forKey: .role)
        height = try container.decode(UInt64.self, forKey: .height)
        lastBlockHash = try container.decode(Hash.self, forKey: .lastBlockHash)
        stateRoot = try container.decode(Hash.self, forKey: .stateRoot)
        lastBlockTimeMs = try container.decode(UInt64.self, forKey: .lastBlockTimeMs)
        view = try container.decode(UInt64.self, forKey: .view)
        primary = try container.decode(String?.self, forKey: .primary)
        mempoolSize = try container.decode(Int.self, forKey: .mempoolSize)
        syncing = try container.decode(Bool.self, forKey: .syncing)
        validators = try container.decode([ValidatorStatus].self, forKey: .validators)
        fault = try container.decode(String?.self, forKey: .fault)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(role, forKey: .role)
        try container.encode(height, forKey: .height)
        try container.encode(lastBlockHash, forKey: .lastBlockHash)
        try container.encode(stateRoot, forKey: .stateRoot)
        try container.encode(lastBlockTimeMs, forKey: .lastBlockTimeMs)
        try container.encode(view, forKey: .view)
        try container.encode(primary, forKey: .primary)
        try container.encode(mempoolSize, forKey: .mempoolSize)
        try container.encode(syncing, forKey: .syncing)
        try container.encode(validators, forKey: .validators)
        try container.encode(fault, forKey: .fault)
    }
}

/// One validator of the genesis validator set.
public struct GenesisValidator: Codable, Sendable, Equatable {
    public var name: String
    public var organization: String
    public var nodeKey: PublicKey
    public var address: String

    public init(name: String, organization: String, nodeKey: PublicKey, address: String) {
        self.name = name
        self.organization = organization
        self.nodeKey = nodeKey
        self.address = address
    }
}

/// The answer to `GET /v1/genesis`.
extension StatusAnswer {
    /// The validators this node reaches (itself and its connected peers), of how many, and how many a commit needs.
    public var validatorReach: (reached: Int, of: Int, needed: Int) {
        (validators.filter { $0.connected || $0.isSelf }.count, validators.count, ValidatorSet.quorum(ofCount: validators.count))
    }
}

public struct GenesisAnswer: Codable, Sendable, Equatable {
    public var chainID: String
    public var hash: Hash
    public var validators: [GenesisValidator]

    public init(chainID: String, hash: Hash, validators: [GenesisValidator]) {
        self.chainID = chainID
        self.hash = hash
        self.validators = validators
    }

    enum CodingKeys: String, CodingKey {
        case chainID = "chainId", hash, validators
    }
}

/// The answer to `GET /v1/accounts/{key}/nonce`; `organization` is always present, null for a key of no organization.
public struct NonceAnswer: Codable, Sendable, Equatable {
    public var key: PublicKey
    /// The nonce the key's next committed transaction must carry.
    public var nextNonce: UInt64
    /// The next nonce counting the key's transactions in this node's mempool.
    public var pendingNonce: UInt64
    /// The organization the key is a member key of.
    public var organization: String?

    public init(key: PublicKey, nextNonce: UInt64, pendingNonce: UInt64, organization: String?) {
        self.key = key
        self.nextNonce = nextNonce
        self.pendingNonce = pendingNonce
        self.organization = organization
    }

    enum CodingKeys: String, CodingKey {
        case key, nextNonce, pendingNonce, organization
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(PublicKey.self, forKey: .key)
        nextNonce = try container.decode(UInt64.self, forKey: .nextNonce)
        pendingNonce = try container.decode(UInt64.self, forKey: .pendingNonce)
        organization = try container.decode(String?.self, forKey: .organization)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(nextNonce, forKey: .nextNonce)
        try container.encode(pendingNonce, forKey: .pendingNonce)
        try container.encode(organization, forKey: .organization)
    }
}

/// The answer to `GET /v1/query/{contract}/{name}`: the head's height and
/// the contract's result, whose shape each contract documents.
public struct QueryAnswer: Codable, Sendable, Equatable {
    public var height: UInt64
    public var result: JSONValue

    public init(height: UInt64, result: JSONValue) {
        self.height = height
        self.result = result
    }
}

/// The answer to `GET /v1/proof/{contract}?key=HEX`: a Merkle proof of the
/// key's value, or of its absence (`value` null), against `stateRoot`.
public struct ProofAnswer: Codable, Sendable, Equatable {
    public var height: UInt64
    public var stateRoot: Hash
    public var value: HexBytes?
    /// The canonical bytes of the `StateProof`.
    public var proof: HexBytes

    public init(height: UInt64, stateRoot: Hash, value: HexBytes?, proof: HexBytes) {
        self.height = height
        self.stateRoot = stateRoot
        self.value = value
        self.proof = proof
    }

    enum CodingKeys: String, CodingKey {
        case height, stateRoot, value, proof
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        height = try container.decode(UInt64.self, forKey: .height)
        stateRoot = try container.decode(Hash.self, forKey: .stateRoot)
        value = try container.decode(HexBytes?.self, forKey: .value)
        proof = try container.decode(HexBytes.self, forKey: .proof)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(height, forKey: .height)
        try container.encode(stateRoot, forKey: .stateRoot)
        try container.encode(value, forKey: .value)
        try container.encode(proof, forKey: .proof)
    }
}

/// The answer to `GET /health`: the node is up, at `height`.
public struct HealthAnswer: Codable, Sendable, Equatable {
    /// `ok` or `unhealthy` (readiness), `live` (liveness).
    public var status: String
    public var height: UInt64
    /// Each reason the node is not ready; only on an unhealthy answer.
    public var problems: [String]?
    /// The fault that stopped the node, if one did; only on an unhealthy answer.
    public var fault: String?
    /// The error object every 4xx/5xx carries; only on an unhealthy answer.
    public var error: APIErrorDetail?

    public init(status: String = "ok", height: UInt64, problems: [String]? = nil, fault: String? = nil, error: APIErrorDetail? = nil) {
        self.status = status
        self.height = height
        self.problems = problems
        self.fault = fault
        self.error = error
    }
}

/// The body of every 4xx/5xx answer: `{"error": {"code", "message"}}`.
public struct ErrorAnswer: Codable, Sendable, Equatable {
    public var error: APIErrorDetail

    public init(error: APIErrorDetail) {
        self.error = error
    }

    public init(code: String, message: String) {
        self.error = APIErrorDetail(code: code, message: message)
    }
}
