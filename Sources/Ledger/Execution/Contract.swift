import LedgerCore
/// A built-in contract: a deterministic function of (state, transaction) →
/// (state changes, events, receipt). Contracts see only the block and the
/// state — no clock, no randomness, no network.
///
/// A contract's state lives under its own namespace: keys given to
/// ``TransactionContext/put(_:_:)`` and friends are prefixed with the
/// contract's name, so no contract can write another's records.
public protocol Contract: Sendable {
    /// The contract's name, used in calls and as its state namespace.
    var name: String { get }

    /// Which organization kinds may call `operation`; nil if the contract has
    /// no such operation.
    func permittedKinds(for operation: String) -> Set<OrganizationKind>?

    /// The contract's initial state, from its section of the genesis file.
    /// Keys are relative to the contract's namespace.
    func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])]

    /// Checks a call's arguments without reading state, when its transaction
    /// is admitted to the mempool and when a proposal carries it. A refused
    /// transaction never enters a block, whereas one rejected by ``execute(_:in:)``
    /// is kept in its block with its receipt: whatever must never be stored
    /// (personal data in free text, for example) is refused here, and
    /// `execute` applies the same rule again. The operation is one the
    /// contract has (``permittedKinds(for:)`` is not nil).
    func checkArguments(_ call: ContractCall) throws(Rejection)

    /// Runs one operation. Throw a ``Rejection`` to refuse the transaction:
    /// none of its writes are kept and its receipt carries the rejection.
    /// Any other error is a node fault (for example a storage failure) and
    /// stops execution of the block.
    func execute(_ call: ContractCall, in context: inout TransactionContext) throws

    /// Answers a read-only query over committed state.
    func query(_ name: String, parameters: [String: String], in view: QueryView) throws(QueryError) -> JSONValue
}

extension Contract {
    public func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])] { [] }

    /// Without stateless rules every call is admitted; execution decides.
    public func checkArguments(_ call: ContractCall) throws(Rejection) {}
}

/// Why a query could not be answered; `code` is stable, `message` is for people.
public struct QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownQuery = "unknown_query"
        case badParameter = "bad_parameter"
        case notFound = "not_found"
        case forbidden
        case storage
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func missing(_ parameter: String) -> QueryError {
        QueryError(.badParameter, "parameter '\(parameter)' is required")
    }

    public static func storage(_ error: StorageError) -> QueryError {
        QueryError(.storage, error.description)
    }
}

extension JSONValue {
    /// A query's answer built from its typed form (the struct clients decode
    /// it into); a value with no JSON form is a fault of the contract's state.
    public static func queryAnswer(_ answer: some Encodable) throws(QueryError) -> JSONValue {
        do {
            return try JSONValue(encoding: answer)
        } catch {
            throw QueryError(.storage, "the \(type(of: answer)) answer has no JSON form: \(error)")
        }
    }
}

/// How the ledger learns which organization a key signs for. The governance
/// contract provides it; permission checks and contracts read it.
public protocol MembershipDirectory: Sendable {
    func organization(forMember key: PublicKey, in state: any StateReader) throws(StorageError) -> Organization?
    func organization(id: String, in state: any StateReader) throws(StorageError) -> Organization?
}

/// Read access to state by full (namespaced) key.
public protocol StateReader {
    func value(forFullKey key: [UInt8]) throws(StorageError) -> [UInt8]?
    /// Entries whose full key starts with `prefix`, in key order.
    func entries(fullPrefix prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])]
}

/// The full key of `key` in `contract`'s namespace.
public func namespacedKey(_ contract: String, _ key: [UInt8]) -> [UInt8] {
    Array(contract.utf8) + [0x2F] + key
}

/// Builds state and index keys from parts; parts are separated by `/`, so
/// keys that share leading parts sort together and can be scanned by prefix.
public func stateKey(_ parts: String...) -> [UInt8] {
    var key: [UInt8] = []
    key.reserveCapacity(parts.reduce(parts.count) { $0 + $1.utf8.count })
    for (position, part) in parts.enumerated() {
        if position > 0 { key.append(UInt8(ascii: "/")) }
        key.append(contentsOf: part.utf8)
    }
    return key
}

/// The contract-agnostic view a transaction executes against.
public struct TransactionContext {
    public let chainID: String
    public let blockHeight: UInt64
    /// The block's consensus timestamp, the only "now" a contract may use.
    public let blockTimestampMs: UInt64
    public let transactionID: Hash
    public let sender: PublicKey
    public let organization: Organization
    /// The contract being executed; all writes are in its namespace.
    public let contract: String
    let directory: any MembershipDirectory
    var state: StateOverlay
    private(set) var events: [Event] = []
    private(set) var indexWrites: [(key: [UInt8], value: [UInt8]?)] = []

    init(chainID: String, blockHeight: UInt64, blockTimestampMs: UInt64, transactionID: Hash, sender: PublicKey,
         organization: Organization, contract: String, directory: any MembershipDirectory, state: StateOverlay) {
        self.chainID = chainID
        self.blockHeight = blockHeight
        self.blockTimestampMs = blockTimestampMs
        self.transactionID = transactionID
        self.sender = sender
        self.organization = organization
        self.contract = contract
        self.directory = directory
        self.state = state
    }

    /// Reads a key of this contract.
    public func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        try state.value(forFullKey: namespacedKey(contract, key))
    }

    /// Reads and decodes a record of this contract; a record that does not
    /// decode means the state is damaged.
    public func get<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(StorageError) -> T? {
        guard let raw = try get(key) else { return nil }
        do {
            return try T(canonicalBytes: raw)
        } catch {
            throw .corrupted(reason: "record \(String(decoding: key, as: UTF8.self)) of \(contract) does not decode: \(error)")
        }
    }

    /// Reads a key of another contract (read-only).
    public func get(contract other: String, _ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        try state.value(forFullKey: namespacedKey(other, key))
    }

    /// Entries of this contract whose key starts with `prefix`, in key order; keys are returned without the namespace.
    public func scan(prefix: [UInt8], start: [UInt8]? = nil, limit: Int = Int.max) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        let namespace = namespacedKey(contract, [])
        let entries = try state.entries(fullPrefix: namespace + prefix, start: start.map { namespace + $0 }, limit: limit)
        return entries.map { (Array($0.key.dropFirst(namespace.count)), $0.value) }
    }

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        state.set(namespacedKey(contract, key), value)
    }

    public mutating func put<T: CanonicalEncodable>(_ key: [UInt8], _ value: T) {
        put(key, value.canonicalBytes)
    }

    public mutating func delete(_ key: [UInt8]) {
        state.set(namespacedKey(contract, key), nil)
    }

    /// Records an event in the transaction's receipt.
    public mutating func emit(_ name: String, _ attributes: [(String, String)]) {
        events.append(Event(contract: contract, name: name, attributes: attributes.map { EventAttribute($0.0, $0.1) }))
    }

    /// Writes an entry of a secondary index of this contract. Indexes are kept
    /// beside the state (not under the state root) for queries.
    public mutating func setIndex(_ index: String, _ key: [UInt8], _ value: [UInt8] = []) {
        indexWrites.append((indexKey(contract, index, key), value))
    }

    public mutating func removeIndex(_ index: String, _ key: [UInt8]) {
        indexWrites.append((indexKey(contract, index, key), nil))
    }

    /// The organization a member key signs for, as of this transaction.
    public func organization(forMember key: PublicKey) throws(StorageError) -> Organization? {
        try directory.organization(forMember: key, in: state)
    }

    /// The organization with this id, as of this transaction.
    public func organization(id: String) throws(StorageError) -> Organization? {
        try directory.organization(id: id, in: state)
    }
}

/// The full key of an index entry.
func indexKey(_ contract: String, _ index: String, _ key: [UInt8]) -> [UInt8] {
    Array("i/\(contract)/\(index)/".utf8) + key
}

/// Read-only access to committed state, indexes and block metadata, for queries.
public protocol QueryView {
    /// Height of the latest committed block.
    var height: UInt64 { get }
    /// Timestamp of the latest committed block.
    var blockTimestampMs: UInt64 { get }
    func get(contract: String, _ key: [UInt8]) throws(StorageError) -> [UInt8]?
    func scan(contract: String, prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])]
    func scanIndex(contract: String, index: String, prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])]
    func organization(id: String) throws(StorageError) -> Organization?
    func organization(forMember key: PublicKey) throws(StorageError) -> Organization?
    /// Where a committed transaction sits.
    func transactionLocation(_ id: Hash) throws(StorageError) -> TransactionLocation?
    func blockHeader(at height: UInt64) throws(StorageError) -> BlockHeader?
    func certificate(at height: UInt64) throws(StorageError) -> CommitCertificate?
}

extension QueryView {
    /// Reads and decodes a record, reporting damaged records as storage corruption.
    public func get<T: CanonicalDecodable>(_ type: T.Type, contract: String, _ key: [UInt8]) throws(QueryError) -> T? {
        let raw: [UInt8]?
        do {
            raw = try get(contract: contract, key)
        } catch {
            throw .storage(error)
        }
        guard let raw else { return nil }
        do {
            return try T(canonicalBytes: raw)
        } catch {
            throw QueryError(.storage, "record does not decode: \(error)")
        }
    }
}

/// Where a transaction was committed.
public struct TransactionLocation: Equatable, Sendable, CanonicalCodable {
    public var height: UInt64
    public var index: UInt32

    public init(height: UInt64, index: UInt32) {
        self.height = height
        self.index = index
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(height)
        encoder.write(index)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.readUInt64("location height")
        index = try decoder.readUInt32("location index")
    }
}

/// The contracts a ledger runs, and the directory that maps keys to organizations.
public struct ContractRegistry: Sendable {
    public let directory: any MembershipDirectory
    private let contracts: [String: any Contract]

    /// Contract names must be unique, non-empty and contain no `/`.
    public init(contracts: [any Contract], directory: any MembershipDirectory) {
        var byName: [String: any Contract] = [:]
        for contract in contracts {
            precondition(!contract.name.isEmpty && !contract.name.contains("/"), "contract name '\(contract.name)' is not usable as a namespace")
            precondition(byName[contract.name] == nil, "contract '\(contract.name)' registered twice")
            byName[contract.name] = contract
        }
        self.contracts = byName
        self.directory = directory
    }

    public func contract(named name: String) -> (any Contract)? { contracts[name] }

    /// The stateless checks of a call, as admission applies them: the
    /// contract and operation must exist and the contract's
    /// ``Contract/checkArguments(_:)`` must pass.
    public func checkArguments(_ call: ContractCall) throws(Rejection) {
        guard let contract = contracts[call.contract] else { throw LedgerRejection.unknownContract(call.contract) }
        guard contract.permittedKinds(for: call.operation) != nil else {
            throw LedgerRejection.unknownOperation(contract: call.contract, operation: call.operation)
        }
        try contract.checkArguments(call)
    }
    public var names: [String] { contracts.keys.sorted() }
}
