import ConsortTesting
import Contracts
import Foundation
import Ledger
import LedgerCore
import NIOCore
import NIOPosix
import Testing
@testable import Node

/// Collects every byte a server sends until it closes the connection.
private final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let lock = Lock()
    private var bytes: [UInt8] = []
    let closed: EventLoopPromise<Void>

    init(closed: EventLoopPromise<Void>) { self.closed = closed }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let read = buffer.readBytes(length: buffer.readableBytes) ?? []
        lock.withLock { bytes += read }
    }

    func channelInactive(context: ChannelHandlerContext) { closed.succeed(()) }
}

@Suite struct AdmissionBacklogTests {
    private let limits = AdmissionBacklogLimits(poolWorkMsMax: 1_500, floorTransactions: 500, windowMs: 2_000, slotMs: 250,
                                                retryAfterMsMin: 100, retryAfterMsMax: 10_000, stalledRetryAfterMs: 1_000)

    @Test func idleCluster_admitsTheFloor_thenSaysBusyWhileNothingCommits() {
        let backlog = AdmissionBacklog(limits: limits)
        #expect(backlog.admissible(pending: 0, nowMs: 0) == .admit(500))
        #expect(backlog.verdict(pending: 499, nowMs: 0) == .admit)
        #expect(backlog.verdict(pending: 500, nowMs: 0) == .busy(retryAfterMs: 1_000), "a pool at the floor and no commits: stalled")
    }

    @Test func aCommittingCluster_admitsUpToThePoolsWorkBound() {
        let backlog = AdmissionBacklog(limits: limits)
        backlog.recordCommit(sojournsMs: [200, 400, 900], nowMs: 10_000)
        #expect(backlog.averageSojournMs(nowMs: 10_000) == 500)
        #expect(backlog.admissible(pending: 100, nowMs: 10_100) == .admit(400), "a slow cluster still takes the floor")
        #expect(backlog.verdict(pending: 50_000, nowMs: 10_100) == .busy(retryAfterMs: 10_000), "many seconds' work is a queue; the hint has a cap")
        // 3,000 commits in the 2 s window: 1.5 per ms, so the pool may hold 1,500 ms of them, 2,250.
        backlog.recordCommit(sojournsMs: Array(repeating: 500, count: 2_997), nowMs: 10_100)
        #expect(backlog.admissible(pending: 2_000, nowMs: 10_100) == .admit(250), "a batch gets only the room left")
        #expect(backlog.verdict(pending: 2_249, nowMs: 10_100) == .admit)
        #expect(backlog.admissible(pending: 6_000, nowMs: 10_100) == .busy(retryAfterMs: 2_501), "3,751 above the bound drain in 2,501 ms")
        #expect(backlog.admissible(pending: 2_250, nowMs: 10_100) == .busy(retryAfterMs: 100), "the hint has a floor")
    }

    @Test func oldCommits_leaveTheWindow() {
        let backlog = AdmissionBacklog(limits: limits)
        backlog.recordCommit(sojournsMs: [5_000], nowMs: 10_000)
        backlog.recordCommit(sojournsMs: [100], nowMs: 11_000)
        #expect(backlog.averageSojournMs(nowMs: 11_000) == 2_550)
        // Two seconds on, only the later commit counts.
        #expect(backlog.averageSojournMs(nowMs: 12_100) == 100)
        #expect(backlog.admissible(pending: 400, nowMs: 12_100) == .admit(100))
        #expect(backlog.averageSojournMs(nowMs: 100_000) == nil)
        #expect(backlog.verdict(pending: 500, nowMs: 100_000) == .busy(retryAfterMs: 1_000), "nothing in the window: stalled again")
    }

    @Test func clockThatStepsBack_isHeld_notTrusted() {
        let backlog = AdmissionBacklog(limits: limits)
        backlog.recordCommit(sojournsMs: [2_000], nowMs: 10_000)
        backlog.recordCommit(sojournsMs: [4_000], nowMs: 1_000)
        #expect(backlog.averageSojournMs(nowMs: 0) == 3_000, "a commit stamped earlier counts in the last slot seen")
    }

    @Test func mempool_reportsHowLongTheCommittedTransactionsWaited() throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let pool = Mempool(ledger: chain.ledger)
        let key = chain.member("bankA").key
        let expiry = chain.ledger.head.timestampMs + 60_000
        let transaction = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: 0, expiresAtMs: expiry,
                                             call: GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)))
        try pool.add(transaction, nowMs: chain.ledger.head.timestampMs)
        Thread.sleep(forTimeInterval: 0.05)
        try chain.commit([transaction])
        let block = try #require(try chain.ledger.block(at: chain.ledger.head.height))
        let waits = try pool.removeCommitted(block)
        #expect(waits.count == 1)
        #expect(waits.allSatisfy { $0 >= 50 && $0 < 60_000 })
        #expect(try pool.removeCommitted(block).isEmpty, "a transaction the pool no longer holds has no wait")
    }

    @Test func check_letsAPendingTransactionThrough_andRefusesANewOneWithTheHint() throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let backend = LedgerOnlyBackend(ledger: chain.ledger, backlog: AdmissionBacklogLimits(floorTransactions: 1))
        let key = chain.member("bankA").key
        let expiry = chain.ledger.head.timestampMs + 60_000
        let first = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: 0, expiresAtMs: expiry,
                                       call: GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)))
        #expect(try backend.submit(first) == .added)
        #expect(try backend.submit(first) == .alreadyPending, "a retry of what the pool holds is not new work")
        let second = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: 1, expiresAtMs: expiry,
                                        call: GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)))
        #expect(throws: AdmissionError.busy(pending: 1, retryAfterMs: 1_000), "nothing commits here: the pool at the floor is stalled") { try backend.submit(second) }
        #expect(backend.mempool.count == 1)
    }

    @Test func api_answersBusy_with503_andRetryAfter() async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let backend = LedgerOnlyBackend(ledger: chain.ledger, backlog: AdmissionBacklogLimits(floorTransactions: 1, stalledRetryAfterMs: 2_500))
        let key = chain.member("bankA").key
        let expiry = chain.ledger.head.timestampMs + 60_000
        for nonce in 0..<2 {
            let transaction = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: UInt64(nonce), expiresAtMs: expiry,
                                                 call: GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)))
            let body = "{\"transaction\":\"\(Hex.encode(transaction.canonicalBytes))\"}"
            let portBox = PortBox()
            let server = Task { try await APIServer(backend: backend).run(host: "127.0.0.1", port: 0) { portBox.set($0) } }
            defer { server.cancel() }
            for _ in 0..<200 where portBox.get() == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            let group = MultiThreadedEventLoopGroup.singleton
            let closed = group.next().makePromise(of: Void.self)
            let collector = Collector(closed: closed)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
                .connect(host: "127.0.0.1", port: portBox.get()).get()
            let request = "POST /v1/transactions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            try await channel.writeAndFlush(ByteBuffer(string: request))
            try await closed.futureResult.get()
            let lowered = collector.text.lowercased()
            if nonce == 0 {
                #expect(lowered.hasPrefix("http/1.1 202"))
                #expect(!lowered.contains("retry-after"))
            } else {
                #expect(lowered.hasPrefix("http/1.1 503"))
                #expect(lowered.contains("retry-after: 3\r\n"), "2,500 ms rounds up to 3 s")
                #expect(lowered.contains("\"code\":\"busy\""))
            }
        }
    }
}
