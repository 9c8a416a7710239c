import LedgerCore

/// Where a validator's requests wait to be ordered: the one pool of a node.
/// The application admits into it (the node's mempool, with its checks of
/// membership, nonces and bounds); the replica reads it to cut batches and to
/// judge its primary, pools what it is relayed once the application has
/// admitted it, and removes what committed or can no longer be proposed.
/// Implementations are thread-safe: the node's API admits while the
/// consensus loop reads.
public protocol RequestPool: AnyObject, Sendable {
    var count: Int { get }
    /// The pool's size by ``Transaction/encodedBytesBound``.
    var bytes: Int { get }
    /// Changes whenever a transaction enters or leaves the pool, so work that
    /// found nothing to do need not be repeated until it changes.
    var version: UInt64 { get }
    func contains(_ id: Hash) -> Bool
    /// Whether `transaction` would fit within the pool's bounds.
    func hasRoom(for transaction: Transaction) -> Bool
    /// Pools a transaction the replica judged acceptable; true when it is
    /// pooled afterwards (newly or already). A pool may refuse one that
    /// breaks its own rules (a bound, another pending transaction with the
    /// same sender and nonce).
    func insert(_ transaction: Transaction) -> Bool
    /// At most `limit` pooled transactions, oldest first, copied out.
    func oldest(_ limit: Int) -> [Transaction]
    /// Removes the transactions among `ids` that are pooled, for `reason`.
    func remove(_ ids: [Hash], because reason: RequestRemoval)
}

/// Why a replica takes requests out of the pool.
public enum RequestRemoval: Sendable {
    /// They are in a block the replica just committed.
    case committed
    /// They can no longer be proposed (expired, committed by another path, refused on a second look).
    case unacceptable
}

extension RequestPool {
    public var isEmpty: Bool { count == 0 }
    /// Every pooled transaction, oldest first.
    public var oldestFirst: [Transaction] { oldest(Int.max) }
}

/// A ``TransactionPool`` behind a lock: the request pool of a replica whose
/// application keeps no pool of its own (the simulator, tests).
public final class LockedTransactionPool: RequestPool, @unchecked Sendable {
    private let lock = Lock()
    private var pool: TransactionPool

    public init(transactionsMax: Int = ConsensusLimits.pendingTransactionsMax,
                bytesMax: Int = ConsensusLimits.pendingTransactionBytesMax) {
        pool = TransactionPool(transactionsMax: transactionsMax, bytesMax: bytesMax)
    }

    public var count: Int { lock.withLock { pool.count } }
    public var bytes: Int { lock.withLock { pool.bytes } }
    public var version: UInt64 { lock.withLock { pool.version } }
    public func contains(_ id: Hash) -> Bool { lock.withLock { pool.contains(id) } }
    public func hasRoom(for transaction: Transaction) -> Bool { lock.withLock { pool.hasRoom(for: transaction) } }

    public func insert(_ transaction: Transaction) -> Bool {
        lock.withLock { pool.insert(transaction) != .full }
    }

    public func oldest(_ limit: Int) -> [Transaction] {
        lock.withLock { Array(pool.oldestFirst.prefix(limit)) }
    }

    public func remove(_ ids: [Hash], because reason: RequestRemoval) {
        lock.withLock { pool.remove(ids) }
    }
}

/// Transactions waiting to be ordered, oldest first, bounded in count and in
/// bytes (by ``Transaction/encodedBytesBound``): the storage of every
/// ``RequestPool``, with bounds ``ConsensusLimits/pendingTransactionsMax``
/// and ``ConsensusLimits/pendingTransactionBytesMax`` unless its owner sets
/// others.
///
/// A value type; its owner serialises access.
public struct TransactionPool: Sendable {
    /// What ``insert(_:)`` did.
    public enum Insertion: Equatable, Sendable {
        case added
        case alreadyPooled
        /// The pool is at its count or byte bound; nothing changed.
        case full
    }

    public let transactionsMax: Int
    public let bytesMax: Int
    private var byID: [Hash: Transaction] = [:]
    /// Arrival order; may still hold ids already removed, until it is compacted.
    private var order: [Hash] = []
    /// The pool's size by ``Transaction/encodedBytesBound``.
    public private(set) var bytes = 0
    /// Changes whenever a transaction enters or leaves the pool (and on every
    /// batch removal), so work that found nothing to do need not be repeated
    /// until it changes.
    public private(set) var version: UInt64 = 0

    public init(transactionsMax: Int = ConsensusLimits.pendingTransactionsMax,
                bytesMax: Int = ConsensusLimits.pendingTransactionBytesMax) {
        self.transactionsMax = transactionsMax
        self.bytesMax = bytesMax
    }

    public var count: Int { byID.count }
    public var isEmpty: Bool { byID.isEmpty }
    public subscript(id: Hash) -> Transaction? { byID[id] }
    public func contains(_ id: Hash) -> Bool { byID[id] != nil }

    /// Whether `transaction` would fit within both bounds.
    public func hasRoom(for transaction: Transaction) -> Bool {
        byID.count < transactionsMax && bytes + transaction.encodedBytesBound <= bytesMax
    }

    /// The pooled transactions, oldest first, read as they are iterated.
    public var oldestFirst: some Sequence<Transaction> {
        order.lazy.compactMap { [byID] in byID[$0] }
    }

    /// Pools `transaction` at the back unless it is pooled already or would pass a bound.
    @discardableResult
    public mutating func insert(_ transaction: Transaction) -> Insertion {
        guard byID[transaction.id] == nil else { return .alreadyPooled }
        guard hasRoom(for: transaction) else { return .full }
        byID[transaction.id] = transaction
        bytes += transaction.encodedBytesBound
        order.append(transaction.id)
        version &+= 1
        return .added
    }

    /// Removes the transaction `id`, if pooled; returns it.
    @discardableResult
    public mutating func remove(_ id: Hash) -> Transaction? {
        guard let removed = take(id) else { return nil }
        version &+= 1
        compactIfSparse()
        return removed
    }

    /// Removes every pooled transaction among `ids`.
    public mutating func remove(_ ids: some Sequence<Hash>) {
        for id in ids { take(id) }
        version &+= 1
        compactIfSparse()
    }

    @discardableResult
    private mutating func take(_ id: Hash) -> Transaction? {
        guard let removed = byID.removeValue(forKey: id) else { return nil }
        bytes -= removed.encodedBytesBound
        return removed
    }

    private mutating func compactIfSparse() {
        if order.count > 2 * byID.count + 64 { order = order.filter { byID[$0] != nil } }
    }
}
