import Foundation
import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct BlacklistCheckTests {
    typealias F = BlacklistFixture

    func decode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func check_matchedSubject_receiptCarriesUploaderReasonDatesAndOpinions() throws {
        let fixture = try F()
        let subject = try F.company(5)
        let id = try fixture.add("bankA", subject, reason: "loan_default")
        F.expectSuccess(try fixture.submit("bankC", .corroborate, BlacklistOpinion(entryID: id, reason: "seen it")))
        F.expectSuccess(try fixture.submit("clear", .dispute, BlacklistOpinion(entryID: id, reason: "repaid")))
        let receipt = try fixture.check("bankB", subject)
        F.expectSuccess(receipt)
        let match = try #require(F.matches(receipt)[subject.text])
        #expect(match["matches"] == "1")
        let summary = try decode(try #require(match["entry"]))
        #expect(summary["entry"]?.intValue == Int64(id))
        #expect(summary["uploader"]?.stringValue == "bankA")
        #expect(summary["reasonCode"]?.stringValue == "loan_default")
        #expect(summary["status"]?.stringValue == "active")
        #expect(summary["corroboratedBy"]?.arrayValue == [.string("bankC")])
        #expect(summary["disputedBy"]?.arrayValue == [.string("clear")])
        #expect(summary["listedAtMs"]?.intValue != nil)
        #expect(summary["expiresAtMs"]?.intValue != nil)
    }

    @Test func checkResult_readsTheReceiptBack() throws {
        let fixture = try F()
        let listed = try F.company(1)
        _ = try fixture.add("bankA", listed)
        let receipt = try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: [try F.company(2), listed], purposeCode: "loan_review"))
        let result = try #require(BlacklistCheckResult(events: receipt.events))
        #expect(result.purposeCode == "loan_review")
        #expect(result.subjects == 2)
        #expect(result.matches.map(\.subject) == [listed.text])
        #expect(result.matches.first?.entries.count == 1)
        #expect(result.subjectsCheckedTotal == 2)
        #expect(result.allowance == 100)
    }

    @Test func check_unlistedSubject_reportsNoMatch() throws {
        let fixture = try F()
        let receipt = try fixture.check("bankB", try F.company(6))
        F.expectSuccess(receipt)
        #expect(F.matches(receipt).isEmpty)
        let summary = try #require(receipt.events.first { $0.name == "check_summary" })
        #expect(summary["subjects"] == "1")
        #expect(summary["matchedSubjects"] == "0")
    }

    @Test func check_isRecordedInTheSubjectsHistory() throws {
        let fixture = try F()
        let subject = try F.person("110105194912310021")
        _ = try fixture.add("bankA", subject)
        let receipt = try fixture.check("bankB", subject, purpose: "credit_application")
        let location = try #require(try fixture.chain.ledger.transaction(receipt.transactionID)).location
        let history = try fixture.query(.subject, ["subject": subject.text])
        let lookups = try #require(history["lookups"]?.arrayValue)
        #expect(lookups.count == 1)
        #expect(lookups[0]["organization"]?.stringValue == "bankB")
        #expect(lookups[0]["signer"]?.stringValue == fixture.chain.member("bankB").key.publicKey.hex)
        #expect(lookups[0]["purposeCode"]?.stringValue == "credit_application")
        #expect(lookups[0]["transactionID"]?.stringValue == receipt.transactionID.hex)
        #expect(lookups[0]["blockHeight"]?.intValue == Int64(location.height))
        #expect(history["entries"]?.arrayValue?.count == 1)
    }

    @Test func check_unlistedSubject_isStillRecorded() throws {
        let fixture = try F()
        let subject = try F.company(6)
        _ = try fixture.check("bankB", subject)
        let lookups = try #require(try fixture.query(.subject, ["subject": subject.text])["lookups"]?.arrayValue)
        #expect(lookups.count == 1)
        #expect(lookups[0]["matchedEntries"]?.arrayValue == [])
    }

    @Test func check_matchAppearsInTheEntrysProvenance() throws {
        let fixture = try F()
        let subject = try F.company(5)
        let id = try fixture.add("bankA", subject)
        _ = try fixture.check("bankB", subject, purpose: "loan_review")
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.last?["action"]?.stringValue == "checked")
        #expect(history.last?["organization"]?.stringValue == "bankB")
        #expect(history.last?["details"]?["purposeCode"]?.stringValue == "loan_review")
    }

    @Test func check_unknownPurpose_isRefused() throws {
        let fixture = try F()
        F.expectRejected(try fixture.check("bankB", try F.company(5), purpose: "curiosity"), "unknown_purpose")
    }

    @Test func check_byEnterpriseOrAuditor_isRefusedForWrongRole() throws {
        let fixture = try F()
        F.expectRejected(try fixture.check("acme", try F.company(5)), "not_permitted")
        F.expectRejected(try fixture.check("audit", try F.company(5)), "not_permitted")
    }

    @Test func check_overTheAllowance_isRefusedWithAClearReason() throws {
        let fixture = try F(parameters: .object(["baseAllowance": .integer(2), "allowancePerEntry": .integer(3)]))
        F.expectSuccess(try fixture.check("bankB", try F.company(1)))
        F.expectSuccess(try fixture.check("bankB", try F.company(2)))
        let refused = try fixture.check("bankB", try F.company(3))
        F.expectRejected(refused, "over_allowance")
        #expect(refused.rejection?.message.contains("checked 2 of its 2 allowed subjects") == true)
        #expect(try fixture.report("bankB")["subjectsChecked"]?.intValue == 2)
    }

    @Test func allowance_growsWithEntriesAdded() throws {
        let fixture = try F(parameters: .object(["baseAllowance": .integer(1), "allowancePerEntry": .integer(3)]))
        F.expectSuccess(try fixture.check("bankB", try F.company(1)))
        F.expectRejected(try fixture.check("bankB", try F.company(2)), "over_allowance")
        _ = try fixture.add("bankB", try F.company(9))
        #expect(try fixture.report("bankB")["allowance"]?.intValue == 4)
        F.expectSuccess(try fixture.check("bankB", try F.company(2)))
    }

    @Test func allowance_growsWithCorroborations() throws {
        let fixture = try F(parameters: .object(["baseAllowance": .integer(0), "allowancePerCorroboration": .integer(2)]))
        F.expectRejected(try fixture.check("bankB", try F.company(1)), "over_allowance")
        let id = try fixture.add("bankA", try F.company(9))
        F.expectSuccess(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "seen it")))
        F.expectSuccess(try fixture.check("bankB", try F.company(1)))
        #expect(try fixture.report("bankB")["allowanceRemaining"]?.intValue == 1)
    }

    @Test func batchCheck_reportsEachMatchedSubjectInOneTransaction() throws {
        let fixture = try F()
        let listedCompany = try F.company(1)
        let listedPerson = try F.person("110105194912310021")
        let clear = try F.person("110105194912310039")
        _ = try fixture.add("bankA", listedCompany)
        _ = try fixture.add("clear", listedPerson)
        let receipt = try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: [listedCompany, clear, listedPerson], purposeCode: "payment_screening"))
        F.expectSuccess(receipt)
        let matches = F.matches(receipt)
        #expect(Set(matches.keys) == [listedCompany.text, listedPerson.text])
        let summary = try #require(receipt.events.first { $0.name == "check_summary" })
        #expect(summary["subjects"] == "3")
        #expect(summary["matchedSubjects"] == "2")
        for subject in [listedCompany, listedPerson, clear] {
            let lookups = try #require(try fixture.query(.subject, ["subject": subject.text])["lookups"]?.arrayValue)
            #expect(lookups.count == 1)
            #expect(lookups[0]["batchSize"]?.intValue == 3)
        }
        #expect(try fixture.report("bankB")["subjectsChecked"]?.intValue == 3)
        #expect(try fixture.report("bankB")["checkTransactions"]?.intValue == 1)
    }

    @Test func batchCheck_overTheAllowance_isRefusedWhole() throws {
        let fixture = try F(parameters: .object(["baseAllowance": .integer(3)]))
        let subjects = try (1...4).map { try F.company(UInt64($0)) }
        F.expectRejected(try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: subjects, purposeCode: "loan_review")), "over_allowance")
        #expect(try fixture.report("bankB")["subjectsChecked"]?.intValue == 0)
        let lookups = try #require(try fixture.query(.subject, ["subject": subjects[0].text])["lookups"]?.arrayValue)
        #expect(lookups.isEmpty)
    }

    @Test func batchCheck_aboveTheBatchLimit_isRefused() throws {
        let fixture = try F(parameters: .object(["batchSubjectsMax": .integer(3)]))
        let subjects = try (1...4).map { try F.company(UInt64($0)) }
        F.expectRejected(try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: subjects, purposeCode: "loan_review")), "batch_too_large")
    }

    @Test func batchCheck_sameSubjectTwice_isRefused() throws {
        let fixture = try F()
        let subject = try F.company(1)
        F.expectRejected(try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: [subject, subject], purposeCode: "loan_review")), "duplicate_subject")
    }

    @Test func batchCheck_empty_isRefused() throws {
        let fixture = try F()
        F.expectRejected(try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: [], purposeCode: "loan_review")), "empty_batch")
    }

    @Test func batchCheck_rawPersonIdentifierInBatch_isRefused() throws {
        let fixture = try F()
        let raw = BlacklistSubject(kind: .person, value: Array("110105194912310021".utf8))
        F.expectRejected(try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: [try F.company(1), raw], purposeCode: "loan_review")), "person_not_hashed")
    }

    @Test func batchCheck_recordingAThousandExpiries_staysWithinTheReceiptLimits() throws {
        let fixture = try F(parameters: .object(["retentionDays": .integer(1), "baseAllowance": .integer(5000)]))
        let subjects = try (0..<1000).map { try F.company(UInt64(20_000 + $0)) }
        let adds = subjects.map { subject in
            fixture.chain.transaction("bankA", BlacklistContract.call(.add, AddBlacklistEntry(subject: subject, reasonCode: "fraud", evidenceHash: F.evidence("bulk"))))
        }
        let receipts = try fixture.chain.commit(adds)
        #expect(receipts.filter { !$0.isSuccess }.isEmpty)
        fixture.chain.advanceClock(byMs: 2 * F.dayMs)
        let receipt = try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: subjects, purposeCode: "payment_screening"))
        F.expectSuccess(receipt)
        #expect(F.matches(receipt).isEmpty)
        #expect(receipt.events.first { $0.name == "check_summary" }?["endsRecorded"] == "1000")
        #expect(try fixture.entry(1)["storedStatus"]?.stringValue == "expired")
    }

    @Test func batchCheck_atTheDefaultLimit_fitsInOneTransaction() throws {
        let fixture = try F(parameters: .object(["baseAllowance": .integer(5000)]))
        var subjects: [BlacklistSubject] = []
        for index in 0..<1000 { subjects.append(try F.company(UInt64(10_000 + index))) }
        for subject in subjects.prefix(3) { _ = try fixture.add("bankA", subject) }
        let receipt = try fixture.submit("bankB", .batchCheck, BatchCheckBlacklist(subjects: subjects, purposeCode: "payment_screening"))
        F.expectSuccess(receipt)
        #expect(F.matches(receipt).count == 3)
    }
}
