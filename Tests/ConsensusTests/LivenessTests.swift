import ConsensusSimulator
import Consensus
import LedgerCore
import Testing

/// Accepts every transaction and block, but never finds one it could propose
/// next (as with a nonce gap): a pool of requests that cannot be ordered.
struct NothingProposable: ProposalValidator {
    func isAcceptable(_ transaction: Transaction) -> Bool { true }
    func isValid(block: Block, pendingAncestors: [Block]) -> Bool { true }
    func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int) -> [Transaction] { [] }
}

extension Cluster {
    func replica(_ index: Int, validator: any ProposalValidator, timing: ReplicaTiming? = nil, restoring saved: PersistentState? = nil) -> Replica {
        var configuration = configuration(index)
        if let timing { configuration.timing = timing }
        return Replica(configuration: configuration, signer: signer(index), verifier: SimulatedVerifier(), validator: validator,
                       head: ChainHead(committedHeader: genesis, executedHeight: 0, executedStateRoot: genesisRoot), restoring: saved)
    }

    func commit(view: UInt64, block: Block, by index: Int) -> Commit {
        let digest = CommitVote.digest(chainID: chainID, height: block.height, view: view, blockHash: block.hash)
        return Commit(view: view, height: block.height, blockHash: block.hash, replica: UInt32(index), signature: signer(index).sign(digest))
    }

    /// The signed status of replica `index` in `view`, suspecting that view's primary or not.
    func status(view: UInt64, by index: Int, committedHeight: UInt64 = 0, suspects: Bool = true) -> Status {
        let digest = Status.signingDigest(chainID: chainID, replica: UInt32(index), view: view, committedHeight: committedHeight,
                                          suspectsPrimary: suspects)
        return Status(replica: UInt32(index), view: view, committedHeight: committedHeight, suspectsPrimary: suspects,
                      signature: signer(index).sign(digest))
    }

    /// Blocks 1…count on genesis, each with one transaction of its own.
    func chain(_ count: Int, firstTransaction: Int = 100) -> [Block] {
        var parent = genesis
        var blocks: [Block] = []
        for offset in 0..<count {
            let block = block(height: parent.height + 1, parent: parent, transactions: [transaction(firstTransaction + offset)])
            blocks.append(block)
            parent = block.header
        }
        return blocks
    }
}

/// Ticks `replica` `count` times from `clockMs`, stopping early once it
/// suspects the primary or changes view; returns the ticks taken.
@discardableResult
func tick(_ replica: inout Replica, _ count: Int, clockMs: inout UInt64) -> Int {
    for taken in 1...count {
        clockMs += 10
        _ = replica.step(.tick(clockMs: clockMs))
        if replica.changingTo != nil || replica.suspicion != nil { return taken }
    }
    return count
}

/// Replicas `others` report suspecting view `view`'s primary to `replica`.
func confirmSuspicion(_ replica: inout Replica, view: UInt64 = 0, by others: [Int], _ cluster: Cluster) {
    for index in others { _ = replica.step(.message(.status(cluster.status(view: view, by: index)))) }
}

@Test func progressTimer_poolOfRequestsThatCannotBeProposed_neverChangesView() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var idle = cluster.replica(1, validator: NothingProposable())
    _ = idle.step(.submit([cluster.transaction(5)]))
    tick(&idle, 200, clockMs: &clock)
    #expect(idle.changingTo == nil && idle.view == 0, "requests nobody can propose are not the primary's fault")
    #expect(idle.pendingTransactionCount == 1)

    var waiting = cluster.replica(1, validator: AcceptAll())
    _ = waiting.step(.submit([cluster.transaction(5)]))
    let taken = tick(&waiting, 200, clockMs: &clock)
    #expect(waiting.suspicion == .requestNotProposed && taken == 10, "a request that could be proposed and is not: suspect the primary after one timeout")
    #expect(waiting.changingTo == nil, "one replica's suspicion moves no view")
    confirmSuspicion(&waiting, by: [2, 3], cluster)
    #expect(waiting.changingTo == 1)
    #expect(waiting.lastViewChangeReason == .requestNotProposed)
}

@Test func progressTimer_primaryKeepsProposing_backupKeepsTheViewThoughNothingCommits() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var backup = cluster.replica(1)
    // A busy primary: a new proposal every 6 ticks (the timeout is 10), commits slow to come.
    for block in cluster.chain(4) {
        let actions = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
        #expect(actions.sentMessages.contains { if case .prepare(let p) = $0 { p.height == block.height } else { false } })
        tick(&backup, 6, clockMs: &clock)
        #expect(backup.changingTo == nil, "a primary that keeps proposing is making progress")
    }
    // The proposals stop while one is uncommitted: one timeout later the backup suspects the primary.
    let taken = tick(&backup, 20, clockMs: &clock)
    #expect(backup.suspicion == .proposalNotCommitted && taken == 4)
    confirmSuspicion(&backup, by: [0, 2], cluster)
    #expect(backup.changingTo == 1)
    #expect(backup.lastViewChangeReason == .proposalNotCommitted)
}

/// Commits `block` at `replica` in view 0: pre-prepare from 0, prepares from 2 and 3, commits from 0, 2 and 3.
func commitInViewZero(_ replica: inout Replica, _ block: Block, _ cluster: Cluster) {
    _ = replica.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    for index in [2, 3] { _ = replica.step(.message(.prepare(cluster.prepare(view: 0, block: block, by: index)))) }
    for index in [0, 2, 3] { _ = replica.step(.message(.commit(cluster.commit(view: 0, block: block, by: index)))) }
}

@Test func backoff_decaysOverTime_insteadOfResettingAtTheFirstCommit() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    let saved = PersistentState(view: 0, changingTo: nil, viewChangeAttempts: 3, ownVotes: [], prepared: [], stableCheckpoint: nil)
    var replica = cluster.replica(1, validator: AcceptAll(), restoring: saved)
    let block = cluster.chain(1)[0]
    commitInViewZero(&replica, block, cluster)
    #expect(replica.committedHeight == 1)
    #expect(replica.persistentState.viewChangeAttempts == 3, "one commit does not undo the back-off")
    // Two timeouts (2 × 10 << 3 ticks) of a view that delivers take one doubling off.
    tick(&replica, 159, clockMs: &clock)
    #expect(replica.persistentState.viewChangeAttempts == 3)
    tick(&replica, 1, clockMs: &clock)
    #expect(replica.persistentState.viewChangeAttempts == 2)
    tick(&replica, 80, clockMs: &clock)
    #expect(replica.persistentState.viewChangeAttempts == 1)
}

@Test func backoff_isCappedInSeconds_notByDoublingsAlone() {
    let timing = ReplicaTiming.from(ChainParameters.defaults, tickMs: 10)
    #expect(timing.viewChangeTimeoutTicks(afterAttempts: 0) * 10 == ChainParameters.defaults.viewChangeTimeoutMs)
    #expect(timing.viewChangeTimeoutTicks(afterAttempts: 1) == 2 * timing.viewChangeTimeoutTicks)
    let longest = timing.viewChangeTimeoutTicks(afterAttempts: ConsensusLimits.viewChangeBackoffDoublingsMax)
    print("[backoff] longest view-change timeout \(longest * 10) ms, limit \(ConsensusLimits.viewChangeTimeoutMsMax) ms")
    #expect(longest * 10 == ConsensusLimits.viewChangeTimeoutMsMax)
    #expect(timing.viewChangeTimeoutTicks(afterAttempts: 1_000) == longest)

    // A replica restored after many fruitless view changes waits the cap, not 2^16 timeouts.
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    let capped = ReplicaTiming(batchTicks: 0, viewChangeTimeoutTicks: 10, retransmitTicks: 5, timestampDriftMsMax: 60_000,
                               viewChangeTimeoutTicksMax: 50)
    let saved = PersistentState(view: 0, changingTo: nil, viewChangeAttempts: 16, ownVotes: [], prepared: [], stableCheckpoint: nil)
    var replica = cluster.replica(1, validator: AcceptAll(), timing: capped, restoring: saved)
    _ = replica.step(.submit([cluster.transaction(5)]))
    #expect(tick(&replica, 100, clockMs: &clock) == 50)
    #expect(replica.suspicion == .requestNotProposed)
}

@Test func censorship_shortBlockOmittingAForwardedRequestPastItsTimeout_makesTheBackupSuspectThePrimary() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var backup = cluster.replica(1)
    let ignored = cluster.transaction(7)
    let actions = backup.step(.submit([ignored]))
    #expect(actions.sentMessages.contains { if case .forward(let f) = $0 { f.transactions.map(\.id) == [ignored.id] } else { false } })
    let blocks = cluster.chain(3)
    // Within the timeout, a short block without the request is no evidence: it may not have arrived.
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: blocks[0], by: 0))))
    tick(&backup, 6, clockMs: &clock)
    #expect(backup.changingTo == nil)
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: blocks[1], by: 0))))
    tick(&backup, 6, clockMs: &clock)
    #expect(backup.changingTo == nil)
    // Past the timeout, a block with room that still leaves it out: the primary ignores it.
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: blocks[2], by: 0))))
    #expect(backup.suspicion == .requestCensored(ignored.id))
    // More blocks are no answer to a censored request: the suspicion stands until it is ordered.
    let more = cluster.block(height: 4, parent: blocks[2].header, transactions: [cluster.transaction(300)])
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: more, by: 0))))
    #expect(backup.suspicion == .requestCensored(ignored.id))
    confirmSuspicion(&backup, by: [2, 3], cluster)
    #expect(backup.changingTo == 1)
    #expect(backup.lastViewChangeReason == .requestCensored(ignored.id))
}

@Test func censorship_fullBlocksWithoutTheRequest_areNoEvidence() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var backup = cluster.replica(1)
    _ = backup.step(.submit([cluster.transaction(7)]))
    var parent = cluster.genesis
    for round in 0..<3 {
        let full = (0..<cluster.parameters.blockTransactionsMax).map { cluster.transaction(200 + 10 * round + $0) }
        let block = cluster.block(height: parent.height + 1, parent: parent, transactions: full)
        parent = block.header
        _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
        tick(&backup, 6, clockMs: &clock)
        #expect(backup.changingTo == nil, "a primary with more work than room is busy, not censoring")
    }
}

/// Delivers every message sent among `replicas` (indices in `reachable`) until none is left.
func deliverAll(_ first: [(from: Int, actions: [ReplicaAction])], to replicas: inout [Replica], reachable: Set<Int>) {
    var queue = first
    while !queue.isEmpty {
        let (sender, actions) = queue.removeFirst()
        for action in actions {
            guard case .send(let message, let destination) = action else { continue }
            let targets: [Int]
            switch destination {
            case .all: targets = reachable.filter { $0 != sender }.sorted()
            case .replica(let index): targets = reachable.contains(index) ? [index] : []
            }
            for target in targets { queue.append((target, replicas[target].step(.message(message)))) }
        }
    }
}

@Test func suspicion_alone_keepsTheView_relaysTheWork_andIsWithdrawnOnProgress() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var backup = cluster.replica(1)
    let request = cluster.transaction(5)
    _ = backup.step(.submit([request]))
    // Cut off from the primary, it times out alone: it says so and hands the request to everyone.
    var sent: [(ConsensusMessage, Destination)] = []
    for _ in 0..<20 where backup.suspicion == nil {
        clock += 10
        for action in backup.step(.tick(clockMs: clock)) { if case .send(let message, let to) = action { sent.append((message, to)) } }
    }
    #expect(backup.suspicion == .requestNotProposed)
    #expect(sent.contains { if case .status(let s) = $0.0 { s.suspectsPrimary && s.view == 0 } else { false } })
    #expect(sent.contains { message, to in
        if case .forward(let f) = message { f.transactions.map(\.id) == [request.id] && to == .all } else { false }
    }, "every replica gets the request, so each can run its own timer")
    // f others agreeing are not enough; a status for another view does not count.
    confirmSuspicion(&backup, by: [2], cluster)
    confirmSuspicion(&backup, view: 1, by: [3], cluster)
    #expect(backup.changingTo == nil && backup.view == 0)
    // A withdrawn suspicion does not count either.
    _ = backup.step(.message(.status(cluster.status(view: 0, by: 2, suspects: false))))
    confirmSuspicion(&backup, by: [3], cluster)
    #expect(backup.changingTo == nil)
    // The view serves it again: the suspicion is withdrawn, and said to be.
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [request])
    var withdrawn = false
    let actions = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    for action in actions { if case .send(.status(let s), _) = action, !s.suspectsPrimary { withdrawn = true } }
    #expect(backup.suspicion == nil && withdrawn)
    #expect(actions.sentMessages.contains { if case .prepare(let p) = $0 { p.height == 1 && p.view == 0 } else { false } },
            "it still takes part in the view")
    // Three others suspecting is evidence enough: it joins without a timeout of its own,
    // and hands on the statuses it acted on, so that nobody leaves the view alone.
    confirmSuspicion(&backup, by: [0, 3], cluster)
    let leaving = backup.step(.message(.status(cluster.status(view: 0, by: 2))))
    #expect(backup.changingTo == 1 && backup.lastViewChangeReason == .primarySuspectedByQuorum)
    let relayed = leaving.sentMessages.compactMap { if case .status(let s) = $0, s.replica != 1 { s.replica } else { nil } }
    #expect(relayed.sorted() == [0, 2, 3])
    #expect(leaving.sentMessages.contains { if case .viewChange(let v) = $0 { v.newView == 1 } else { false } })
}

@Test func suspicion_aViewChangeForALaterView_countsAsLeavingThisOne() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    // Replica 2 suspects view 0's primary, replica 3 has left view 0 (it asks for view 1).
    _ = backup.step(.message(.status(cluster.status(view: 0, by: 2))))
    _ = backup.step(.message(.viewChange(cluster.viewChange(to: 1, by: 3))))
    #expect(backup.changingTo == nil, "two others are not yet 2f+1")
    _ = backup.step(.message(.status(cluster.status(view: 0, by: 0))))
    #expect(backup.changingTo == 1 && backup.lastViewChangeReason == .primarySuspectedByQuorum,
            "one view change (not the f+1 that joining needs) counts as one suspicion")
}

@Test func forward_toABackup_isPooledThroughAdmission() {
    let cluster = Cluster()
    var backup = cluster.replica(2)
    let relayed = cluster.transaction(9)
    let forward = Forward(replica: 1, transactions: [relayed], signature: cluster.signer(1).sign(
        Forward.signingDigest(chainID: cluster.chainID, replica: 1, transactions: [relayed])))
    _ = backup.step(.message(.forward(forward)))
    #expect(backup.pendingTransactionCount == 1)
    var refusing = cluster.replica(2, validator: RefusesRelayed())
    _ = refusing.step(.message(.forward(forward)))
    #expect(refusing.pendingTransactionCount == 0)
}

@Test func rejoin_replicaThatMissedTwoViewChanges_entersTheCurrentViewFromItsStatus() {
    let cluster = Cluster()
    var replicas = (0..<4).map { cluster.replica($0) }
    // Replicas 0, 1 and 2 move to view 2 while replica 3 hears nothing.
    let online: Set<Int> = [0, 1, 2]
    var started: [(from: Int, actions: [ReplicaAction])] = []
    for index in [0, 1] { started.append((2, replicas[2].step(.message(.viewChange(cluster.viewChange(to: 2, by: index)))))) }
    deliverAll(started, to: &replicas, reachable: online)
    #expect(online.allSatisfy { replicas[$0].view == 2 && replicas[$0].changingTo == nil })
    #expect(replicas[3].view == 0)

    // Replica 3's periodic status says view 0; a peer in view 2 sends it the new view once.
    var clock: UInt64 = 2_000
    var statuses: [ConsensusMessage] = []
    for _ in 0..<cluster.configuration(3).timing.retransmitTicks {
        clock += 10
        statuses += replicas[3].step(.tick(clockMs: clock)).sentMessages.filter { if case .status = $0 { true } else { false } }
    }
    guard let status = statuses.first else { Issue.record("replica 3 sent no status"); return }
    let answer = replicas[1].step(.message(status))
    let newViews = answer.sentMessages.filter { if case .newView = $0 { true } else { false } }
    #expect(newViews.count == 1)
    #expect(replicas[1].step(.message(status)).sentMessages.isEmpty, "the new view is resent at most once per interval")
    for message in newViews { _ = replicas[3].step(.message(message)) }
    #expect(replicas[3].view == 2 && replicas[3].changingTo == nil, "it rejoins at once")

    // And takes part in view 2: it prepares the new primary's next proposal.
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(1)], proposer: 2)
    let actions = replicas[3].step(.message(.prePrepare(cluster.prePrepare(view: 2, block: block, by: 2))))
    #expect(actions.sentMessages.contains { if case .prepare(let p) = $0 { p.view == 2 } else { false } })
}

@Test func rejoin_viewChangeForAViewBelowOurs_isAnsweredWithTheCurrentNewView() {
    let cluster = Cluster()
    var replicas = (0..<4).map { cluster.replica($0) }
    let online: Set<Int> = [0, 1, 2]
    var started: [(from: Int, actions: [ReplicaAction])] = []
    for index in [0, 1] { started.append((2, replicas[2].step(.message(.viewChange(cluster.viewChange(to: 2, by: index)))))) }
    deliverAll(started, to: &replicas, reachable: online)
    // Replica 3 timed out in view 0 and asks for view 1, which the others have left behind.
    let answer = replicas[0].step(.message(.viewChange(cluster.viewChange(to: 1, by: 3))))
    let newViews = answer.sentMessages.filter { if case .newView(let m) = $0 { m.view == 2 } else { false } }
    #expect(newViews.count == 1)
    for message in newViews { _ = replicas[3].step(.message(message)) }
    #expect(replicas[3].view == 2)
}

/// Takes requests from the node's own pool, refuses every relayed one: as the
/// node's mempool refuses a sender of no organization.
struct RefusesRelayed: ProposalValidator {
    func isAcceptable(_ transaction: Transaction) -> Bool { true }
    func admitRelayed(_ transaction: Transaction) -> Bool { false }
    func isValid(block: Block, pendingAncestors: [Block]) -> Bool { true }
}

@Test func forward_relayedRequests_passTheApplicationsAdmission() {
    let cluster = Cluster()
    var primary = cluster.replica(0, validator: RefusesRelayed())
    let relayed = cluster.transaction(3)
    let forward = Forward(replica: 2, transactions: [relayed], signature: cluster.signer(2).sign(
        Forward.signingDigest(chainID: cluster.chainID, replica: 2, transactions: [relayed])))
    _ = primary.step(.message(.forward(forward)))
    #expect(primary.pendingTransactionCount == 0)
    #expect(primary.dropCounts[.unacceptableTransaction] == 1)
    _ = primary.step(.submit([relayed]))
    #expect(primary.pendingTransactionCount == 1, "the node's own pool already admitted it")
}

@Test func restart_primaryWithAnUnpreparedProposal_takesItBackAndProposesAtOnce() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var primary = cluster.replica(0)
    var record: PersistentState?
    var proposed: [PrePrepare] = []
    for action in primary.step(.submit([cluster.transaction(1)])) + primary.step(.tick(clockMs: clock)) {
        if case .persist(let state) = action { record = state }
        if case .send(.prePrepare(let prePrepare), _) = action { proposed.append(prePrepare) }
    }
    guard let first = proposed.first, let saved = record else { Issue.record("the primary proposed nothing"); return }
    #expect(first.height == 1)

    // It stops before anyone prepared the block, and starts again from its record.
    var restarted = cluster.replica(0, validator: AcceptAll(), restoring: saved)
    var resent: [PrePrepare] = []
    var next: [PrePrepare] = []
    for action in restarted.step(.submit([cluster.transaction(2)])) {
        if case .send(.prePrepare(let prePrepare), _) = action { next.append(prePrepare) }
    }
    clock += 10
    for action in restarted.step(.tick(clockMs: clock)) {
        if case .send(.prePrepare(let prePrepare), _) = action {
            if prePrepare.height == 1 { resent.append(prePrepare) } else { next.append(prePrepare) }
        }
    }
    #expect(resent.map(\.blockHash) == [first.blockHash], "the same proposal is sent again at once, never another at height 1")
    #expect(next.contains { $0.height == 2 && $0.block.header.parentHash == first.blockHash }, "and the next height is proposed on top of it")
    #expect(restarted.changingTo == nil)

    // A backup that missed the first send prepares both.
    var backup = cluster.replica(1)
    var prepared: [UInt64] = []
    for prePrepare in resent + next {
        for action in backup.step(.message(.prePrepare(prePrepare))) {
            if case .send(.prepare(let prepare), _) = action { prepared.append(prepare.height) }
        }
    }
    #expect(prepared.sorted() == [1, 2])
}

@Test func newViewTimeout_whenFPlusOneReportTheTargetView_waitsForItsNewView_insteadOfLeavingAlone() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var informed = cluster.replica(3)
    var uninformed = cluster.replica(3)
    for index in [0, 1] {
        _ = informed.step(.message(.viewChange(cluster.viewChange(to: 1, by: index))))
        _ = uninformed.step(.message(.viewChange(cluster.viewChange(to: 1, by: index))))
    }
    #expect(informed.changingTo == 1 && uninformed.changingTo == 1)
    // Replicas 0 and 1 entered view 1 (their new-view to replica 3 was lost) and say so.
    for index in [0, 1] { _ = informed.step(.message(.status(cluster.status(view: 1, by: index, suspects: false)))) }
    for _ in 0..<100 {
        clock += 10
        _ = informed.step(.tick(clockMs: clock))
        _ = uninformed.step(.tick(clockMs: clock))
    }
    #expect(uninformed.changingTo == 2, "no sign that anyone entered view 1: try the next")
    #expect(informed.changingTo == 1, "f+1 are in view 1: its new view exists and is resent; wait for it")
}

@Test func status_ofAPeerBehindInThisView_isAnsweredWithTheVotesItLacks() {
    let cluster = Cluster()
    var ahead = cluster.replica(1)
    let block = cluster.chain(1)[0]
    commitInViewZero(&ahead, block, cluster)
    #expect(ahead.committedHeight == 1)
    // Replica 3 reports committing nothing in view 0: it lost a commit, and this replica has nothing left to do.
    let answer = ahead.step(.message(.status(cluster.status(view: 0, by: 3, committedHeight: 0, suspects: true))))
    let sent = answer.compactMap { action -> (ConsensusMessage, Destination)? in
        if case .send(let message, let to) = action { (message, to) } else { nil }
    }
    #expect(sent.contains { message, to in if case .commit(let c) = message { c.height == 1 && to == .replica(3) } else { false } })
    #expect(sent.contains { message, to in if case .prepare(let p) = message { p.height == 1 && to == .replica(3) } else { false } })
    let again = ahead.step(.message(.status(cluster.status(view: 0, by: 3, committedHeight: 0, suspects: true))))
    #expect(!again.sentMessages.contains { if case .commit = $0 { true } else { false } }, "at most once per retransmit interval")
    // A peer that is not behind gets nothing.
    let level = ahead.step(.message(.status(cluster.status(view: 0, by: 2, committedHeight: 1, suspects: false))))
    #expect(!level.sentMessages.contains { if case .commit = $0 { true } else { false } })
}

@Test func restart_proposalArrivingBeforeTheFirstTick_isJudgedOnceTheClockIsRead() {
    let cluster = Cluster()
    // Real block times are far past the drift bound from a clock of zero.
    let request = cluster.transaction(1)
    let header = BlockHeader(height: 1, parentHash: cluster.genesis.hash, timestampMs: 5_000_000,
                             proposer: cluster.keys[0].publicKey, transactionsRoot: MerkleTree.root(of: [request.id]),
                             stateHeight: 0, stateRoot: cluster.genesisRoot, validatorSetHash: cluster.validators.hash)
    let block = Block(header: header, transactions: [request])
    var backup = cluster.replica(1)
    let early = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    #expect(!early.sentMessages.contains { if case .prepare = $0 { true } else { false } }, "no clock yet: no vote either way")
    let firstTick = backup.step(.tick(clockMs: 5_000_010))
    #expect(firstTick.sentMessages.contains { if case .prepare(let p) = $0 { p.height == 1 && p.blockHash == block.hash } else { false } },
            "the first clock reading lets it prepare the proposal it kept")
    // With a clock, a timestamp past the drift bound is refused for good.
    var ticking = cluster.replica(2)
    _ = ticking.step(.tick(clockMs: 2_000))
    let late = ticking.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    _ = ticking.step(.tick(clockMs: 5_000_010))
    #expect(!late.sentMessages.contains { if case .prepare = $0 { true } else { false } })
    #expect(ticking.dropCounts[.invalidProposal] == 1)
}

@Test func restart_withoutTheCurrentNewView_countsTheSuspicionOfAPeerLeftInTheOldView() {
    let cluster = Cluster()
    // Replica 2 enters view 1 by the new-view of its primary, replica 1.
    var entered = cluster.replica(2)
    var saved: PersistentState?
    for index in [0, 1, 3] { saved = entered.step(.message(.viewChange(cluster.viewChange(to: 1, by: index)))).persisted ?? saved }
    let changes = [0, 1, 3].map { cluster.viewChange(to: 1, by: $0) }
    let newView = cluster.newView(1, viewChanges: changes, headers: [], by: 1)
    saved = entered.step(.message(.newView(newView))).persisted ?? saved
    #expect(entered.view == 1 && entered.changingTo == nil)
    guard var record = saved else { Issue.record("entering view 1 persisted nothing"); return }
    // A record written before the new-view message was persisted.
    record.newView = nil

    // It restarts; its record has the view but not the new-view message. Replica 3 missed
    // that message and still suspects view 0's primary; 0 and 1 suspect view 1's.
    var restarted = cluster.replica(2, restoring: record)
    #expect(restarted.view == 1)
    for index in [0, 1] { _ = restarted.step(.message(.status(cluster.status(view: 1, by: index)))) }
    #expect(restarted.changingTo == nil, "two suspicions are not 2f+1")
    // A replay of an older status of a replica already seen in view 1 says nothing.
    _ = restarted.step(.message(.status(cluster.status(view: 0, by: 1))))
    #expect(restarted.changingTo == nil)
    _ = restarted.step(.message(.status(cluster.status(view: 0, by: 3))))
    #expect(restarted.changingTo == 2 && restarted.lastViewChangeReason == .primarySuspectedByQuorum,
            "nobody here can bring replica 3 into view 1: its suspicion counts")

    // A replica that holds the new-view sends it to the laggard instead of counting it.
    for index in [0, 1] { _ = entered.step(.message(.status(cluster.status(view: 1, by: index)))) }
    let answer = entered.step(.message(.status(cluster.status(view: 0, by: 3))))
    #expect(entered.changingTo == nil)
    #expect(answer.sentMessages.contains { if case .newView(let m) = $0 { m.view == 1 } else { false } })
    // A later status without the suspicion withdraws it.
    var withdrawing = cluster.replica(2, restoring: record)
    _ = withdrawing.step(.message(.status(cluster.status(view: 0, by: 3))))
    _ = withdrawing.step(.message(.status(cluster.status(view: 0, by: 3, suspects: false))))
    for index in [0, 1] { _ = withdrawing.step(.message(.status(cluster.status(view: 1, by: index)))) }
    #expect(withdrawing.changingTo == nil)
}

@Test func restart_afterEnteringAView_stillBringsALaggardIntoIt() {
    let cluster = Cluster()
    // Replica 2 enters view 1 by the new-view of its primary, replica 1, and persists it.
    var entered = cluster.replica(2)
    var saved: PersistentState?
    for index in [0, 1, 3] { saved = entered.step(.message(.viewChange(cluster.viewChange(to: 1, by: index)))).persisted ?? saved }
    let changes = [0, 1, 3].map { cluster.viewChange(to: 1, by: $0) }
    let newView = cluster.newView(1, viewChanges: changes, headers: [], by: 1)
    saved = entered.step(.message(.newView(newView))).persisted ?? saved
    guard let record = saved else { Issue.record("entering view 1 persisted nothing"); return }
    #expect(record.newView == newView, "the record keeps the new-view message the view was entered by")

    // Every replica that entered view 1 restarts; replica 3 missed the new view and still reports view 0.
    var restarted = cluster.replica(2, restoring: record)
    #expect(restarted.view == 1)
    let answer = restarted.step(.message(.status(cluster.status(view: 0, by: 3))))
    let sent = answer.sentMessages.filter { if case .newView(let m) = $0 { m.view == 1 } else { false } }
    #expect(sent.count == 1, "the restarted replica still holds the new view and brings the laggard in")
    var laggard = cluster.replica(3)
    for message in sent { _ = laggard.step(.message(message)) }
    #expect(laggard.view == 1 && laggard.changingTo == nil)
    // And it does not count the laggard's suspicion against a view it can show it.
    for index in [0, 1] { _ = restarted.step(.message(.status(cluster.status(view: 1, by: index)))) }
    #expect(restarted.changingTo == nil)
}

@Test func suspicion_aReplicaThatLeftOnWithdrawnSuspicions_isFollowedByTheOthers() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    // Replica 1 timed out alone once in view 0 and withdrew its suspicion when the block committed.
    var follower = cluster.replica(1)
    let block = cluster.chain(1)[0]
    tick(&follower, 1, clockMs: &clock)
    _ = follower.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    tick(&follower, 40, clockMs: &clock)
    #expect(follower.suspicion == .proposalNotCommitted && follower.changingTo == nil)
    commitInViewZero(&follower, block, cluster)
    #expect(follower.committedHeight == 1)
    #expect(follower.suspicion == nil, "withdrawn on progress")
    // Replica 3 suspected too, and withdrew. Replica 2 got both suspicions, not the withdrawals,
    // and left view 0 on them: it relays 3's signed suspicion and asks for view 1.
    _ = follower.step(.message(.status(cluster.status(view: 0, by: 3))))
    _ = follower.step(.message(.status(cluster.status(view: 0, by: 3, committedHeight: 1, suspects: false))))
    _ = follower.step(.message(.status(cluster.status(view: 0, by: 3))))
    #expect(follower.changingTo == nil)
    _ = follower.step(.message(.viewChange(cluster.viewChange(to: 1, by: 2))))
    #expect(follower.changingTo == 1 && follower.lastViewChangeReason == .primarySuspectedByQuorum,
            "the suspicions replica 2 may have left on count, this replica's withdrawn one included, so replica 2 is not left alone")
}

@Test func suspicion_withdrawnSuspicions_withNobodyLeavingTheView_keepIt() {
    let cluster = Cluster()
    var replica = cluster.replica(2)
    // Replicas 1 and 3 suspected and withdrew; nobody has left view 0.
    for index in [1, 3] {
        _ = replica.step(.message(.status(cluster.status(view: 0, by: index))))
        _ = replica.step(.message(.status(cluster.status(view: 0, by: index, suspects: false))))
    }
    _ = replica.step(.message(.status(cluster.status(view: 0, by: 0))))
    #expect(replica.changingTo == nil, "only current suspicions count while every replica keeps the view")
}

@Test func suspicion_aReplicaChangingView_resendsTheStatusesItLeftOn() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var leaver = cluster.replica(1)
    confirmSuspicion(&leaver, by: [0, 2, 3], cluster)
    #expect(leaver.changingTo == 1)
    var resent: [UInt32] = []
    for _ in 0..<cluster.configuration(1).timing.retransmitTicks {
        clock += 10
        for message in leaver.step(.tick(clockMs: clock)).sentMessages {
            if case .status(let s) = message, s.replica != 1, s.suspectsPrimary, s.view == 0 { resent.append(s.replica) }
        }
    }
    #expect(resent.sorted() == [0, 2, 3], "a lost relay does not leave it alone: the evidence goes out with every retransmission")
}

@Test func newView_belowTheViewAskedFor_isEntered_withoutVotingInIt() {
    let cluster = Cluster()
    var clock: UInt64 = 2_000
    var late = cluster.replica(3)
    for index in [0, 1] { _ = late.step(.message(.viewChange(cluster.viewChange(to: 1, by: index)))) }
    // No new view for view 1 reached it in time: it asks for view 2.
    for _ in 0..<100 where late.changingTo == 1 {
        clock += 10
        _ = late.step(.tick(clockMs: clock))
    }
    #expect(late.changingTo == 2)
    // View 1 was formed without it after all; its primary's new-view reaches it late.
    let changes = [0, 1, 2].map { cluster.viewChange(to: 1, by: $0) }
    let entering = late.step(.message(.newView(cluster.newView(1, viewChanges: changes, headers: [], by: 1))))
    #expect(late.view == 1 && late.changingTo == nil, "it settles in the view the others are in")
    #expect(entering.persisted?.viewChangeSentFor == 2)
    // Its VIEW-CHANGE for view 2 may still be part of view 2's new view and shows nothing of view 1,
    // so it signs nothing in view 1, before or after a restart.
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(1)], proposer: 1)
    let proposal = late.step(.message(.prePrepare(cluster.prePrepare(view: 1, block: block, by: 1))))
    #expect(!proposal.sentMessages.contains { if case .prepare = $0 { true } else { false } })
    guard let record = entering.persisted else { Issue.record("entering view 1 persisted nothing"); return }
    var restarted = cluster.replica(3, restoring: record)
    clock += 10
    _ = restarted.step(.tick(clockMs: clock))
    let again = restarted.step(.message(.prePrepare(cluster.prePrepare(view: 1, block: block, by: 1))))
    #expect(!again.sentMessages.contains { if case .prepare = $0 { true } else { false } })
    // It still learns what view 1 commits from the others' commits.
    for index in [0, 1, 2] { _ = late.step(.message(.commit(cluster.commit(view: 1, block: block, by: index)))) }
    #expect(late.committedHeight == 1)
    // In view 2 it votes again.
    for index in [0, 1] { _ = late.step(.message(.viewChange(cluster.viewChange(to: 2, by: index)))) }
    #expect(late.changingTo == 2)
    let next = [0, 1, 3].map { cluster.viewChange(to: 2, by: $0) }
    _ = late.step(.message(.newView(cluster.newView(2, viewChanges: next, headers: [], by: 2))))
    #expect(late.view == 2)
    let second = cluster.block(height: 2, parent: block.header, transactions: [cluster.transaction(2)], proposer: 2)
    let voted = late.step(.message(.prePrepare(cluster.prePrepare(view: 2, block: second, by: 2))))
    #expect(voted.sentMessages.contains { if case .prepare(let p) = $0 { p.view == 2 && p.height == 2 } else { false } })
}
