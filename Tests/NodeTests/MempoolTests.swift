import Testing
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
}
