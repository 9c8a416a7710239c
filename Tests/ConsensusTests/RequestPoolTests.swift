import ConsensusSimulator
import Consensus
import LedgerCore
import Testing

extension Cluster {
    /// Replica `index` ordering from `pool`, which the test fills as a node's admission would.
    func replica(_ index: Int, pool: any RequestPool) -> Replica {
        Replica(configuration: configuration(index), signer: signer(index), verifier: SimulatedVerifier(), validator: AcceptAll(),
                pool: pool, head: ChainHead(committedHeader: genesis, executedHeight: 0, executedStateRoot: genesisRoot), restoring: nil)
    }
}

/// The replica keeps no pool of its own: it proposes what the application
/// admitted into the shared pool, and what commits leaves that pool.
@Test func requestPool_sharedWithTheApplication_isWhatThePrimaryProposesFrom_andCommitsEmptyIt() {
    let cluster = Cluster()
    let pool = LockedTransactionPool()
    let admitted = cluster.transaction(1)
    #expect(pool.insert(admitted))
    var primary = cluster.replica(0, pool: pool)
    let proposed = primary.step(.tick(clockMs: 2_000)).sentMessages.compactMap { message -> PrePrepare? in
        if case .prePrepare(let prePrepare) = message { prePrepare } else { nil }
    }
    guard let prePrepare = proposed.first else {
        Issue.record("the primary proposed nothing from the shared pool")
        return
    }
    #expect(prePrepare.block.transactions.map(\.id) == [admitted.id])
    #expect(pool.contains(admitted.id), "a proposal does not take a request out before it commits")

    for index in [1, 2] { _ = primary.step(.message(.prepare(cluster.prepare(view: 0, block: prePrepare.block, by: index)))) }
    var committed = false
    for index in [1, 2] {
        let actions = primary.step(.message(.commit(cluster.commit(view: 0, block: prePrepare.block, by: index))))
        committed = committed || actions.contains { if case .commit = $0 { true } else { false } }
    }
    #expect(committed)
    #expect(pool.isEmpty, "the committed request left the one pool")
    #expect(primary.pendingTransactionCount == 0)
}

/// A backup hears of a request the application pooled already; it forwards
/// it to the primary once, however many times it is announced.
@Test func requestPool_aPooledRequestAnnouncedToABackup_isForwardedOnce() {
    let cluster = Cluster()
    let pool = LockedTransactionPool()
    let admitted = cluster.transaction(2)
    #expect(pool.insert(admitted))
    var backup = cluster.replica(1, pool: pool)
    let forwarded = { (actions: [ReplicaAction]) -> [Hash] in
        actions.sentMessages.flatMap { message -> [Hash] in
            if case .forward(let forward) = message { forward.transactions.map(\.id) } else { [] }
        }
    }
    #expect(forwarded(backup.step(.submit([admitted]))) == [admitted.id])
    #expect(forwarded(backup.step(.submit([admitted]))).isEmpty, "announced again, it is not forwarded again")
    #expect(pool.count == 1, "announcing a pooled request does not pool it twice")
}
