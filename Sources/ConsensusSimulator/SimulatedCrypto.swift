import Consensus
import LedgerCore

/// Fixed secp256k1 key pairs for simulated validators and clients, derived
/// from their index, so that public keys are real points (the ledger types
/// require it) and runs need no randomness.
public enum SimulatedKeys {
    /// The key of validator or client number `index` in namespace `kind`.
    public static func privateKey(_ kind: String, _ index: Int) -> PrivateKey {
        var counter: UInt64 = 0
        while true {
            var encoder = CanonicalEncoder()
            encoder.write(kind)
            encoder.write(UInt64(index))
            encoder.write(counter)
            if let key = try? PrivateKey(bytes: Hash.tagged("consort/sim/key", encoder.bytes).bytes) { return key }
            counter += 1
        }
    }

    static func secret(for key: PublicKey) -> [UInt8] {
        Hash.tagged("consort/sim/secret", key.bytes).bytes
    }

    /// The simulated signature: two SHA-256 digests of (secret ‖ digest),
    /// trimmed into a well-formed low-S compact signature.
    static func signature(secret: [UInt8], digest: Hash) -> Signature {
        var first = Hash.sha256(secret + digest.bytes + [1]).bytes
        var second = Hash.sha256(secret + digest.bytes + [2]).bytes
        first[0] = (first[0] & 0x3F) | 0x01
        second[0] = (second[0] & 0x3F) | 0x01
        guard let signature = try? Signature(bytes: first + second) else {
            preconditionFailure("a trimmed simulated signature is always well formed")
        }
        return signature
    }
}

/// Cheap deterministic signer for thousands of seeds. A Byzantine replica
/// holds only its own secret, so it still cannot sign for another.
public struct SimulatedSigner: ConsensusSigner {
    /// The node key of the signer.
    public let publicKey: PublicKey
    private let secret: [UInt8]

    /// Creates a value from its parts.
    public init(publicKey: PublicKey) {
        self.publicKey = publicKey
        self.secret = SimulatedKeys.secret(for: publicKey)
    }

    /// Signs a digest.
    public func sign(_ digest: Hash) -> Signature {
        SimulatedKeys.signature(secret: secret, digest: digest)
    }
}

/// Verifies simulated signatures by recomputing them from a table of every
/// simulated secret (the table plays the role of the public keys).
public struct SimulatedVerifier: SignatureVerifier {
    /// Creates a value from its parts.
    public init() {}

    /// True when the signature verifies.
    public func isValid(_ signature: Signature, by key: PublicKey, for digest: Hash) -> Bool {
        SimulatedKeys.signature(secret: SimulatedKeys.secret(for: key), digest: digest) == signature
    }
}
