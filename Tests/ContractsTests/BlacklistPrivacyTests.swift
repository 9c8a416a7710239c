import Foundation
import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct BlacklistPrivacyTests {
    typealias F = BlacklistFixture

    /// Whether `needle` occurs anywhere in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, Array(haystack[index..<(index + needle.count)]) == needle { return true }
            index += 1
        }
        return false
    }

    /// The forms in which a leaked identifier could appear.
    static func forms(of identifier: String) -> [[UInt8]] {
        let raw = Array(identifier.utf8)
        return [raw, Array(identifier.lowercased().utf8), Array(Hex.encode(raw).utf8), Array(Data(raw).base64EncodedString().utf8)]
    }

    @Test func rawPersonIdentifier_neverReachesTheLedgerEventsOrQueries() throws {
        let identifier = "11010519491231002X"
        let otherIdentifiers = ["110105194912310039", "440301199001011234"]
        let fixture = try F()
        // Client side: only the keyed hash leaves the member's machine.
        let subject = try BlacklistSubject.person(identifier: identifier, consortiumKey: F.consortiumKey)
        let others = try otherIdentifiers.map { try BlacklistSubject.person(identifier: $0, consortiumKey: F.consortiumKey) }

        let id = try fixture.add("bankA", subject, reason: "telecom_fraud", note: "mule account, see case file")
        F.expectSuccess(try fixture.submit("bankC", .corroborate, BlacklistOpinion(entryID: id, reason: "same device seen", evidenceHash: F.evidence("device log"))))
        F.expectSuccess(try fixture.check("bankB", subject, purpose: "account_opening"))
        F.expectSuccess(try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: [subject] + others, purposeCode: "payment_screening")))
        F.expectSuccess(try fixture.submit("clear", .dispute, BlacklistOpinion(entryID: id, reason: "payments were legitimate")))
        F.expectSuccess(try fixture.submit("bankB", .appeal, FileBlacklistAppeal(
            entryID: id, reason: "customer explains the transfers", declaresSubjectIsCustomer: true, relationshipEvidenceHash: F.evidence("kyc file"))))
        F.expectSuccess(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "court order")))
        F.expectSuccess(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: id, reasonCode: "fraud", note: "amended after review")))
        F.expectSuccess(try fixture.submit("reg", .revoke, RevokeBlacklistEntry(entryID: id, reason: "regulator review closed")))
        _ = try fixture.add("bankC", others[0], reason: "loan_default")
        F.expectSuccess(try fixture.check("bankB", others[0], purpose: "loan_review"))

        let leaks = ([identifier] + otherIdentifiers).flatMap { Self.forms(of: $0) }
        func assertClean(_ bytes: [UInt8], _ place: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for leak in leaks where Self.contains(bytes, leak) {
                Issue.record("a raw identifier appears in \(place)", sourceLocation: sourceLocation)
            }
        }

        // 1. Every key and value the node stored: state, tree nodes, indexes, blocks, receipts, certificates.
        let everything = try fixture.store.scan(prefix: [], start: nil, limit: Int.max)
        #expect(everything.count > 100)
        for row in everything {
            assertClean(row.key, "store key \(String(decoding: row.key.prefix(24), as: UTF8.self))")
            assertClean(row.value, "store value of \(String(decoding: row.key.prefix(24), as: UTF8.self))")
        }
        // The scan reaches the blacklist's records: the hash itself is there.
        let personHash = try #require(subject.personHash)
        #expect(everything.contains { Self.contains($0.value, personHash) })

        // 2. Blocks and receipts, decoded.
        let ledger = fixture.chain.ledger
        for height in 0...ledger.head.height {
            let block = try #require(try ledger.block(at: height))
            assertClean(block.canonicalBytes, "block \(height)")
            for receipt in try #require(try ledger.receipts(at: height)) {
                assertClean(receipt.canonicalBytes, "a receipt of block \(height)")
                for event in receipt.events {
                    for attribute in event.attributes { assertClean(Array((attribute.key + attribute.value).utf8), "event \(event.name)") }
                }
            }
        }

        // 3. Committed state and indexes through the query view.
        let view = ledger.queryView()
        for contract in ["blacklist", "governance"] {
            for row in try view.scan(contract: contract, prefix: [], start: nil, limit: Int.max) {
                assertClean(row.key + row.value, "\(contract) state")
            }
        }
        for index in [BlacklistKeys.uploadsIndex, BlacklistKeys.corroborationsIndex, BlacklistKeys.disputesIndex, BlacklistKeys.appealsIndex] {
            for row in try view.scanIndex(contract: "blacklist", index: index, prefix: [], start: nil, limit: Int.max) {
                assertClean(row.key + row.value, "index \(index)")
            }
        }

        // 4. Every query answer, as the JSON an API would send.
        var answers: [JSONValue] = [
            try fixture.query(.parameters), try fixture.entry(id), try fixture.query(.provenance, ["id": String(id)]),
            try fixture.query(.subject, ["subject": subject.text]),
        ]
        for other in others { answers.append(try fixture.query(.subject, ["subject": other.text])) }
        for organization in ["bankA", "bankB", "bankC", "clear", "reg"] {
            answers.append(try fixture.report(organization))
            answers.append(try fixture.query(.uploads, ["organization": organization]))
        }
        let encoder = JSONEncoder()
        for answer in answers {
            assertClean(Array(try encoder.encode(answer)), "a query answer")
        }
    }
}
