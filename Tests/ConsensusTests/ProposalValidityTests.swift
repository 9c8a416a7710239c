import ConsensusSimulator
import Consensus
import LedgerCore
import Testing

private func commit(_ cluster: Cluster, view: UInt64, block: Block, by index: Int) -> Commit {
    let digest = CommitVote.digest(chainID: cluster.chainID, height: block.height, view: view, blockHash: block.hash)
    return Commit(view: view, height: block.height, blockHash: block.hash, replica: UInt32(index), signature: cluster.signer(index).sign(digest))
}

private func prepares(_ actions: [ReplicaAction]) -> [Prepare] {
    actions.sentMessages.compactMap { if case .prepare(let prepare) = $0 { prepare } else { nil } }
}

@Test func prePrepare_withAnotherValidatorsProposerKey_getsNoPrepare() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    // Signed by the primary of view 0, but naming validator 2 as its proposer.
    let block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)], proposer: 2)
    let actions = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    #expect(prepares(actions).isEmpty)
    #expect(backup.dropCounts[.invalidProposal] == 1)
}

@Test func prePrepare_withAProposerKeyOutsideTheValidatorSet_getsNoPrepare() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    var block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    block.header.proposer = SimulatedKeys.privateKey("client", 0).publicKey
    let actions = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))))
    #expect(prepares(actions).isEmpty)
    #expect(backup.dropCounts[.invalidProposal] == 1)
}

/// Height 1 committed at `backup` (with the primary's and two backups' votes)
/// but not yet executed; returns the block.
private func commitFirstBlock(_ cluster: Cluster, _ backup: inout Replica) -> Block {
    let first = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    _ = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: first, by: 0))))
    for index in [2, 3] { _ = backup.step(.message(.prepare(cluster.prepare(view: 0, block: first, by: index)))) }
    var committed = false
    for index in [0, 2] {
        for action in backup.step(.message(.commit(commit(cluster, view: 0, block: first, by: index)))) {
            if case .commit = action { committed = true }
        }
    }
    #expect(committed)
    return first
}

@Test func prePrepare_claimingAStateHeightNotYetExecuted_withMadeUpRoot_getsNoPrepare() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    let first = commitFirstBlock(cluster, &backup)
    var second = cluster.block(height: 2, parent: first.header, transactions: [cluster.transaction(1)])
    second.header.stateHeight = 1
    second.header.stateRoot = Hash.tagged("test/made-up-root", [])
    // Height 1 is committed but not executed here: the claim cannot be checked yet.
    let waiting = backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: second, by: 0))))
    #expect(prepares(waiting).isEmpty)
    #expect(backup.dropCounts[.invalidProposal] == nil)
    // Once executed, the claim is checked and refused.
    let executed = backup.step(.executed(header: first.header, stateRoot: Hash.tagged("test/real-root", [])))
    #expect(prepares(executed).isEmpty)
    #expect(backup.dropCounts[.invalidProposal] == 1)
}

@Test func prePrepare_claimingAStateHeightNotYetExecuted_isPreparedOnceTheRootMatches() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    let first = commitFirstBlock(cluster, &backup)
    let root = Hash.tagged("test/real-root", [])
    var second = cluster.block(height: 2, parent: first.header, transactions: [cluster.transaction(1)])
    second.header.stateHeight = 1
    second.header.stateRoot = root
    #expect(prepares(backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: second, by: 0))))).isEmpty)
    let executed = backup.step(.executed(header: first.header, stateRoot: root))
    #expect(prepares(executed).map(\.height) == [2])
}

@Test func prePrepare_claimingAStateHeightAboveAnyCommittedBlock_getsNoPrepare() {
    let cluster = Cluster()
    var backup = cluster.replica(1)
    let first = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    var second = cluster.block(height: 2, parent: first.header, transactions: [cluster.transaction(1)])
    second.header.stateHeight = 1
    second.header.stateRoot = Hash.tagged("test/made-up-root", [])
    var sent: [Prepare] = []
    sent += prepares(backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: first, by: 0)))))
    sent += prepares(backup.step(.message(.prePrepare(cluster.prePrepare(view: 0, block: second, by: 0)))))
    #expect(sent.map(\.height) == [1])
}
