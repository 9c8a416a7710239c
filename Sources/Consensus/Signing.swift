import Ledger

/// Signs consensus digests with this replica's node key. Kept behind a
/// protocol so the simulator can use a cheap deterministic scheme while the
/// node uses secp256k1.
public protocol ConsensusSigner: Sendable {
    /// The node key other validators know this replica by.
    var publicKey: PublicKey { get }
    /// Signs a 32-byte digest.
    func sign(_ digest: Hash) -> Signature
}

/// Checks a validator's signature over a digest.
public protocol SignatureVerifier: Sendable {
    /// True when `signature` was made by the holder of `key` over `digest`.
    func isValid(_ signature: Signature, by key: PublicKey, for digest: Hash) -> Bool
}

/// The production signer: ECDSA over secp256k1 with the node key.
public struct Secp256k1Signer: ConsensusSigner {
    private let key: PrivateKey

    /// Signs with `key`.
    public init(key: PrivateKey) {
        self.key = key
    }

    /// The node key of the signer.
    public var publicKey: PublicKey { key.publicKey }

    /// Signs a digest.
    public func sign(_ digest: Hash) -> Signature { key.sign(digest) }
}

/// The production verifier: secp256k1 ECDSA, low-S only.
public struct Secp256k1Verifier: SignatureVerifier {
    /// Creates a value from its parts.
    public init() {}

    /// True when the signature verifies.
    public func isValid(_ signature: Signature, by key: PublicKey, for digest: Hash) -> Bool {
        key.isValidSignature(signature, for: digest)
    }
}

/// Checks a commit certificate with an injected verifier: the same rules as
/// ``CommitCertificate/verify(blockHash:validators:chainID:)`` (signers in
/// strictly increasing order, all known, 2f+1 of them), so that simulated
/// signatures can be checked too.
public enum CertificateCheck {
    /// Throws what is wrong with `certificate` as proof that `blockHash` is final.
    public static func verify(
        _ certificate: CommitCertificate, blockHash: Hash, validators: ValidatorSet, chainID: String,
        verifier: any SignatureVerifier
    ) throws(CertificateError) {
        guard certificate.blockHash == blockHash else { throw .wrongBlock(expected: blockHash, got: certificate.blockHash) }
        let digest = CommitVote.digest(
            chainID: chainID, height: certificate.height, view: certificate.view, blockHash: certificate.blockHash)
        var previous: Int64 = -1
        for entry in certificate.signatures {
            guard Int64(entry.validatorIndex) > previous else { throw .unsortedOrDuplicateSigner(index: entry.validatorIndex) }
            previous = Int64(entry.validatorIndex)
            guard Int(entry.validatorIndex) < validators.count else { throw .unknownValidator(index: entry.validatorIndex) }
            let key = validators[Int(entry.validatorIndex)].nodeKey
            guard verifier.isValid(entry.signature, by: key, for: digest) else { throw .badSignature(index: entry.validatorIndex) }
        }
        guard certificate.signatures.count >= validators.quorum else {
            throw .tooFewSignatures(got: certificate.signatures.count, needed: validators.quorum)
        }
    }
}
