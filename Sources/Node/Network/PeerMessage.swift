import Consensus
import Ledger
import LedgerCore

/// The first frame on a connection, in the clear: who this node claims to be
/// and a fresh ephemeral X25519 key for this connection alone.
public struct PeerHello: Equatable, Sendable, CanonicalCodable {
    public var protocolVersion: UInt64
    public var chainID: String
    public var genesisHash: Hash
    public var nodeKey: PublicKey
    /// The connection's ephemeral X25519 public key (32 bytes).
    public var ephemeralKey: [UInt8]

    public init(protocolVersion: UInt64 = PeerLimits.protocolVersion, chainID: String, genesisHash: Hash, nodeKey: PublicKey, ephemeralKey: [UInt8]) {
        self.protocolVersion = protocolVersion
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.nodeKey = nodeKey
        self.ephemeralKey = ephemeralKey
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(protocolVersion)
        encoder.write(chainID)
        encoder.write(genesisHash)
        encoder.write(nodeKey)
        encoder.write(bytes: ephemeralKey)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        protocolVersion = try decoder.readUInt64("protocol version")
        chainID = try decoder.readString("chain id", limit: Limits.chainIDBytesMax)
        genesisHash = try decoder.read(Hash.self, "genesis hash")
        nodeKey = try decoder.read(PublicKey.self, "node key")
        ephemeralKey = try decoder.readBytes("ephemeral key", limit: 32)
        guard ephemeralKey.count == 32 else { throw .invalidValue(field: "ephemeral key", reason: "must be 32 bytes") }
    }
}

/// Everything validators say to each other.
public enum PeerMessage: Equatable, Sendable, CanonicalCodable {
    /// A consensus message, in the consensus module's own canonical encoding.
    case consensus([UInt8])
    case transactions([Transaction])
    case syncRequest(fromHeight: UInt64, count: UInt32)
    case syncResponse([CertifiedBlock])
    /// Sent on an idle link, so that both ends know it is alive.
    case keepAlive

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
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
        case .keepAlive:
            encoder.write(UInt64(6))
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("peer message kind") {
        case 2: self = .consensus(try decoder.readBytes("consensus message", limit: ConsensusLimits.messageBytesMax))
        case 3: self = .transactions(try decoder.readArray(Transaction.self, "gossip", limit: PeerLimits.gossipTransactionsMax))
        case 4:
            let from = try decoder.readUInt64("sync from height")
            let count = try decoder.readUInt32("sync count")
            self = .syncRequest(fromHeight: from, count: count)
        case 5: self = .syncResponse(try decoder.readArray(CertifiedBlock.self, "sync blocks", limit: PeerLimits.syncBlocksMax))
        case 6: self = .keepAlive
        case let tag: throw .unknownTag(field: "peer message kind", tag: tag)
        }
    }
}
