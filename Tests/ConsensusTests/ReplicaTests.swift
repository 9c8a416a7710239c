import ConsensusSimulator
import Consensus
import LedgerCore
import Testing

@Test func viewChange_hugeViewNumberFromOneReplica_isIgnored() {
    let cluster = Cluster()
    var replica = cluster.replica(1)
    for view in [UInt64.max, UInt64.max - 1, ConsensusLimits.viewNumberMax, 1_000_000] {
        _ = replica.step(.message(.viewChange(cluster.viewChange(to: view, by: 3))))
    }
    #expect(replica.view == 0)
    #expect(replica.changingTo == nil)
    #expect(replica.dropCounts[.viewNumberTooLarge] == 3)
    // A second replica asking for a far view is f+1: join the view both of them ask for, without overflow.
    _ = replica.step(.message(.viewChange(cluster.viewChange(to: 1_000_000, by: 2))))
    #expect(replica.changingTo == 1_000_000)
}

@Test func viewChange_fPlusOneHigherViewChanges_joinTheLowerOfThem() {
    let cluster = Cluster()
    var replica = cluster.replica(1)
    _ = replica.step(.message(.viewChange(cluster.viewChange(to: 5, by: 2))))
    #expect(replica.changingTo == nil, "one replica alone cannot move another")
    let actions = replica.step(.message(.viewChange(cluster.viewChange(to: 3, by: 3))))
    #expect(replica.changingTo == 3)
    #expect(actions.first.map { if case .persist(let state) = $0 { state.changingTo == 3 } else { false } } == true,
            "the new target is persisted before the view-change message")
    #expect(actions.sentMessages.contains { if case .viewChange(let change) = $0 { change.newView == 3 } else { false } })
}

@Test func viewChange_forgedSignature_isDropped() {
    let cluster = Cluster()
    var replica = cluster.replica(1)
    var forged = cluster.viewChange(to: 1, by: 3)
    forged.replica = 2
    _ = replica.step(.message(.viewChange(forged)))
    #expect(replica.dropCounts[.invalidViewChange] == 1)
}

/// Builds view-change messages for view 1 where replicas 1..3 hold a prepared
/// certificate for a block at height 1 of view 0.
func preparedSetup(_ cluster: Cluster) -> (block: Block, changes: [ViewChange]) {
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    let prePrepare = cluster.prePrepare(view: 0, block: block, by: 0)
    let certificate = PreparedCertificate(prePrepare: prePrepare, prepares: [1, 2].map { cluster.prepare(view: 0, block: block, by: $0) })
    let changes = [1, 2, 3].map { cluster.viewChange(to: 1, by: $0, prepared: $0 == 3 ? [] : [certificate]) }
    return (block, changes)
}

@Test func newView_recomputedOMatches_isAccepted() {
    let cluster = Cluster()
    let (block, changes) = preparedSetup(cluster)
    let plan = Replica.newViewPlan(viewChanges: changes, newView: 1, configuration: cluster.configuration(1))
    #expect(plan.headers.map(\.hash) == [block.hash], "the prepared block is re-proposed")
    var backup = cluster.replica(2)
    // The backup saw the block proposed in view 0, so it holds its body.
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    let actions = backup.step(.message(.newView(cluster.newView(1, viewChanges: changes, headers: plan.headers, by: 1))))
    #expect(backup.view == 1)
    #expect(actions.sentMessages.contains { if case .prepare(let p) = $0 { p.view == 1 && p.blockHash == block.hash } else { false } })
}

@Test func newView_withWrongO_isRejected() {
    let cluster = Cluster()
    let (block, changes) = preparedSetup(cluster)
    // The new primary replaces the prepared block by a different one at height 1.
    let other = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(9)], proposer: 1)
    #expect(other.hash != block.hash)
    for wrong in [[other], [], [Replica.nullBlock(after: cluster.genesis, newView: 1, configuration: cluster.configuration(1))]] {
        var backup = cluster.replica(2)
        _ = backup.step(.message(.newView(cluster.newView(1, viewChanges: changes, headers: wrong.map(\.header), by: 1))))
        #expect(backup.view == 0)
        #expect(backup.dropCounts[.newViewMismatch] == 1)
    }
}

@Test func newView_withForgedViewChange_isRejected() {
    let cluster = Cluster()
    var (_, changes) = preparedSetup(cluster)
    changes[2].prepared = changes[0].prepared  // content changed after signing
    let plan = Replica.newViewPlan(viewChanges: changes, newView: 1, configuration: cluster.configuration(1))
    var backup = cluster.replica(2)
    _ = backup.step(.message(.newView(cluster.newView(1, viewChanges: changes, headers: plan.headers, by: 1))))
    #expect(backup.view == 0)
    #expect(backup.dropCounts[.invalidNewView] == 1)
}

@Test func newView_nullBlocksFillGaps_deterministically() {
    let cluster = Cluster()
    // A certificate at height 2 whose parent is not in V: O holds null blocks at 1 and 2.
    let first = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    let second = cluster.block(height: 2, parent: first.header, transactions: [cluster.transaction(1)])
    let certificate = PreparedCertificate(prePrepare: cluster.prePrepare(view: 0, block: second, by: 0),
                                          prepares: [1, 2].map { cluster.prepare(view: 0, block: second, by: $0) })
    let changes = [1, 2, 3].map { cluster.viewChange(to: 1, by: $0, prepared: $0 == 1 ? [certificate] : []) }
    let planA = Replica.newViewPlan(viewChanges: changes, newView: 1, configuration: cluster.configuration(1))
    let planB = Replica.newViewPlan(viewChanges: changes.reversed(), newView: 1, configuration: cluster.configuration(3))
    #expect(planA.headers.map(\.hash) == planB.headers.map(\.hash))
    #expect(planA.headers.count == 2)
    #expect(planA.headers.allSatisfy { $0.transactionsRoot == MerkleTree.root(of: []) })
    #expect(planA.headers[1].parentHash == planA.headers[0].hash)
}

@Test func restart_afterPreparing_neverPreparesAnotherBlockForSameViewAndHeight() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    let blockA = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    let blockB = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(1)])
    let actions = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: blockA, by: 0))))
    guard let saved = actions.persisted else {
        Issue.record("preparing must persist the vote first")
        return
    }
    #expect(actions.first.map { if case .persist = $0 { true } else { false } } == true)
    #expect(actions.sentMessages.contains { if case .prepare(let p) = $0 { p.blockHash == blockA.hash } else { false } })
    // Crash, restore from the record, and meet an equivocating primary's second block.
    let restoredBytes = saved.canonicalBytes
    let restored = try? PersistentState(canonicalBytes: restoredBytes)
    #expect(restored == saved)
    var restarted = cluster.replica(1, restoring: restored)
    let after = restarted.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: blockB, by: 0))))
    #expect(!after.sentMessages.contains { if case .prepare = $0 { true } else { false } })
    #expect(restarted.dropCounts[.conflictsWithOwnVote] == 1)
    // The original block is still accepted and voted for again (same digest).
    let again = restarted.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: blockA, by: 0))))
    #expect(again.sentMessages.contains { if case .prepare(let p) = $0 { p.blockHash == blockA.hash } else { false } })
}

@Test func prePrepare_fromNonPrimaryOrOutsideWatermarks_isDropped() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 2))))
    #expect(backup.dropCounts[.badSignature] == 1)
    var far = block
    far.header.height = 100
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: far, by: 0))))
    #expect(backup.dropCounts[.outsideWatermarks] == 1)
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 3, block: block, by: 3))))
    #expect(backup.dropCounts[.futureView] == 1)
}

@Test func prePrepare_withWrongParent_isNotPrepared() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    var block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    block.header.parentHash = Hash.tagged("test/not-the-parent", [])
    let actions = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    #expect(actions.sentMessages.isEmpty)
    #expect(backup.dropCounts[.invalidProposal] == 1)
}

@Test func commit_quorumOfCommits_formsCertificateLedgerAccepts() throws {
    // Real secp256k1 keys: the assembled certificate passes CommitCertificate.verify.
    let keys = (0..<4).map { SimulatedKeys.privateKey("validator", $0) }
    let cluster = Cluster()
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    func realReplica(_ index: Int) -> Replica {
        Replica(configuration: cluster.configuration(index), signer: Secp256k1Signer(key: keys[index]), verifier: Secp256k1Verifier(),
                validator: AcceptAll(), head: ChainHead(committedHeader: cluster.genesis, executedHeight: 0, executedStateRoot: cluster.genesisRoot),
                restoring: nil)
    }
    var replicas = (0..<4).map(realReplica)
    var queue: [(Int, ConsensusMessage)] = []
    var certificates: [CommitCertificate] = []
    let first = replicas[0].step(.submit([cluster.transaction(0)]))
    for message in first.sentMessages { for to in 1..<4 { queue.append((to, message)) } }
    while !queue.isEmpty {
        let (to, message) = queue.removeFirst()
        let actions = replicas[to].step(.message(message))
        for action in actions {
            switch action {
            case .send(let out, _): for peer in 0..<4 where peer != to { queue.append((peer, out)) }
            case .commit(let committed, let certificate):
                try certificate.verify(header: committed.header, validators: cluster.validators, chainID: cluster.chainID)
                certificates.append(certificate)
            default: break
            }
        }
    }
    #expect(certificates.count == 4)
    #expect(block.height == 1)
}

@Test func commit_preparedAboveAnUnpreparedParent_waitsForTheParent() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    let first = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    let second = cluster.block(height: 2, parent: first.header, transactions: [cluster.transaction(1)])
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: first, by: 0))))
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: second, by: 0))))
    var sent: [ConsensusMessage] = []
    for index in [2, 3] { sent += backup.step(.message(.prepare(cluster.prepare(view: 0, block: second, by: index)))).sentMessages }
    // Height 2 is prepared, but COMMIT for 2 needs our COMMIT for 1 in this view (pipelining rule).
    #expect(!sent.contains { if case .commit = $0 { true } else { false } })
    for index in [2, 3] { sent += backup.step(.message(.prepare(cluster.prepare(view: 0, block: first, by: index)))).sentMessages }
    let commitHeights = sent.compactMap { if case .commit(let c) = $0 { c.height } else { nil } }
    #expect(commitHeights == [1, 2])
}

@Test func checkpoint_quorumOfMatchingCheckpoints_becomesStableAndDiscardsLog() {
    let cluster = Cluster()
    var replica = cluster.replica(1)
    let header = cluster.block(height: 4, parent: cluster.genesis, transactions: []).header
    let root = Hash.tagged("test/root", [4])
    func checkpoint(_ index: Int, root: Hash) -> Checkpoint {
        Checkpoint(header: header, stateRoot: root, replica: UInt32(index), signature: cluster.signer(index).sign(
            Checkpoint.signingDigest(chainID: cluster.chainID, height: 4, blockHash: header.hash, stateRoot: root)))
    }
    _ = replica.step(.message(.checkpoint(checkpoint(0, root: root))))
    _ = replica.step(.message(.checkpoint(checkpoint(2, root: Hash.tagged("test/other-root", [])))))
    #expect(replica.lowWatermark == 0)
    let actions = replica.step(.message(.checkpoint(checkpoint(3, root: root))))
    #expect(replica.lowWatermark == 0, "two matching of three is not 2f+1")
    #expect(actions.isEmpty)
    _ = replica.step(.message(.checkpoint(checkpoint(2, root: root))))
    #expect(replica.dropCounts[.duplicate] == 1, "one checkpoint per sender and height")
    let fourth = Cluster()
    var other = fourth.replica(2)
    for index in [0, 1, 3] { _ = other.step(.message(.checkpoint(checkpoint(index, root: root)))) }
    #expect(other.lowWatermark == 4)
    #expect(other.stableCheckpoint?.signatures.count == 3)
    #expect(other.highWatermark == 12)
}

/// Orders each batch by descending nonce and records what it was asked.
private final class RecordingOrder: ProposalValidator, @unchecked Sendable {
    var calls: [(candidates: [UInt64], ancestors: [UInt64], blockTimestampMs: UInt64)] = []
    func isAcceptable(_ transaction: Transaction) -> Bool { true }
    func isValid(block: Block, pendingAncestors: [Block]) -> Bool { true }
    func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int) -> [Transaction] {
        calls.append((candidates.map(\.body.nonce), ancestors.map(\.height), blockTimestampMs))
        return Array(candidates.sorted { $0.body.nonce > $1.body.nonce }.prefix(limit))
    }
}

@Test func propose_takesTheValidatorsOrder_afterTheBlocksInFlight() {
    let cluster = Cluster()
    let order = RecordingOrder()
    var primary = Replica(configuration: cluster.configuration(0), signer: cluster.signer(0), verifier: SimulatedVerifier(),
                          validator: order,
                          head: ChainHead(committedHeader: cluster.genesis, executedHeight: 0, executedStateRoot: cluster.genesisRoot),
                          restoring: nil)
    let actions = primary.step(.submit([cluster.transaction(2), cluster.transaction(1), cluster.transaction(0)]))
    let proposals = actions.sentMessages.compactMap { message -> PrePrepare? in
        if case .prePrepare(let prePrepare) = message { prePrepare } else { nil }
    }
    #expect(proposals.count == 1)
    #expect(proposals.first?.block.transactions.map(\.body.nonce) == [2, 1, 0])
    #expect(order.calls.first?.candidates == [2, 1, 0], "candidates come in pool order")
    #expect(order.calls.first?.ancestors == [])
    #expect(order.calls.first?.blockTimestampMs == proposals.first?.block.header.timestampMs, "the batch is cut for the block's time")
    // The next batch is ordered after the block in flight, whose transactions are not offered again.
    let next = primary.step(.submit([cluster.transaction(4), cluster.transaction(3)]))
    let more = next.sentMessages.compactMap { message -> PrePrepare? in
        if case .prePrepare(let prePrepare) = message { prePrepare } else { nil }
    }
    #expect(more.first?.block.transactions.map(\.body.nonce) == [4, 3])
    #expect(order.calls.last?.candidates == [4, 3])
    #expect(order.calls.last?.ancestors == [1])
}

@Test func propose_leavesOutTransactionsExpiredAtTheBlocksTime() {
    let cluster = Cluster()
    var primary = cluster.replica(0)
    _ = primary.step(.tick(clockMs: 50_000))
    let actions = primary.step(.submit([cluster.transaction(0, expiresAtMs: 49_999), cluster.transaction(1, expiresAtMs: 50_000)]))
    let proposals = actions.sentMessages.compactMap { message -> PrePrepare? in
        if case .prePrepare(let prePrepare) = message { prePrepare } else { nil }
    }
    #expect(proposals.count == 1)
    #expect(proposals.first?.block.header.timestampMs == 50_000)
    #expect(proposals.first?.block.transactions.map(\.body.nonce) == [1])
}
