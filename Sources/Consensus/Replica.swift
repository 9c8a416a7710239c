import LedgerCore

/// Per-height state of the log (paper 4.2): what this replica accepted and
/// collected at one height in its current view, and the highest-view prepared
/// certificate it holds there.
struct Slot {
    /// The pre-prepare accepted in the current view.
    var prePrepare: PrePrepare?
    /// Prepares of the current view, one per sender.
    var prepares: [UInt32: Prepare] = [:]
    /// Commits of the current view, one per sender.
    var commits: [UInt32: Commit] = [:]
    var sentPrepare: Prepare?
    var sentCommit: Commit?
    /// The block failed validation in this view; never prepare it.
    var rejected = false
    /// The pre-prepare came from a new view's O (or a restored certificate),
    /// not fresh from this view's primary: its proposer is the primary of the
    /// view it was first prepared in.
    var reproposed = false
    /// The prepared certificate of the highest view seen (kept across views).
    var prepared: PreparedCertificate?

    mutating func clearView() {
        prePrepare = nil
        prepares = [:]
        commits = [:]
        sentPrepare = nil
        sentCommit = nil
        rejected = false
        reproposed = false
    }
}

/// A PBFT replica without I/O (Castro and Liskov, TOCS 2002), in the
/// instance-and-shell style: the shell feeds ``ReplicaInput``s to
/// ``step(_:)`` and carries out the returned ``ReplicaAction``s in order,
/// persisting first (see ``ReplicaAction``). It reads no clock, starts no
/// thread and draws no randomness.
///
/// Each message has one handler named as in the paper (`onPrePrepare`,
/// `onPrepare`, `onCommit`, `onCheckpoint`, `onViewChange`, `onNewView`):
/// it validates, ignores with a counted ``DropReason``, or acts. Bad peer
/// input never traps; invariants are checked after every step.
public struct Replica {
    /// The fixed configuration of this replica.
    public let configuration: ReplicaConfiguration
    let signer: any ConsensusSigner
    let verifier: any SignatureVerifier
    let validator: any ProposalValidator

    // Persisted (rule 11).
    /// The view this replica is in (or is leaving, while ``changingTo`` is set).
    public internal(set) var view: UInt64
    /// The view this replica asked to move to; nil in normal operation.
    public internal(set) var changingTo: UInt64?
    var viewChangeAttempts: Int
    var ownVotes: [UInt64: OwnVote]
    var stableProof: CheckpointProof?

    // Volatile.
    var lowHeader: BlockHeader
    var slots: [UInt64: Slot] = [:]
    /// Highest height committed (appended to the ledger) by this replica.
    public internal(set) var committedHeight: UInt64
    var committedHeader: BlockHeader
    var committedHashes: [UInt64: Hash] = [:]
    /// Highest height the shell reported executed.
    public internal(set) var executedHeight: UInt64
    var executedRoots: [UInt64: Hash] = [:]
    var expectedRoots: [UInt64: Hash] = [:]
    var checkpointVotes: [UInt64: [UInt32: Checkpoint]] = [:]
    var ownCheckpoints: [UInt64: Checkpoint] = [:]
    var viewChanges: [UInt32: ViewChange] = [:]
    var ownViewChange: ViewChange?
    var lastNewView: NewView?
    var commitsInView = 0
    var statusHeights: [UInt32: UInt64] = [:]
    var pool: [Hash: Transaction] = [:]
    /// The pool's size by ``Transaction/encodedBytesBound``.
    var poolBytes = 0
    var poolOrder: [Hash] = []
    /// Changes whenever a transaction enters or leaves the pool.
    var poolVersion: UInt64 = 0
    /// Ids of the transactions in the uncommitted blocks below the next
    /// proposal, keyed by those blocks' hashes; rebuilt only when they change.
    var inFlightCache: (ancestors: [Hash], ids: Set<Hash>)?
    /// The last proposal attempt that found no batch to send; the same
    /// attempt is not repeated until the pool, the ancestors or the batch timer change.
    var fruitlessProposal: ProposalAttempt?
    /// The blocks committed here but not yet reported executed, oldest first:
    /// the validator's ledger does not show their effects yet, so a proposal
    /// is ordered after them.
    var unexecutedBlocks: [Block] = []
    var nextProposalHeight: UInt64
    var ticksSinceProposal = 0
    var progressTicks = 0
    var viewChangeTicksLeft = 0
    var ticksToRetransmit = 1
    var clockMs: UInt64 = 0
    var stateTransferTarget: UInt64?
    /// True once a fault was reported; the replica then ignores every input.
    public internal(set) var halted = false
    /// How many inputs were ignored, by reason; exported as metrics.
    public internal(set) var dropCounts: [DropReason: Int] = [:]

    var actions: [ReplicaAction] = []
    var dirty = false

    /// Starts a replica from the ledger's head and, after a restart, from the
    /// record it persisted last.
    public init(configuration: ReplicaConfiguration, signer: any ConsensusSigner, verifier: any SignatureVerifier,
                validator: any ProposalValidator, head: ChainHead, restoring saved: PersistentState?) {
        precondition(configuration.validators[configuration.replicaIndex].nodeKey == signer.publicKey,
                     "the signer's key is not this replica's validator key")
        self.configuration = configuration
        self.signer = signer
        self.verifier = verifier
        self.validator = validator
        view = saved?.view ?? 0
        changingTo = saved?.changingTo
        viewChangeAttempts = Int(saved?.viewChangeAttempts ?? 0)
        stableProof = saved?.stableCheckpoint
        lowHeader = saved?.stableCheckpoint?.header ?? configuration.genesisHeader
        committedHeight = head.committedHeader.height
        committedHeader = head.committedHeader
        executedHeight = head.executedHeight
        ownVotes = [:]
        for vote in saved?.ownVotes ?? [] { ownVotes[vote.height] = vote }
        nextProposalHeight = max(committedHeight, lowHeader.height, ownVotes.keys.max() ?? 0) + 1
        executedRoots[0] = configuration.genesisStateRoot
        executedRoots[head.executedHeight] = head.executedStateRoot
        committedHashes[committedHeight] = committedHeader.hash
        for certificate in saved?.prepared ?? [] where certificate.height > lowHeader.height {
            var slot = Slot()
            slot.prepared = certificate
            if certificate.view == view && changingTo == nil {
                slot.prePrepare = certificate.prePrepare
                slot.reproposed = true
                for prepare in certificate.prepares { slot.prepares[prepare.replica] = prepare }
            }
            slots[certificate.height] = slot
        }
        if let target = changingTo {
            viewChangeTicksLeft = timeoutTicks()
            ownViewChange = makeViewChange(target: target)
            if let change = ownViewChange { viewChanges[change.replica] = change }
        }
        // The checkpoints signed before a restart were kept only in memory. If
        // the executed head is a checkpoint height, sign it again (it is resent
        // with the others): when the head is the high watermark, the cluster
        // may be waiting on exactly this vote to advance (paper 4.3).
        if executedHeight > lowHeader.height, executedHeight % checkpointInterval == 0, committedHeader.height == executedHeight {
            let digest = Checkpoint.signingDigest(chainID: chainID, height: executedHeight, blockHash: committedHeader.hash,
                                                  stateRoot: head.executedStateRoot)
            let checkpoint = Checkpoint(header: committedHeader, stateRoot: head.executedStateRoot, replica: me, signature: signer.sign(digest))
            ownCheckpoints[executedHeight] = checkpoint
            checkpointVotes[executedHeight, default: [:]][me] = checkpoint
        }
    }

    // MARK: Derived values

    var me: UInt32 { UInt32(configuration.replicaIndex) }
    var validators: ValidatorSet { configuration.validators }
    var chainID: String { configuration.chainID }
    var quorum: Int { validators.quorum }
    var maxFaulty: Int { validators.maxFaulty }
    var window: UInt64 { UInt64(configuration.parameters.watermarkWindowBlocks) }
    var checkpointInterval: UInt64 { UInt64(configuration.parameters.checkpointIntervalBlocks) }
    /// Low watermark h: the stable checkpoint's height (paper 4.3).
    public var lowWatermark: UInt64 { lowHeader.height }
    /// High watermark H = h + window (paper 4.3).
    public var highWatermark: UInt64 { lowHeader.height + window }
    /// The primary of `view`: validators[view mod n] (paper 4.1).
    public func primary(of view: UInt64) -> UInt32 { UInt32(view % UInt64(validators.count)) }
    var isPrimary: Bool { primary(of: view) == me }
    /// The highest stable checkpoint proof this replica holds.
    public var stableCheckpoint: CheckpointProof? { stableProof }
    /// Transactions waiting to be ordered.
    public var pendingTransactionCount: Int { pool.count }
    /// The highest committed height that at least f+1 other validators
    /// report in their signed status messages, so at least one honest one
    /// has reached it; 0 until they have reported.
    public var peersCommittedHeight: UInt64 {
        let heights = statusHeights.values.sorted(by: >)
        return heights.count > maxFaulty ? heights[maxFaulty] : 0
    }

    func timeoutTicks() -> Int {
        let doublings = min(viewChangeAttempts, configuration.timing.viewChangeBackoffDoublingsMax)
        return configuration.timing.viewChangeTimeoutTicks << doublings
    }

    /// The record to persist now.
    public var persistentState: PersistentState {
        PersistentState(
            view: view, changingTo: changingTo, viewChangeAttempts: UInt32(min(viewChangeAttempts, Int(UInt32.max))),
            ownVotes: ownVotes.values.sorted { $0.height < $1.height },
            prepared: slots.keys.sorted().compactMap { slots[$0]?.prepared },
            stableCheckpoint: stableProof)
    }

    // MARK: Step

    /// Feeds one input and returns what the shell must do, in order.
    public mutating func step(_ input: ReplicaInput) -> [ReplicaAction] {
        actions = []
        dirty = false
        if halted {
            drop(.halted)
        } else {
            switch input {
            case .message(let message): receive(message)
            case .messageBytes(let bytes):
                do {
                    receive(try ConsensusMessage.decode(wire: bytes))
                } catch {
                    drop(.malformed)
                }
            case .tick(let clock): onTick(clockMs: clock)
            case .submit(let transactions): onSubmit(transactions)
            case .executed(let header, let root): onExecuted(header: header, stateRoot: root)
            case .stateTransfer(let blocks): onStateTransfer(blocks)
            }
        }
        checkInvariants()
        var result = actions
        if dirty { result.insert(.persist(persistentState), at: 0) }
        actions = []
        dirty = false
        return result
    }

    mutating func receive(_ message: ConsensusMessage) {
        switch message {
        case .prePrepare(let m): onPrePrepare(m)
        case .prepare(let m): onPrepare(m)
        case .commit(let m): onCommit(m)
        case .checkpoint(let m): onCheckpoint(m)
        case .viewChange(let m): onViewChange(m)
        case .newView(let m): onNewView(m)
        case .forward(let m): onForward(m)
        case .status(let m):
            // A status report changes nothing in the log.
            return onStatus(m)
        }
        progress()
    }

    mutating func drop(_ reason: DropReason) {
        dropCounts[reason, default: 0] += 1
    }

    mutating func send(_ message: ConsensusMessage, to destination: Destination = .all) {
        actions.append(.send(message, to: destination))
    }

    mutating func reportFault(_ fault: ReplicaFault) {
        guard !halted else { return }
        halted = true
        actions.append(.fault(fault))
    }

    func isValidSignature(_ signature: Signature, by replica: UInt32, for digest: Hash) -> Bool {
        guard Int(replica) < validators.count else { return false }
        return verifier.isValid(signature, by: validators[Int(replica)].nodeKey, for: digest)
    }

    /// Invariants that hold after every step; a failure is a bug in this file, not bad input.
    func checkInvariants() {
        precondition(changingTo.map { $0 > view } ?? true, "a view-change target is above the current view")
        precondition(slots.keys.allSatisfy { $0 > lowHeader.height && $0 <= highWatermark }, "log entries lie within the watermarks")
        precondition(ownVotes.keys.allSatisfy { $0 > lowHeader.height }, "own votes lie above the low watermark")
        precondition(pool.count <= ConsensusLimits.pendingTransactionsMax
                     && poolBytes <= ConsensusLimits.pendingTransactionBytesMax, "the pool is bounded")
        precondition(viewChanges.count <= validators.count, "one view-change message per validator")
        precondition(executedHeight <= committedHeight || executedHeight <= lowHeader.height, "only committed blocks execute")
        for (height, slot) in slots {
            if let prePrepare = slot.prePrepare, let vote = ownVotes[height], changingTo == nil {
                precondition(slot.sentPrepare == nil || vote.blockHash == prePrepare.blockHash, "own prepare matches own vote")
            }
        }
    }

    // MARK: Ticks, requests, execution

    mutating func onTick(clockMs clock: UInt64) {
        clockMs = max(clockMs, clock)
        ticksSinceProposal += 1
        if let target = changingTo {
            // Paper 4.5.2: the timer for the new view runs only once 2f+1
            // replicas want it (or a later one), so a replica cannot race
            // ahead alone and honest replicas meet at one view.
            let wanting = viewChanges.values.filter { $0.newView >= target }.count
            if wanting >= quorum {
                viewChangeTicksLeft -= 1
                if viewChangeTicksLeft <= 0 {
                    // The new primary did not deliver in time: try the next view.
                    startViewChange(to: target + 1)
                }
            }
        } else if hasOutstandingWork {
            progressTicks += 1
            if progressTicks >= timeoutTicks() {
                startViewChange(to: view + 1)
            }
        } else {
            progressTicks = 0
        }
        ticksToRetransmit -= 1
        if ticksToRetransmit <= 0 {
            ticksToRetransmit = configuration.timing.retransmitTicks
            retransmit()
        }
        // Nothing in the log waits on time; only the batch timer does.
        tryPropose()
    }

    /// Work this replica expects to see ordered: requests in its pool (rule 9)
    /// or accepted proposals not yet committed.
    var hasOutstandingWork: Bool {
        if !pool.isEmpty { return true }
        return slots.contains { $0.key > committedHeight && $0.value.prePrepare != nil }
    }

    mutating func onSubmit(_ transactions: [Transaction]) {
        var added: [Transaction] = []
        for transaction in transactions where addToPool(transaction) {
            added.append(transaction)
        }
        if !isPrimary && changingTo == nil && !added.isEmpty {
            forward(added)
        }
        progress()
    }

    @discardableResult
    mutating func addToPool(_ transaction: Transaction) -> Bool {
        guard pool[transaction.id] == nil else { return false }
        let size = transaction.encodedBytesBound
        guard pool.count < ConsensusLimits.pendingTransactionsMax,
              poolBytes + size <= ConsensusLimits.pendingTransactionBytesMax else {
            drop(.poolFull)
            return false
        }
        guard validator.isAcceptable(transaction) else {
            drop(.unacceptableTransaction)
            return false
        }
        pool[transaction.id] = transaction
        poolBytes += size
        poolOrder.append(transaction.id)
        poolVersion &+= 1
        return true
    }

    func oldestPending(_ count: Int) -> [Transaction] {
        var result: [Transaction] = []
        for id in poolOrder where result.count < count {
            if let transaction = pool[id] { result.append(transaction) }
        }
        return result
    }

    mutating func removeFromPool(_ ids: [Hash]) {
        for id in ids {
            if let removed = pool.removeValue(forKey: id) { poolBytes -= removed.encodedBytesBound }
        }
        poolVersion &+= 1
        if poolOrder.count > 2 * pool.count + 64 {
            poolOrder = poolOrder.filter { pool[$0] != nil }
        }
    }

    /// Relays requests to the primary so that a primary which ignores them is
    /// suspected when the backup's timer fires (docs/consensus.md rule 9).
    mutating func forward(_ transactions: [Transaction]) {
        var start = 0
        while start < transactions.count {
            let chunk = Array(transactions[start..<min(transactions.count, start + ConsensusLimits.forwardTransactionsMax)])
            let signature = signer.sign(Forward.signingDigest(chainID: chainID, replica: me, transactions: chunk))
            send(.forward(Forward(replica: me, transactions: chunk, signature: signature)), to: .replica(Int(primary(of: view))))
            start += ConsensusLimits.forwardTransactionsMax
        }
    }

    mutating func onForward(_ message: Forward) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        guard isPrimary && changingTo == nil else { return drop(.notPrimary) }
        for transaction in message.transactions { addToPool(transaction) }
    }

    mutating func onStatus(_ message: Status) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        statusHeights[message.replica] = max(statusHeights[message.replica] ?? 0, message.committedHeight)
    }

    /// Periodic resend of what peers may have lost (the paper assumes
    /// retransmission, section 4.5.1), a status report, and the catch-up check.
    mutating func retransmit() {
        let statusSignature = signer.sign(Status.signingDigest(chainID: chainID, replica: me, committedHeight: committedHeight))
        send(.status(Status(replica: me, committedHeight: committedHeight, signature: statusSignature)))
        if changingTo != nil {
            if let change = ownViewChange { send(.viewChange(change)) }
        } else {
            if isPrimary, let newView = lastNewView, newView.view == view, commitsInView == 0 {
                send(.newView(newView))
            }
            // Votes are resent only when work has stalled for an interval.
            let stalled = progressTicks >= configuration.timing.retransmitTicks
            for height in slots.keys.sorted() where stalled {
                guard let slot = slots[height] else { continue }
                if isPrimary, height > committedHeight, let prePrepare = slot.prePrepare, prePrepare.view == view {
                    send(.prePrepare(prePrepare))
                }
                if let prepare = slot.sentPrepare { send(.prepare(prepare)) }
                if let commit = slot.sentCommit { send(.commit(commit)) }
            }
            evictUnacceptableTransactions()
            if !isPrimary && !pool.isEmpty {
                forward(oldestPending(ConsensusLimits.forwardTransactionsMax))
            }
        }
        // Our checkpoints at and above the stable one: a lost checkpoint above
        // it would otherwise pin the high watermark for ever.
        for height in ownCheckpoints.keys.sorted() where height >= lowHeader.height {
            if let checkpoint = ownCheckpoints[height] { send(.checkpoint(checkpoint)) }
        }
        checkBehind()
    }

    mutating func evictUnacceptableTransactions() {
        let dead = poolOrder.filter { id in pool[id].map { !validator.isAcceptable($0) } ?? false }
        if !dead.isEmpty { removeFromPool(dead) }
    }

    /// Starts state transfer when f+1 peers report commits above ours, so at
    /// least one honest replica has them (docs/consensus.md rule 10).
    mutating func checkBehind() {
        var target = peersCommittedHeight
        if committedHeight < lowHeader.height { target = max(target, lowHeader.height) }
        guard target > committedHeight else {
            stateTransferTarget = nil
            return
        }
        stateTransferTarget = target
        actions.append(.requestStateTransfer(fromHeight: committedHeight + 1, toHeight: target))
    }

    mutating func onStateTransfer(_ blocks: [CertifiedBlock]) {
        for entry in blocks.prefix(ConsensusLimits.stateTransferBlocksMax) {
            let block = entry.block
            if block.height <= committedHeight { continue }
            guard block.height == committedHeight + 1, block.header.parentHash == committedHeader.hash,
                  entry.certificate.height == block.height else {
                drop(.stateTransferOutOfOrder)
                break
            }
            do {
                try entry.certificate.verify(blockHash: block.hash, validators: validators, chainID: chainID, verifier: verifier)
            } catch {
                drop(.invalidCertificate)
                break
            }
            applyCommit(block, certificate: entry.certificate)
            if halted { return }
        }
        if let target = stateTransferTarget, committedHeight >= target { stateTransferTarget = nil }
        progress()
    }

    /// Appends a certified block to the chain: emits the commit action and
    /// checks the state root the header certifies (execution agreement).
    mutating func applyCommit(_ block: Block, certificate: CommitCertificate) {
        precondition(block.height == committedHeight + 1, "blocks commit in height order")
        committedHeight = block.height
        committedHeader = block.header
        committedHashes[block.height] = block.hash
        actions.append(.commit(block, certificate))
        removeFromPool(block.transactions.map(\.id))
        unexecutedBlocks.append(block)
        progressTicks = 0
        viewChangeAttempts = 0
        commitsInView += 1
        if block.height >= nextProposalHeight { nextProposalHeight = block.height + 1 }
        checkCertifiedRoot(height: block.header.stateHeight, root: block.header.stateRoot)
    }

    /// A root certified (by a header or a stable checkpoint) for `height`:
    /// compare it with ours now, or when we execute that height.
    mutating func checkCertifiedRoot(height: UInt64, root: Hash) {
        if let local = executedRoots[height] {
            if local != root { reportFault(.stateRootMismatch(height: height, local: local, certified: root)) }
        } else if height > executedHeight {
            if let earlier = expectedRoots[height], earlier != root {
                reportFault(.stateRootMismatch(height: height, local: earlier, certified: root))
            }
            expectedRoots[height] = root
        }
    }

    mutating func onExecuted(header: BlockHeader, stateRoot: Hash) {
        guard header.height == executedHeight + 1, header.height <= committedHeight else { return drop(.executionOutOfOrder) }
        if let known = committedHashes[header.height], known != header.hash { return drop(.executionOutOfOrder) }
        executedHeight = header.height
        executedRoots[header.height] = stateRoot
        unexecutedBlocks.removeAll { $0.height <= executedHeight }
        let kept = 2 * window + 2
        if executedHeight > kept && executedRoots.count > Int(kept) {
            let floor = executedHeight - kept
            executedRoots = executedRoots.filter { $0.key >= floor || $0.key == 0 }
        }
        if let expected = expectedRoots.removeValue(forKey: header.height), expected != stateRoot {
            return reportFault(.stateRootMismatch(height: header.height, local: stateRoot, certified: expected))
        }
        if header.height % checkpointInterval == 0 {
            // Paper 4.3: a replica multicasts a checkpoint after executing a multiple of K.
            let digest = Checkpoint.signingDigest(chainID: chainID, height: header.height, blockHash: header.hash, stateRoot: stateRoot)
            let checkpoint = Checkpoint(header: header, stateRoot: stateRoot, replica: me, signature: signer.sign(digest))
            ownCheckpoints[header.height] = checkpoint
            send(.checkpoint(checkpoint))
            recordCheckpoint(checkpoint)
        }
        progress()
    }
}
