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
    private let lock = NSLock()
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
    private let limits = AdmissionBacklogLimits(backlogMs: 1_500, floorTransactions: 500, windowSeconds: 30, smoothingSeconds: 3,
                                                retryAfterMsMin: 1_000, retryAfterMsMax: 10_000)

    @Test func idleCluster_admitsTheFloor_thenSaysBusy() {
        let backlog = AdmissionBacklog(limits: limits)
        #expect(backlog.verdict(pending: 0, nowMs: 0) == .admit)
        #expect(backlog.verdict(pending: 499, nowMs: 0) == .admit)
        // No rate seen: the longest hint.
        #expect(backlog.verdict(pending: 500, nowMs: 0) == .busy(retryAfterMs: 10_000))
    }

    @Test func limit_isTheBacklogOfTheRateSeen_andTheHintTheTimeToDrainTheExcess() {
        let backlog = AdmissionBacklog(limits: limits)
        for second in 0..<3 { backlog.recordCommit(transactions: 2_000, nowMs: UInt64(second) * 1_000 + 10) }
        #expect(backlog.ratePerSecond(nowMs: 2_500) == 2_000)
        #expect(backlog.backlogLimit(nowMs: 2_500) == 3_000)
        #expect(backlog.verdict(pending: 2_999, nowMs: 2_500) == .admit)
        #expect(backlog.verdict(pending: 3_000, nowMs: 2_500) == .busy(retryAfterMs: 1_000), "one transaction over: the shortest hint")
        // 9,001 over at 2,000 a second drains in 4.5 s.
        #expect(backlog.verdict(pending: 12_000, nowMs: 2_500) == .busy(retryAfterMs: 4_501))
        #expect(backlog.verdict(pending: 1_000_000, nowMs: 2_500) == .busy(retryAfterMs: 10_000), "the hint has a cap")
    }

    @Test func oneLargeBlock_isSmoothed_notTakenAsThePace() {
        let backlog = AdmissionBacklog(limits: limits)
        backlog.recordCommit(transactions: 3_000, nowMs: 5_000)
        #expect(backlog.ratePerSecond(nowMs: 5_100) == 1_000)
        #expect(backlog.backlogLimit(nowMs: 5_100) == 1_500)
    }

    @Test func rate_isTheBestOfTheWindow_andForgottenAfterIt() {
        let backlog = AdmissionBacklog(limits: limits)
        for second in 0..<3 { backlog.recordCommit(transactions: 1_000, nowMs: UInt64(second) * 1_000) }
        // A quiet spell does not shrink the gate, so it cannot starve the rate it is judged by.
        backlog.recordCommit(transactions: 10, nowMs: 20_000)
        #expect(backlog.backlogLimit(nowMs: 20_000) == 1_500)
        #expect(backlog.backlogLimit(nowMs: 29_000) == 1_500)
        // Thirty seconds on, only the floor is left.
        #expect(backlog.backlogLimit(nowMs: 40_000) == 500)
        #expect(backlog.backlogLimit(nowMs: 1_000_000) == 500)
    }

    @Test func clockThatStepsBack_isHeld_notTrusted() {
        let backlog = AdmissionBacklog(limits: limits)
        backlog.recordCommit(transactions: 3_000, nowMs: 10_000)
        backlog.recordCommit(transactions: 3_000, nowMs: 1_000)
        #expect(backlog.ratePerSecond(nowMs: 0) == 2_000, "a commit stamped earlier counts in the last second seen")
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
        #expect(throws: AdmissionError.busy(pending: 1, retryAfterMs: 10_000)) { try backend.submit(second) }
        #expect(backend.mempool.count == 1)
    }

    @Test func api_answersBusy_with503_andRetryAfter() async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let backend = LedgerOnlyBackend(ledger: chain.ledger, backlog: AdmissionBacklogLimits(floorTransactions: 1, retryAfterMsMax: 2_500))
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
