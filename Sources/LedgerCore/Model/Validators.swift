/// One validator: a bank's node key and where its peers reach it.
public struct Validator: Equatable, Sendable, CanonicalCodable {
    public var name: String
    public var organizationID: String
    public var nodeKey: PublicKey
    /// `host:port` of the peer-to-peer listener.
    public var address: String

    public init(name: String, organizationID: String, nodeKey: PublicKey, address: String) {
        self.name = name
        self.organizationID = organizationID
        self.nodeKey = nodeKey
        self.address = address
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(name)
        encoder.write(organizationID)
        encoder.write(nodeKey)
        encoder.write(address)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        name = try decoder.readString("validator name", limit: Limits.nameBytesMax)
        organizationID = try decoder.readString("validator organization", limit: Limits.identifierBytesMax)
        nodeKey = try decoder.read(PublicKey.self, "validator node key")
        address = try decoder.readString("validator address", limit: Limits.addressBytesMax)
    }
}

/// The ordered set of validators; n = 3f + 1 tolerates f Byzantine members.
public struct ValidatorSet: Equatable, Sendable, CanonicalCodable {
    public let validators: [Validator]

    /// Builds a set; keys must be distinct and there must be at least one validator.
    public init(_ validators: [Validator]) throws(CodecError) {
        guard !validators.isEmpty, validators.count <= Limits.validatorsMax else {
            throw .invalidValue(field: "validators", reason: "need between 1 and \(Limits.validatorsMax) validators")
        }
        guard Set(validators.map(\.nodeKey)).count == validators.count else {
            throw .invalidValue(field: "validators", reason: "two validators share a node key")
        }
        self.validators = validators
    }

    public var count: Int { validators.count }
    /// The largest number of faulty validators the set tolerates.
    public var maxFaulty: Int { (validators.count - 1) / 3 }
    /// 2f + 1: signatures needed for a certificate. For n not of the form
    /// 3f+1 this is the smallest quorum any two of which share an honest member.
    public var quorum: Int { Self.quorum(ofCount: validators.count) }

    /// The votes that make a quorum among `count` validators: 2f+1 where
    /// f = ⌊(count − 1)/3⌋ faults are tolerated.
    public static func quorum(ofCount count: Int) -> Int { (2 * count) / 3 + 1 }
    public var hash: Hash { Hash.tagged("consort/validator-set", canonicalBytes) }

    /// Position of the validator with this node key.
    public func index(of key: PublicKey) -> Int? {
        validators.firstIndex(where: { $0.nodeKey == key })
    }

    public subscript(index: Int) -> Validator { validators[index] }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(validators)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        try self.init(try decoder.readArray(Validator.self, "validators", limit: Limits.validatorsMax))
    }
}

/// A validator's signature, naming the validator by its index in the set.
public struct ValidatorSignature: Equatable, Sendable, CanonicalCodable {
    public var validatorIndex: UInt32
    public var signature: Signature

    public init(validatorIndex: UInt32, signature: Signature) {
        self.validatorIndex = validatorIndex
        self.signature = signature
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(validatorIndex)
        encoder.write(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        validatorIndex = try decoder.readUInt32("validator index")
        signature = try decoder.read(Signature.self, "validator signature")
    }
}

/// What a validator signs when it commits a block in a view; 2f+1 of these
/// signatures form the block's ``CommitCertificate``.
public enum CommitVote {
    /// The digest signed by a commit vote for (height, view, block hash) on `chainID`.
    public static func digest(chainID: String, height: UInt64, view: UInt64, blockHash: Hash) -> Hash {
        var encoder = CanonicalEncoder()
        encoder.write(chainID)
        encoder.write(height)
        encoder.write(view)
        encoder.write(blockHash)
        return Hash.tagged("consort/commit-vote", encoder.bytes)
    }
}

/// Why a commit certificate does not prove finality.
public enum CertificateError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongBlock(expected: Hash, got: Hash)
    case wrongHeight(expected: UInt64, got: UInt64)
    case unknownValidator(index: UInt32)
    case unsortedOrDuplicateSigner(index: UInt32)
    case badSignature(index: UInt32)
    case tooFewSignatures(got: Int, needed: Int)

    public var description: String {
        switch self {
        case .wrongBlock(let expected, let got): "certificate is for block \(got.short)…, expected \(expected.short)…"
        case .wrongHeight(let expected, let got): "certificate is for height \(got), expected \(expected)"
        case .unknownValidator(let index): "certificate names validator \(index), which is not in the set"
        case .unsortedOrDuplicateSigner(let index): "certificate signers are not in strictly increasing order at validator \(index)"
        case .badSignature(let index): "validator \(index)'s signature does not verify"
        case .tooFewSignatures(let got, let needed): "certificate has \(got) signatures, \(needed) are needed"
        }
    }
}

/// Proof that a block is final: 2f+1 validators' commit votes for it in one view.
/// Anyone holding the validator set can check it offline.
public struct CommitCertificate: Equatable, Sendable, CanonicalCodable {
    public var height: UInt64
    public var view: UInt64
    public var blockHash: Hash
    /// Sorted by validator index, strictly increasing.
    public var signatures: [ValidatorSignature]

    public init(height: UInt64, view: UInt64, blockHash: Hash, signatures: [ValidatorSignature]) {
        self.height = height
        self.view = view
        self.blockHash = blockHash
        self.signatures = signatures.sorted { $0.validatorIndex < $1.validatorIndex }
    }

    /// An upper bound of the encoded size, cheap to compute: height, view,
    /// hash and the count's prefix, then an index and a signature per validator.
    public var encodedBytesBound: Int {
        Self.fixedBytesMax + signatures.count * Self.signatureEntryBytesMax
    }

    static let fixedBytesMax = 8 + 8 + 32 + 10
    static let signatureEntryBytesMax = 4 + 72

    /// Checks the certificate proves `header` final under `validators`.
    public func verify(header: BlockHeader, validators: ValidatorSet, chainID: String,
                       verifier: any SignatureVerifier = Secp256k1Verifier()) throws(CertificateError) {
        guard header.height == height else { throw .wrongHeight(expected: header.height, got: height) }
        try verify(blockHash: header.hash, validators: validators, chainID: chainID, verifier: verifier)
    }

    /// Checks the certificate proves the block with `blockHash` final under
    /// `validators`: signers in strictly increasing order, all known, 2f+1 of
    /// them, each signature valid by `verifier` (simulations inject their own).
    public func verify(blockHash expected: Hash, validators: ValidatorSet, chainID: String,
                       verifier: any SignatureVerifier = Secp256k1Verifier()) throws(CertificateError) {
        guard blockHash == expected else { throw .wrongBlock(expected: expected, got: blockHash) }
        let digest = CommitVote.digest(chainID: chainID, height: height, view: view, blockHash: blockHash)
        var previous: Int64 = -1
        for entry in signatures {
            guard Int64(entry.validatorIndex) > previous else { throw .unsortedOrDuplicateSigner(index: entry.validatorIndex) }
            previous = Int64(entry.validatorIndex)
            guard Int(entry.validatorIndex) < validators.count else { throw .unknownValidator(index: entry.validatorIndex) }
            let key = validators[Int(entry.validatorIndex)].nodeKey
            guard verifier.isValid(entry.signature, by: key, for: digest) else { throw .badSignature(index: entry.validatorIndex) }
        }
        guard signatures.count >= validators.quorum else {
            throw .tooFewSignatures(got: signatures.count, needed: validators.quorum)
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(height)
        encoder.write(view)
        encoder.write(blockHash)
        encoder.write(signatures)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.readUInt64("certificate height")
        view = try decoder.readUInt64("certificate view")
        blockHash = try decoder.read(Hash.self, "certificate block hash")
        signatures = try decoder.readArray(ValidatorSignature.self, "certificate signatures", limit: Limits.validatorsMax)
        var previous: Int64 = -1
        for entry in signatures {
            guard Int64(entry.validatorIndex) > previous else {
                throw .invalidValue(field: "certificate signatures", reason: "signers not in strictly increasing order")
            }
            previous = Int64(entry.validatorIndex)
        }
    }
}
