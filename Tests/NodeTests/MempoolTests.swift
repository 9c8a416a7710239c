import Testing
import Consensus
import Contracts
import ConsortTesting
import Ledger
import LedgerCore
@testable import Node

@Suite struct MempoolTests {
    let chain: LocalConsortium

    init() throws {
        chain = try LocalConsortium(organizations: [("bankA", .bank), ("bankB", .bank)])
    }

    private func signed(_ member: String, nonce: UInt64, expiresAtMs: UInt64, _ call: ContractCall) -> Transaction {
        Transaction.signed(chainID: chain.genesis.chainID, key: chain.member(member).key, nonce: nonce, expiresAtMs: expiresAtMs, call: call)
    }

    private func blacklistNote(_ note: String, serial: UInt64 = 1) throws -> ContractCall {
        BlacklistContract.call(.add, AddBlacklistEntry(subject: try BlacklistFixtures.company(serial: serial), reasonCode: "fraud",
                                                       evidenceHash: Hash.sha256(Array("evidence".utf8)), note: note))
    }

    /// A refused transaction is kept in its block, so a note holding an
    /// identifier must be refused before it is pooled, however it is written.
    @Test(arguments: ["ID 110101199003070011", "ID 110101-19900307-0011", "ID 110101 1990 0307 0011", "old ID 110101900307001"])
    func identifierInABlacklistNote_isRefusedAtAdmission(note: String) throws {
        let mempool = Mempool(ledger: chain.ledger)
        let now = chain.ledger.head.timestampMs
        let transaction = signed("bankA", nonce: 0, expiresAtMs: now + 60_000, try blacklistNote(note))
        let error = #expect(throws: AdmissionError.self) { try mempool.add(transaction, nowMs: now) }
        #expect(error?.code == "identifier_in_text")
        #expect(mempool.count == 0)
        #expect(try mempool.add(signed("bankA", nonce: 0, expiresAtMs: now + 60_000, try blacklistNote("mule account")), nowMs: now) == .added)
    }

    /// A batch is admitted as its transactions would be one by one: the same
    /// answer for each, in order, with each good signature verified and remembered.
    @Test func batchAdmission_answersAsOneByOne() throws {
        let now = chain.ledger.head.timestampMs
        let call = { (note: String) throws -> ContractCall in try self.blacklistNote(note) }
        var batch: [Transaction] = []
        for nonce in 0..<40 { batch.append(signed("bankA", nonce: UInt64(nonce), expiresAtMs: now + 60_000, try call("note \(nonce)"))) }
        let good = batch[3]
        batch.append(good)
        batch.append(Transaction(body: signed("bankA", nonce: 50, expiresAtMs: now + 60_000, try call("forged")).body, signature: batch[6].signature))
        batch.append(signed("bankB", nonce: 0, expiresAtMs: 5, try call("expired")))
        batch.append(signed("bankB", nonce: 0, expiresAtMs: now + 60_000, try call("ID 110101199003070011")))
        batch.append(Transaction.signed(chainID: chain.genesis.chainID, key: try PrivateKey.generate(), nonce: 0,
                                        expiresAtMs: now + 60_000, call: try call("stranger")))
        batch.append(signed("bankB", nonce: 0, expiresAtMs: now + 60_000, try call("other sender")))
        batch.append(signed("bankB", nonce: 0, expiresAtMs: now + 60_000, try call("same nonce, other body")))

        let oneByOne = Mempool(ledger: chain.ledger)
        let expected = batch.map { transaction in Result { () throws(AdmissionError) in try oneByOne.add(transaction, nowMs: now) } }
        let verified = VerifiedSignatures()
        let together = Mempool(ledger: chain.ledger, verified: verified)
        let results = together.add(all: batch, nowMs: now)
        #expect(results == expected)
        #expect(results.filter { $0 == .success(.added) }.count == 41)
        #expect(results[41].failureCode == "bad_signature" && results[42].failureCode == "expired")
        #expect(results[43].failureCode == "identifier_in_text" && results[44].failureCode == "unknown_sender")
        #expect(results[46].failureCode == "nonce_pending")
        #expect(together.pending().map(\.id) == oneByOne.pending().map(\.id))
        #expect(batch.prefix(40).allSatisfy { verified.contains($0.id) })
        #expect(!verified.contains(batch[41].id))
    }

    /// A sender's transaction behind a nonce gap expires: the sweep drops it,
    /// so that when the gap closes it is not proposed and rejected, which
    /// would leave its follow-up with a nonce that no longer fits.
    @Test func expiredTransactions_leaveThePool_andAreNotOrderedWhenTheGapCloses() throws {
        let mempool = Mempool(ledger: chain.ledger)
        let now = chain.ledger.head.timestampMs
        let key = chain.member("bankA").key.publicKey
        let behindGap = signed("bankA", nonce: 1, expiresAtMs: now + 1_000, try blacklistNote("first", serial: 1))
        let followUp = signed("bankA", nonce: 2, expiresAtMs: now + 60_000, try blacklistNote("second", serial: 2))
        let other = signed("bankB", nonce: 0, expiresAtMs: now + 60_000, try blacklistNote("other", serial: 3))
        for transaction in [behindGap, followUp, other] { try mempool.add(transaction, nowMs: now) }
        #expect(mempool.removeExpired(nowMs: now + 1_000) == 0, "a transaction is live up to its expiry")
        #expect(mempool.removeExpired(nowMs: now + 1_001) == 1)
        #expect(!mempool.contains(behindGap.id))
        #expect(mempool.count == 2)
        #expect(mempool.nextNonce(for: key, committed: 0) == 0)

        let gapCloser = signed("bankA", nonce: 0, expiresAtMs: now + 60_000, try blacklistNote("gap", serial: 4))
        try mempool.add(gapCloser, nowMs: now + 1_001)
        let batch = Nonces.orderBatch(mempool.pending(), after: [], blockTimestampMs: now + 1_001, limit: 100,
                                      committedNextNonce: { try? chain.ledger.nextNonce(for: $0) }, isAcceptable: { _ in true })
        #expect(Set(batch.map(\.id)) == [gapCloser.id, other.id], "the follow-up waits for a new transaction at nonce 1")
    }

    /// The mempool is the replica's one pool: the replica reads it oldest
    /// first, cannot pool what admission never saw, and takes out what
    /// commits; the waits of what it took out reach the back-pressure once,
    /// when the node has applied the block.
    @Test func asTheReplicasPool_committedRequestsLeaveAtOnce_andTheirWaitIsReportedOnce() throws {
        let mempool = Mempool(ledger: chain.ledger)
        let pool: any RequestPool = mempool
        let now = chain.ledger.head.timestampMs
        let first = signed("bankA", nonce: 0, expiresAtMs: now + 60_000, try blacklistNote("first", serial: 1))
        let second = signed("bankB", nonce: 0, expiresAtMs: now + 60_000, try blacklistNote("second", serial: 2))
        let neverAdmitted = signed("bankA", nonce: 1, expiresAtMs: now + 60_000, try blacklistNote("third", serial: 3))
        for transaction in [first, second] { try mempool.add(transaction, nowMs: now) }
        #expect(pool.oldest(10).map(\.id) == [first.id, second.id])
        #expect(pool.insert(first), "an admitted request is pooled")
        #expect(!pool.insert(neverAdmitted), "only admission pools a request")
        #expect(mempool.count == 2)
        let versionBefore = pool.version

        pool.remove([first.id], because: .committed)
        pool.remove([second.id], because: .unacceptable)
        #expect(mempool.count == 0 && mempool.bytes == 0)
        #expect(pool.version != versionBefore)
        #expect(mempool.nextNonce(for: chain.member("bankA").key.publicKey, committed: 0) == 0, "the nonce index follows the pool")

        let genesisBlock = try #require(try chain.ledger.block(at: 0))
        let block = Block(header: genesisBlock.header, transactions: [first])
        #expect(try mempool.removeCommitted(block).count == 1, "the wait of the request the replica took out as committed")
        #expect(try mempool.removeCommitted(block).isEmpty, "and only once")
    }
}

extension Result where Failure == AdmissionError {
    /// The refusal's code, or nil when admitted.
    var failureCode: String? {
        if case .failure(let error) = self { error.code } else { nil }
    }
}
