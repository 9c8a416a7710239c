import Consensus
import Ledger
import LedgerCore

/// Limits of the peer protocol, units last.
public enum PeerLimits {
    /// Bytes a frame adds around its message: the message tag and length prefixes.
    public static let frameEnvelopeBytesMax = 64
    /// Largest frame a peer may send: the largest consensus message in its envelope.
    public static let frameBytesMax = ConsensusLimits.messageBytesMax + frameEnvelopeBytesMax
    /// Bytes queued for one peer before further messages to it are dropped:
    /// room for two frames of the largest size.
    public static let sendQueueBytesMax = 2 * frameBytesMax
    /// Blocks in one sync response.
    public static let syncBlocksMax = 64
    /// Transactions in one gossip message.
    public static let gossipTransactionsMax = 2_000
    /// Bytes (by ``Transaction/encodedBytesBound``) of the transactions in one
    /// gossip message; one transaction of the largest size always fits.
    public static let gossipBatchBytesMax = ConsensusLimits.messageBytesMax / 2
    /// Time a peer has to complete the handshake.
    public static let handshakeTimeoutMs = 5_000
    public static let reconnectDelayMsMin = 100
    public static let reconnectDelayMsMax = 5_000
    public static let protocolVersion: UInt64 = 1
}

/// The first message on a connection: who this node claims to be, and a fresh challenge for the peer.
public struct PeerHello: Equatable, Sendable, CanonicalCodable {
    public var protocolVersion: UInt64
    public var chainID: String
    public var genesisHash: Hash
    public var nodeKey: PublicKey
    public var challenge: [UInt8]

    public init(protocolVersion: UInt64 = PeerLimits.protocolVersion, chainID: String, genesisHash: Hash, nodeKey: PublicKey, challenge: [UInt8]) {
        self.protocolVersion = protocolVersion
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.nodeKey = nodeKey
        self.challenge = challenge
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(protocolVersion)
        encoder.write(chainID)
        encoder.write(genesisHash)
        encoder.write(nodeKey)
        encoder.write(bytes: challenge)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        protocolVersion = try decoder.readUInt64("protocol version")
        chainID = try decoder.readString("chain id", limit: Limits.chainIDBytesMax)
        genesisHash = try decoder.read(Hash.self, "genesis hash")
        nodeKey = try decoder.read(PublicKey.self, "node key")
        challenge = try decoder.readBytes("challenge", limit: 64)
        guard challenge.count == 32 else { throw .invalidValue(field: "challenge", reason: "must be 32 bytes") }
    }
}

/// Everything validators say to each other.
public enum PeerMessage: Equatable, Sendable, CanonicalCodable {
    case hello(PeerHello)
    /// Signature over ``HandshakeStateMachine/proofDigest(genesisHash:challenge:signer:)``.
    case helloProof(Signature)
    /// A consensus message, in the consensus module's own canonical encoding.
    case consensus([UInt8])
    case transactions([Transaction])
    case syncRequest(fromHeight: UInt64, count: UInt32)
    case syncResponse([CertifiedBlock])

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .hello(let hello):
            encoder.write(UInt64(0))
            encoder.write(hello)
        case .helloProof(let signature):
            encoder.write(UInt64(1))
            encoder.write(signature)
        case .consensus(let bytes):
            encoder.write(UInt64(2))
            encoder.write(bytes: bytes)
        case .transactions(let transactions):
            encoder.write(UInt64(3))
            encoder.write(transactions)
        case .syncRequest(let fromHeight, let count):
            encoder.write(UInt64(4))
            encoder.write(fromHeight)
            encoder.write(count)
        case .syncResponse(let blocks):
            encoder.write(UInt64(5))
            encoder.write(blocks)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("peer message kind") {
        case 0: self = .hello(try decoder.read(PeerHello.self, "hello"))
        case 1: self = .helloProof(try decoder.read(Signature.self, "hello proof"))
        case 2: self = .consensus(try decoder.readBytes("consensus message", limit: ConsensusLimits.messageBytesMax))
        case 3: self = .transactions(try decoder.readArray(Transaction.self, "gossip", limit: PeerLimits.gossipTransactionsMax))
        case 4:
            let from = try decoder.readUInt64("sync from height")
            let count = try decoder.readUInt32("sync count")
            self = .syncRequest(fromHeight: from, count: count)
        case 5: self = .syncResponse(try decoder.readArray(CertifiedBlock.self, "sync blocks", limit: PeerLimits.syncBlocksMax))
        case let tag: throw .unknownTag(field: "peer message kind", tag: tag)
        }
    }
}

/// The mutual authentication of two validators, without I/O: each side sends
/// a hello with a fresh challenge and proves it holds its node key by signing
/// the other's challenge. Anything unexpected fails the handshake.
public struct HandshakeStateMachine: Sendable {
    public enum Action: Equatable, Sendable {
        case send(PeerMessage)
        /// Both sides are proven; messages may flow.
        case authenticated(PublicKey)
        case fail(String)
        case none
    }

    private enum State {
        case awaitingHello
        case awaitingProof(peer: PublicKey)
        case authenticated(PublicKey)
        case failed
    }

    private let chainID: String
    private let genesisHash: Hash
    private let ownKey: PrivateKey
    private let ownChallenge: [UInt8]
    private let acceptable: Set<PublicKey>
    private var state: State = .awaitingHello

    /// - Parameters:
    ///   - acceptable: node keys allowed to connect (the validator set, minus ourselves).
    ///   - challenge: 32 fresh random bytes.
    public init(chainID: String, genesisHash: Hash, ownKey: PrivateKey, challenge: [UInt8], acceptable: Set<PublicKey>) {
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.ownKey = ownKey
        self.ownChallenge = challenge
        self.acceptable = acceptable
    }

    /// The hello to send as soon as the connection opens.
    public var hello: PeerMessage {
        .hello(PeerHello(chainID: chainID, genesisHash: genesisHash, nodeKey: ownKey.publicKey, challenge: ownChallenge))
    }

    public var peer: PublicKey? {
        if case .authenticated(let key) = state { key } else { nil }
    }

    /// What a proof signs: binds the chain, the verifier's challenge and the signer's key.
    public static func proofDigest(genesisHash: Hash, challenge: [UInt8], signer: PublicKey) -> Hash {
        Hash.tagged("consort/peer-handshake", genesisHash.bytes + challenge + signer.bytes)
    }

    /// Handles a message received before authentication completed.
    public mutating func receive(_ message: PeerMessage) -> [Action] {
        switch (state, message) {
        case (.awaitingHello, .hello(let hello)):
            guard hello.protocolVersion == PeerLimits.protocolVersion else {
                return fail("peer speaks protocol \(hello.protocolVersion), this node \(PeerLimits.protocolVersion)")
            }
            guard hello.chainID == chainID, hello.genesisHash == genesisHash else {
                return fail("peer is on chain '\(hello.chainID)' with another genesis")
            }
            guard hello.nodeKey != ownKey.publicKey else { return fail("peer claims this node's own key") }
            guard acceptable.contains(hello.nodeKey) else { return fail("peer key \(hello.nodeKey.short)… is not a validator") }
            state = .awaitingProof(peer: hello.nodeKey)
            let digest = Self.proofDigest(genesisHash: genesisHash, challenge: hello.challenge, signer: ownKey.publicKey)
            return [.send(.helloProof(ownKey.sign(digest)))]
        case (.awaitingProof(let peer), .helloProof(let signature)):
            let digest = Self.proofDigest(genesisHash: genesisHash, challenge: ownChallenge, signer: peer)
            guard peer.isValidSignature(signature, for: digest) else { return fail("peer's proof does not verify for key \(peer.short)…") }
            state = .authenticated(peer)
            return [.authenticated(peer)]
        case (.authenticated, _):
            return []
        case (.failed, _):
            return []
        default:
            return fail("unexpected message before the handshake completed")
        }
    }

    private mutating func fail(_ reason: String) -> [Action] {
        state = .failed
        return [.fail(reason)]
    }
}
