import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct BlacklistEntryTests {
    typealias F = BlacklistFixture

    @Test func add_byBank_listsActiveEntrySignedByUploader() throws {
        let fixture = try F()
        let subject = try F.company(1)
        let id = try fixture.add("bankA", subject, reason: "loan_default", note: "overdue since March")
        let entry = try fixture.entry(id)
        #expect(entry["status"]?.stringValue == "active")
        #expect(entry["uploader"]?.stringValue == "bankA")
        #expect(entry["uploaderKey"]?.stringValue == fixture.chain.member("bankA").key.publicKey.hex)
        #expect(entry["subject"]?.stringValue == subject.text)
        #expect(entry["reasonCode"]?.stringValue == "loan_default")
        #expect(entry["note"]?.stringValue == "overdue since March")
        #expect(entry["version"]?.intValue == 1)
    }

    @Test func add_byClearingHouseAndRegulator_isAllowed() throws {
        let fixture = try F()
        _ = try fixture.add("clear", try F.company(1))
        _ = try fixture.add("reg", try F.company(2))
    }

    @Test func add_byEnterpriseOrAuditor_isRefusedForWrongRole() throws {
        let fixture = try F()
        for organization in ["acme", "audit"] {
            let receipt = try fixture.submit(organization, .add, AddBlacklistEntry(subject: try F.company(1), reasonCode: "fraud", evidenceHash: F.evidence("x")))
            F.expectRejected(receipt, "not_permitted")
        }
    }

    @Test func add_sameUploaderSameSubjectWhileActive_isDuplicate() throws {
        let fixture = try F()
        let subject = try F.person("110105194912310021")
        _ = try fixture.add("bankA", subject)
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(subject: subject, reasonCode: "loan_default", evidenceHash: F.evidence("y")))
        F.expectRejected(receipt, "duplicate_entry")
    }

    @Test func add_sameSubjectByAnotherUploader_isAllowed() throws {
        let fixture = try F()
        let subject = try F.company(7)
        let first = try fixture.add("bankA", subject)
        let second = try fixture.add("bankB", subject)
        #expect(first != second)
    }

    @Test func add_sameUploaderAfterRevocation_isAllowed() throws {
        let fixture = try F()
        let subject = try F.company(7)
        let first = try fixture.add("bankA", subject)
        F.expectSuccess(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: first, reason: "paid in full")))
        let second = try fixture.add("bankA", subject)
        #expect(second != first)
    }

    @Test func add_invalidCreditCode_isRefused() throws {
        let fixture = try F()
        let forged = BlacklistSubject(kind: .company, value: Array("91350100M000100Y44".utf8))
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(subject: forged, reasonCode: "fraud", evidenceHash: F.evidence("x")))
        F.expectRejected(receipt, "invalid_credit_code")
    }

    @Test func add_personWithRawIdentifier_isRefused() throws {
        let fixture = try F()
        for raw in ["110105194912310021", "110105194912310021-ABCDEFGHIJKLM"] {
            let subject = BlacklistSubject(kind: .person, value: Array(raw.utf8))
            let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(subject: subject, reasonCode: "fraud", evidenceHash: F.evidence("x")))
            F.expectRejected(receipt, "person_not_hashed")
        }
    }

    @Test func add_unknownReasonCode_isRefused() throws {
        let fixture = try F()
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(subject: try F.company(1), reasonCode: "bad_vibes", evidenceHash: F.evidence("x")))
        F.expectRejected(receipt, "unknown_reason_code")
    }

    @Test func add_expiryInThePast_isRefused() throws {
        let fixture = try F()
        let past = fixture.chain.ledger.head.timestampMs
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(subject: try F.company(1), reasonCode: "fraud", evidenceHash: F.evidence("x"), expiresAtMs: past))
        F.expectRejected(receipt, "bad_expiry")
    }

    @Test func add_expiryBeyondRetention_isRefused() throws {
        let fixture = try F(parameters: .object(["retentionDays": .integer(30)]))
        let late = fixture.chain.nextBlockTimeMs + 31 * F.dayMs
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(subject: try F.company(1), reasonCode: "fraud", evidenceHash: F.evidence("x"), expiresAtMs: late))
        F.expectRejected(receipt, "expiry_beyond_retention")
    }

    @Test func add_noteHoldingAnIdentifier_isRefused() throws {
        let fixture = try F()
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(
            subject: try F.person("110105194912310021"), reasonCode: "fraud", evidenceHash: F.evidence("x"), note: "ID 110105194912310021"))
        F.expectRejected(receipt, "identifier_in_text")
    }

    @Test func opinion_reasonHoldingFullWidthIdentifier_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        let receipt = try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "客户１１０１０５１９４９１２３１００２１已还款"))
        F.expectRejected(receipt, "identifier_in_text")
    }

    @Test func opinion_reasonWithShortNumbers_isAccepted() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "repaid 2026-03-01, amount 1,250,000.00, ref 20260301-0042")))
    }

    @Test func amend_byUploader_addsVersionAndKeepsPreviousInHistory() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1), reason: "fraud")
        let expiry = fixture.chain.nextBlockTimeMs + 100 * F.dayMs
        F.expectSuccess(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: id, reasonCode: "loan_default", expiresAtMs: expiry)))
        let entry = try fixture.entry(id)
        #expect(entry["version"]?.intValue == 2)
        #expect(entry["reasonCode"]?.stringValue == "loan_default")
        #expect(entry["effectiveExpiryMs"]?.intValue == Int64(expiry))
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.map { $0["action"]?.stringValue } == ["listed", "amended"])
        #expect(history[0]["details"]?["reasonCode"]?.stringValue == "fraud")
        #expect(history[1]["details"]?["reasonCode"]?.stringValue == "loan_default")
        #expect(history[1]["details"]?["version"]?.stringValue == "2")
    }

    @Test func amend_byAnotherInstitution_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectRejected(try fixture.submit("bankB", .amend, AmendBlacklistEntry(entryID: id, reasonCode: "loan_default")), "not_uploader")
    }

    @Test func amend_withNothingToChange_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectRejected(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: id)), "nothing_to_amend")
    }

    @Test func amend_unknownEntry_isRefused() throws {
        let fixture = try F()
        F.expectRejected(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: 99, reasonCode: "fraud")), "unknown_entry")
    }

    @Test func corroborate_byAnotherInstitution_isRecordedWithReason() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "same pattern seen here")))
        F.expectSuccess(try fixture.submit("clear", .corroborate, BlacklistOpinion(entryID: id, reason: "returned payments")))
        let entry = try fixture.entry(id)
        #expect(entry["corroboratedBy"]?.arrayValue == [.string("bankB"), .string("clear")])
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history[1]["action"]?.stringValue == "corroborated")
        #expect(history[1]["organization"]?.stringValue == "bankB")
        #expect(history[1]["details"]?["reason"]?.stringValue == "same pattern seen here")
    }

    @Test func corroborate_ownEntry_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectRejected(try fixture.submit("bankA", .corroborate, BlacklistOpinion(entryID: id, reason: "me too")), "own_entry")
    }

    @Test func corroborate_twice_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "seen it")))
        F.expectRejected(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "seen it again")), "already_corroborated")
    }

    @Test func dispute_byAnotherInstitution_isRecordedWithReason() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "loan was repaid", evidenceHash: F.evidence("receipt"))))
        #expect(try fixture.entry(id)["disputedBy"]?.arrayValue == [.string("bankB")])
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history[1]["action"]?.stringValue == "disputed")
        #expect(history[1]["details"]?["evidenceHash"]?.stringValue == F.evidence("receipt").hex)
    }

    @Test func dispute_afterCorroborating_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "seen it")))
        F.expectRejected(try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "changed my mind")), "already_corroborated")
    }

    @Test func dispute_withEmptyReason_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectRejected(try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "  ")), "empty_text")
    }

    @Test func revoke_byUploader_endsEntryAndStopsMatching() throws {
        let fixture = try F()
        let subject = try F.company(1)
        let id = try fixture.add("bankA", subject)
        F.expectSuccess(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: id, reason: "listed in error")))
        #expect(try fixture.status(id) == "revoked")
        let receipt = try fixture.check("bankB", subject)
        F.expectSuccess(receipt)
        #expect(F.matches(receipt).isEmpty)
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.map { $0["action"]?.stringValue } == ["listed", "revoked"])
    }

    @Test func revoke_anotherInstitutionsEntry_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectRejected(try fixture.submit("bankB", .revoke, RevokeBlacklistEntry(entryID: id, reason: "not yours to keep")), "not_uploader")
        F.expectRejected(try fixture.submit("clear", .revoke, RevokeBlacklistEntry(entryID: id, reason: "not yours to keep")), "not_uploader")
        #expect(try fixture.status(id) == "active")
    }

    @Test func revoke_byRegulator_removesAnyEntry() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        let receipt = try fixture.submit("reg", .revoke, RevokeBlacklistEntry(entryID: id, reason: "unlawful listing"))
        F.expectSuccess(receipt)
        #expect(receipt.events.first?["byRegulator"] == "true")
        #expect(try fixture.status(id) == "revoked")
    }

    @Test func revoke_twice_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: id, reason: "settled")))
        F.expectRejected(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: id, reason: "settled")), "entry_not_live")
    }

    @Test func corroborate_revokedEntry_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(1))
        F.expectSuccess(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: id, reason: "settled")))
        F.expectRejected(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "late")), "entry_not_live")
    }

    @Test func badArguments_areRefusedAsBadArguments() throws {
        let fixture = try F()
        let receipt = try fixture.chain.submit("bankA", BlacklistContract.call(.add, encodedArguments: [0xFF, 0x01]))
        F.expectRejected(receipt, "bad_arguments")
    }

    @Test func unknownOperation_isRefused() throws {
        let fixture = try F()
        let receipt = try fixture.chain.submit("bankA", ContractCall(contract: BlacklistContract.name, operation: "purge", arguments: []))
        F.expectRejected(receipt, "unknown_operation")
    }
}
