import Testing
@testable import Ledger
import LedgerCore
import LedgerTesting

/// A contract for ledger tests: writes, deletes and fails on request.
struct ScratchContract: BuiltInContract {
    static let name = "scratch"

    enum Operation: String, ContractOperation {
        case put
        case delete
        case fail
        case putThenFail
        case index
        case crash

        var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .put, .delete, .fail, .putThenFail, .index, .crash: Set(OrganizationKind.allCases)
            }
        }
    }

    func execute(_ call: ContractCall, in context: inout TransactionContext) throws {
        var decoder = CanonicalDecoder(call.arguments)
        switch try operation(of: call) {
        case .put:
            let key = try decoder.readBytes("key", limit: 256)
            let value = try decoder.readBytes("value", limit: 4096)
            try decoder.finish("put")
            context.put(key, value)
            context.emit("put", [("key", Hex.encode(key))])
        case .delete:
            let key = try decoder.readBytes("key", limit: 256)
            context.delete(key)
        case .putThenFail:
            let key = try decoder.readBytes("key", limit: 256)
            context.put(key, [1])
            throw Rejection(code: "asked_to_fail", message: "the caller asked for a failure after writing")
        case .index:
            let key = try decoder.readBytes("key", limit: 256)
            context.setIndex("by-key", key, [7])
        case .fail:
            throw Rejection(code: "asked_to_fail", message: "the caller asked for a failure")
        case .crash:
            context.put([9], [9])
            throw ScratchCrash()
        }
    }

    func query(_ name: String, parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        guard name == "get", let hex = parameters["key"], let key = Hex.decode(hex) else { throw QueryError(.unknownQuery, name) }
        do {
            return try view.get(contract: self.name, key).map { .string(Hex.encode($0)) } ?? .null
        } catch {
            throw .storage(error)
        }
    }

    static func put(_ key: [UInt8], _ value: [UInt8]) -> ContractCall {
        var encoder = CanonicalEncoder()
        encoder.write(bytes: key)
        encoder.write(bytes: value)
        return call(.put, encodedArguments: encoder.bytes)
    }

    static func call(_ operation: Operation, key: [UInt8]) -> ContractCall {
        var encoder = CanonicalEncoder()
        encoder.write(bytes: key)
        return call(operation, encodedArguments: encoder.bytes)
    }
}

/// An error a contract throws that is neither a rejection nor a storage failure.
struct ScratchCrash: Error {}

/// A consortium built from fixed keys, so that two runs produce identical chains.
struct DeterministicChain {
    let genesis: Genesis
    let validatorKeys: [PrivateKey]
    let senders: [PrivateKey]

    static func key(_ label: String) -> PrivateKey {
        // A hash is a valid scalar with overwhelming probability; these labels are fixed and checked.
        guard let key = try? PrivateKey(bytes: Hash.sha256(Array(label.utf8)).bytes) else {
            preconditionFailure("fixed test label \(label) does not give a valid key")
        }
        return key
    }

    init(senderCount: Int = 4) throws {
        validatorKeys = (0..<4).map { Self.key("validator-\($0)") }
        senders = (0..<senderCount).map { Self.key("sender-\($0)") }
        let bank = Organization(id: "bank", name: "Bank", kind: .bank, memberKeys: [Self.key("bank").publicKey])
        let enterprise = Organization(id: "acme", name: "Acme", kind: .enterprise, memberKeys: senders.map(\.publicKey))
        let validators = try ValidatorSet(validatorKeys.enumerated().map {
            Validator(name: "v\($0.offset)", organizationID: "bank", nodeKey: $0.element.publicKey, address: "127.0.0.1:\(9000 + $0.offset)")
        })
        genesis = try Genesis(chainID: "determinism", timestampMs: 1_000, organizations: [bank, enterprise], validators: validators)
    }

    static func registry() -> ContractRegistry {
        let governance = GovernanceContract()
        return ContractRegistry(contracts: [governance, ScratchContract()], directory: governance)
    }

    func openLedger(_ store: any KeyValueStore) throws -> Ledger {
        try Ledger(store: store, genesis: genesis, registry: Self.registry())
    }

    /// The validator keys, which build and certify this chain's blocks.
    var validators: LocalValidators { LocalValidators(keys: validatorKeys, genesis: genesis) }

    /// The next block on top of `ledger`'s head.
    func block(on ledger: Ledger, _ transactions: [Transaction], timestampMs: UInt64? = nil) -> Block {
        validators.block(after: ledger.head, timestampMs: timestampMs ?? ledger.head.timestampMs + 1000, transactions)
    }

    func certificate(_ header: BlockHeader, signers: Int = 3) -> CommitCertificate {
        validators.certificate(for: header, signers: signers)
    }

    func transaction(sender: Int, nonce: UInt64, _ call: ContractCall, expiresAtMs: UInt64 = .max) -> Transaction {
        Transaction.signed(chainID: genesis.chainID, key: senders[sender], nonce: nonce, expiresAtMs: expiresAtMs, call: call)
    }

    @discardableResult
    func commit(_ ledger: Ledger, _ transactions: [Transaction]) throws -> ExecutedBlock {
        let block = block(on: ledger, transactions)
        return try ledger.apply(block, certificate: certificate(block.header))
    }
}
