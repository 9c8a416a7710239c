import LedgerCore

/// Signs consensus digests with this replica's node key. Kept behind a
/// protocol so the simulator can use a cheap deterministic scheme while the
/// node uses secp256k1.
public protocol ConsensusSigner: Sendable {
    /// The node key other validators know this replica by.
    var publicKey: PublicKey { get }
    /// Signs a 32-byte digest.
    func sign(_ digest: Hash) -> Signature
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
