import Consensus
import Ledger
import LedgerCore

/// Why the mempool refused a transaction. Each case says what to do about it.
public enum AdmissionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The pool is full, or holds as much work as the cluster can commit soon
    /// (``AdmissionBacklog``); the client should retry after about `retryAfterMs`.
    case busy(pending: Int, retryAfterMs: Int)
    case tooLarge(bytes: Int, limit: Int)
    case malformed(String)
    case rejected(Rejection)
    case nonceTooLow(next: UInt64, got: UInt64)
    case nonceTooFarAhead(next: UInt64, got: UInt64, window: Int)
    case lifetimeTooLong(maxMs: Int)
    case alreadyCommitted(Hash)
    case storage(String)

    /// True for `busy`: the transaction may be sent again later as it is.
    public var isBusy: Bool {
        if case .busy = self { true } else { false }
    }

    /// A stable code for API clients.
    public var code: String {
        switch self {
        case .busy: "busy"
        case .tooLarge: "too_large"
        case .malformed: "malformed"
        case .rejected(let rejection): rejection.code
        case .nonceTooLow: "nonce_too_low"
        case .nonceTooFarAhead: "nonce_too_far_ahead"
        case .lifetimeTooLong: "lifetime_too_long"
        case .alreadyCommitted: "already_committed"
        case .storage: "storage"
        }
    }

    public var description: String {
        switch self {
        case .busy(let pending, let retryAfterMs):
            "the node holds as much work as the cluster can commit soon (\(pending) pending transactions); retry in about \(retryAfterMs) ms"
        case .tooLarge(let bytes, let limit): "transaction is \(bytes) bytes, above the limit of \(limit)"
        case .malformed(let reason): "transaction does not decode: \(reason)"
        case .rejected(let rejection): rejection.message
        case .nonceTooLow(let next, let got): "nonce \(got) is already used; the sender's next nonce is \(next)"
        case .nonceTooFarAhead(let next, let got, let window):
            "nonce \(got) is more than \(window) ahead of the sender's next nonce \(next)"
        case .lifetimeTooLong(let maxMs): "expiry is further ahead than the allowed \(maxMs) ms"
        case .alreadyCommitted(let id): "transaction \(id.short)… is already committed"
        case .storage(let reason): "the node could not read its ledger: \(reason)"
        }
    }
}

/// Transactions waiting to be ordered: the node's one pool, which its
/// replica reads and orders from (``RequestPool``). Admission checks everything that can be
/// checked before execution — size, chain, signature, expiry, nonce window,
/// the sender's organization and its permission, and the contract's stateless
/// checks of the arguments (``Contract/checkArguments(_:)``, which keep
/// personal data out of blocks) — and verifies each signature
/// exactly once; execution later skips the signatures verified here.
///
/// Thread-safe.
public final class Mempool: RequestPool, @unchecked Sendable {
    /// Whether a transaction was new to this pool.
    public enum Admission: Equatable, Sendable {
        case added
        case alreadyPending
    }

    private let ledger: Ledger
    private let lock = Lock()
    private var pool: TransactionPool
    private var bySender: [PublicKey: [UInt64: Hash]] = [:]
    /// When each pending transaction entered the pool, for its sojourn at commit.
    private var arrivedAt: [Hash: ContinuousClock.Instant] = [:]
    /// Sojourns of the transactions the replica took out as committed, until
    /// ``removeCommitted(_:)`` reports them; at most a pool's worth.
    private var committedSojournsMs: [Double] = []
    private let verified: VerifiedSignatures

    /// A pool over `ledger`'s committed state that records the signatures it
    /// verifies in `verified`, the node's one cache.
    public init(ledger: Ledger, limits: MempoolLimits = MempoolLimits(), verified: VerifiedSignatures = VerifiedSignatures()) {
        self.ledger = ledger
        self.pool = TransactionPool(transactionsMax: limits.transactionsMax, bytesMax: limits.bytesMax)
        self.verified = verified
    }

    public var count: Int { lock.withLock { pool.count } }
    public var bytes: Int { lock.withLock { pool.bytes } }
    public var version: UInt64 { lock.withLock { pool.version } }

    public func contains(_ id: Hash) -> Bool { lock.withLock { pool.contains(id) } }
    public func transaction(_ id: Hash) -> Transaction? { lock.withLock { pool[id] } }

    /// True when this node has verified the transaction's signature.
    public func isVerified(_ id: Hash) -> Bool { verified.contains(id) }

    /// Decodes and admits raw transaction bytes.
    @discardableResult
    public func add(encoded bytes: [UInt8], nowMs: UInt64) throws(AdmissionError) -> (Transaction, Admission) {
        guard bytes.count <= Limits.transactionBytesMax else {
            throw .tooLarge(bytes: bytes.count, limit: Limits.transactionBytesMax)
        }
        let transaction: Transaction
        do {
            transaction = try Transaction(canonicalBytes: bytes)
        } catch {
            throw .malformed(error.description)
        }
        return (transaction, try add(transaction, nowMs: nowMs))
    }

    /// Admits a transaction after checking it against committed state.
    @discardableResult
    public func add(_ transaction: Transaction, nowMs: UInt64) throws(AdmissionError) -> Admission {
        try add(all: [transaction], nowMs: nowMs)[0].get()
    }

    /// Admits transactions in order, each checked against committed state
    /// as one alone would be, with the signatures of those that pass every
    /// other check verified together on all cores
    /// (``VerifiedSignatures/verify(all:)``). One result per transaction, in order.
    public func add(all transactions: [Transaction], nowMs: UInt64) -> [Result<Admission, AdmissionError>] {
        var results: [Result<Admission, AdmissionError>] = []
        results.reserveCapacity(transactions.count)
        var unsigned: [Int] = []
        for (index, transaction) in transactions.enumerated() {
            do {
                if try checkBeforeSignature(transaction, nowMs: nowMs) { unsigned.append(index) }
                results.append(.success(.alreadyPending))
            } catch {
                results.append(.failure(error))
            }
        }
        let signed = verified.verify(all: unsigned.map { transactions[$0] })
        lock.withLock {
            for (index, isSigned) in zip(unsigned, signed) {
                guard isSigned else {
                    results[index] = .failure(.rejected(LedgerRejection.badSignature()))
                    continue
                }
                do throws(AdmissionError) {
                    results[index] = .success(try insertLocked(transactions[index]))
                } catch {
                    results[index] = .failure(error)
                }
            }
        }
        return results
    }

    /// Every admission check but the signature's; false when the transaction is already pending.
    private func checkBeforeSignature(_ transaction: Transaction, nowMs: UInt64) throws(AdmissionError) -> Bool {
        if lock.withLock({ pool.contains(transaction.id) }) { return false }
        let body = transaction.body
        let size = transaction.canonicalBytes.count
        guard size <= Limits.transactionBytesMax else { throw .tooLarge(bytes: size, limit: Limits.transactionBytesMax) }
        guard body.chainID == ledger.chainID else { throw .rejected(LedgerRejection.wrongChain(expected: ledger.chainID, got: body.chainID)) }
        let parameters = ledger.genesis.parameters
        guard !body.isExpired(atMs: nowMs) else { throw .rejected(LedgerRejection.expired(expiresAtMs: body.expiresAtMs, blockTimeMs: nowMs)) }
        guard body.expiresAtMs - nowMs <= UInt64(parameters.transactionLifetimeMsMax) else {
            throw .lifetimeTooLong(maxMs: parameters.transactionLifetimeMsMax)
        }
        let nextNonce: UInt64
        let organization: Organization?
        do {
            if try ledger.isCommitted(transaction.id) { throw AdmissionError.alreadyCommitted(transaction.id) }
            nextNonce = try ledger.nextNonce(for: body.sender)
            organization = try ledger.organization(forMember: body.sender)
        } catch let error as AdmissionError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
        switch Nonces.admission(of: body.nonce, next: nextNonce, window: parameters.nonceWindow) {
        case .admissible: break
        case .tooLow: throw .nonceTooLow(next: nextNonce, got: body.nonce)
        case .tooFarAhead: throw .nonceTooFarAhead(next: nextNonce, got: body.nonce, window: parameters.nonceWindow)
        }
        guard let organization else { throw .rejected(LedgerRejection.unknownSender(body.sender)) }
        guard organization.status == .active else { throw .rejected(LedgerRejection.suspended(organization.id)) }
        guard let contract = ledger.registry.contract(named: body.call.contract) else {
            throw .rejected(LedgerRejection.unknownContract(body.call.contract))
        }
        guard let kinds = contract.permittedKinds(for: body.call.operation) else {
            throw .rejected(LedgerRejection.unknownOperation(contract: body.call.contract, operation: body.call.operation))
        }
        guard kinds.contains(organization.kind) else {
            throw .rejected(LedgerRejection.notPermitted(kind: organization.kind, contract: body.call.contract, operation: body.call.operation))
        }
        do {
            try contract.checkArguments(body.call)
        } catch {
            throw .rejected(error)
        }
        return true
    }

    /// Pools an admitted transaction: within the bounds, and the only one pending for its sender and nonce.
    private func insertLocked(_ transaction: Transaction) throws(AdmissionError) -> Admission {
        let body = transaction.body
        if pool.contains(transaction.id) { return .alreadyPending }
        guard pool.hasRoom(for: transaction) else { throw .busy(pending: pool.count, retryAfterMs: MempoolLimits.fullRetryAfterMs) }
        if let existing = bySender[body.sender]?[body.nonce], existing != transaction.id {
            throw .rejected(Rejection(code: "nonce_pending", message: "another transaction with nonce \(body.nonce) from this sender is already pending"))
        }
        pool.insert(transaction)
        arrivedAt[transaction.id] = .now
        bySender[body.sender, default: [:]][body.nonce] = transaction.id
        return .added
    }

    // MARK: The replica's view (RequestPool)

    public func hasRoom(for transaction: Transaction) -> Bool { lock.withLock { pool.hasRoom(for: transaction) } }

    /// True when the transaction is pooled. Transactions enter only through
    /// admission (``add(_:nowMs:)``), so one that left between its admission
    /// and the replica's turn (committed, expired, its nonce spent) is not
    /// pooled again.
    public func insert(_ transaction: Transaction) -> Bool {
        contains(transaction.id)
    }

    public func oldest(_ limit: Int) -> [Transaction] {
        lock.withLock { Array(pool.oldestFirst.prefix(limit)) }
    }

    public func remove(_ ids: [Hash], because reason: RequestRemoval) {
        let now = ContinuousClock.now
        lock.withLock {
            for id in ids {
                if reason == .committed, let arrived = arrivedAt[id], committedSojournsMs.count < ConsensusLimits.pendingTransactionsMax {
                    committedSojournsMs.append((now - arrived).inMilliseconds)
                }
                removeLocked(id)
            }
        }
    }

    /// The pending transactions, by sender and nonce.
    public func pending() -> [Transaction] {
        lock.withLock {
            bySender.keys.sorted().flatMap { sender in
                (bySender[sender] ?? [:]).sorted { $0.key < $1.key }.compactMap { pool[$0.value] }
            }
        }
    }

    /// The nonce after the run of consecutive pending nonces starting at `committed`.
    public func nextNonce(for sender: PublicKey, committed: UInt64) -> UInt64 {
        lock.withLock {
            var nonce = committed
            while bySender[sender]?[nonce] != nil { nonce += 1 }
            return nonce
        }
    }

    /// Forgets what a committed and executed block holds (the replica has
    /// usually taken its transactions out already), and whatever its commit
    /// made stale. Returns how long (in milliseconds) each transaction
    /// committed since the last call had waited in this pool. Throws when the
    /// senders' nonces cannot be read; the block's own transactions are gone by then.
    @discardableResult
    public func removeCommitted(_ block: Block) throws -> [Double] {
        let now = ContinuousClock.now
        let sojournsMs = lock.withLock { () -> [Double] in
            var waits = committedSojournsMs
            committedSojournsMs.removeAll(keepingCapacity: true)
            for transaction in block.transactions {
                if let arrived = arrivedAt[transaction.id] {
                    waits.append((now - arrived).inMilliseconds)
                }
                removeLocked(transaction.id)
            }
            return waits
        }
        var nextNonces: [PublicKey: UInt64] = [:]
        for sender in Set(block.transactions.map(\.body.sender)) { nextNonces[sender] = try ledger.nextNonce(for: sender) }
        lock.withLock {
            for (sender, next) in nextNonces {
                guard let pending = bySender[sender] else { continue }
                for (nonce, id) in pending where Nonces.isSpent(nonce, next: next) { removeLocked(id) }
            }
        }
        return sojournsMs
    }

    /// Drops transactions whose expiry has passed at `nowMs` (the later of the
    /// clock and the last block's time): no block may carry them any more, and
    /// a sender's later nonces wait behind the gap they leave. Returns how many went.
    @discardableResult
    public func removeExpired(nowMs: UInt64) -> Int {
        lock.withLock {
            let expired = pool.oldestFirst.filter { $0.body.isExpired(atMs: nowMs) }.map(\.id)
            for id in expired { removeLocked(id) }
            return expired.count
        }
    }

    private func removeLocked(_ id: Hash) {
        guard let transaction = pool.remove(id) else { return }
        arrivedAt[id] = nil
        let sender = transaction.body.sender
        if bySender[sender]?[transaction.body.nonce] == id {
            bySender[sender]?[transaction.body.nonce] = nil
            if bySender[sender]?.isEmpty == true { bySender[sender] = nil }
        }
    }
}
