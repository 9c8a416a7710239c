import Crypto
import Foundation
import Ledger
import LedgerCore

/// Which end of a connection this node is: the validator earlier in the
/// genesis order dials (initiator), the later one accepts (responder).
public enum PeerRole: UInt8, Sendable {
    case initiator = 1
    case responder = 2

    var other: PeerRole { self == .initiator ? .responder : .initiator }
}

/// The authenticated key exchange of two validators, without I/O.
///
/// Each side sends a ``PeerHello`` in the clear with a fresh X25519 key for
/// this connection. Both hellos, in initiator-then-responder order, make the
/// transcript; the X25519 secret and the transcript give two session keys
/// (one per direction). Each side then sends, as its first sealed frame, a
/// signature by its node key over the transcript and its role. A relay that
/// forwards hellos between two validators holds neither ephemeral secret, so
/// it can neither read nor forge a frame, and a proof made on one connection
/// fails on any other, whose transcript differs.
public struct PeerHandshake: Sendable {
    /// What the caller does next.
    public enum Step: Sendable {
        /// Seal and send this proof as the first frame; further frames use `session`.
        case sendProof(Signature, session: PeerSession)
        /// The peer proved `key`: the link is authenticated.
        case authenticated(PublicKey)
        case fail(String)
    }

    private enum State {
        case awaitingHello
        case awaitingProof(peer: PublicKey, transcript: Hash)
        case done
    }

    public let role: PeerRole
    private let chainID: String
    private let genesisHash: Hash
    private let ownKey: PrivateKey
    private let ephemeral: Curve25519.KeyAgreement.PrivateKey
    private let acceptable: Set<PublicKey>
    private var state: State = .awaitingHello

    /// - Parameters:
    ///   - acceptable: node keys this side takes the link from: for an
    ///     initiator the one validator it dialed, for a responder the
    ///     validators that dial it.
    public init(role: PeerRole, chainID: String, genesisHash: Hash, ownKey: PrivateKey, acceptable: Set<PublicKey>) {
        self.role = role
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.ownKey = ownKey
        self.ephemeral = Curve25519.KeyAgreement.PrivateKey()
        self.acceptable = acceptable
    }

    /// The hello to send as soon as the connection opens.
    public var hello: PeerHello {
        PeerHello(chainID: chainID, genesisHash: genesisHash, nodeKey: ownKey.publicKey,
                  ephemeralKey: Array(ephemeral.publicKey.rawRepresentation))
    }

    /// What a proof signs: the transcript and the signer's role.
    public static func proofDigest(transcript: Hash, signer role: PeerRole) -> Hash {
        Hash.tagged("consort/peer-proof/v2", transcript.bytes + [role.rawValue])
    }

    /// The hash of both hellos, initiator's first.
    public static func transcript(initiator: PeerHello, responder: PeerHello) -> Hash {
        Hash.tagged("consort/peer-handshake/v2", initiator.canonicalBytes + responder.canonicalBytes)
    }

    /// Handles the peer's hello: checks who it claims to be and derives the session.
    public mutating func receive(hello peerHello: PeerHello) -> Step {
        guard case .awaitingHello = state else { return fail("a second hello") }
        guard peerHello.protocolVersion == PeerLimits.protocolVersion else {
            return fail("peer speaks protocol \(peerHello.protocolVersion), this node \(PeerLimits.protocolVersion)")
        }
        guard peerHello.chainID == chainID, peerHello.genesisHash == genesisHash else {
            return fail("peer is on chain '\(peerHello.chainID)' with another genesis")
        }
        guard peerHello.nodeKey != ownKey.publicKey else { return fail("peer claims this node's own key") }
        guard acceptable.contains(peerHello.nodeKey) else {
            return fail("peer key \(peerHello.nodeKey.short)… may not open this link (not a validator, or the wrong side dialed)")
        }
        let peerEphemeral: Curve25519.KeyAgreement.PublicKey
        let secret: SharedSecret
        do {
            peerEphemeral = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: peerHello.ephemeralKey)
            secret = try ephemeral.sharedSecretFromKeyAgreement(with: peerEphemeral)
        } catch {
            return fail("peer's ephemeral key is not an X25519 key: \(error)")
        }
        let ownHello = hello
        let transcript = role == .initiator
            ? Self.transcript(initiator: ownHello, responder: peerHello)
            : Self.transcript(initiator: peerHello, responder: ownHello)
        let keys = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: transcript.bytes,
                                                  sharedInfo: Array("consort/peer-session/v2".utf8), outputByteCount: 64)
        let material = keys.withUnsafeBytes { Array($0) }
        let initiatorKey = SymmetricKey(data: material[0..<32])
        let responderKey = SymmetricKey(data: material[32..<64])
        let session = role == .initiator
            ? PeerSession(sendKey: initiatorKey, receiveKey: responderKey)
            : PeerSession(sendKey: responderKey, receiveKey: initiatorKey)
        state = .awaitingProof(peer: peerHello.nodeKey, transcript: transcript)
        return .sendProof(ownKey.sign(Self.proofDigest(transcript: transcript, signer: role)), session: session)
    }

    /// Handles the peer's proof, already opened with the session.
    public mutating func receive(proof: [UInt8]) -> Step {
        guard case .awaitingProof(let peer, let transcript) = state else { return fail("a proof before the hello") }
        let signature: Signature
        do {
            signature = try Signature(canonicalBytes: proof)
        } catch {
            return fail("peer's proof is not a signature: \(error)")
        }
        guard peer.isValidSignature(signature, for: Self.proofDigest(transcript: transcript, signer: role.other)) else {
            return fail("peer's proof does not verify for key \(peer.short)…")
        }
        state = .done
        return .authenticated(peer)
    }

    private mutating func fail(_ reason: String) -> Step {
        state = .done
        return .fail(reason)
    }
}

/// The sealed channel of one authenticated link: ChaCha20-Poly1305 with a
/// key per direction and a counter nonce, so a frame that is altered,
/// replayed, reordered or cut fails to open and the link is closed.
public struct PeerSession: Sendable {
    /// Bytes sealing adds to a frame (the Poly1305 tag).
    public static let sealBytes = 16

    private let sendKey: SymmetricKey
    private let receiveKey: SymmetricKey
    private var sent: UInt64 = 0
    private var received: UInt64 = 0

    init(sendKey: SymmetricKey, receiveKey: SymmetricKey) {
        self.sendKey = sendKey
        self.receiveKey = receiveKey
    }

    /// Seals the next outgoing frame.
    public mutating func seal(_ plaintext: [UInt8]) throws(PeerSessionError) -> [UInt8] {
        guard sent < UInt64.max else { throw .exhausted }
        do {
            let box = try ChaChaPoly.seal(plaintext, using: sendKey, nonce: try Self.nonce(sent))
            sent += 1
            return Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw .sealFailed("\(error)")
        }
    }

    /// Opens the next incoming frame.
    public mutating func open(_ frame: [UInt8]) throws(PeerSessionError) -> [UInt8] {
        guard frame.count >= Self.sealBytes else { throw .openFailed("frame of \(frame.count) bytes is shorter than its tag") }
        guard received < UInt64.max else { throw .exhausted }
        do {
            let box = try ChaChaPoly.SealedBox(nonce: try Self.nonce(received), ciphertext: frame.dropLast(Self.sealBytes),
                                               tag: frame.suffix(Self.sealBytes))
            let plaintext = try ChaChaPoly.open(box, using: receiveKey)
            received += 1
            return Array(plaintext)
        } catch {
            throw .openFailed("frame \(received) does not open: altered, replayed or out of order")
        }
    }

    private static func nonce(_ counter: UInt64) throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 4)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: counter >> UInt64(shift))) }
        return try ChaChaPoly.Nonce(data: bytes)
    }
}

/// Why a sealed frame could not be made or read.
public enum PeerSessionError: Error, Equatable, Sendable, CustomStringConvertible {
    case sealFailed(String)
    case openFailed(String)
    /// 2^64 frames in one direction: the link must be opened anew.
    case exhausted

    public var description: String {
        switch self {
        case .sealFailed(let reason): "cannot seal a frame: \(reason)"
        case .openFailed(let reason): "cannot open a frame: \(reason)"
        case .exhausted: "the link's frame counter is exhausted; reconnect"
        }
    }
}
