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
        BlacklistOperation.add.call(AddBlacklistEntry(subject: try BlacklistFixtures.company(serial: serial), reasonCode: "fraud",
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
}
