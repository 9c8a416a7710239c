import LedgerCore

/// A signed transaction as the API shows it: its body's fields, the
/// contract arguments as hex and the signature.
public struct APITransaction: Codable, Sendable, Equatable {
    public var id: Hash
    public var chainID: String
    public var sender: PublicKey
    public var nonce: UInt64
    public var expiresAtMs: UInt64
    public var contract: String
    public var operation: String
    /// The call's arguments in the contract's canonical encoding.
    public var arguments: HexBytes
    public var signature: Signature

    public init(id: Hash, chainID: String, sender: PublicKey, nonce: UInt64, expiresAtMs: UInt64, contract: String, operation: String,
                arguments: HexBytes, signature: Signature) {
        self.id = id
        self.chainID = chainID
        self.sender = sender
        self.nonce = nonce
        self.expiresAtMs = expiresAtMs
        self.contract = contract
        self.operation = operation
        self.arguments = arguments
        self.signature = signature
    }

    enum CodingKeys: String, CodingKey {
        case id, chainID = "chainId", sender, nonce, expiresAtMs, contract, operation, arguments, signature
    }
}

/// A contract event; an attribute key that repeats keeps its first value.
public struct APIEvent: Codable, Sendable, Equatable {
    public var contract: String
    public var name: String
    /// Each attribute's first value, by key.
    public var attributes: [String: String]
    /// Every value, in order, of each key the event carries more than once
    /// (a blacklist match's `entry`, one per entry); absent when no key repeats.
    public var repeated: [String: [String]]?

    public init(contract: String, name: String, attributes: [String: String], repeated: [String: [String]]? = nil) {
        self.contract = contract
        self.name = name
        self.attributes = attributes
        self.repeated = repeated
    }

    /// The event as the ledger recorded it: the attributes of each key
    /// together, repeated values in their order, keys sorted.
    public var event: Event {
        var list: [EventAttribute] = []
        for key in attributes.keys.sorted() {
            for value in repeated?[key] ?? [attributes[key] ?? ""] { list.append(EventAttribute(key, value)) }
        }
        return Event(contract: contract, name: name, attributes: list)
    }
}

/// `{"code", "message"}`: why the API refused a request, or why the ledger rejected a transaction.
public struct APIErrorDetail: Codable, Sendable, Equatable {
    /// A stable machine-readable code (`not_found`, `nonce_too_low`, …).
    public var code: String
    /// What happened, for a person.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// Whether a committed transaction took effect.
public enum ReceiptStatus: String, Codable, Sendable, Equatable {
    case success
    /// Committed without effect; the receipt's `error` says why.
    case rejected
}

/// The outcome of a committed transaction; `error` only when it was rejected.
public struct APIReceipt: Codable, Sendable, Equatable {
    public var transactionID: Hash
    public var status: ReceiptStatus
    public var events: [APIEvent]
    public var error: APIErrorDetail?

    public init(transactionID: Hash, status: ReceiptStatus, events: [APIEvent], error: APIErrorDetail? = nil) {
        self.transactionID = transactionID
        self.status = status
        self.events = events
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case transactionID = "transactionId", status, events, error
    }

    public var isSuccess: Bool { status == .success }
}

/// A block header as the API shows it.
public struct APIBlockHeader: Codable, Sendable, Equatable {
    public var height: UInt64
    public var hash: Hash
    public var parentHash: Hash
    public var timestampMs: UInt64
    public var proposer: PublicKey
    public var transactionsRoot: Hash
    /// The last state the proposer had executed, which `stateRoot` is the root of.
    public var stateHeight: UInt64
    public var stateRoot: Hash
    public var validatorSetHash: Hash

    public init(height: UInt64, hash: Hash, parentHash: Hash, timestampMs: UInt64, proposer: PublicKey, transactionsRoot: Hash,
                stateHeight: UInt64, stateRoot: Hash, validatorSetHash: Hash) {
        self.height = height
        self.hash = hash
        self.parentHash = parentHash
        self.timestampMs = timestampMs
        self.proposer = proposer
        self.transactionsRoot = transactionsRoot
        self.stateHeight = stateHeight
        self.stateRoot = stateRoot
        self.validatorSetHash = validatorSetHash
    }
}

/// A block's commit certificate as the API shows it.
public struct APICertificate: Codable, Sendable, Equatable {
    /// One validator's commit signature.
    public struct ValidatorSignature: Codable, Sendable, Equatable {
        /// The validator's index in the genesis validator set.
        public var validator: UInt32
        public var signature: Signature

        public init(validator: UInt32, signature: Signature) {
            self.validator = validator
            self.signature = signature
        }
    }

    public var height: UInt64
    public var view: UInt64
    public var blockHash: Hash
    public var signatures: [ValidatorSignature]

    public init(height: UInt64, view: UInt64, blockHash: Hash, signatures: [ValidatorSignature]) {
        self.height = height
        self.view = view
        self.blockHash = blockHash
        self.signatures = signatures
    }
}
