import LedgerCore

/// Per-height state of the log (paper 4.2): what this replica accepted and
/// collected at one height in its current view, and the highest-view prepared
/// certificate it holds there.
struct Slot {
    /// The pre-prepare accepted in the current view, with its block.
    var prePrepare: PrePrepare?
    /// A re-proposal accepted in the current view (from a new view's O or a
    /// restored certificate) whose transactions this replica does not hold
    /// yet; they are being fetched (docs/consensus.md rule 8). Never set
    /// together with ``prePrepare``.
    var awaitedBody: ProposedHeader?
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
        awaitedBody = nil
    }

    /// What was accepted at this height in the current view, with or without its transactions.
    var proposal: ProposedHeader? {
        prePrepare.map(ProposedHeader.init(prePrepare:)) ?? awaitedBody
    }
}

/// A pre-prepare known by its header: enough to vote on the digest and to
/// build a prepared certificate, not to check or commit the block.
struct ProposedHeader: Equatable {
    var view: UInt64
    var header: BlockHeader
    var blockHash: Hash
    /// The signature of the primary of `view` over the pre-prepare digest.
    var signature: Signature

    init(view: UInt64, header: BlockHeader, signature: Signature) {
        self.view = view
        self.header = header
        self.blockHash = header.hash
        self.signature = signature
    }

    init(prePrepare: PrePrepare) {
        view = prePrepare.view
        header = prePrepare.block.header
        blockHash = prePrepare.blockHash
        signature = prePrepare.signature
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
    /// The highest view this replica has sent a VIEW-CHANGE for: it may enter
    /// a lower view by its new-view message, but votes in none (rule 7).
    var viewChangeSentFor: UInt64
    var ownVotes: [UInt64: OwnVote]
    var stableProof: CheckpointProof?
    /// Bodies of blocks seen proposed above the low watermark, by hash, so
    /// that blocks a new view re-proposes can be prepared and committed (and
    /// served to peers that lack them). At most a window's worth, bounded by
    /// ``ConsensusLimits/retainedBlockBytesMax``.
    var retainedBodies: [Hash: Block] = [:]
    /// The retained bodies' size by ``Block/encodedBytesBound``.
    var retainedBodyBytes = 0

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
    /// The highest view each replica's status has reported.
    var statusViews: [UInt32: UInt64] = [:]
    /// The requests waiting to be ordered: the node's one pool, shared with
    /// its admission (``RequestPool``).
    let pool: any RequestPool
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
    /// Ticks since this replica last saw the view make progress (a commit, a
    /// fresh proposal it prepared, or its own proposal) while it had work
    /// outstanding: the progress timer of rule 9.
    var progressTicks = 0
    /// Ticks since the back-off last decayed, counted in normal operation.
    var calmTicks = 0
    /// Ticks since this replica started; the clock of per-request ages.
    var tickCount: UInt64 = 0
    /// When (in ``tickCount``) this backup first forwarded each pooled request
    /// to the current view's primary.
    var forwardedAt: [Hash: UInt64] = [:]
    /// When (in ``tickCount``) this replica last resent its new-view message to each peer.
    var newViewResentAt: [UInt32: UInt64] = [:]
    /// When (in ``tickCount``) this replica last resent its votes to each peer that reported being behind.
    var votesResentAt: [UInt32: UInt64] = [:]
    var viewChangeTicksLeft = 0
    var ticksToRetransmit = 1
    /// False until the first retransmission after start: a restarted replica
    /// resends its votes and (as primary) its proposals at once, since what
    /// it sent before stopping may never have arrived.
    var retransmittedSinceStart = false
    var clockMs: UInt64 = 0
    var stateTransferTarget: UInt64?
    /// Why the replica last started a view change; nil until it has.
    public internal(set) var lastViewChangeReason: ViewChangeReason?
    /// Why this replica suspects the current view's primary (rule 9); nil
    /// while the view serves it. A suspicion is announced in ``Status``, and
    /// the view is left only once 2f+1 replicas suspect it, so one replica
    /// that timed out alone (cut off, or slow) keeps its place in the view.
    public internal(set) var suspicion: ViewChangeReason?
    /// The other replicas whose latest status suspects the current view's
    /// primary, or that sent a view change leaving it.
    var suspectedBy: Set<UInt32> = []
    /// The signed statuses behind ``suspectedBy``: relayed to every replica
    /// when they make this one leave the view, so no replica leaves alone on
    /// evidence the others did not see (a lost withdrawal, say).
    var suspicionStatuses: [UInt32: Status] = [:]
    /// The replicas, this one included, that suspected the current view's
    /// primary at some time in the view (by a signed status of the view, or
    /// a view change leaving it), withdrawn or not: once another replica has
    /// left the view, it may have left on any of them, so they all count
    /// (rule 9). Emptied on entering a view.
    var suspectedInView: Set<UInt32> = []
    /// The latest signed suspecting status of each peer behind ``suspectedInView``.
    var suspicionEvidence: [UInt32: Status] = [:]
    /// The signed statuses this replica left its view on, resent to every
    /// replica at each retransmission while it changes view, so that the
    /// others can follow it even if the first relay was lost (rule 9).
    var leftOnStatuses: [Status] = []
    /// True once a fault was reported; the replica then ignores every input.
    public internal(set) var halted = false
    /// How many inputs were ignored, by reason; exported as metrics.
    public internal(set) var dropCounts: [DropReason: Int] = [:]

    /// Which peer the next block request goes to (rotates).
    var blockRequestRotation = 0
    /// Block requests answered per peer in this retransmit interval.
    var blockRequestsAnswered: [UInt32: Int] = [:]

    var actions: [ReplicaAction] = []
    var dirty = false

    /// Starts a replica from the ledger's head and, after a restart, from the
    /// record it persisted last. `pool` is where its requests wait: the
    /// node's mempool, or a pool of its own when the application keeps none.
    public init(configuration: ReplicaConfiguration, signer: any ConsensusSigner, verifier: any SignatureVerifier,
                validator: any ProposalValidator, pool: any RequestPool = LockedTransactionPool(),
                head: ChainHead, restoring saved: PersistentState?) {
        precondition(configuration.validators[configuration.replicaIndex].nodeKey == signer.publicKey,
                     "the signer's key is not this replica's validator key")
        self.configuration = configuration
        self.signer = signer
        self.verifier = verifier
        self.validator = validator
        self.pool = pool
        view = saved?.view ?? 0
        changingTo = saved?.changingTo
        viewChangeAttempts = Int(saved?.viewChangeAttempts ?? 0)
        viewChangeSentFor = saved?.viewChangeSentFor ?? 0
        stableProof = saved?.stableCheckpoint
        // The new-view message the view was entered by, so that a replica that missed it can still be brought in (rule 8).
        lastNewView = saved?.newView.flatMap { $0.view == saved?.view ? $0 : nil }
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
        for body in saved?.blockBodies ?? [] where body.height > lowHeader.height && retainedBodies.count < Int(window) {
            let size = body.encodedBytesBound
            guard retainedBodyBytes + size <= ConsensusLimits.retainedBlockBytesMax else { continue }
            retainedBodies[body.hash] = body
            retainedBodyBytes += size
        }
        for certificate in saved?.prepared ?? [] where certificate.height > lowHeader.height {
            var slot = Slot()
            slot.prepared = certificate
            if certificate.view == view && changingTo == nil {
                // A body not retained is fetched from peers (docs/consensus.md rule 8).
                let proposal = ProposedHeader(view: certificate.view, header: certificate.header, signature: certificate.signature)
                if let body = retainedBodies[certificate.blockHash] ?? Replica.emptyBody(of: certificate.header) {
                    slot.prePrepare = PrePrepare(view: proposal.view, block: body, signature: proposal.signature)
                } else {
                    slot.awaitedBody = proposal
                }
                slot.reproposed = true
                for prepare in certificate.prepares { slot.prepares[prepare.replica] = prepare }
            }
            slots[certificate.height] = slot
        }
        restoreNewViewProposals()
        restoreOwnProposals()
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

    /// A replica restarted in a view it entered by NEW-VIEW installs that
    /// message's re-proposals again (rule 8): those that had not prepared
    /// before the stop are in no prepared certificate, and without them the
    /// view could not fill its heights up to the last re-proposal.
    mutating func restoreNewViewProposals() {
        guard changingTo == nil, let message = lastNewView else { return }
        for proposal in message.proposals where proposal.height > lowHeader.height && proposal.height <= highWatermark {
            if slots[proposal.height]?.proposal != nil { continue }
            installReproposal(ProposedHeader(view: message.view, header: proposal.header, signature: proposal.signature))
            nextProposalHeight = max(nextProposalHeight, proposal.height + 1)
        }
    }

    /// A primary restarted in its view takes back the proposals it had made
    /// and not seen prepared: their bodies were persisted with the record
    /// (rule 11), so it signs the same pre-prepares again (the same digest
    /// at the same view and height, never another) and goes on proposing at
    /// once, instead of waiting with a gap for the view to change. A
    /// proposal whose body was not kept leaves the gap to the view change.
    mutating func restoreOwnProposals() {
        guard changingTo == nil, isPrimary else { return }
        for (height, vote) in ownVotes.sorted(by: { $0.key < $1.key })
        where height > committedHeight && height > lowHeader.height && slots[height]?.prePrepare == nil && slots[height]?.awaitedBody == nil {
            guard let body = retainedBodies[vote.blockHash] else { continue }
            let signature = signer.sign(PrePrepare.signingDigest(chainID: chainID, view: view, height: height, blockHash: vote.blockHash))
            slots[height, default: Slot()].prePrepare = PrePrepare(view: view, block: body, signature: signature)
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
    /// Whether this replica may sign proposals and votes in its view: not in
    /// a view below one it has sent a VIEW-CHANGE for, since a new view may
    /// still be built from that message, which does not show them (rule 7).
    var votesInView: Bool { view >= viewChangeSentFor }
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
        configuration.timing.viewChangeTimeoutTicks(afterAttempts: viewChangeAttempts)
    }

    /// The record to persist now.
    public var persistentState: PersistentState {
        PersistentState(
            view: view, changingTo: changingTo, viewChangeAttempts: UInt32(min(viewChangeAttempts, Int(UInt32.max))),
            ownVotes: ownVotes.values.sorted { $0.height < $1.height },
            prepared: slots.keys.sorted().compactMap { slots[$0]?.prepared },
            stableCheckpoint: stableProof,
            blockBodies: retainedBodies.keys.sorted().compactMap { retainedBodies[$0] },
            newView: lastNewView.flatMap { $0.view == view ? $0 : nil }, viewChangeSentFor: viewChangeSentFor)
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
        case .blockResponse(let m): onBlockResponse(m)
        case .blockRequest(let m):
            // Answering changes nothing in the log.
            return onBlockRequest(m)
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
        precondition(viewChangeSentFor >= (changingTo ?? 0), "the view-change target is a view this replica asked for")
        precondition(slots.keys.allSatisfy { $0 > lowHeader.height && $0 <= highWatermark }, "log entries lie within the watermarks")
        precondition(ownVotes.keys.allSatisfy { $0 > lowHeader.height }, "own votes lie above the low watermark")
        precondition(viewChanges.count <= validators.count, "one view-change message per validator")
        precondition(suspicionStatuses.count <= validators.count && suspectedBy.count <= validators.count, "one suspicion per validator")
        precondition(suspicionEvidence.count <= validators.count && suspectedInView.count <= validators.count
                     && leftOnStatuses.count <= validators.count, "one suspicion per validator in the view")
        precondition(retainedBodies.count <= Int(window) && retainedBodyBytes <= ConsensusLimits.retainedBlockBytesMax,
                     "retained block bodies are bounded")
        precondition(slots.values.allSatisfy { $0.prePrepare == nil || $0.awaitedBody == nil }, "a slot holds a body or awaits one")
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
        tickCount += 1
        if let target = changingTo {
            // Paper 4.5.2: the timer for the new view runs only once 2f+1
            // replicas want it (or a later one), so a replica cannot race
            // ahead alone and honest replicas meet at one view.
            let wanting = viewChanges.values.filter { $0.newView >= target }.count
            if wanting >= quorum {
                viewChangeTicksLeft -= 1
                if viewChangeTicksLeft <= 0 {
                    if statusViews.filter({ $0.key != me && $0.value >= target }).count > maxFaulty {
                        // f+1 replicas report being in the target view, so at least one honest replica
                        // entered it: its new-view exists, and they resend it to a replica that reports
                        // an older view. Wait for it rather than leave for a view nobody else wants.
                        viewChangeTicksLeft = timeoutTicks()
                    } else {
                        // The new primary did not deliver in time: try the next view.
                        startViewChange(to: target + 1, because: .newViewTimedOut)
                    }
                }
            }
        } else {
            runProgressTimer()
            decayBackoff()
        }
        ticksToRetransmit -= 1
        if ticksToRetransmit <= 0 {
            ticksToRetransmit = configuration.timing.retransmitTicks
            retransmit()
        }
        if tickCount == 1 {
            // The first clock reading: proposals that waited for it are judged now.
            progress()
        } else {
            // Nothing else in the log waits on time; only the batch timer does.
            tryPropose()
        }
    }

    /// The progress timer (docs/consensus.md rule 9): it runs while this
    /// replica has work outstanding and restarts whenever the view makes
    /// progress. When it runs out, the primary is suspected only for what it
    /// controls: an accepted proposal that never committed, or a request that
    /// could be proposed now. A pool holding only requests that cannot be
    /// proposed (a nonce gap, an expired transaction) is not the primary's
    /// fault, so an idle cluster never changes view because of it.
    mutating func runProgressTimer() {
        guard !pool.isEmpty || hasUncommittedProposal else {
            progressTicks = 0
            return
        }
        progressTicks += 1
        guard progressTicks >= timeoutTicks() else { return }
        progressTicks = 0
        if hasUncommittedProposal {
            suspectPrimary(because: .proposalNotCommitted)
        } else if hasProposableRequest() {
            suspectPrimary(because: .requestNotProposed)
        }
    }

    /// A proposal accepted in this view above the committed head, with its body or still awaiting it.
    var hasUncommittedProposal: Bool {
        slots.contains { $0.key > committedHeight && $0.value.proposal != nil }
    }

    /// Whether some pooled request, in none of the proposals in flight, could go in the next block.
    mutating func hasProposableRequest() -> Bool {
        let height = max(nextProposalHeight, committedHeight + 1)
        let ancestors = pendingAncestors(below: height) ?? []
        let inFlight = inFlightTransactions(ancestors)
        let candidates = pool.oldestFirst.filter { !inFlight.contains($0.id) }
        guard !candidates.isEmpty else { return false }
        return !validator.orderBatch(candidates, after: unexecutedBlocks + ancestors, blockTimestampMs: clockMs, limit: 1).isEmpty
    }

    /// The view made progress: restart the progress timer, and withdraw a
    /// suspicion the timer raised. A request found censored stays suspected
    /// until it leaves the pool: other blocks are no answer to it.
    mutating func noteProgress() {
        progressTicks = 0
        guard let reason = suspicion else { return }
        if case .requestCensored(let id) = reason, pool.contains(id) { return }
        suspicion = nil
        sendStatus()
    }

    /// Rule 9, first half: this replica suspects the primary. It says so to
    /// every replica, and relays its oldest pending requests to all of them,
    /// so that each honest replica holds the work, runs its own timer and can
    /// confirm the suspicion (a request may have reached this replica alone).
    /// The view changes once 2f+1 replicas suspect it (``leaveViewIfSuspected()``).
    mutating func suspectPrimary(because reason: ViewChangeReason) {
        guard changingTo == nil else { return }
        let announced = suspicion != nil
        suspicion = reason
        suspectedInView.insert(me)
        relay(oldestPending(ConsensusLimits.forwardTransactionsMax), to: .all)
        if !announced { sendStatus() }
        leaveViewIfSuspected()
    }

    /// Rule 9, second half: 2f+1 replicas, so f+1 honest ones, suspect the
    /// primary of this view; start the view change. A replica joins on this
    /// evidence whether or not its own timer has run out. Once another
    /// replica has left the view, every suspicion held at some time in the
    /// view counts, this replica's own included, withdrawn or not: the one
    /// that left may have left on exactly those, and without them it would
    /// stay alone in the view change while the rest keep the view.
    mutating func leaveViewIfSuspected() {
        guard changingTo == nil else { return }
        var suspecting = suspectedBy.subtracting([me])
        if suspicion != nil { suspecting.insert(me) }
        if viewChanges.values.contains(where: { $0.replica != me && $0.newView > view }) { suspecting.formUnion(suspectedInView) }
        guard suspecting.count >= quorum else { return }
        leftOnStatuses = suspecting.sorted().compactMap { suspicionStatuses[$0] ?? suspicionEvidence[$0] }
        for status in leftOnStatuses { send(.status(status)) }
        startViewChange(to: view + 1, because: suspicion ?? .primarySuspectedByQuorum)
    }

    /// Signs and sends this replica's status to every peer. A replica that
    /// is leaving its view reports suspecting that view's primary.
    mutating func sendStatus() {
        let suspects = changingTo != nil || suspicion != nil
        let signature = signer.sign(Status.signingDigest(chainID: chainID, replica: me, view: view, committedHeight: committedHeight,
                                                         suspectsPrimary: suspects))
        send(.status(Status(replica: me, view: view, committedHeight: committedHeight, suspectsPrimary: suspects, signature: signature)))
    }

    /// Lets the back-off decay by one doubling for every two timeouts' worth
    /// of ticks spent in a view that has committed, instead of dropping it at
    /// the first commit: a cluster that needed a longer timeout keeps it for a
    /// while, and one primary's failure costs the next views nothing for ever.
    mutating func decayBackoff() {
        guard viewChangeAttempts > 0, commitsInView > 0 else {
            calmTicks = 0
            return
        }
        calmTicks += 1
        guard calmTicks >= 2 * timeoutTicks() else { return }
        calmTicks = 0
        viewChangeAttempts -= 1
        dirty = true
    }

    /// New requests for this replica: the application has usually pooled
    /// them already (the node's mempool admits them before they come here).
    /// A backup forwards to the primary those it has not forwarded yet.
    mutating func onSubmit(_ transactions: [Transaction]) {
        var fresh: [Transaction] = []
        for transaction in transactions where forwardedAt[transaction.id] == nil && addToPool(transaction) {
            fresh.append(transaction)
        }
        if !isPrimary && changingTo == nil && !fresh.isEmpty {
            forward(fresh)
        }
        progress()
    }

    /// Makes sure a request is pooled: one submitted here (`relayed` false)
    /// needs only to be acceptable, one relayed by another validator
    /// (`relayed` true) passes the application's admission first, which pools
    /// it in the node (one admission path for every source). True when it is pooled.
    @discardableResult
    mutating func addToPool(_ transaction: Transaction, relayed: Bool = false) -> Bool {
        if pool.contains(transaction.id) { return !relayed }
        guard pool.hasRoom(for: transaction) else {
            drop(.poolFull)
            return false
        }
        guard relayed ? validator.admitRelayed(transaction) : validator.isAcceptable(transaction) else {
            drop(.unacceptableTransaction)
            return false
        }
        guard pool.insert(transaction) else {
            drop(.poolFull)
            return false
        }
        return true
    }

    func oldestPending(_ count: Int) -> [Transaction] {
        pool.oldest(count)
    }

    mutating func removeFromPool(_ ids: [Hash], because reason: RequestRemoval) {
        pool.remove(ids, because: reason)
        for id in ids { forwardedAt.removeValue(forKey: id) }
    }

    /// Forgets the forwarding times of requests that left the pool by another
    /// path (the application sweeps spent nonces and expired transactions).
    mutating func pruneForwardedTimes() {
        guard forwardedAt.count > pool.count else { return }
        forwardedAt = forwardedAt.filter { pool.contains($0.key) }
    }

    /// Relays requests to the primary so that a primary which ignores them is
    /// suspected when the backup's timer fires (docs/consensus.md rule 9).
    mutating func forward(_ transactions: [Transaction]) {
        for transaction in transactions where forwardedAt[transaction.id] == nil && pool.contains(transaction.id) {
            forwardedAt[transaction.id] = tickCount
        }
        relay(transactions, to: .replica(Int(primary(of: view))))
    }

    /// Sends requests in signed ``Forward`` messages of at most ``ConsensusLimits/forwardTransactionsMax``.
    mutating func relay(_ transactions: [Transaction], to destination: Destination) {
        var start = 0
        while start < transactions.count {
            let chunk = Array(transactions[start..<min(transactions.count, start + ConsensusLimits.forwardTransactionsMax)])
            let signature = signer.sign(Forward.signingDigest(chainID: chainID, replica: me, transactions: chunk))
            send(.forward(Forward(replica: me, transactions: chunk, signature: signature)), to: destination)
            start += ConsensusLimits.forwardTransactionsMax
        }
    }

    /// Pools relayed requests through the application's admission: the
    /// primary to propose them, a backup (sent them by a replica that
    /// suspects the primary) to hold the work and run its own timer.
    mutating func onForward(_ message: Forward) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        for transaction in message.transactions { addToPool(transaction, relayed: true) }
    }

    mutating func onStatus(_ message: Status) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        // A status older than one this peer already reported is a replay: it says nothing about the peer now.
        let isLatest = message.view >= (statusViews[message.replica] ?? 0)
        statusHeights[message.replica] = max(statusHeights[message.replica] ?? 0, message.committedHeight)
        statusViews[message.replica] = max(statusViews[message.replica] ?? 0, message.view)
        if message.view < view { resendNewView(to: message.replica) }
        if message.view == view, changingTo == nil, message.committedHeight < committedHeight {
            resendVotes(to: message.replica, above: message.committedHeight)
        }
        // A peer still in an older view cannot join this one without its
        // new-view message; a replica that does not hold it (it restarted
        // after entering the view) cannot bring the peer in, so the peer's
        // suspicion counts against this view's primary as well (rule 9).
        let laggardCounts = message.view < view && isLatest && !holdsNewViewOfCurrentView
        if changingTo == nil, message.view == view, message.suspectsPrimary {
            suspectedInView.insert(message.replica)
            suspicionEvidence[message.replica] = message
        }
        if changingTo == nil, message.view == view || laggardCounts {
            if message.suspectsPrimary {
                suspectedBy.insert(message.replica)
                suspicionStatuses[message.replica] = message
                leaveViewIfSuspected()
            } else {
                suspectedBy.remove(message.replica)
                suspicionStatuses[message.replica] = nil
            }
        }
    }

    /// Whether this replica can show a peer how the current view began:
    /// view 0 needs no new-view message; a later view needs the one it was entered by.
    var holdsNewViewOfCurrentView: Bool {
        view == 0 || lastNewView?.view == view
    }

    /// Sends the new-view message of the current view to a replica that
    /// reports an older view or still asks for one we entered, so a replica
    /// that missed view changes rejoins at once (docs/consensus.md rule 8);
    /// at most once per retransmit interval per peer, so a peer cannot make
    /// this replica repeat a large message without bound.
    mutating func resendNewView(to replica: UInt32) {
        guard changingTo == nil, let newView = lastNewView, newView.view == view else { return }
        if let last = newViewResentAt[replica], tickCount < last + UInt64(configuration.timing.retransmitTicks) { return }
        newViewResentAt[replica] = tickCount
        send(.newView(newView), to: .replica(Int(replica)))
    }

    /// Sends a peer in this view that reports committing less than this
    /// replica the votes (and, as primary, the proposals) this replica holds
    /// for the heights it lacks: a lost commit otherwise leaves it short of
    /// a quorum for good once this replica has nothing left to do, and the
    /// view would have to change for it. At most once per retransmit
    /// interval per peer.
    mutating func resendVotes(to replica: UInt32, above height: UInt64) {
        if let last = votesResentAt[replica], tickCount < last + UInt64(configuration.timing.retransmitTicks) { return }
        votesResentAt[replica] = tickCount
        let peer = Destination.replica(Int(replica))
        for slotHeight in slots.keys.sorted() where slotHeight > height && slotHeight <= committedHeight {
            guard let slot = slots[slotHeight] else { continue }
            if isPrimary, let prePrepare = slot.prePrepare, prePrepare.view == view { send(.prePrepare(prePrepare), to: peer) }
            if let prepare = slot.sentPrepare { send(.prepare(prepare), to: peer) }
            if let commit = slot.sentCommit { send(.commit(commit), to: peer) }
        }
    }

    /// Periodic resend of what peers may have lost (the paper assumes
    /// retransmission, section 4.5.1), a status report, and the catch-up check.
    mutating func retransmit() {
        sendStatus()
        if changingTo != nil {
            if let change = ownViewChange { send(.viewChange(change)) }
            for status in leftOnStatuses { send(.status(status)) }
        } else {
            if isPrimary, let newView = lastNewView, newView.view == view, commitsInView == 0 {
                send(.newView(newView))
            }
            // Votes are resent only when work has stalled for an interval.
            let stalled = progressTicks >= configuration.timing.retransmitTicks || !retransmittedSinceStart
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
        retransmitBlockRequests()
        checkBehind()
        retransmittedSinceStart = true
    }

    mutating func evictUnacceptableTransactions() {
        let dead = pool.oldestFirst.filter { !validator.isAcceptable($0) }.map(\.id)
        if !dead.isEmpty { removeFromPool(dead, because: .unacceptable) }
        pruneForwardedTimes()
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
        removeFromPool(block.transactions.map(\.id), because: .committed)
        unexecutedBlocks.append(block)
        noteProgress()
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
