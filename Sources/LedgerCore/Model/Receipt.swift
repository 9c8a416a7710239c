/// One key/value pair of an event.
public struct EventAttribute: Equatable, Sendable, CanonicalCodable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(key)
        encoder.write(value)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.readString("event attribute key", limit: Limits.nameBytesMax)
        value = try decoder.readString("event attribute value", limit: Limits.eventValueBytesMax)
    }
}

/// Something a contract reports about a transaction it executed; jobs follow these.
public struct Event: Equatable, Sendable, CanonicalCodable {
    public var contract: String
    public var name: String
    public var attributes: [EventAttribute]

    public init(contract: String, name: String, attributes: [EventAttribute]) {
        self.contract = contract
        self.name = name
        self.attributes = attributes
    }

    /// The value of the first attribute named `key`.
    public subscript(key: String) -> String? {
        attributes.first(where: { $0.key == key })?.value
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(contract)
        encoder.write(name)
        encoder.write(attributes)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        contract = try decoder.readString("event contract", limit: Limits.contractNameBytesMax)
        name = try decoder.readString("event name", limit: Limits.nameBytesMax)
        attributes = try decoder.readArray(EventAttribute.self, "event attributes", limit: Limits.eventAttributesMax)
    }
}

/// Why a transaction was not applied: a stable machine-readable code and a
/// sentence for people.
public struct Rejection: Error, Equatable, Sendable, CanonicalCodable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(code)
        encoder.write(message)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        code = try decoder.readString("rejection code", limit: Limits.identifierBytesMax)
        message = try decoder.readString("rejection message", limit: Limits.textBytesMax)
    }
}

/// Rejections raised by the ledger itself, before a contract runs.
public enum LedgerRejection {
    public static func badSignature() -> Rejection {
        Rejection(code: "bad_signature", message: "the signature does not match the sender's key and the transaction body")
    }
    public static func wrongChain(expected: String, got: String) -> Rejection {
        Rejection(code: "wrong_chain", message: "transaction is for chain '\(got)', this ledger is '\(expected)'")
    }
    public static func badNonce(expected: UInt64, got: UInt64) -> Rejection {
        Rejection(code: "bad_nonce", message: "nonce \(got) is not the sender's next nonce \(expected)")
    }
    public static func expired(expiresAtMs: UInt64, blockTimeMs: UInt64) -> Rejection {
        Rejection(code: "expired", message: "transaction expired at \(expiresAtMs) ms, block time is \(blockTimeMs) ms")
    }
    public static func unknownSender(_ key: PublicKey) -> Rejection {
        Rejection(code: "unknown_sender", message: "key \(key.short)… belongs to no organization of the consortium")
    }
    public static func suspended(_ organization: String) -> Rejection {
        Rejection(code: "organization_suspended", message: "organization '\(organization)' is suspended")
    }
    public static func notPermitted(kind: OrganizationKind, contract: String, operation: String) -> Rejection {
        Rejection(code: "not_permitted", message: "organizations of kind '\(kind.rawValue)' may not call \(contract).\(operation)")
    }
    public static func unknownContract(_ name: String) -> Rejection {
        Rejection(code: "unknown_contract", message: "no contract named '\(name)'")
    }
    public static func unknownOperation(contract: String, operation: String) -> Rejection {
        Rejection(code: "unknown_operation", message: "contract '\(contract)' has no operation '\(operation)'")
    }
    public static func duplicate(_ id: Hash) -> Rejection {
        Rejection(code: "duplicate_transaction", message: "transaction \(id.short)… was already committed")
    }
    public static func badArguments(_ error: CodecError) -> Rejection {
        Rejection(code: "bad_arguments", message: "arguments could not be decoded: \(error)")
    }
    /// The contract stopped with an error that is neither a rejection nor a storage failure.
    public static func contractFailed(contract: String, error: any Error) -> Rejection {
        Rejection(code: "contract_failed", message: "contract '\(contract)' failed: \(error)")
    }
}

/// The outcome of one transaction in a committed block.
public struct Receipt: Equatable, Sendable, CanonicalCodable {
    public enum Status: Equatable, Sendable {
        case success
        case rejected(Rejection)
    }

    public var transactionID: Hash
    public var status: Status
    public var events: [Event]

    public init(transactionID: Hash, status: Status, events: [Event]) {
        self.transactionID = transactionID
        self.status = status
        self.events = events
    }

    public var isSuccess: Bool { if case .success = status { true } else { false } }
    public var rejection: Rejection? { if case .rejected(let rejection) = status { rejection } else { nil } }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(transactionID)
        switch status {
        case .success:
            encoder.write(UInt64(0))
        case .rejected(let rejection):
            encoder.write(UInt64(1))
            encoder.write(rejection)
        }
        encoder.write(events)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        transactionID = try decoder.read(Hash.self, "receipt transaction id")
        switch try decoder.readTag("receipt status") {
        case 0: status = .success
        case 1: status = .rejected(try decoder.read(Rejection.self, "receipt rejection"))
        case let tag: throw .unknownTag(field: "receipt status", tag: tag)
        }
        events = try decoder.readArray(Event.self, "receipt events", limit: Limits.eventsPerReceiptMax)
    }
}
