import LedgerCore

/// The node's one cache of transactions whose signatures it has verified, so
/// that each is checked once whether it arrived through the API, gossip or a
/// proposal; execution skips the signatures found here. Bounded: the oldest
/// entries are forgotten first. Thread-safe.
public final class VerifiedSignatures: @unchecked Sendable {
    private let lock = Lock()
    private var members: BoundedSet

    /// A cache of at most `capacity` transaction ids.
    public init(capacity: Int = NodeTiming.verifiedCacheEntriesMax) {
        members = BoundedSet(capacity: capacity)
    }

    /// Whether the signature of transaction `id` was verified here.
    public func contains(_ id: Hash) -> Bool { lock.withLock { members.contains(id) } }

    /// Forgets `id`, once its transaction is committed.
    public func remove(_ id: Hash) { lock.withLock { members.remove(id) } }

    /// Whether `transaction` is signed by its sender, verifying it only if it is not cached yet.
    public func verify(_ transaction: Transaction) -> Bool {
        if contains(transaction.id) { return true }
        guard transaction.hasValidSignature else { return false }
        lock.withLock { members.insert(transaction.id) }
        return true
    }
}

/// A set that forgets its oldest members beyond a capacity.
private struct BoundedSet {
    private var members = Set<Hash>()
    private var order: [Hash] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ value: Hash) -> Bool { members.contains(value) }

    mutating func insert(_ value: Hash) {
        guard members.insert(value).inserted else { return }
        order.append(value)
        if members.count > capacity {
            members.remove(order[head])
            head += 1
            if head > capacity {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    mutating func remove(_ value: Hash) {
        members.remove(value)
    }
}
