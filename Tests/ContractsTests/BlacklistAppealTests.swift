import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct BlacklistAppealTests {
    typealias F = BlacklistFixture

    func appeal(_ fixture: F, _ bank: String, _ id: UInt64, declares: Bool = true) throws -> Receipt {
        try fixture.submit(bank, .appeal, FileBlacklistAppeal(
            entryID: id, reason: "customer repaid the loan", declaresSubjectIsCustomer: declares, relationshipEvidenceHash: F.evidence("account record")))
    }

    @Test func appeal_bySubjectsBank_freezesEntryStillShownUnderAppeal() throws {
        let fixture = try F()
        let subject = try F.person("110105194912310021")
        let id = try fixture.add("bankA", subject)
        F.expectSuccess(try appeal(fixture, "bankB", id))
        let entry = try fixture.entry(id)
        #expect(entry["status"]?.stringValue == "under_appeal")
        #expect(entry["underAppeal"]?.boolValue == true)
        #expect(entry["appeal"]?["appellant"]?.stringValue == "bankB")
        let receipt = try fixture.check("bankC", subject)
        let match = try #require(F.matches(receipt)[subject.text])
        #expect(match["entry"]?.contains("\"status\":\"under_appeal\"") == true)
    }

    @Test func appeal_recordsTheCustomerDeclarationInHistory() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        let step = history[1]
        #expect(step["action"]?.stringValue == "appealed")
        #expect(step["organization"]?.stringValue == "bankB")
        #expect(step["details"]?["declaresSubjectIsCustomer"]?.stringValue == "true")
        #expect(step["details"]?["relationshipEvidenceHash"]?.stringValue == F.evidence("account record").hex)
    }

    @Test func appeal_withoutDeclaringTheCustomer_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectRejected(try appeal(fixture, "bankB", id, declares: false), "customer_not_declared")
    }

    @Test func appeal_byNonBank_isRefusedForWrongRole() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectRejected(try appeal(fixture, "clear", id), "not_permitted")
        F.expectRejected(try appeal(fixture, "reg", id), "not_permitted")
    }

    @Test func appeal_byTheUploader_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectRejected(try appeal(fixture, "bankA", id), "own_entry")
    }

    @Test func appeal_whileAnotherIsOpen_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        F.expectRejected(try appeal(fixture, "bankC", id), "appeal_open")
    }

    @Test func appeal_secondTimeBySameBank_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        F.expectSuccess(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "default confirmed")))
        F.expectRejected(try appeal(fixture, "bankB", id), "already_appealed")
    }

    @Test func amend_whileUnderAppeal_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        F.expectRejected(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: id, reasonCode: "loan_default")), "under_appeal")
    }

    @Test func answer_appealThatIsNotYours_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        for organization in ["bankB", "bankC", "reg"] {
            F.expectRejected(try fixture.submit(organization, .answer, AnswerBlacklistAppeal(entryID: id, decision: .withdraw, reason: "not mine")), "not_uploader")
        }
        #expect(try fixture.status(id) == "under_appeal")
    }

    @Test func answer_withoutOpenAppeal_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectRejected(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "nothing")), "no_open_appeal")
    }

    @Test func answer_maintain_makesEntryActiveAgain() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        F.expectSuccess(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "court ruling stands")))
        #expect(try fixture.status(id) == "active")
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.last?["action"]?.stringValue == "answered")
        #expect(history.last?["details"]?["decision"]?.stringValue == "maintain")
    }

    @Test func answer_withdraw_removesEntry() throws {
        let fixture = try F()
        let subject = try F.company(3)
        let id = try fixture.add("bankA", subject)
        F.expectSuccess(try appeal(fixture, "bankB", id))
        F.expectSuccess(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .withdraw, reason: "we were wrong")))
        #expect(try fixture.status(id) == "withdrawn")
        #expect(F.matches(try fixture.check("bankC", subject)).isEmpty)
    }

    @Test func answer_justBeforeTheDeadline_isAccepted() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        fixture.chain.advanceClock(byMs: 20 * F.dayMs - 5000)
        F.expectSuccess(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "in time")))
        #expect(try fixture.status(id) == "active")
    }

    @Test func appeal_unansweredPastDeadline_removesEntryByBlockTime() throws {
        let fixture = try F()
        let subject = try F.person("110105194912310021")
        let id = try fixture.add("bankA", subject)
        F.expectSuccess(try appeal(fixture, "bankB", id))
        #expect(F.matches(try fixture.check("bankC", subject)).count == 1)

        fixture.chain.advanceClock(byMs: 20 * F.dayMs)
        try fixture.tick()
        // Queries evaluate the deadline lazily: removed, though nothing has been recorded yet.
        let entry = try fixture.entry(id)
        #expect(entry["status"]?.stringValue == "appeal_lapsed")
        #expect(entry["storedStatus"]?.stringValue == "under_appeal")

        // The next check does not match it, and records the lapse.
        let receipt = try fixture.check("bankC", subject)
        F.expectSuccess(receipt)
        #expect(F.matches(receipt).isEmpty)
        #expect(receipt.events.first { $0.name == "check_summary" }?["endsRecorded"] == "1")
        #expect(try fixture.entry(id)["storedStatus"]?.stringValue == "appeal_lapsed")
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.contains { $0["action"]?.stringValue == "appeal_lapsed" && $0["organization"]?.stringValue == "bankC" })
    }

    @Test func answer_afterDeadline_isRefusedAsLapsed() throws {
        let fixture = try F(parameters: .object(["appealAnswerDays": .integer(5)]))
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        fixture.chain.advanceClock(byMs: 5 * F.dayMs)
        F.expectRejected(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "too late")), "appeal_lapsed")
    }

    @Test func answer_afterLapseWasRecorded_isRefusedNamingTheDeadline() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        let filed = try appeal(fixture, "bankB", id)
        let deadline = try #require(filed.events.first?["deadlineMs"])
        fixture.chain.advanceClock(byMs: 21 * F.dayMs)
        F.expectSuccess(try fixture.submit("bankC", .settle, SettleBlacklistEntries(entryIDs: [id])))
        let receipt = try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "too late"))
        F.expectRejected(receipt, "appeal_lapsed")
        #expect(receipt.rejection?.message.contains(deadline) == true)
        #expect(try fixture.entry(id)["appeal"]?["appellant"]?.stringValue == "bankB")
    }

    @Test func settle_recordsLapseWithoutACheck() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectSuccess(try appeal(fixture, "bankB", id))
        fixture.chain.advanceClock(byMs: 21 * F.dayMs)
        let receipt = try fixture.submit("bankB", .settle, SettleBlacklistEntries(entryIDs: [id]))
        F.expectSuccess(receipt)
        #expect(receipt.events.contains { $0.name == "appeal_lapsed" && $0["entry"] == String(id) })
        #expect(try fixture.entry(id)["storedStatus"]?.stringValue == "appeal_lapsed")
    }

    @Test func settle_withNothingDue_isRefused() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(3))
        F.expectRejected(try fixture.submit("bankB", .settle, SettleBlacklistEntries(entryIDs: [id])), "nothing_due")
    }

    @Test func add_afterOwnAppealLapsed_isAllowed() throws {
        let fixture = try F()
        let subject = try F.company(3)
        let id = try fixture.add("bankA", subject)
        F.expectSuccess(try appeal(fixture, "bankB", id))
        fixture.chain.advanceClock(byMs: 21 * F.dayMs)
        let second = try fixture.add("bankA", subject)
        #expect(second != id)
        #expect(try fixture.entry(id)["storedStatus"]?.stringValue == "appeal_lapsed")
    }

    @Test func expiry_explicit_stopsMatchingButKeepsHistory() throws {
        let fixture = try F()
        let subject = try F.company(4)
        let expiry = fixture.chain.nextBlockTimeMs + 10 * F.dayMs
        let id = try fixture.add("bankA", subject, expiresAtMs: expiry)
        #expect(F.matches(try fixture.check("bankB", subject)).count == 1)
        fixture.chain.advanceClock(byMs: 10 * F.dayMs)
        let receipt = try fixture.check("bankB", subject)
        #expect(F.matches(receipt).isEmpty)
        #expect(receipt.events.first { $0.name == "check_summary" }?["endsRecorded"] == "1")
        #expect(try fixture.status(id) == "expired")
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.map { $0["action"]?.stringValue } == ["listed", "checked", "expired"])
    }

    @Test func expiry_retentionPeriod_endsEntryAfterFiveYears() throws {
        let fixture = try F()
        let subject = try F.company(4)
        let id = try fixture.add("bankA", subject)
        fixture.chain.advanceClock(byMs: 1824 * F.dayMs)
        try fixture.tick()
        #expect(try fixture.status(id) == "active")
        fixture.chain.advanceClock(byMs: 2 * F.dayMs)
        try fixture.tick()
        #expect(try fixture.status(id) == "expired")
        #expect(F.matches(try fixture.check("bankB", subject)).isEmpty)
    }

    @Test func amend_expiryBeyondOriginalRetention_isRefused() throws {
        let fixture = try F(parameters: .object(["retentionDays": .integer(30)]))
        let id = try fixture.add("bankA", try F.company(4))
        fixture.chain.advanceClock(byMs: 20 * F.dayMs)
        let late = fixture.chain.nextBlockTimeMs + 15 * F.dayMs
        F.expectRejected(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: id, expiresAtMs: late)), "expiry_beyond_retention")
    }
}
