import Foundation
import Contracts
import Ledger
import LedgerCore
import Node
import NodeClient

/// A node backend with a ledger and a mempool but no consensus: enough to
/// exercise every API route in-process.
public final class LedgerOnlyBackend: NodeBackend, @unchecked Sendable {
    public let ledger: Ledger
    public let mempool: Mempool
    public let metrics = NodeMetrics()
    public let commits: CommitNotifier
    /// The API's back-pressure, as a node applies it; the clock stands still at 0.
    public let backlog: AdmissionBacklog

    public init(ledger: Ledger, limits: MempoolLimits = MempoolLimits(), backlog: AdmissionBacklogLimits = AdmissionBacklogLimits()) {
        self.ledger = ledger
        self.mempool = Mempool(ledger: ledger, limits: limits)
        self.commits = CommitNotifier(height: ledger.head.height)
        self.backlog = AdmissionBacklog(limits: backlog)
    }

    public func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission {
        try backlog.check(transaction.id, joining: mempool, nowMs: 0)
        return try mempool.add(transaction, nowMs: ledger.head.timestampMs)
    }

    /// An observer's status that reaches none of the genesis validators.
    public func status() -> NodeStatus {
        let validators = ledger.genesis.validators.validators.map {
            NodeStatus.ValidatorState(name: $0.name, nodeKey: $0.nodeKey, address: $0.address, connected: false, isSelf: false)
        }
        return NodeStatus(nodeName: "test", role: "observer", head: ledger.head, view: 0, primary: nil, validators: validators,
                          mempoolSize: mempool.count, syncing: false, fault: nil)
    }
}

/// Runs the API of `backend` on a free loopback port for the duration of `body`.
public func withAPIServer(_ backend: any NodeBackend, _ body: (NodeClient) async throws -> Void) async throws {
    let portBox = PortBox()
    let server = Task { try await APIServer(backend: backend).run(host: "127.0.0.1", port: 0) { port in portBox.set(port) } }
    defer { server.cancel() }
    var port = 0
    for _ in 0..<200 {
        port = portBox.get()
        if port != 0 { break }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    guard port != 0 else { throw InProcessNodeError("the API server did not start within 2 s") }
    try await body(try NodeClient(baseURL: "http://127.0.0.1:\(port)"))
}

/// An integer shared between tasks.
public final class PortBox: @unchecked Sendable {
    private let lock = Lock()
    private var port = 0
    public init() {}
    public func set(_ value: Int) { lock.withLock { port = value } }
    public func get() -> Int { lock.withLock { port } }
}

/// A backend whose `submit` commits the transaction at once, in a new
/// certified block of a ``LocalConsortium``, and wakes the event stream.
public final class CommittingBackend: NodeBackend, @unchecked Sendable {
    public let chain: LocalConsortium
    public let mempool: Mempool
    public let metrics = NodeMetrics()
    public let commits: CommitNotifier
    private let lock = Lock()

    public var ledger: Ledger { chain.ledger }

    public init(chain: LocalConsortium) {
        self.chain = chain
        self.mempool = Mempool(ledger: chain.ledger)
        self.commits = CommitNotifier(height: chain.ledger.head.height)
    }

    public func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission {
        try lock.withLock { () throws(AdmissionError) -> Mempool.Admission in
            let admission = try mempool.add(transaction, nowMs: wallClockMs())
            guard admission == .added else { return admission }
            do {
                let pending = mempool.pending()
                var committedNonces: [PublicKey: UInt64] = [:]
                for transaction in pending where committedNonces[transaction.body.sender] == nil {
                    committedNonces[transaction.body.sender] = try chain.ledger.nextNonce(for: transaction.body.sender)
                }
                try commitLocked(Nonces.orderBatch(pending, after: [], blockTimestampMs: chain.nextBlockTimeMs, limit: 10_000,
                                                   committedNextNonce: { committedNonces[$0] }, isAcceptable: { _ in true }))
            } catch {
                throw .storage("\(error)")
            }
            return admission
        }
    }

    /// Commits `transactions` (signed by the test) in one block.
    @discardableResult
    public func commit(_ transactions: [Transaction]) throws -> [Receipt] {
        try lock.withLock { try commitLocked(transactions) }
    }

    /// Signs calls as their members and commits them in one block.
    @discardableResult
    public func commit(calls: [(member: String, call: ContractCall)]) throws -> [Receipt] {
        try lock.withLock { try commitLocked(calls.map { chain.transaction($0.member, $0.call) }) }
    }

    /// Signs and commits one call as `member`.
    @discardableResult
    public func commit(_ member: String, _ call: ContractCall) throws -> Receipt {
        try lock.withLock {
            let receipts = try commitLocked([chain.transaction(member, call)])
            return receipts[0]
        }
    }

    @discardableResult
    private func commitLocked(_ transactions: [Transaction]) throws -> [Receipt] {
        let receipts = try chain.commit(transactions)
        let height = chain.ledger.head.height
        if let block = try chain.ledger.block(at: height) { try mempool.removeCommitted(block) }
        commits.committed(height: height)
        return receipts
    }

    public func status() -> NodeStatus {
        NodeStatus(nodeName: "test", role: "observer", head: ledger.head, view: 0, primary: nil, validators: [],
                   mempoolSize: mempool.count, syncing: false, fault: nil)
    }
}

/// A fresh path in the temporary folder for a state file.
public func temporaryStatePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("recon-\(UUID().uuidString).state").path
}


/// Why an in-process fixture could not start.
public struct InProcessNodeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
