import LedgerCore
/// A node of the state tree, stored under its own hash.
///
/// The tree is a compact binary sparse Merkle tree over the 256-bit paths
/// `SHA-256(state key)`: a subtree holding exactly one entry is replaced by
/// that entry's leaf, and an empty subtree is ``Hash/zero``. Its shape (and so
/// its root) depends only on the set of entries, never on the order they were
/// written in, and an update walks only the paths of the keys it changes.
enum StateTreeNode: Equatable, Sendable, CanonicalCodable {
    case leaf(path: Hash, valueHash: Hash)
    case branch(left: Hash, right: Hash)

    var hash: Hash {
        switch self {
        case .leaf(let path, let valueHash): StateTreeNode.leafHash(path: path, valueHash: valueHash)
        case .branch(let left, let right): StateTreeNode.branchHash(left: left, right: right)
        }
    }

    static func leafHash(path: Hash, valueHash: Hash) -> Hash {
        Hash.tagged("consort/state-leaf", path.bytes + valueHash.bytes)
    }

    static func branchHash(left: Hash, right: Hash) -> Hash {
        Hash.tagged("consort/state-branch", left.bytes + right.bytes)
    }

    func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .leaf(let path, let valueHash):
            encoder.write(UInt64(0))
            encoder.write(path)
            encoder.write(valueHash)
        case .branch(let left, let right):
            encoder.write(UInt64(1))
            encoder.write(left)
            encoder.write(right)
        }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("state node kind") {
        case 0: self = .leaf(path: try decoder.read(Hash.self, "leaf path"), valueHash: try decoder.read(Hash.self, "leaf value hash"))
        case 1: self = .branch(left: try decoder.read(Hash.self, "left child"), right: try decoder.read(Hash.self, "right child"))
        case let tag: throw .unknownTag(field: "state node kind", tag: tag)
        }
    }
}

/// Where the tree reads nodes it has not cached.
protocol StateNodeSource {
    func node(_ hash: Hash) throws(StorageError) -> StateTreeNode?
}

/// Bit `index` (0 = most significant) of a path.
@inline(__always)
func pathBit(_ path: Hash, _ index: Int) -> Bool {
    (path.bytes[index >> 3] >> (7 - UInt8(index & 7))) & 1 == 1
}

/// Computes new roots from old ones, recording the nodes it creates.
struct StateTreeUpdater {
    let source: any StateNodeSource
    /// Nodes created by this update, to be written with the block.
    private(set) var created: [Hash: StateTreeNode] = [:]

    init(source: any StateNodeSource) {
        self.source = source
    }

    private func load(_ hash: Hash) throws(StorageError) -> StateTreeNode {
        if let node = created[hash] { return node }
        guard let node = try source.node(hash) else {
            throw .corrupted(reason: "state tree node \(hash.short)… is missing")
        }
        return node
    }

    private mutating func store(_ node: StateTreeNode) -> Hash {
        let hash = node.hash
        created[hash] = node
        return hash
    }

    /// Applies `updates` (path → new value hash, or nil to delete), which must
    /// be sorted by path with no path twice, to the tree rooted at `root`.
    mutating func apply(root: Hash, updates: [(path: Hash, valueHash: Hash?)]) throws(StorageError) -> Hash {
        try update(node: root, depth: 0, updates: updates[...])
    }

    private mutating func update(node: Hash, depth: Int, updates: ArraySlice<(path: Hash, valueHash: Hash?)>) throws(StorageError) -> Hash {
        if updates.isEmpty { return node }
        if node == .zero {
            return build(depth: depth, leaves: updates.compactMap { entry in entry.valueHash.map { (entry.path, $0) } }[...])
        }
        switch try load(node) {
        case .leaf(let path, let valueHash):
            var leaves: [(Hash, Hash)] = []
            var existingHandled = false
            for entry in updates {
                if entry.path == path { existingHandled = true }
                if let value = entry.valueHash { leaves.append((entry.path, value)) }
            }
            if !existingHandled {
                leaves.append((path, valueHash))
                leaves.sort { $0.0 < $1.0 }
            }
            return build(depth: depth, leaves: leaves[...])
        case .branch(let left, let right):
            precondition(depth < 256, "state tree deeper than its paths")
            let split = updates.firstIndex(where: { pathBit($0.path, depth) }) ?? updates.endIndex
            let newLeft = try update(node: left, depth: depth + 1, updates: updates[updates.startIndex..<split])
            let newRight = try update(node: right, depth: depth + 1, updates: updates[split..<updates.endIndex])
            return try join(left: newLeft, right: newRight)
        }
    }

    /// A branch over two subtrees, collapsed to a leaf when it holds only one entry.
    private mutating func join(left: Hash, right: Hash) throws(StorageError) -> Hash {
        if left == .zero && right == .zero { return .zero }
        if left == .zero, case .leaf = try load(right) { return right }
        if right == .zero, case .leaf = try load(left) { return left }
        return store(.branch(left: left, right: right))
    }

    /// A subtree holding exactly `leaves` (sorted, distinct paths).
    private mutating func build(depth: Int, leaves: ArraySlice<(Hash, Hash)>) -> Hash {
        if leaves.isEmpty { return .zero }
        if leaves.count == 1, let only = leaves.first { return store(.leaf(path: only.0, valueHash: only.1)) }
        precondition(depth < 256, "two distinct paths cannot agree on all 256 bits")
        let split = leaves.firstIndex(where: { pathBit($0.0, depth) }) ?? leaves.endIndex
        let left = build(depth: depth + 1, leaves: leaves[leaves.startIndex..<split])
        let right = build(depth: depth + 1, leaves: leaves[split..<leaves.endIndex])
        return store(.branch(left: left, right: right))
    }

    /// A proof for `path` in the tree rooted at `root`.
    func prove(root: Hash, path: Hash) throws(StorageError) -> (siblings: [Hash], terminal: StateProof.Terminal) {
        var siblings: [Hash] = []
        var current = root
        var depth = 0
        while true {
            if current == .zero { return (siblings, .empty) }
            switch try load(current) {
            case .leaf(let leafPath, let valueHash):
                return (siblings, .leaf(path: leafPath, valueHash: valueHash))
            case .branch(let left, let right):
                guard depth < 256 else { throw .corrupted(reason: "state tree path longer than 256 levels") }
                if pathBit(path, depth) {
                    siblings.append(left)
                    current = right
                } else {
                    siblings.append(right)
                    current = left
                }
                depth += 1
            }
        }
    }
}

/// Evidence that a state key has (or has no) value under a given state root,
/// checkable without the database.
public struct StateProof: Equatable, Sendable, CanonicalCodable {
    /// What the walk down the key's path ended at.
    public enum Terminal: Equatable, Sendable {
        /// An empty subtree: the key has no value.
        case empty
        /// A leaf: the key's own (inclusion) or another key's sharing the path so far (exclusion).
        case leaf(path: Hash, valueHash: Hash)
    }

    public var key: [UInt8]
    /// The value the proof claims for ``key``, or nil for "absent".
    public var value: [UInt8]?
    /// Sibling hashes from the root down.
    public var siblings: [Hash]
    public var terminal: Terminal

    public init(key: [UInt8], value: [UInt8]?, siblings: [Hash], terminal: Terminal) {
        self.key = key
        self.value = value
        self.siblings = siblings
        self.terminal = terminal
    }

    /// True when the proof shows that ``key`` maps to ``value`` (or to nothing) under `root`.
    public func verify(root: Hash) -> Bool {
        let path = Hash.sha256(key)
        let depth = siblings.count
        guard depth <= 256 else { return false }
        var current: Hash
        switch terminal {
        case .empty:
            guard value == nil else { return false }
            current = .zero
        case .leaf(let leafPath, let valueHash):
            if leafPath == path {
                guard let value, Hash.sha256(value) == valueHash else { return false }
            } else {
                // Exclusion: the other leaf must sit on this key's path.
                guard value == nil else { return false }
                for bit in 0..<depth where pathBit(leafPath, bit) != pathBit(path, bit) { return false }
            }
            // A leaf never has an empty sibling at the bottom: it would have been collapsed.
            if let last = siblings.last, last == .zero { return false }
            current = StateTreeNode.leafHash(path: leafPath, valueHash: valueHash)
        }
        for level in stride(from: depth - 1, through: 0, by: -1) {
            let sibling = siblings[level]
            current = pathBit(path, level)
                ? StateTreeNode.branchHash(left: sibling, right: current)
                : StateTreeNode.branchHash(left: current, right: sibling)
        }
        return current == root
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(bytes: key)
        if let value {
            encoder.write(true)
            encoder.write(bytes: value)
        } else {
            encoder.write(false)
        }
        encoder.write(siblings)
        switch terminal {
        case .empty:
            encoder.write(UInt64(0))
        case .leaf(let path, let valueHash):
            encoder.write(UInt64(1))
            encoder.write(path)
            encoder.write(valueHash)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.readBytes("proof key", limit: Limits.stateKeyBytesMax)
        value = try decoder.readBool("proof value present") ? try decoder.readBytes("proof value", limit: Limits.stateValueBytesMax) : nil
        siblings = try decoder.readArray(Hash.self, "proof siblings", limit: Limits.proofSiblingsMax)
        switch try decoder.readTag("proof terminal") {
        case 0: terminal = .empty
        case 1: terminal = .leaf(path: try decoder.read(Hash.self, "terminal path"), valueHash: try decoder.read(Hash.self, "terminal value hash"))
        case let tag: throw .unknownTag(field: "proof terminal", tag: tag)
        }
    }
}
