import Dispatch
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

    /// Whether each of `transactions` is signed by its sender, in order: those
    /// not cached yet are verified in chunks on all cores, then remembered.
    public func verify(all transactions: [Transaction]) -> [Bool] {
        var valid = lock.withLock { transactions.map { members.contains($0.id) } }
        let unchecked = valid.indices.filter { !valid[$0] }
        let chunks = (unchecked.count + NodeTiming.verificationChunkTransactions - 1) / NodeTiming.verificationChunkTransactions
        let outcome = ChunkResults(count: unchecked.count)
        let check: @Sendable (Int) -> Void = { chunk in
            let range = chunk * NodeTiming.verificationChunkTransactions..<min(unchecked.count, (chunk + 1) * NodeTiming.verificationChunkTransactions)
            outcome.set(range) { transactions[unchecked[$0]].hasValidSignature }
        }
        if chunks > 1 {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: check)
        } else if chunks == 1 {
            check(0)
        }
        let signed = outcome.values
        lock.withLock {
            for (position, index) in unchecked.enumerated() where signed[position] {
                members.insert(transactions[index].id)
                valid[index] = true
            }
        }
        return valid
    }
}

/// Per-position results of a computation spread over threads, each chunk writing its own range.
private final class ChunkResults: @unchecked Sendable {
    private let lock = Lock()
    private var stored: [Bool]

    init(count: Int) { stored = Array(repeating: false, count: count) }

    func set(_ range: Range<Int>, _ value: (Int) -> Bool) {
        let computed = range.map(value)
        lock.withLock { stored.replaceSubrange(range, with: computed) }
    }

    var values: [Bool] { lock.withLock { stored } }
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
