import LedgerCore

/// Transactions waiting to be ordered, oldest first, bounded in count and in
/// bytes (by ``Transaction/encodedBytesBound``). The one pool structure of
/// the system: a replica keeps its pending requests in one, and the node's
/// mempool keeps what it admitted in another with the same bounds
/// (``ConsensusLimits/pendingTransactionsMax`` and
/// ``ConsensusLimits/pendingTransactionBytesMax``), so what one holds the
/// other always has room for.
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
