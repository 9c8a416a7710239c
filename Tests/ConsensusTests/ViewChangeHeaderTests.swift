import ConsensusSimulator
import Consensus
import LedgerCore
import TestSupport
import Testing

// View changes carry headers, not transactions; bodies re-proposed by a new
// view are fetched by hash (docs/consensus.md, Messages and rules 7 and 8).

/// A transaction of realistic size: a contract call with `argumentBytes` of arguments.
private func sizedTransaction(_ cluster: Cluster, number: Int, argumentBytes: Int) -> Transaction {
    let client = SimulatedKeys.privateKey("client", 0).publicKey
    var arguments = [UInt8](repeating: 0, count: argumentBytes)
    withUnsafeBytes(of: UInt64(number).littleEndian) { for (index, byte) in $0.enumerated() { arguments[index] = byte } }
    let body = TransactionBody(chainID: cluster.chainID, sender: client, nonce: UInt64(number), expiresAtMs: .max,
                               call: ContractCall(contract: "payments", operation: "transfer", arguments: arguments))
    return Transaction(body: body, signature: SimulatedSigner(publicKey: client).sign(Transaction.id(of: body)))
}

@Test func viewChange_atProductionSize_everyViewChangeAndNewViewFitsTheMessageLimit() async throws {
    try await onComputeThread {
        // n = 7, blocks of 2,000 transactions of about 350 bytes, a watermark window of 40, all 40 heights prepared.
        var cluster = Cluster(count: 7)
        cluster.parameters.blockTransactionsMax = 2_000
        cluster.parameters.watermarkWindowBlocks = 40
        cluster.parameters.checkpointIntervalBlocks = 10
        let heights = 40
        var parent = cluster.genesis
        var blocks: [Block] = []
        for height in 1...heights {
            let transactions = (0..<2_000).map { sizedTransaction(cluster, number: height * 2_000 + $0, argumentBytes: 200) }
            let block = cluster.block(height: UInt64(height), parent: parent, transactions: transactions)
            blocks.append(block)
            parent = block.header
        }
        let blockBytes = blocks[0].canonicalBytes.count
        #expect(blockBytes > 600_000, "blocks are of production size")
        // Replica 1 (the primary of view 1) prepares every height in view 0: pre-prepare from 0, prepares from 2...5.
        var newPrimary = cluster.replica(1)
        var certificates: [PreparedCertificate] = []
        for block in blocks {
            let prePrepare = cluster.prePrepare(view: 0, block: block, by: 0)
            _ = newPrimary.step(.message(.prePrepare(prePrepare)))
            let prepares = (2...5).map { cluster.prepare(view: 0, block: block, by: $0) }
            for prepare in prepares { _ = newPrimary.step(.message(.prepare(prepare))) }
            certificates.append(PreparedCertificate(prePrepare: prePrepare, prepares: prepares))
        }
        // Every other replica asks for view 1 with the same 40 certificates; replica 1 joins and sends NEW-VIEW.
        var sent: [ConsensusMessage] = []
        for index in 2...6 {
            let change = cluster.viewChange(to: 1, by: index, prepared: certificates)
            sent.append(.viewChange(change))
            sent += newPrimary.step(.message(.viewChange(change))).sentMessages
        }
        let viewChanges = sent.compactMap { if case .viewChange(let change) = $0 { change } else { nil } }
        let newViews = sent.compactMap { if case .newView(let newView) = $0 { newView } else { nil } }
        #expect(viewChanges.contains { $0.replica == 1 && $0.prepared.count == heights }, "the new primary's own view change carries 40 certificates")
        // One NEW-VIEW, sent again to the replica whose view change came after it.
        #expect(!newViews.isEmpty && newViews.allSatisfy { $0 == newViews[0] })
        #expect(newViews.first?.proposals.count == heights)
        let limit = ConsensusLimits.messageBytesMax
        for change in viewChanges {
            let bytes = ConsensusMessage.viewChange(change).canonicalBytes.count
            report("[production size] view change from \(change.replica): \(bytes) bytes, limit \(limit) (one block is \(blockBytes) bytes)")
            #expect(bytes <= limit)
            #expect(try ConsensusMessage.decode(wire: ConsensusMessage.viewChange(change).canonicalBytes) == .viewChange(change))
        }
        for newView in newViews {
            let bytes = ConsensusMessage.newView(newView).canonicalBytes.count
            report("[production size] new view: \(bytes) bytes, limit \(limit)")
            #expect(bytes <= limit)
            #expect(try ConsensusMessage.decode(wire: ConsensusMessage.newView(newView).canonicalBytes) == .newView(newView))
        }
        // A backup that saw the proposals accepts the new view and re-prepares all 40 heights from the bodies it kept.
        var backup = cluster.replica(2)
        for block in blocks { _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0)))) }
        let newView = try #require(newViews.first)
        let actions = backup.step(.messageBytes(ConsensusMessage.newView(newView).canonicalBytes))
        #expect(backup.view == 1)
        let prepared = actions.sentMessages.compactMap { if case .prepare(let prepare) = $0, prepare.view == 1 { prepare.height } else { nil } }
        #expect(prepared == Array(1...UInt64(heights)))
        #expect(!actions.sentMessages.contains { if case .blockRequest = $0 { true } else { false } }, "no body is missing")
    }
}

/// Replicas 1 and 2 prepared block 1 in view 0; replica 3 never saw it. The
/// new view 1 (primary 1) re-proposes it, by header.
private func reproposalSetup(_ cluster: Cluster) -> (block: Block, newView: NewView) {
    let (block, changes) = preparedSetup(cluster)
    let plan = Replica.newViewPlan(viewChanges: changes, newView: 1, configuration: cluster.configuration(1))
    return (block, cluster.newView(1, viewChanges: changes, headers: plan.headers, by: 1))
}

private func blockRequests(_ actions: [ReplicaAction]) -> [(BlockRequest, Destination)] {
    actions.compactMap { if case .send(.blockRequest(let request), let destination) = $0 { (request, destination) } else { nil } }
}

@Test func newView_backupLackingTheBody_fetchesItFromAPeer_ignoresAWrongAnswer_thenCommits() throws {
    let cluster = Cluster()
    let (block, newView) = reproposalSetup(cluster)
    var backup = cluster.replica(3)
    let entered = backup.step(.message(.newView(newView)))
    #expect(backup.view == 1)
    #expect(!entered.sentMessages.contains { if case .prepare = $0 { true } else { false } }, "no vote without the body")
    let requests = blockRequests(entered)
    #expect(requests.count == 1)
    #expect(requests.first?.0.hashes == [block.hash])
    #expect(entered.persisted?.view == 1, "the new view is persisted before the request leaves")

    // A peer answers with another block, and with the requested header over other transactions: both ignored.
    let other = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(7)])
    var forged = block
    forged.transactions = [cluster.transaction(8)]
    let ignored = backup.step(.message(.blockResponse(BlockResponse(blocks: [other, forged]))))
    #expect(backup.dropCounts[.unrequestedBlock] == 2)
    #expect(ignored.sentMessages.isEmpty)

    // It keeps asking on the retransmit timer, another peer each time.
    var again: [(BlockRequest, Destination)] = []
    for tick in 1...10 where again.isEmpty { again = blockRequests(backup.step(.tick(clockMs: UInt64(tick)))) }
    let retry = try #require(again.first)
    #expect(retry.0.hashes == [block.hash])
    #expect(retry.1 != requests.first?.1, "the next request goes to another peer")

    // Replica 2 saw the block proposed in view 0 and kept its body: it answers the request.
    var peer = cluster.replica(2)
    _ = peer.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    let answer = peer.step(.message(.blockRequest(retry.0))).sentMessages
    let response = try #require(answer.compactMap { if case .blockResponse(let response) = $0 { response } else { nil } }.first)
    #expect(response.blocks.map(\.hash) == [block.hash])

    // With the body, the backup checks the block and prepares it, then commits once it has the votes.
    let afterBody = backup.step(.messageBytes(ConsensusMessage.blockResponse(response).canonicalBytes))
    #expect(afterBody.sentMessages.contains { if case .prepare(let p) = $0 { p.view == 1 && p.blockHash == block.hash } else { false } })
    let prepare = cluster.prepare(view: 1, block: block, by: 2)
    let afterPrepare = backup.step(.message(.prepare(prepare)))
    #expect(afterPrepare.sentMessages.contains { if case .commit(let c) = $0 { c.view == 1 && c.blockHash == block.hash } else { false } })
    var committed: [Block] = []
    for index in [1, 2] {
        let digest = CommitVote.digest(chainID: cluster.chainID, height: 1, view: 1, blockHash: block.hash)
        let commit = Commit(view: 1, height: 1, blockHash: block.hash, replica: UInt32(index), signature: cluster.signer(index).sign(digest))
        committed += backup.step(.message(.commit(commit))).compactMap { if case .commit(let block, _) = $0 { block } else { nil } }
    }
    #expect(committed == [block])
    #expect(backup.committedHeight == 1)
}

@Test func newView_withoutTheBody_neverCommits_evenWithEveryoneElsesVotes() {
    let cluster = Cluster()
    let (block, newView) = reproposalSetup(cluster)
    var backup = cluster.replica(3)
    var sent = backup.step(.message(.newView(newView))).sentMessages
    // Both other backups of view 1 prepare it: the backup holds a prepared certificate, but no body.
    for index in [0, 2] { sent += backup.step(.message(.prepare(cluster.prepare(view: 1, block: block, by: index)))).sentMessages }
    for index in [1, 2] {
        let digest = CommitVote.digest(chainID: cluster.chainID, height: 1, view: 1, blockHash: block.hash)
        let commit = Commit(view: 1, height: 1, blockHash: block.hash, replica: UInt32(index), signature: cluster.signer(index).sign(digest))
        sent += backup.step(.message(.commit(commit))).sentMessages
    }
    #expect(!sent.contains { if case .prepare = $0 { true } else if case .commit = $0 { true } else { false } })
    #expect(backup.committedHeight == 0)
}

@Test func blockRequest_answersAreBoundedPerPeerAndInterval_andSignaturesChecked() {
    let cluster = Cluster()
    let (block, _) = reproposalSetup(cluster)
    var peer = cluster.replica(2)
    _ = peer.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    let digest = BlockRequest.signingDigest(chainID: cluster.chainID, replica: 3, hashes: [block.hash])
    let request = BlockRequest(replica: 3, hashes: [block.hash], signature: cluster.signer(3).sign(digest))
    var forged = request
    forged.replica = 1
    #expect(peer.step(.message(.blockRequest(forged))).sentMessages.isEmpty)
    #expect(peer.dropCounts[.badSignature] == 1)
    var answers = 0
    for _ in 0..<5 {
        answers += peer.step(.message(.blockRequest(request))).sentMessages.filter { if case .blockResponse = $0 { true } else { false } }.count
    }
    #expect(answers == ConsensusLimits.blockRequestsAnsweredPerIntervalMax)
    #expect(peer.dropCounts[.blockRequestRateLimited] == 5 - answers)
    // The next retransmit interval renews the allowance.
    _ = peer.step(.tick(clockMs: 1))
    #expect(peer.step(.message(.blockRequest(request))).sentMessages.contains { if case .blockResponse = $0 { true } else { false } })
}

@Test func restart_keepsTheRetainedBodies_andFetchesABodyTheRecordLacks() throws {
    let cluster = Cluster()
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    var backup = cluster.replica(1)
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    let actions = backup.step(.message(.prepare(cluster.prepare(view: 0, block: block, by: 2))))
    let saved = try #require(actions.persisted)
    #expect(saved.prepared.map(\.blockHash) == [block.hash])
    #expect(saved.blockBodies == [block], "the body is persisted with the vote that depends on it")
    let restored = try PersistentState(canonicalBytes: saved.canonicalBytes)
    var restarted = cluster.replica(1, restoring: restored)
    #expect(blockRequests(restarted.step(.tick(clockMs: 1))).isEmpty, "the restored body needs no fetching")
    // A record without the body (as after it was evicted): the body is fetched.
    var bodiless = restored
    bodiless.blockBodies = []
    var fetching = cluster.replica(1, restoring: bodiless)
    let requests = blockRequests(fetching.step(.tick(clockMs: 1)))
    #expect(requests.first?.0.hashes == [block.hash])
    // A view change from the restarted replica is valid: its certificate holds the header and signatures.
    var peer = cluster.replica(3)
    for index in [1, 2] { _ = peer.step(.message(.viewChange(cluster.viewChange(to: 1, by: index, prepared: saved.prepared)))) }
    #expect(peer.dropCounts[.invalidViewChange] == nil)
}

@Test func newView_splitO_differentHeaderAtOneHeight_isRefused_andTheNextViewIsTried() {
    let cluster = Cluster()
    let (block, changes) = preparedSetup(cluster)
    // The Byzantine primary of view 1 signs a header at height 1 other than the prepared one.
    var header = block.header
    header.timestampMs += 1
    var backup = cluster.replica(2)
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    for change in changes where change.replica != 2 { _ = backup.step(.message(.viewChange(change))) }
    #expect(backup.changingTo == 1)
    _ = backup.step(.message(.newView(cluster.newView(1, viewChanges: changes, headers: [header], by: 1))))
    #expect(backup.view == 0)
    #expect(backup.dropCounts[.newViewMismatch] == 1)
    // The view-change timer runs out without a valid NEW-VIEW: the backup asks for view 2.
    var next: UInt64?
    for tick in 1...100 where next == nil {
        let sent = backup.step(.tick(clockMs: UInt64(tick))).sentMessages
        next = sent.compactMap { if case .viewChange(let change) = $0, change.newView == 2 { change.newView } else { nil } }.first
    }
    #expect(next == 2)
    #expect(backup.changingTo == 2)
}

@Test func badNewViewPrimary_honestBackupsRefuseIt_andTheClusterStillCommits() {
    // Replica 3 is Byzantine: as primary of view 3 it sends a wrong O to some backups.
    var simulation = Simulation(options: quietOptions(seed: 21, byzantine: [.badNewView]))
    var number = 0
    for crashed in 0..<3 {
        // Crash the primary of the current view so the cluster moves to the next one.
        simulation.crash(crashed)
        simulation.submit(number: number, to: [0, 1, 2, 3])
        let target = number
        let moved = simulation.run(until: 4000) { sim in
            sim.committed([target], at: [0, 1, 2].filter { $0 != crashed })
        }
        #expect(moved, "view change away from replica \(crashed)")
        simulation.restart(crashed)
        number += 1
    }
    simulation.submit(number: number, to: [0, 1, 2, 3])
    let done = simulation.run(until: 6000) { $0.committed(Array(0...number), at: [0, 1, 2]) }
    let result = simulation.report()
    #expect(result.passed, "\(result)")
    #expect(done, "\(result)")
    #expect((result.dropCounts[.newViewMismatch] ?? 0) > 0, "the wrong O was sent and refused: \(result.dropCounts)")
}

@Test func limits_blockFetchBoundsFitTheMessageLimit() {
    #expect(ConsensusLimits.blockResponseBytesMax >= Limits.blockBytesMax, "one block of the largest size fits a response")
    #expect(ConsensusLimits.blockResponseBytesMax < ConsensusLimits.messageBytesMax)
    #expect(ConsensusLimits.blockRequestHashesMax >= ConsensusLimits.watermarkWindowBlocksMax, "one request names a whole window")
    #expect(ConsensusLimits.retainedBlockBytesMax >= Limits.blockBytesMax)
    #expect(ConsensusLimits.blockRequestsAnsweredPerIntervalMax >= 1)
}

@Test func retainedBodies_belowTheLowWatermark_areDropped_andNoLongerServed() {
    let cluster = Cluster()
    var replica = cluster.replica(2)
    var parent = cluster.genesis
    var blocks: [Block] = []
    for height in 1...5 {
        let block = cluster.block(height: UInt64(height), parent: parent, transactions: [cluster.transaction(height)])
        _ = replica.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
        blocks.append(block)
        parent = block.header
    }
    var clock: UInt64 = 0
    func served(_ block: Block) -> Bool {
        // A retransmit interval passes first, renewing the requester's allowance.
        for _ in 0..<5 {
            clock += 1
            _ = replica.step(.tick(clockMs: clock))
        }
        let digest = BlockRequest.signingDigest(chainID: cluster.chainID, replica: 3, hashes: [block.hash])
        let request = BlockRequest(replica: 3, hashes: [block.hash], signature: cluster.signer(3).sign(digest))
        return replica.step(.message(.blockRequest(request))).sentMessages.contains { message in
            if case .blockResponse(let response) = message { response.blocks == [block] } else { false }
        }
    }
    #expect(served(blocks[1]))
    let root = Hash.tagged("test/root", [4])
    let header = blocks[3].header
    for index in [0, 1, 3] {
        let checkpoint = Checkpoint(header: header, stateRoot: root, replica: UInt32(index), signature: cluster.signer(index).sign(
            Checkpoint.signingDigest(chainID: cluster.chainID, height: 4, blockHash: header.hash, stateRoot: root)))
        _ = replica.step(.message(.checkpoint(checkpoint)))
    }
    #expect(replica.lowWatermark == 4)
    #expect(!served(blocks[1]), "a body at or below the low watermark is gone")
    #expect(served(blocks[4]), "a body above it is kept")
}
