/// Checks a validator's signature over a digest.
public protocol SignatureVerifier: Sendable {
    /// True when `signature` was made by the holder of `key` over `digest`.
    func isValid(_ signature: Signature, by key: PublicKey, for digest: Hash) -> Bool
}

/// The production verifier: secp256k1 ECDSA, low-S only.
public struct Secp256k1Verifier: SignatureVerifier {
    /// A verifier over the process-wide secp256k1 context.
    public init() {}

    /// True when the signature verifies.
    public func isValid(_ signature: Signature, by key: PublicKey, for digest: Hash) -> Bool {
        key.isValidSignature(signature, for: digest)
    }
}
