import Consensus
import Contracts
import Foundation
import Ledger
import LedgerCore
import Logging
import NIOCore
import NIOPosix
import NodeAPI
import NodeClient

/// Why a node could not start.
public struct NodeStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Limits and timings of the node shell, units last.
public enum NodeTiming {
    /// One logical consensus tick.
    public static let tickMs = 10
    /// Inputs waiting for the consensus loop before further ones are dropped.
    public static let loopQueueEventsMax = 100_000
    /// Transactions gossiped in one message.
    public static let gossipBatchMax = 500
    /// Signature ids remembered as verified, so each is checked once.
    public static let verifiedCacheEntriesMax = 400_000
    /// How often an observer polls the validators it follows when it is caught up.
    public static let observerPollMs: UInt64 = 200
    /// Admission times kept for the commit-latency histogram.
    public static let latencySamplesMax = 200_000
}

/// One Consort node: ledger, mempool, consensus replica (for validators),
/// peer network and client API, wired together. The replica is touched only
/// by the consensus loop, one input at a time; everything else talks to the
/// loop through its queue.
public final class ConsortNode: NodeBackend, PeerNetworkDelegate, @unchecked Sendable {
    public let config: NodeConfig
    public let genesis: Genesis
    public let ledger: Ledger
    public let mempool: Mempool
    public let metrics = NodeMetrics()
    public let commits: CommitNotifier
    private let logger: Logger
    private let nodeKey: PrivateKey?
    private let consensusStore: ConsensusStateStore?
    private let group: MultiThreadedEventLoopGroup
    private var network: PeerNetwork?
    private var replica: Replica?

    private enum LoopEvent {
        case tick
        case consensus([UInt8])
        case submitted([Transaction])
        case certified([CertifiedBlock])
    }

    private let loopStream: AsyncStream<LoopEvent>
    private let loopInput: AsyncStream<LoopEvent>.Continuation
    private let lock = Lock()
    private var snapshot = ReplicaSnapshot()
    private var gossipBuffer: [Transaction] = []
    /// Transactions admitted through the API since the last tick; handed to the
    /// replica together, so that a backup forwards them to the primary in one
    /// signed message rather than one per transaction.
    private var submittedBuffer: [Transaction] = []
    private let verified = VerifiedSignatures()
    private var admittedAt: [Hash: ContinuousClock.Instant] = [:]
    private var reportedDrops: [DropReason: Int] = [:]
    private var syncPeerRotation = 0
    private var tickQueued = false

    struct ReplicaSnapshot {
        var view: UInt64 = 0
        var primary: Int?
        var fault: String?
        var syncing = false
    }

    /// Opens the node's stores and checks its configuration; nothing runs until ``run()``.
    public init(config: NodeConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        guard let genesisData = FileManager.default.contents(atPath: config.genesisPath) else {
            throw NodeStartError("cannot read the genesis file \(config.genesisPath)")
        }
        do {
            genesis = try Genesis.load(json: genesisData)
        } catch {
            throw NodeStartError("\(config.genesisPath): \(error)")
        }
        do {
            try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw NodeStartError("cannot create the data folder \(config.dataDirectory): \(error.localizedDescription)")
        }
        let ledgerStore: LevelDBStore
        do {
            ledgerStore = try LevelDBStore(path: config.dataDirectory + "/ledger")
            ledger = try Ledger(store: ledgerStore, genesis: genesis, registry: StandardContracts.registry())
        } catch {
            throw NodeStartError("ledger at \(config.dataDirectory)/ledger: \(error)")
        }
        mempool = Mempool(ledger: ledger, verified: verified)
        commits = CommitNotifier(height: ledger.head.height)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        (loopStream, loopInput) = AsyncStream.makeStream(of: LoopEvent.self, bufferingPolicy: .bufferingOldest(NodeTiming.loopQueueEventsMax))
        metrics.height.set(Double(ledger.head.height))

        switch config.role {
        case .observer:
            nodeKey = nil
            consensusStore = nil
        case .validator:
            guard let keyPath = config.nodeKeyPath else { throw NodeStartError("a validator needs a node key file") }
            let key = try KeyFile.read(keyPath)
            guard let index = genesis.validators.index(of: key.publicKey) else {
                throw NodeStartError("node key \(key.publicKey.short)… is not a validator in the genesis; run this node with role \"observer\"")
            }
            nodeKey = key
            do {
                consensusStore = ConsensusStateStore(store: try LevelDBStore(path: config.dataDirectory + "/consensus"))
            } catch {
                throw NodeStartError("consensus state at \(config.dataDirectory)/consensus: \(error)")
            }
            replica = try makeReplica(index: index, key: key)
        }
    }

    private func makeReplica(index: Int, key: PrivateKey) throws -> Replica {
        guard let genesisBlock = try ledger.block(at: 0), let genesisRoot = try ledger.stateRoot(at: 0),
              let headBlock = try ledger.block(at: ledger.head.height) else {
            throw NodeStartError("the ledger is missing its genesis or head block")
        }
        let saved = try consensusStore?.load()
        let head = ledger.head
        let configuration = ReplicaConfiguration(
            chainID: genesis.chainID, validators: genesis.validators, replicaIndex: index, parameters: genesis.parameters,
            genesisHeader: genesisBlock.header, genesisStateRoot: genesisRoot,
            timing: ReplicaTiming.from(genesis.parameters, tickMs: NodeTiming.tickMs))
        let validator = ShellProposalValidator(node: self)
        return Replica(
            configuration: configuration, signer: Secp256k1Signer(key: key), verifier: Secp256k1Verifier(), validator: validator,
            head: ChainHead(committedHeader: headBlock.header, executedHeight: head.height, executedStateRoot: head.stateRoot),
            restoring: saved)
    }

    // MARK: Running

    /// Runs the node until the surrounding task is cancelled, then stops cleanly.
    public func run(onAPIRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let api = APIServer(backend: self)
        let descriptors = APIConnectionBudget.processDescriptorLimit() ?? 1024
        let connectionsMax = APIConnectionBudget.connections(descriptorLimit: descriptors, validators: genesis.validators.count)
        logger.info("API connections capped", metadata: ["connections": "\(connectionsMax)", "descriptorLimit": "\(descriptors)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await api.run(host: self.config.apiHost, port: self.config.apiPort, connectionsMax: connectionsMax, onRunning: onAPIRunning)
            }
            switch config.role {
            case .validator:
                try await startNetwork()
                group.addTask { await self.consensusLoop() }
                group.addTask { await self.ticker() }
            case .observer:
                group.addTask { await self.observe() }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        loopInput.finish()
        await network?.shutdown()
        try? await self.group.shutdownGracefully()
        logger.info("node stopped", metadata: ["height": "\(ledger.head.height)"])
    }

    private func startNetwork() async throws {
        guard let nodeKey, let ownIndex = genesis.validators.index(of: nodeKey.publicKey) else { return }
        let address = config.peerAddress ?? genesis.validators[ownIndex].address
        guard let (host, port) = parseHostPort(address) else { throw NodeStartError("peer address '\(address)' is not host:port") }
        let network = PeerNetwork(group: group, ownKey: nodeKey, genesis: genesis, listenHost: host, listenPort: port, delegate: self, logger: logger)
        do {
            try await network.start()
        } catch {
            throw NodeStartError("cannot listen for peers on \(address): \(error)")
        }
        self.network = network
        logger.info("validator started", metadata: ["p2p": "\(address)", "height": "\(ledger.head.height)"])
    }

    private func ticker() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(NodeTiming.tickMs) * 1_000_000)
            let queue = lock.withLock { () -> Bool in
                if tickQueued { return false }
                tickQueued = true
                return true
            }
            flushSubmitted()
            if queue { enqueue(.tick) }
            flushGossip()
        }
    }

    private func enqueue(_ event: LoopEvent) {
        if case .dropped = loopInput.yield(event) { metrics.dropped("loop_queue_full") }
    }

    private func consensusLoop() async {
        for await event in loopStream {
            if Task.isCancelled { break }
            let input: ReplicaInput
            switch event {
            case .tick:
                lock.withLock { tickQueued = false }
                input = .tick(clockMs: wallClockMs())
            case .consensus(let bytes):
                input = .messageBytes(bytes)
            case .submitted(let transactions):
                input = .submit(transactions)
            case .certified(let blocks):
                input = .stateTransfer(blocks)
            }
            step(input)
        }
    }

    /// Feeds one input to the replica and carries out what it returns, in order:
    /// persistence first and durably, then messages, commits and requests.
    private func step(_ input: ReplicaInput) {
        // After a fault the node signs nothing more; an operator must look (see status and logs).
        guard var current = replica, lock.withLock({ snapshot.fault == nil }) else { return }
        // Leave `current` the only reference to the replica's storage, so its
        // pool and log are mutated in place rather than copied on every step.
        replica = nil
        var pending = [input]
        while !pending.isEmpty {
            let next = pending.removeFirst()
            let actions = current.step(next)
            for action in actions {
                switch action {
                case .persist(let state):
                    do {
                        try consensusStore?.persist(state)
                    } catch {
                        // Without a durable vote nothing may be sent: stop here, as a crash would.
                        logger.critical("cannot persist consensus state; halting", metadata: ["error": "\(error)"])
                        recordFault("cannot persist consensus state: \(error)")
                        replica = current
                        return
                    }
                case .send(let message, let destination):
                    let frame = PeerMessage.consensus(message.canonicalBytes)
                    switch destination {
                    case .all: network?.broadcast(frame)
                    case .replica(let index):
                        if index < genesis.validators.count { network?.send(frame, to: genesis.validators[index].nodeKey) }
                    }
                case .commit(let block, let certificate):
                    guard let root = commit(block, certificate) else {
                        replica = current
                        publish(current)
                        return
                    }
                    pending.append(.executed(header: block.header, stateRoot: root))
                case .requestStateTransfer(let from, let to):
                    requestBlocks(from: from, to: to)
                case .fault(let fault):
                    logger.critical("consensus fault; this node has stopped signing", metadata: ["fault": "\(fault)"])
                    recordFault(fault.description)
                }
            }
        }
        replica = current
        publish(current)
    }

    /// Executes and writes a committed block; returns the resulting state root.
    private func commit(_ block: Block, _ certificate: CommitCertificate) -> Hash? {
        if block.height <= ledger.head.height {
            // Already applied (e.g. by a restart between write and report).
            do {
                guard let root = try ledger.stateRoot(at: block.height) else {
                    recordFault("block \(block.height) is applied but its state root is missing from storage")
                    return nil
                }
                return root
            } catch {
                logger.critical("cannot read an applied block's state root", metadata: ["height": "\(block.height)", "error": "\(error)"])
                recordFault("cannot read the state root of block \(block.height): \(error)")
                return nil
            }
        }
        do {
            let executed = try ledger.execute(block) { [verified] id in verified.contains(id) }
            try ledger.commit(executed, certificate: certificate)
            afterCommit(block, receipts: executed.receipts)
            return executed.stateRoot
        } catch {
            logger.critical("committed block could not be applied", metadata: ["height": "\(block.height)", "error": "\(error)"])
            recordFault("block \(block.height) could not be applied: \(error)")
            return nil
        }
    }

    private func afterCommit(_ block: Block, receipts: [Receipt]) {
        mempool.removeCommitted(block)
        let now = ContinuousClock.now
        let started = lock.withLock { () -> [ContinuousClock.Instant] in
            var found: [ContinuousClock.Instant] = []
            for transaction in block.transactions {
                if let time = admittedAt.removeValue(forKey: transaction.id) { found.append(time) }
                verified.remove(transaction.id)
            }
            return found
        }
        for time in started { metrics.commitLatency.recordNanoseconds(Int64((now - time).components.attoseconds / 1_000_000_000 + (now - time).components.seconds * 1_000_000_000)) }
        let successes = receipts.filter(\.isSuccess).count
        metrics.committedTransactions.increment(by: Int64(successes))
        metrics.rejectedTransactions.increment(by: Int64(receipts.count - successes))
        metrics.committedBlocks.increment()
        metrics.height.set(Double(block.height))
        metrics.mempoolSize.set(Double(mempool.count))
        commits.committed(height: block.height)
    }

    private func publish(_ current: Replica) {
        let previousView = lock.withLock { snapshot.view }
        if current.view > previousView { metrics.viewChanges.increment(by: Int64(current.view - previousView)) }
        metrics.view.set(Double(current.view))
        for (reason, count) in current.dropCounts {
            let reported = reportedDrops[reason] ?? 0
            if count > reported {
                for _ in reported..<count { metrics.dropped(reason.rawValue) }
                reportedDrops[reason] = count
            }
        }
        lock.withLock {
            snapshot.view = current.view
            snapshot.primary = Int(current.primary(of: current.view))
            snapshot.syncing = current.committedHeight < current.lowWatermark
        }
    }

    private func recordFault(_ description: String) {
        lock.withLock { if snapshot.fault == nil { snapshot.fault = description } }
    }

    // MARK: Block sync

    private func requestBlocks(from: UInt64, to: UInt64) {
        guard let network else { return }
        let peers = network.connectedPeers.sorted()
        guard !peers.isEmpty else { return }
        let peer = lock.withLock { () -> PublicKey in
            syncPeerRotation += 1
            return peers[syncPeerRotation % peers.count]
        }
        let count = UInt32(min(to - from + 1, UInt64(PeerLimits.syncBlocksMax)))
        lock.withLock { snapshot.syncing = true }
        network.send(.syncRequest(fromHeight: from, count: count), to: peer)
    }

    /// Answers a peer's block request from the ledger, within the frame limit.
    private func serveBlocks(from: UInt64, count: UInt32, to peer: PublicKey) {
        var blocks: [CertifiedBlock] = []
        var bytes = 0
        var height = from
        let last = min(ledger.head.height, from &+ UInt64(min(count, UInt32(PeerLimits.syncBlocksMax))) &- 1)
        while height <= last, height >= 1 {
            guard let block = try? ledger.block(at: height), let certificate = try? ledger.certificate(at: height) else { break }
            let size = block.canonicalBytes.count + 4096
            if !blocks.isEmpty && bytes + size > PeerLimits.frameBytesMax / 2 { break }
            blocks.append(CertifiedBlock(block: block, certificate: certificate))
            bytes += size
            height += 1
        }
        if !blocks.isEmpty { network?.send(.syncResponse(blocks), to: peer) }
    }

    /// An observer follows the chain by fetching certified blocks from validators' APIs.
    private func observe() async {
        var clients: [NodeClient] = []
        for url in config.syncFrom {
            do { clients.append(try NodeClient(baseURL: url, group: group)) } catch {
                logger.error("ignoring a syncFrom entry", metadata: ["url": "\(url)", "error": "\(error)"])
            }
        }
        guard !clients.isEmpty else { return }
        var source = 0
        while !Task.isCancelled {
            let next = ledger.head.height + 1
            let client = clients[source % clients.count]
            do {
                let answer = try await client.block(at: next)
                guard let encoded = answer.encoded else {
                    throw NodeClientError.badResponse("block \(next) came without its certificate")
                }
                let certified = try CertifiedBlock(canonicalBytes: encoded.bytes)
                guard certified.block.height == next else { throw NodeClientError.badResponse("asked for block \(next), got \(certified.block.height)") }
                let executed = try ledger.apply(certified.block, certificate: certified.certificate)
                afterCommit(certified.block, receipts: executed.receipts)
                lock.withLock { snapshot.syncing = true }
                continue
            } catch let error as NodeClientError {
                if case .api(404, _, _) = error {
                    lock.withLock { snapshot.syncing = false }
                } else {
                    logger.warning("observer sync failed; trying the next validator", metadata: ["url": "\(client.baseURL)", "error": "\(error)"])
                    source += 1
                }
            } catch {
                logger.error("a fetched block was refused", metadata: ["height": "\(next)", "error": "\(error)"])
                metrics.dropped("invalid_synced_block")
                source += 1
            }
            try? await Task.sleep(nanoseconds: NodeTiming.observerPollMs * 1_000_000)
        }
    }

    // MARK: Transactions

    public func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission {
        guard config.role == .validator else {
            throw .rejected(Rejection(code: "observer", message: "this node is an observer; submit transactions to a validator"))
        }
        let admission = try mempool.add(transaction, nowMs: wallClockMs())
        if admission == .added {
            lock.withLock {
                if admittedAt.count < NodeTiming.latencySamplesMax { admittedAt[transaction.id] = ContinuousClock.now }
                gossipBuffer.append(transaction)
                submittedBuffer.append(transaction)
            }
            metrics.mempoolSize.set(Double(mempool.count))
        }
        return admission
    }

    private func flushSubmitted() {
        let batch = lock.withLock { () -> [Transaction] in
            let taken = submittedBuffer
            submittedBuffer.removeAll(keepingCapacity: true)
            return taken
        }
        if !batch.isEmpty { enqueue(.submitted(batch)) }
    }

    private func flushGossip() {
        let batch = lock.withLock { () -> [Transaction] in
            var taken: [Transaction] = []
            var bytes = 0
            for transaction in gossipBuffer.prefix(NodeTiming.gossipBatchMax) {
                let size = transaction.encodedBytesBound
                if !taken.isEmpty && bytes + size > PeerLimits.gossipBatchBytesMax { break }
                taken.append(transaction)
                bytes += size
            }
            gossipBuffer.removeFirst(taken.count)
            return taken
        }
        if !batch.isEmpty { network?.broadcast(.transactions(batch)) }
    }

    /// Whether `id` is committed. A storage error records a fault and counts
    /// as committed, so that the transaction is neither proposed nor voted for.
    fileprivate func isCommittedOrUnreadable(_ id: Hash) -> Bool {
        do {
            return try ledger.isCommitted(id)
        } catch {
            logger.critical("cannot read the transaction index", metadata: ["transaction": "\(id.hex)", "error": "\(error)"])
            recordFault("cannot read the transaction index: \(error)")
            return true
        }
    }

    /// The sender's next nonce on the committed chain; a storage error records
    /// a fault and gives nil, so that no nonce order is assumed.
    fileprivate func committedNextNonce(of sender: PublicKey) -> UInt64? {
        do {
            return try ledger.nextNonce(for: sender)
        } catch {
            logger.critical("cannot read a sender's nonce", metadata: ["sender": "\(sender.hex)", "error": "\(error)"])
            recordFault("cannot read the nonce of \(sender.hex): \(error)")
            return nil
        }
    }

    /// The state root recorded after `height`; a storage error records a fault
    /// and gives nil, so that no state claim is taken unchecked.
    fileprivate func executedStateRoot(at height: UInt64) -> Hash? {
        do {
            return try ledger.stateRoot(at: height)
        } catch {
            logger.critical("cannot read a state root", metadata: ["height": "\(height)", "error": "\(error)"])
            recordFault("cannot read the state root of height \(height): \(error)")
            return nil
        }
    }

    fileprivate func isVerified(_ transaction: Transaction) -> Bool {
        verified.verify(transaction)
    }

    // MARK: Peer events

    public func peerConnected(_ key: PublicKey) {
        metrics.connectedPeers.set(Double(network?.connectedPeers.count ?? 0))
    }

    public func peerDisconnected(_ key: PublicKey) {
        metrics.connectedPeers.set(Double(network?.connectedPeers.count ?? 0))
    }

    public func received(_ message: PeerMessage, from key: PublicKey) {
        switch message {
        case .consensus(let bytes):
            enqueue(.consensus(bytes))
        case .transactions(let transactions):
            var admitted: [Transaction] = []
            for transaction in transactions {
                do {
                    if try mempool.add(transaction, nowMs: wallClockMs()) == .added { admitted.append(transaction) }
                } catch {
                    metrics.dropped("gossip_\(error.code)")
                }
            }
            if !admitted.isEmpty {
                metrics.mempoolSize.set(Double(mempool.count))
                enqueue(.submitted(admitted))
            }
        case .syncRequest(let from, let count):
            serveBlocks(from: from, count: count, to: key)
        case .syncResponse(let blocks):
            enqueue(.certified(blocks))
        case .keepAlive:
            break
        }
    }

    public func peerMisbehaved(address: String, reason: String) {
        metrics.dropped("peer_protocol")
    }

    public func sendDropped(to key: PublicKey) {
        metrics.dropped("send_queue_full")
    }

    // MARK: Status

    public func status() -> NodeStatus {
        let (current, connected) = (lock.withLock { snapshot }, network?.connectedPeers ?? [])
        let ownKey = nodeKey?.publicKey
        let validators = genesis.validators.validators.map {
            NodeStatus.ValidatorState(name: $0.name, nodeKey: $0.nodeKey, address: $0.address,
                                      connected: connected.contains($0.nodeKey), isSelf: $0.nodeKey == ownKey)
        }
        return NodeStatus(
            nodeName: config.name, role: config.role.rawValue, head: ledger.head, view: current.view,
            primary: current.primary.map { genesis.validators[$0].name }, validators: validators, mempoolSize: mempool.count,
            syncing: current.syncing, fault: current.fault)
    }
}

/// The shell's half of proposal checking: signatures (each verified once per
/// node), chain id, whether a transaction already committed, and the nonce
/// order of a batch. Permissions are left to execution, which rejects with a receipt.
struct ShellProposalValidator: ProposalValidator {
    unowned let node: ConsortNode

    func isAcceptable(_ transaction: Transaction) -> Bool {
        transaction.body.chainID == node.genesis.chainID
            && !node.isCommittedOrUnreadable(transaction.id)
            && node.isVerified(transaction)
    }

    /// Each sender's transactions in nonce order, after the blocks ahead of the batch.
    func orderBatch(_ candidates: [Transaction], after ancestors: [Block], limit: Int) -> [Transaction] {
        Nonces.orderBatch(candidates, after: ancestors, limit: limit,
                          committedNextNonce: { node.committedNextNonce(of: $0) }, isAcceptable: isAcceptable)
    }

    func executedStateRoot(at height: UInt64) -> Hash? {
        node.executedStateRoot(at: height)
    }

    func isValid(block: Block, pendingAncestors: [Block]) -> Bool {
        for transaction in block.transactions {
            guard transaction.body.chainID == node.genesis.chainID, node.isVerified(transaction) else { return false }
            guard !node.isCommittedOrUnreadable(transaction.id) else { return false }
        }
        return true
    }
}
