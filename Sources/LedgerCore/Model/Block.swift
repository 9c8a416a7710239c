/// The signed-over summary of a block. Its hash is the block's identity.
public struct BlockHeader: Equatable, Sendable, CanonicalCodable {
    public var height: UInt64
    public var parentHash: Hash
    /// Milliseconds since 1970, chosen by the proposer and agreed by consensus;
    /// the only clock contracts ever see. Strictly increases with height.
    public var timestampMs: UInt64
    /// Node key of the validator that proposed the block.
    public var proposer: PublicKey
    /// Merkle root of the transaction ids (``MerkleTree/root(of:)``).
    public var transactionsRoot: Hash
    /// The height whose resulting state ``stateRoot`` names: the last block
    /// the proposer had executed when it proposed. Lower than ``height``, and
    /// never lower than the parent's. Heights may be proposed before their
    /// parent has executed, so the root certified by this block can lag.
    public var stateHeight: UInt64
    /// The state root after executing block ``stateHeight``; certified by this
    /// block's commit certificate.
    public var stateRoot: Hash
    /// Hash of the validator set that must certify this block.
    public var validatorSetHash: Hash

    public init(height: UInt64, parentHash: Hash, timestampMs: UInt64, proposer: PublicKey, transactionsRoot: Hash,
                stateHeight: UInt64, stateRoot: Hash, validatorSetHash: Hash) {
        self.height = height
        self.parentHash = parentHash
        self.timestampMs = timestampMs
        self.proposer = proposer
        self.transactionsRoot = transactionsRoot
        self.stateHeight = stateHeight
        self.stateRoot = stateRoot
        self.validatorSetHash = validatorSetHash
    }

    /// The block hash.
    public var hash: Hash { Hash.tagged("consort/block-header", canonicalBytes) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(height)
        encoder.write(parentHash)
        encoder.write(timestampMs)
        encoder.write(proposer)
        encoder.write(transactionsRoot)
        encoder.write(stateHeight)
        encoder.write(stateRoot)
        encoder.write(validatorSetHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.readUInt64("height")
        parentHash = try decoder.read(Hash.self, "parent hash")
        timestampMs = try decoder.readUInt64("timestamp")
        proposer = try decoder.read(PublicKey.self, "proposer")
        transactionsRoot = try decoder.read(Hash.self, "transactions root")
        stateHeight = try decoder.readUInt64("state height")
        stateRoot = try decoder.read(Hash.self, "state root")
        validatorSetHash = try decoder.read(Hash.self, "validator set hash")
        if height > 0 && stateHeight >= height {
            throw .invalidValue(field: "state height", reason: "\(stateHeight) is not below the block height \(height)")
        }
    }
}

/// A header and the ordered transactions it commits to.
public struct Block: Equatable, Sendable, CanonicalCodable {
    public var header: BlockHeader
    public var transactions: [Transaction]

    public init(header: BlockHeader, transactions: [Transaction]) {
        self.header = header
        self.transactions = transactions
    }

    /// An upper bound of the encoded size, cheap to compute (no encoding):
    /// what stores and queues of blocks count against their byte limits.
    public var encodedBytesBound: Int {
        transactions.reduce(Limits.blockHeaderBytesBound) { $0 + $1.encodedBytesBound }
    }

    public var hash: Hash { header.hash }
    public var height: UInt64 { header.height }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(header)
        encoder.write(transactions)
    }

    /// Decodes a block and checks that the header's transaction root matches
    /// the transactions carried (a claimed digest is always recomputed).
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let start = decoder.position
        header = try decoder.read(BlockHeader.self, "block header")
        transactions = try decoder.readArray(Transaction.self, "block transactions", limit: Limits.blockTransactionsMax)
        guard decoder.position - start <= Limits.blockBytesMax else {
            throw .lengthExceedsLimit(field: "block", length: UInt64(decoder.position - start), limit: Limits.blockBytesMax)
        }
        guard MerkleTree.root(of: transactions.map(\.id)) == header.transactionsRoot else {
            throw .invalidValue(field: "transactions root", reason: "does not match the block's transactions")
        }
    }
}

/// One step of a Merkle inclusion proof: the sibling at that level and which side it is on.
public struct MerkleStep: Equatable, Sendable, CanonicalCodable {
    public var sibling: Hash
    /// True when the sibling is the left child (the proven node is on the right).
    public var siblingIsLeft: Bool

    public init(sibling: Hash, siblingIsLeft: Bool) {
        self.sibling = sibling
        self.siblingIsLeft = siblingIsLeft
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(sibling)
        encoder.write(siblingIsLeft)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        sibling = try decoder.read(Hash.self, "merkle sibling")
        siblingIsLeft = try decoder.readBool("merkle sibling side")
    }
}

/// Binary Merkle tree over hashes, with domain-separated leaves and nodes.
/// An odd node at any level is carried up unchanged; the empty tree's root is ``Hash/zero``.
public enum MerkleTree {
    /// The proof that `leaves[index]` is under ``root(of:)``: one step per level
    /// where the node has a sibling. Nil if `index` is out of range.
    public static func proof(of leaves: [Hash], index: Int) -> [MerkleStep]? {
        guard leaves.indices.contains(index) else { return nil }
        var level = leaves.map { Hash.tagged("consort/merkle-leaf", $0.bytes) }
        var position = index
        var steps: [MerkleStep] = []
        while level.count > 1 {
            let siblingPosition = position % 2 == 0 ? position + 1 : position - 1
            if siblingPosition < level.count {
                steps.append(MerkleStep(sibling: level[siblingPosition], siblingIsLeft: siblingPosition < position))
            }
            var next: [Hash] = []
            var cursor = 0
            while cursor < level.count {
                next.append(cursor + 1 < level.count
                    ? Hash.tagged("consort/merkle-node", level[cursor].bytes + level[cursor + 1].bytes)
                    : level[cursor])
                cursor += 2
            }
            level = next
            position /= 2
        }
        return steps
    }

    /// True when `proof` leads from `leaf` to `root`.
    public static func verify(leaf: Hash, proof: [MerkleStep], root: Hash) -> Bool {
        var current = Hash.tagged("consort/merkle-leaf", leaf.bytes)
        for step in proof {
            current = step.siblingIsLeft
                ? Hash.tagged("consort/merkle-node", step.sibling.bytes + current.bytes)
                : Hash.tagged("consort/merkle-node", current.bytes + step.sibling.bytes)
        }
        return current == root
    }

    public static func root(of leaves: [Hash]) -> Hash {
        guard !leaves.isEmpty else { return .zero }
        var level = leaves.map { Hash.tagged("consort/merkle-leaf", $0.bytes) }
        while level.count > 1 {
            var next: [Hash] = []
            next.reserveCapacity((level.count + 1) / 2)
            var index = 0
            while index < level.count {
                if index + 1 < level.count {
                    next.append(Hash.tagged("consort/merkle-node", level[index].bytes + level[index + 1].bytes))
                } else {
                    next.append(level[index])
                }
                index += 2
            }
            level = next
        }
        return level[0]
    }
}
