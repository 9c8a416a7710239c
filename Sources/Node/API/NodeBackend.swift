import Ledger
import LedgerCore

/// What the client API needs from a node: the ledger, the mempool, a way to
/// submit (admit and gossip), the node's status, commit notifications and metrics.
public protocol NodeBackend: AnyObject, Sendable {
    var ledger: Ledger { get }
    var mempool: Mempool { get }
    var metrics: NodeMetrics { get }
    var commits: CommitNotifier { get }
    /// Admits a transaction and, if new, passes it to the other validators.
    func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission
    /// Admits transactions in order, as ``submit(_:)`` would one by one; one result each, in order.
    func submit(batch transactions: [Transaction]) -> [Result<Mempool.Admission, AdmissionError>]
    func status() -> NodeStatus
}

extension NodeBackend {
    /// One submission after another: for backends without a faster path.
    public func submit(batch transactions: [Transaction]) -> [Result<Mempool.Admission, AdmissionError>] {
        transactions.map { transaction in Result { () throws(AdmissionError) in try submit(transaction) } }
    }
}

/// A snapshot of the node for `GET /v1/status` (``Render/status(_:)`` gives its API shape).
public struct NodeStatus: Sendable {
    public struct ValidatorState: Sendable {
        public var name: String
        public var nodeKey: PublicKey
        public var address: String
        public var connected: Bool
        public var isSelf: Bool

        public init(name: String, nodeKey: PublicKey, address: String, connected: Bool, isSelf: Bool) {
            self.name = name
            self.nodeKey = nodeKey
            self.address = address
            self.connected = connected
            self.isSelf = isSelf
        }
    }

    public var nodeName: String
    public var role: String
    public var head: LedgerHead
    public var view: UInt64
    public var primary: String?
    public var validators: [ValidatorState]
    public var mempoolSize: Int
    public var syncing: Bool
    public var fault: String?
    /// Validators (this one included) a block needs to commit.
    public var quorum: Int
    /// The height other nodes are known to have reached (for a validator,
    /// one that f+1 others report); nil when unknown.
    public var peersHeight: UInt64?
    /// Milliseconds since this node's height last moved (or since it started).
    public var sinceAdvanceMs: UInt64?

    public init(nodeName: String, role: String, head: LedgerHead, view: UInt64, primary: String?, validators: [ValidatorState],
                mempoolSize: Int, syncing: Bool, fault: String?, quorum: Int = 0, peersHeight: UInt64? = nil, sinceAdvanceMs: UInt64? = nil) {
        self.nodeName = nodeName
        self.role = role
        self.head = head
        self.view = view
        self.primary = primary
        self.validators = validators
        self.mempoolSize = mempoolSize
        self.syncing = syncing
        self.fault = fault
        self.quorum = quorum
        self.peersHeight = peersHeight
        self.sinceAdvanceMs = sinceAdvanceMs
    }
}

/// Wakes API streams when a block commits.
public final class CommitNotifier: @unchecked Sendable {
    private let lock = Lock()
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextToken: UInt64 = 0
    private var latestHeight: UInt64

    public init(height: UInt64) {
        latestHeight = height
    }

    /// Called by the node after each commit.
    public func committed(height: UInt64) {
        let resumed = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            latestHeight = max(latestHeight, height)
            let all = Array(waiters.values)
            waiters.removeAll()
            return all
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Returns once a block above `height` has committed, after `timeoutMs`,
    /// or when the task is cancelled.
    public func wait(above height: UInt64, timeoutMs: UInt64) async {
        let token = lock.withLock { () -> UInt64 in
            nextToken += 1
            return nextToken
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(nanoseconds: timeoutMs * 1_000_000)
            self?.resume(token)
        }
        // Cancellation ends the wait too: the flag is set before the handler
        // runs, and both it and the registration hold the lock.
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock { () -> Bool in
                    if latestHeight > height || Task.isCancelled { return true }
                    waiters[token] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            resume(token)
        }
        timer.cancel()
    }

    private func resume(_ token: UInt64) {
        let continuation = lock.withLock { waiters.removeValue(forKey: token) }
        continuation?.resume()
    }
}
