/// Which contract operation a transaction invokes, with its arguments in the
/// contract's own canonical encoding.
public struct ContractCall: Equatable, Sendable, CanonicalCodable {
    public var contract: String
    public var operation: String
    public var arguments: [UInt8]

    public init(contract: String, operation: String, arguments: [UInt8]) {
        self.contract = contract
        self.operation = operation
        self.arguments = arguments
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(contract)
        encoder.write(operation)
        encoder.write(bytes: arguments)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        contract = try decoder.readString("contract", limit: Limits.contractNameBytesMax)
        operation = try decoder.readString("operation", limit: Limits.operationNameBytesMax)
        arguments = try decoder.readBytes("arguments", limit: Limits.callArgumentsBytesMax)
    }
}

/// The signed part of a transaction.
public struct TransactionBody: Equatable, Sendable, CanonicalCodable {
    /// Names the consortium, so a transaction cannot be replayed on another chain.
    public var chainID: String
    public var sender: PublicKey
    /// Per-sender sequence number; each nonce executes successfully at most once.
    public var nonce: UInt64
    /// The transaction is refused in any block whose timestamp is later than this (ms since 1970).
    public var expiresAtMs: UInt64
    public var call: ContractCall

    public init(chainID: String, sender: PublicKey, nonce: UInt64, expiresAtMs: UInt64, call: ContractCall) {
        self.chainID = chainID
        self.sender = sender
        self.nonce = nonce
        self.expiresAtMs = expiresAtMs
        self.call = call
    }

    /// Whether a block with timestamp `timeMs` (or a clock reading) is past
    /// the expiry: the one rule that admission, proposals and execution share.
    public func isExpired(atMs timeMs: UInt64) -> Bool { expiresAtMs < timeMs }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(chainID)
        encoder.write(sender)
        encoder.write(nonce)
        encoder.write(expiresAtMs)
        encoder.write(call)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        chainID = try decoder.readString("chain id", limit: Limits.chainIDBytesMax)
        sender = try decoder.read(PublicKey.self, "sender")
        nonce = try decoder.readUInt64("nonce")
        expiresAtMs = try decoder.readUInt64("expires at")
        call = try decoder.read(ContractCall.self, "call")
    }
}

/// A signed request to run one contract operation.
public struct Transaction: Equatable, Sendable, CanonicalCodable {
    public let body: TransactionBody
    public let signature: Signature
    /// The transaction's id: the tagged hash of its body, which is also what the sender signs.
    public let id: Hash

    public init(body: TransactionBody, signature: Signature) {
        self.body = body
        self.signature = signature
        self.id = Transaction.id(of: body)
    }

    /// Builds and signs a transaction with `key`, which becomes its sender.
    public static func signed(
        chainID: String, key: PrivateKey, nonce: UInt64, expiresAtMs: UInt64, call: ContractCall
    ) -> Transaction {
        let body = TransactionBody(chainID: chainID, sender: key.publicKey, nonce: nonce, expiresAtMs: expiresAtMs, call: call)
        return Transaction(body: body, signature: key.sign(id(of: body)))
    }

    public static func id(of body: TransactionBody) -> Hash {
        Hash.tagged("consort/transaction", body.canonicalBytes)
    }

    /// An upper bound of the encoded size, cheap to compute (no encoding):
    /// what pools and queues count against their byte limits.
    public var encodedBytesBound: Int {
        let body = self.body
        return body.chainID.utf8.count + body.call.contract.utf8.count + body.call.operation.utf8.count
            + body.call.arguments.count + Self.encodingOverheadBytesMax
    }

    /// Bytes of a transaction's encoding beyond its strings and arguments:
    /// key, signature, nonce, expiry and the length prefixes, at their largest.
    public static let encodingOverheadBytesMax = 33 + 64 + 5 * 10

    /// True when the signature is the sender's over this body.
    public var hasValidSignature: Bool {
        body.sender.isValidSignature(signature, for: id)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(body)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let start = decoder.position
        let body = try decoder.read(TransactionBody.self, "transaction body")
        let signature = try decoder.read(Signature.self, "transaction signature")
        guard decoder.position - start <= Limits.transactionBytesMax else {
            throw .lengthExceedsLimit(field: "transaction", length: UInt64(decoder.position - start), limit: Limits.transactionBytesMax)
        }
        self.init(body: body, signature: signature)
    }
}
