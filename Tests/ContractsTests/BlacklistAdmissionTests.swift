import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// The stateless checks the blacklist runs before a transaction is pooled,
/// so that personal data in its arguments never reaches a block.
@Suite struct BlacklistAdmissionTests {
    typealias F = BlacklistFixture

    private func admissionCode<Arguments: CanonicalEncodable>(_ operation: BlacklistContract.Operation, _ arguments: Arguments) -> String? {
        do {
            try BlacklistContract().checkArguments(BlacklistContract.call(operation, arguments))
            return nil
        } catch {
            return error.code
        }
    }

    @Test(arguments: [
        "ID 110101199003070011", "ID 110101-19900307-0011", "ID 110101 19900307 0011", "ID 110101.1990.0307.0011",
        "ID 1101 0119 9003 0700 11", "ID 1 1 0 1 0 1 1 9 9 0 0 3 0 7 0 0 1 1", "ID 110101\u{2009}19900307\u{3000}0011",
        "ID 110101\u{200B}199003070011", "ID 110101 - 19900307 - 0011", "ID 110101/19900307/0011", "old ID 110101900307001",
        "客户１１０１０５１９４９１２３１００２１已还款", "card 6222 0212 3456 7890 123",
    ])
    func identifiers_writtenAnyWay_areFound(text: String) {
        #expect(PersonalIdentifiers.appear(in: text))
    }

    @Test(arguments: [
        "repaid 2026-03-01, amount 1,250,000.00, ref 20260301-0042", "phone 010-6552-1234", "case 2025-1234 of 2026-01-05",
        "14 digits 11010119900307", "110101 then words 19900307 then 0011", "110101    19900307", "",
    ])
    func proseWithNumbers_isNotMistakenForAnIdentifier(text: String) {
        #expect(!PersonalIdentifiers.appear(in: text))
    }

    @Test func identifierInAnyTextOrCode_isRefusedBeforePooling() throws {
        let subject = try F.company(1)
        let evidence = F.evidence("x")
        let grouped = "see 110101-19900307-0011"
        #expect(admissionCode(.add, AddBlacklistEntry(subject: subject, reasonCode: "fraud", evidenceHash: evidence, note: grouped)) == "identifier_in_text")
        #expect(admissionCode(.add, AddBlacklistEntry(subject: subject, reasonCode: "110101199003070011", evidenceHash: evidence)) == "identifier_in_text")
        #expect(admissionCode(.amend, AmendBlacklistEntry(entryID: 1, note: grouped)) == "identifier_in_text")
        #expect(admissionCode(.corroborate, BlacklistOpinion(entryID: 1, reason: grouped)) == "identifier_in_text")
        #expect(admissionCode(.dispute, BlacklistOpinion(entryID: 1, reason: grouped)) == "identifier_in_text")
        #expect(admissionCode(.appeal, FileBlacklistAppeal(entryID: 1, reason: grouped, declaresSubjectIsCustomer: true,
                                                           relationshipEvidenceHash: evidence)) == "identifier_in_text")
        #expect(admissionCode(.answer, AnswerBlacklistAppeal(entryID: 1, decision: .maintain, reason: grouped)) == "identifier_in_text")
        #expect(admissionCode(.revoke, RevokeBlacklistEntry(entryID: 1, reason: grouped)) == "identifier_in_text")
        #expect(admissionCode(.check, CheckBlacklistSubject(subject: subject, purposeCode: "x110101199003070011")) == "identifier_in_text")
    }

    @Test func rawPersonSubject_isRefusedBeforePooling() {
        let raw = BlacklistSubject(kind: .person, value: Array("110101199003070011".utf8))
        #expect(admissionCode(.add, AddBlacklistEntry(subject: raw, reasonCode: "fraud", evidenceHash: F.evidence("x"))) == "person_not_hashed")
        #expect(admissionCode(.check, CheckBlacklistSubject(subject: raw, purposeCode: "loan_review")) == "person_not_hashed")
        #expect(admissionCode(.batchCheck, BatchCheckBlacklist(subjects: [raw], purposeCode: "loan_review")) == "person_not_hashed")
    }

    @Test func wellFormedCalls_andUndecodableOnes() throws {
        let subject = try F.person("110101199003070011")
        #expect(admissionCode(.add, AddBlacklistEntry(subject: subject, reasonCode: "fraud", evidenceHash: F.evidence("x"), note: "mule account")) == nil)
        #expect(admissionCode(.dispute, BlacklistOpinion(entryID: 1, reason: "repaid 2026-03-01, amount 1,250,000.00, ref 20260301-0042")) == nil)
        #expect(admissionCode(.settle, SettleBlacklistEntries(entryIDs: [1, 2])) == nil)
        let garbage = ContractCall(contract: BlacklistContract.name, operation: BlacklistContract.Operation.add.rawValue, arguments: [0xFF, 0x01])
        #expect(throws: Rejection.self) { try BlacklistContract().checkArguments(garbage) }
    }

    @Test func execution_refusesGroupedIdentifiers_too() throws {
        let fixture = try F()
        let receipt = try fixture.submit("bankA", .add, AddBlacklistEntry(
            subject: try F.company(1), reasonCode: "fraud", evidenceHash: F.evidence("x"), note: "ID 110105 19491231 0021"))
        F.expectRejected(receipt, "identifier_in_text")
    }

    @Test func genesisCodes_thatLookLikeIdentifiers_areRefused() {
        #expect(throws: GenesisError.self) {
            try BlacklistParameters.fromGenesis(.object(["reasonCodes": .array([.string("fraud_110101199003070011")])]))
        }
    }
}
