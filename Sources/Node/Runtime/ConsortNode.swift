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

/// A listener the node could not open: which one, on which address, and why.
public struct ListenerError: Error, Equatable, CustomStringConvertible {
    /// The node's listeners: `/metrics` and `/health` share the API's.
    public enum Listener: String, Sendable {
        case peer
        case api = "API"
    }

    public let listener: Listener
    /// The `host:port` it was to listen on.
    public let address: String
    /// Whether another socket already listens there.
    public let inUse: Bool
    /// What the system said.
    public let reason: String

    public init(_ listener: Listener, address: String, inUse: Bool, reason: String) {
        self.listener = listener
        self.address = address
        self.inUse = inUse
        self.reason = reason
    }

    /// `error` from binding `listener` on `address`, said as which address is in use when it is.
    public init(_ listener: Listener, address: String, binding error: any Error) {
        let inUse = (error as? IOError)?.errnoCode == EADDRINUSE
        self.init(listener, address: address, inUse: inUse, reason: "\(error)")
    }

    public var description: String {
        let setting = listener == .api ? "api" : "p2p (or the validator's genesis address)"
        guard inUse else { return "cannot open the \(listener.rawValue) listener on \(address): \(reason)" }
        return """
            cannot open the \(listener.rawValue) listener on \(address): the address is in use (another process, perhaps \
            another node, listens there); stop it or give this node another port in its config's \(setting)
            """
    }
}

/// Set once a listener is bound, so that an error before it is told as a binding error.
private final class ManagedFlag: @unchecked Sendable {
    private let lock = Lock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// What a node config names, checked without opening any store: the genesis
/// it reads, and for a validator its key and place in the validator set.
/// `ConsortNode` starts from it and `consort node check-config` prints it.
public struct CheckedNodeConfig: Sendable {
    public let config: NodeConfig
    public let genesis: Genesis
    /// The validator's key; nil for an observer.
    public let nodeKey: PrivateKey?
    /// The validator's position in the genesis validator set; nil for an observer.
    public let validatorIndex: Int?

    /// Reads the genesis and the node key the config names and checks that
    /// they belong together, and that the data folder is not a file; creates
    /// nothing. Throws ``NodeStartError``, or ``ConfigError`` for the key file.
    public init(_ config: NodeConfig) throws {
        self.config = config
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: config.dataDirectory, isDirectory: &isFolder), !isFolder.boolValue {
            throw NodeStartError("the data folder \(config.dataDirectory) is a file, not a folder")
        }
        guard let genesisData = FileManager.default.contents(atPath: config.genesisPath) else {
            throw NodeStartError("cannot read the genesis file \(config.genesisPath)")
        }
        do {
            genesis = try Genesis.load(json: genesisData)
        } catch {
            throw NodeStartError("\(config.genesisPath): \(error)")
        }
        switch config.role {
        case .observer:
            nodeKey = nil
            validatorIndex = nil
        case .validator:
            guard let keyPath = config.nodeKeyPath else { throw NodeStartError("a validator needs a node key file") }
            let key = try KeyFile.read(keyPath)
            guard let index = genesis.validators.index(of: key.publicKey) else {
                throw NodeStartError("node key \(key.publicKey.short)… is not a validator in the genesis; run this node with role \"observer\"")
            }
            let address = config.peerAddress ?? genesis.validators[index].address
            guard parseHostPort(address) != nil else { throw NodeStartError("peer address '\(address)' is not host:port") }
            nodeKey = key
            validatorIndex = index
        }
    }
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

    private enum LoopEvent: Sendable {
        case consensus([UInt8])
        case submitted([Transaction])
        case certified([CertifiedBlock])
    }

    private let inbox = ConsensusInbox<LoopEvent>()
    private let lock = Lock()
    private var snapshot = ReplicaSnapshot()
    /// Whether this validator and the peers connected to it make a quorum; nil before the first peer event.
    private var quorumConnected: Bool?
    /// Admitted transactions not yet gossiped, and their bytes (``NodeTiming/gossipBufferBytesMax``).
    private var gossipBuffer: [Transaction] = []
    private var gossipBufferBytes = 0
    /// Transactions admitted through the API since the last tick; handed to the
    /// replica together, so that a backup forwards them to the primary in one
    /// signed message rather than one per transaction.
    private var submittedBuffer: [Transaction] = []
    private var submittedBufferBytes = 0
    private let verified = VerifiedSignatures()
    /// The API's back-pressure: how much work the pool may hold before clients hear `busy`.
    public let backlog = AdmissionBacklog()
    /// The clock ``backlog`` is judged by.
    private let started = ContinuousClock.now
    private var admittedAt: [Hash: ContinuousClock.Instant] = [:]
    private var reportedDrops: [DropReason: Int] = [:]
    private var syncPeerRotation = 0
    /// When catching up was last logged, so that a long catch-up logs its progress every few seconds, not every request.
    private var catchUpLoggedAt: ContinuousClock.Instant?

    struct ReplicaSnapshot {
        var view: UInt64 = 0
        var changingTo: UInt64?
        var suspicion: ViewChangeReason?
        var primary: Int?
        var fault: String?
        var syncing = false
        /// The height others are known to have reached: for a validator the
        /// replica's ``Replica/peersCommittedHeight``, for an observer the
        /// highest block it has fetched.
        var peersHeight: UInt64 = 0
        /// When this node's height last moved (or when it started).
        var lastAdvance = ContinuousClock.now
    }

    /// Opens the node's stores and checks its configuration; nothing runs until ``run()``.
    public init(config: NodeConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        let checked = try CheckedNodeConfig(config)
        genesis = checked.genesis
        do {
            try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw NodeStartError("cannot create the data folder \(config.dataDirectory): \(error.localizedDescription)")
        }
        let ledgerPath = config.dataDirectory + "/ledger"
        let ledgerStore: LevelDBStore
        do {
            ledgerStore = try LevelDBStore(path: ledgerPath)
            ledger = try Ledger(store: ledgerStore, genesis: genesis, registry: StandardContracts.registry())
        } catch {
            throw NodeStartError("ledger at \(ledgerPath): \(error)")
        }
        for warning in ledgerStore.openWarnings { logger.warning("the ledger's storage lost writes", metadata: ["problem": "\(warning)"]) }

        let replicaIndex = checked.validatorIndex
        nodeKey = checked.nodeKey
        if checked.nodeKey == nil {
            consensusStore = nil
        } else {
            let consensusPath = config.dataDirectory + "/consensus"
            if !FileManager.default.fileExists(atPath: consensusPath) && ledger.head.height > 0 && !config.freshConsensusState {
                throw NodeStartError("""
                    the ledger in \(ledgerPath) holds \(ledger.head.height) blocks, but there is no consensus state at \(consensusPath): \
                    starting without it would forget this validator's votes, and it could then sign two different blocks at one height. \
                    Restore \(consensusPath) from a backup of this validator; only if it has certainly never voted above height \
                    \(ledger.head.height) (its ledger was copied from another validator, say), start it once with --fresh-consensus-state
                    """)
            }
            let store: ConsensusStateStore
            do {
                let consensusLevelDB = try LevelDBStore(path: consensusPath)
                for warning in consensusLevelDB.openWarnings {
                    logger.warning("the consensus state's storage lost writes", metadata: ["problem": "\(warning)"])
                }
                store = ConsensusStateStore(store: consensusLevelDB)
            } catch {
                throw NodeStartError("consensus state at \(consensusPath): \(error)")
            }
            try store.checkLedger(height: ledger.head.height, ledgerPath: ledgerPath, warnings: ledgerStore.openWarnings)
            consensusStore = store
        }
        mempool = Mempool(ledger: ledger, verified: verified)
        commits = CommitNotifier(height: ledger.head.height)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        metrics.height.set(Double(ledger.head.height))
        metrics.lastBlockTime.set(Double(ledger.head.timestampMs) / 1000)
        metrics.quorum.set(Double(genesis.validators.quorum))
        metrics.validatorsReached.set(Double(replicaIndex == nil ? 0 : 1))
        if let replicaIndex, let nodeKey {
            replica = try makeReplica(index: replicaIndex, key: nodeKey)
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
            pool: mempool, head: ChainHead(committedHeader: headBlock.header, executedHeight: head.height, executedStateRoot: head.stateRoot),
            restoring: saved)
    }

    // MARK: Running

    /// Runs the node until the surrounding task is cancelled, then stops cleanly.
    public func run(onAPIRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let api = APIServer(backend: self)
        let descriptors = APIConnectionBudget.processDescriptorLimit() ?? 1024
        let connectionsMax = APIConnectionBudget.connections(descriptorLimit: descriptors, validators: genesis.validators.count)
        logger.info("API connections capped", metadata: ["connections": "\(connectionsMax)", "descriptorLimit": "\(descriptors)"])
        let stopped: (any Error)?
        do {
            try await serve(api: api, connectionsMax: connectionsMax, onAPIRunning: onAPIRunning)
            stopped = nil
        } catch {
            stopped = error
        }
        inbox.finish()
        await network?.shutdown()
        try? await self.group.shutdownGracefully()
        logger.info("node stopped", metadata: ["height": "\(ledger.head.height)"])
        if let stopped { throw stopped }
    }

    /// Runs the API and, for a validator, the peer network and consensus, until one of them ends or the task is cancelled.
    private func serve(api: APIServer, connectionsMax: Int, onAPIRunning: @escaping @Sendable (Int) async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let address = "\(self.config.apiHost):\(self.config.apiPort)"
                let bound = ManagedFlag()
                do {
                    try await api.run(host: self.config.apiHost, port: self.config.apiPort, connectionsMax: connectionsMax) { port in
                        bound.set()
                        await onAPIRunning(port)
                    }
                } catch where !bound.isSet && !(error is CancellationError) && !Task.isCancelled {
                    throw ListenerError(.api, address: address, binding: error)
                }
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
    }

    private func startNetwork() async throws {
        guard let nodeKey, let ownIndex = genesis.validators.index(of: nodeKey.publicKey) else { return }
        let address = config.peerAddress ?? genesis.validators[ownIndex].address
        guard let (host, port) = parseHostPort(address) else { throw NodeStartError("peer address '\(address)' is not host:port") }
        let network = PeerNetwork(group: group, ownKey: nodeKey, genesis: genesis, listenHost: host, listenPort: port, delegate: self, logger: logger)
        do {
            try await network.start()
        } catch {
            throw ListenerError(.peer, address: address, binding: error)
        }
        self.network = network
        logger.info("validator started", metadata: ["p2p": "\(address)", "height": "\(ledger.head.height)"])
    }

    private func ticker() async {
        var ticksToExpirySweep = 0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(NodeTiming.tickMs) * 1_000_000)
            ticksToExpirySweep -= 1
            if ticksToExpirySweep <= 0 {
                ticksToExpirySweep = NodeTiming.expirySweepMs / NodeTiming.tickMs
                removeExpiredTransactions()
            }
            flushSubmitted()
            inbox.requestTick()
            flushGossip()
        }
    }

    /// The time against which expiry is judged: the next block's timestamp is
    /// at least the clock's reading and above the last block's.
    fileprivate func expiryClockMs() -> UInt64 {
        max(wallClockMs(), ledger.head.timestampMs)
    }

    /// Drops expired transactions from the pool, which the replica orders from.
    private func removeExpiredTransactions() {
        let removed = mempool.removeExpired(nowMs: expiryClockMs())
        guard removed > 0 else { return }
        metrics.dropped("mempool_expired", count: removed)
        metrics.mempoolSize.set(Double(mempool.count))
    }

    /// Queues input for the consensus loop in `source`'s share of the inbox.
    private func enqueue(_ event: LoopEvent, from source: InboxSource) {
        let bytes: Int
        switch event {
        case .consensus(let message): bytes = message.count
        case .submitted(let transactions): bytes = transactions.reduce(0) { $0 + $1.encodedBytesBound }
        case .certified(let blocks):
            bytes = blocks.reduce(0) { $0 + $1.encodedBytesBound }
        }
        if !inbox.put(event, bytes: bytes, from: source) { metrics.dropped("inbox_full") }
    }

    private func consensusLoop() async {
        while let item = await inbox.next() {
            if Task.isCancelled { break }
            let input: ReplicaInput
            switch item {
            case .tick:
                input = .tick(clockMs: wallClockMs())
            case .event(.consensus(let bytes)):
                input = .messageBytes(bytes)
            case .event(.submitted(let transactions)):
                input = .submit(transactions)
            case .event(.certified(let blocks)):
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
            return reads.appliedStateRoot(at: block.height)
        }
        do {
            let executed = try ledger.execute(block) { [verified] id in verified.contains(id) }
            try ledger.commit(executed, certificate: certificate)
            afterCommit(block, receipts: executed.receipts)
            noteLedgerHeight(block.height)
            return executed.stateRoot
        } catch {
            logger.critical("committed block could not be applied", metadata: ["height": "\(block.height)", "error": "\(error)"])
            recordFault("block \(block.height) could not be applied: \(error)")
            return nil
        }
    }

    /// Notes in the consensus state how far the ledger has durably got, for the check at start.
    private func noteLedgerHeight(_ height: UInt64) {
        do {
            try consensusStore?.recordLedgerHeight(height)
        } catch {
            logger.critical("cannot write the consensus state; halting", metadata: ["error": "\(error)"])
            recordFault("cannot note the ledger height in the consensus state: \(error)")
        }
    }

    private func afterCommit(_ block: Block, receipts: [Receipt]) {
        do {
            let nowMs = monotonicMs()
            backlog.recordCommit(sojournsMs: try mempool.removeCommitted(block), nowMs: nowMs)
            if let waitMs = backlog.averageSojournMs(nowMs: nowMs) { metrics.poolWait.set(waitMs / 1_000) }
        } catch {
            recordFault("cannot read the senders' nonces after committing block \(block.height): \(error)")
        }
        let now = ContinuousClock.now
        let admissionTimes = lock.withLock { () -> [ContinuousClock.Instant] in
            var found: [ContinuousClock.Instant] = []
            for transaction in block.transactions {
                if let time = admittedAt.removeValue(forKey: transaction.id) { found.append(time) }
                verified.remove(transaction.id)
            }
            return found
        }
        for time in admissionTimes { metrics.commitLatency.recordNanoseconds((now - time).wholeNanoseconds) }
        let successes = receipts.filter(\.isSuccess).count
        for (transaction, receipt) in zip(block.transactions, receipts) {
            let call = transaction.body.call
            let known = ledger.registry.contract(named: call.contract)
            let operation = known?.permittedKinds(for: call.operation) != nil ? call.operation : "unknown"
            metrics.committed(contract: known == nil ? "unknown" : call.contract, operation: operation,
                              result: receipt.rejection?.code ?? "success")
        }
        metrics.committedTransactions.increment(by: Int64(successes))
        metrics.rejectedTransactions.increment(by: Int64(receipts.count - successes))
        metrics.committedBlocks.increment()
        metrics.height.set(Double(block.height))
        metrics.lastBlockTime.set(Double(block.header.timestampMs) / 1000)
        logger.info("committed block", metadata: [
            "height": "\(block.height)", "transactions": "\(block.transactions.count)", "rejected": "\(receipts.count - successes)",
            "time": "\(Date(timeIntervalSince1970: Double(block.header.timestampMs) / 1000).formatted(.iso8601))",
        ])
        metrics.mempoolSize.set(Double(mempool.count))
        lock.withLock { snapshot.lastAdvance = now }
        commits.committed(height: block.height)
    }

    private func publish(_ current: Replica) {
        let (previousView, previousTarget, previousSuspicion) = lock.withLock { (snapshot.view, snapshot.changingTo, snapshot.suspicion) }
        if current.suspicion != previousSuspicion {
            if let reason = current.suspicion {
                logger.warning("suspecting the primary; the view changes if 2f+1 validators do", metadata: [
                    "view": "\(current.view)", "primary": "\(genesis.validators[Int(current.primary(of: current.view))].name)",
                    "reason": "\(reason.description)",
                ])
            } else if current.changingTo == nil && current.view == previousView {
                logger.notice("no longer suspecting the primary: the view made progress", metadata: ["view": "\(current.view)"])
            }
        }
        if let target = current.changingTo, target != previousTarget {
            logger.warning("leaving view for a new primary", metadata: [
                "view": "\(current.view)", "target": "\(target)",
                "newPrimary": "\(genesis.validators[Int(current.primary(of: target))].name)",
                "reason": "\(current.lastViewChangeReason.map(\.description) ?? "restored from the consensus state")",
            ])
        }
        if current.view > previousView {
            metrics.viewChanges.increment(by: Int64(current.view - previousView))
            logger.warning("entered a new view", metadata: [
                "view": "\(current.view)", "primary": "\(genesis.validators[Int(current.primary(of: current.view))].name)",
                "height": "\(current.committedHeight)",
            ])
        }
        metrics.view.set(Double(current.view))
        for (reason, count) in current.dropCounts {
            let reported = reportedDrops[reason] ?? 0
            if count > reported {
                metrics.dropped(reason.rawValue, count: count - reported)
                reportedDrops[reason] = count
            }
        }
        lock.withLock {
            snapshot.view = current.view
            snapshot.changingTo = current.changingTo
            snapshot.suspicion = current.suspicion
            snapshot.primary = Int(current.primary(of: current.view))
            snapshot.syncing = current.committedHeight < current.lowWatermark
            snapshot.peersHeight = current.peersCommittedHeight
        }
    }

    private func recordFault(_ description: String) {
        lock.withLock { if snapshot.fault == nil { snapshot.fault = description } }
        metrics.fault.set(Double(1))
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
        let now = ContinuousClock.now
        let logNow = lock.withLock { () -> Bool in
            snapshot.syncing = true
            guard catchUpLoggedAt.map({ now - $0 >= NodeTiming.catchUpLogInterval }) ?? true else { return false }
            catchUpLoggedAt = now
            return true
        }
        if logNow {
            let name = genesis.validators.index(of: peer).map { genesis.validators.validators[$0].name } ?? peer.hex
            let height = ledger.head.height
            logger.notice("catching up", metadata: ["height": "\(height)", "target": "\(to)", "remaining": "\(to - min(to, height))", "from": "\(name)"])
        }
        network.send(.syncRequest(fromHeight: from, count: count), to: peer)
    }

    /// Answers a peer's block request from the ledger, within the frame limit.
    private func serveBlocks(from: UInt64, count: UInt32, to peer: PublicKey) {
        var blocks: [CertifiedBlock] = []
        var bytes = 0
        var height = from
        let last = min(ledger.head.height, from &+ UInt64(min(count, UInt32(PeerLimits.syncBlocksMax))) &- 1)
        while height <= last, height >= 1 {
            // A committed block that cannot be read is a storage fault, not a reason to answer less.
            guard let certified = reads.certifiedBlock(at: height) else { break }
            let size = certified.encodedBytesBound
            if !blocks.isEmpty && bytes + size > PeerLimits.syncResponseBytesMax { break }
            blocks.append(certified)
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
                lock.withLock { snapshot.peersHeight = max(snapshot.peersHeight, next) }
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
            } catch LedgerError.storage(let error) {
                // The block may be fine; this node's own storage failed. Stop, as a validator does.
                logger.critical("cannot apply a fetched block to the ledger; halting", metadata: ["height": "\(next)", "error": "\(error)"])
                recordFault("block \(next) could not be applied: \(error)")
                // Keep serving what is committed (and the fault, through /health) until stopped.
                while !Task.isCancelled { try? await Task.sleep(nanoseconds: NodeTiming.observerPollMs * 1_000_000) }
                return
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
        try submit(batch: [transaction])[0].get()
    }

    /// Admits a client's transactions: through the API's back-pressure
    /// (``AdmissionBacklog``) and the room left in the buffer handed to the
    /// replica each tick, then the mempool's checks, with the batch's
    /// signatures verified together. What is added is gossiped.
    public func submit(batch transactions: [Transaction]) -> [Result<Mempool.Admission, AdmissionError>] {
        guard config.role == .validator else {
            let observer = AdmissionError.rejected(Rejection(code: "observer", message: "this node is an observer; submit transactions to a validator"))
            return transactions.map { _ in .failure(observer) }
        }
        var results = [Result<Mempool.Admission, AdmissionError>?](repeating: nil, count: transactions.count)
        let fresh = transactions.indices.filter { !mempool.contains(transactions[$0].id) }
        if !fresh.isEmpty {
            let pending = mempool.count
            let (room, retryAfterMs) = switch backlog.admissible(pending: pending, nowMs: monotonicMs()) {
            case .admit(let room): (room, backlog.limits.retryAfterMsMin)
            case .busy(let retryAfterMs): (0, retryAfterMs)
            }
            for index in fresh.dropFirst(room) { results[index] = .failure(.busy(pending: pending, retryAfterMs: retryAfterMs)) }
            if fresh.count > room { metrics.dropped("api_backlog_busy", count: fresh.count - room) }
        }
        // The buffer's room is reserved before admission and given back for
        // what is not added, so concurrent submissions never pass the bound.
        let candidates = transactions.indices.filter { results[$0] == nil }
        var reservedBytes = 0
        let reserved = lock.withLock { () -> Int in
            for (position, index) in candidates.enumerated() {
                let size = transactions[index].encodedBytesBound
                guard submittedBufferBytes + size <= NodeTiming.submittedBufferBytesMax else { return position }
                submittedBufferBytes += size
                reservedBytes += size
            }
            return candidates.count
        }
        let admitting = Array(candidates.prefix(reserved))
        if reserved < candidates.count {
            metrics.dropped("api_submitted_buffer_full", count: candidates.count - reserved)
            for index in candidates.dropFirst(reserved) { results[index] = .failure(.busy(pending: mempool.count, retryAfterMs: NodeTiming.tickMs)) }
        }
        let admissions = mempool.add(all: admitting.map { transactions[$0] }, nowMs: expiryClockMs())
        var added: [Transaction] = []
        for (index, admission) in zip(admitting, admissions) {
            results[index] = admission
            if case .success(.added) = admission { added.append(transactions[index]) }
        }
        let gossipDropped = lock.withLock { () -> Int in
            submittedBufferBytes -= reservedBytes - added.reduce(0) { $0 + $1.encodedBytesBound }
            var dropped = 0
            for transaction in added {
                if admittedAt.count < NodeTiming.latencySamplesMax { admittedAt[transaction.id] = ContinuousClock.now }
                submittedBuffer.append(transaction)
                let size = transaction.encodedBytesBound
                guard gossipBufferBytes + size <= NodeTiming.gossipBufferBytesMax else {
                    dropped += 1
                    continue
                }
                gossipBuffer.append(transaction)
                gossipBufferBytes += size
            }
            return dropped
        }
        if gossipDropped > 0 { metrics.dropped("gossip_buffer_full", count: gossipDropped) }
        if !added.isEmpty { metrics.mempoolSize.set(Double(mempool.count)) }
        // Each index was answered above: busy by the back-pressure, busy for the buffer, or by the mempool.
        return results.map { $0 ?? .failure(.storage("no admission result")) }
    }

    /// Milliseconds since this node started, by the monotonic clock.
    private func monotonicMs() -> UInt64 {
        (ContinuousClock.now - started).wholeMilliseconds
    }

    private func flushSubmitted() {
        let batch = lock.withLock { () -> [Transaction] in
            let taken = submittedBuffer
            submittedBuffer.removeAll(keepingCapacity: true)
            // What submissions still being admitted reserved stays counted.
            submittedBufferBytes -= taken.reduce(0) { $0 + $1.encodedBytesBound }
            return taken
        }
        if !batch.isEmpty { enqueue(.submitted(batch), from: .local) }
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
            gossipBufferBytes -= bytes
            return taken
        }
        if !batch.isEmpty { network?.broadcast(.transactions(batch)) }
    }

    /// Ledger reads whose storage errors record a fault.
    fileprivate var reads: FaultRecordingReads {
        FaultRecordingReads(ledger: ledger) { [weak self] description in
            self?.logger.critical("storage read failed", metadata: ["error": "\(description)"])
            self?.recordFault(description)
        }
    }

    fileprivate func isVerified(_ transaction: Transaction) -> Bool {
        verified.verify(transaction)
    }

    /// Whether a transaction passes its contract's stateless checks
    /// (``ContractRegistry/checkArguments(_:)``); those in this node's
    /// mempool passed them at admission.
    fileprivate func passesArgumentChecks(_ transaction: Transaction) -> Bool {
        if mempool.contains(transaction.id) { return true }
        do {
            try ledger.registry.checkArguments(transaction.body.call)
            return true
        } catch {
            return false
        }
    }

    // MARK: Peer events

    public func peerConnected(_ key: PublicKey) {
        noteConnectedPeers()
    }

    public func peerDisconnected(_ key: PublicKey) {
        noteConnectedPeers()
    }

    /// Exports the connected peers and logs when this validator loses or regains a quorum of connected validators.
    private func noteConnectedPeers() {
        let connected = network?.connectedPeers.count ?? 0
        metrics.connectedPeers.set(Double(connected))
        let reachable = connected + 1
        if config.role == .validator { metrics.validatorsReached.set(Double(reachable)) }
        let quorum = genesis.validators.quorum
        let hasQuorum = reachable >= quorum
        let changed = lock.withLock { () -> Bool in
            defer { quorumConnected = hasQuorum }
            return quorumConnected != hasQuorum
        }
        guard changed else { return }
        let counts = "\(reachable) of \(genesis.validators.count) validators connected, \(quorum) needed"
        if hasQuorum {
            logger.notice("quorum regained", metadata: ["validators": "\(counts)"])
        } else {
            logger.warning("quorum lost: no block can commit until more validators connect", metadata: ["validators": "\(counts)"])
        }
    }

    public func received(_ message: PeerMessage, from key: PublicKey) {
        switch message {
        case .consensus(let bytes):
            enqueue(.consensus(bytes), from: .peer(key))
        case .transactions(let transactions):
            // The batch's signatures are verified together, on all cores.
            var admitted: [Transaction] = []
            for (transaction, admission) in zip(transactions, mempool.add(all: transactions, nowMs: expiryClockMs())) {
                switch admission {
                case .success(.added): admitted.append(transaction)
                case .success(.alreadyPending): break
                case .failure(let error): metrics.dropped("gossip_\(error.code)")
                }
            }
            if !admitted.isEmpty {
                metrics.mempoolSize.set(Double(mempool.count))
                enqueue(.submitted(admitted), from: .peer(key))
            }
        case .syncRequest(let from, let count):
            serveBlocks(from: from, count: count, to: key)
        case .syncResponse(let blocks):
            enqueue(.certified(blocks), from: .peer(key))
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
        let stalled = ContinuousClock.now - current.lastAdvance
        return NodeStatus(
            nodeName: config.name, role: config.role.rawValue, head: ledger.head, view: current.view,
            primary: current.primary.map { genesis.validators[$0].name }, validators: validators, mempoolSize: mempool.count,
            syncing: current.syncing, fault: current.fault, quorum: genesis.validators.quorum,
            peersHeight: current.peersHeight,
            sinceAdvanceMs: stalled.wholeMilliseconds)
    }
}

/// The shell's half of proposal checking: signatures (each verified once per
/// node), chain id, expiry (an expired transaction is neither pooled nor
/// proposed, and a block carrying one is refused, so that none is executed
/// only to be rejected), the contracts' stateless argument checks (so that a
/// transaction refused at admission, such as one carrying personal data,
/// enters no block even through another validator), whether a transaction
/// already committed, and the nonce order of a batch. Permissions are left
/// to execution, which rejects with a receipt.
struct ShellProposalValidator: ProposalValidator {
    unowned let node: ConsortNode

    func isAcceptable(_ transaction: Transaction) -> Bool {
        transaction.body.chainID == node.genesis.chainID
            && !transaction.body.isExpired(atMs: node.expiryClockMs())
            && !node.reads.isCommittedOrUnreadable(transaction.id)
            && node.isVerified(transaction)
            && node.passesArgumentChecks(transaction)
    }

    /// A request another validator relayed goes through the mempool's
    /// admission, as the node's own API and gossip do: membership, the
    /// organization's permission, the nonce window and the pool's bounds.
    func admitRelayed(_ transaction: Transaction) -> Bool {
        do {
            _ = try node.mempool.add(transaction, nowMs: node.expiryClockMs())
            return true
        } catch {
            node.metrics.dropped("forward_\(error.code)")
            return false
        }
    }

    /// Each sender's transactions in nonce order, after the blocks ahead of the batch, none expired at the block's time.
    func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int) -> [Transaction] {
        Nonces.orderBatch(candidates, after: ancestors, blockTimestampMs: blockTimestampMs, limit: limit,
                          committedNextNonce: { node.reads.committedNextNonce(of: $0) }, isAcceptable: isAcceptable)
    }

    func executedStateRoot(at height: UInt64) -> Hash? {
        node.reads.executedStateRoot(at: height)
    }

    func isValid(block: Block, pendingAncestors: [Block]) -> Bool {
        for transaction in block.transactions {
            guard transaction.body.chainID == node.genesis.chainID, !transaction.body.isExpired(atMs: block.header.timestampMs),
                  node.isVerified(transaction), node.passesArgumentChecks(transaction) else {
                return false
            }
            guard !node.reads.isCommittedOrUnreadable(transaction.id) else { return false }
        }
        return true
    }
}
