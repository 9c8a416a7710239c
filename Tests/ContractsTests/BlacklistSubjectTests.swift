import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct BlacklistSubjectTests {
    @Test func creditCode_publishedExample_isAccepted() throws {
        let subject = try BlacklistSubject.company(creditCode: "91350100M000100Y43")
        #expect(subject.creditCode == "91350100M000100Y43")
        #expect(subject.text == "company:91350100M000100Y43")
    }

    @Test func creditCode_wrongCheckCharacter_isRefused() {
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject.company(creditCode: "91350100M000100Y44") }
        do {
            _ = try BlacklistSubject.company(creditCode: "91350100M000100Y44")
        } catch {
            #expect(error.code == .invalidCreditCode)
            #expect(error.message.contains("check digit"))
        }
    }

    @Test func creditCode_letterOutsideAlphabet_isRefused() {
        // 'I', 'O', 'S', 'V' and 'Z' are not used by GB 32100-2015.
        for code in ["91350100I000100Y43", "91350100O000100Y43", "91350100S000100Y43", "91350100M000100Y4", "91350100M000100Y433"] {
            #expect(throws: BlacklistSubjectError.self, "\(code)") { try BlacklistSubject.company(creditCode: code) }
        }
    }

    @Test func creditCode_everySingleCharacterChange_isDetected() throws {
        let valid = Array("91350100M000100Y43".utf8)
        for position in 0..<17 {
            for replacement in BlacklistCreditCode.alphabet where replacement != valid[position] {
                var changed = valid
                changed[position] = replacement
                let text = String(decoding: changed, as: UTF8.self)
                #expect(BlacklistCreditCode.problem(text) != nil, "\(text) passed its check")
            }
        }
    }

    @Test func creditCode_lowerCaseAndSpaces_areNormalized() throws {
        let subject = try BlacklistSubject.company(creditCode: "  91350100m000100y43 ")
        #expect(subject.creditCode == "91350100M000100Y43")
    }

    @Test func personHash_isDomainTaggedHMACOfNormalizedIdentifier() throws {
        let key = BlacklistFixture.consortiumKey
        let hash = try BlacklistSubject.personHash(identifier: " 11010519491231002x ", consortiumKey: key)
        let expected = HMACSHA256.mac(key: key, data: Array("consort/blacklist/person/v1".utf8) + [0] + Array("11010519491231002X".utf8))
        #expect(hash == expected)
        #expect(hash.count == 32)
        #expect(try BlacklistSubject.personHash(identifier: "11010519491231002X", consortiumKey: key) == hash)
    }

    @Test func personHash_dependsOnConsortiumKey() throws {
        let first = try BlacklistSubject.personHash(identifier: "11010519491231002X", consortiumKey: Array("key-number-one-0123456".utf8))
        let second = try BlacklistSubject.personHash(identifier: "11010519491231002X", consortiumKey: Array("key-number-two-0123456".utf8))
        #expect(first != second)
    }

    @Test func personHash_shortKeyOrEmptyIdentifier_isRefused() {
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject.personHash(identifier: "110105194912310021", consortiumKey: [1, 2, 3]) }
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject.personHash(identifier: "   ", consortiumKey: BlacklistFixture.consortiumKey) }
    }

    @Test func person_rawIdentifierInPlaceOfHash_isRefusedOnClient() {
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject.person(hash: Array("110105194912310021".utf8)) }
        // 32 printable characters are text, not a hash.
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject.person(hash: Array("110105194912310021-ABCDEFGHIJKLM".utf8)) }
    }

    @Test func subjectText_roundTrips() throws {
        let person = try BlacklistFixture.person("110105194912310021")
        #expect(try BlacklistSubject(text: person.text) == person)
        let company = try BlacklistFixture.company(42)
        #expect(try BlacklistSubject(text: company.text) == company)
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject(text: "person:110105194912310021") }
        #expect(throws: BlacklistSubjectError.self) { try BlacklistSubject(text: "vehicle:ABC") }
    }

    @Test func subjectCodec_roundTrips() throws {
        let person = try BlacklistFixture.person("110105194912310021")
        #expect(try BlacklistSubject(canonicalBytes: person.canonicalBytes) == person)
    }
}

@Suite struct BlacklistParameterTests {
    @Test func parameters_absent_takeDefaults() throws {
        #expect(try BlacklistParameters.fromGenesis(nil) == .defaults)
        #expect(BlacklistParameters.defaults.appealAnswerDays == 20)
        #expect(BlacklistParameters.defaults.retentionDays == 1825)
    }

    @Test func parameters_given_overrideDefaults() throws {
        let parameters = try BlacklistParameters.fromGenesis(.object([
            "reasonCodes": .array([.string("fraud")]), "appealAnswerDays": .integer(10), "baseAllowance": .integer(3),
        ]))
        #expect(parameters.reasonCodes == ["fraud"])
        #expect(parameters.appealAnswerDays == 10)
        #expect(parameters.baseAllowance == 3)
        #expect(parameters.retentionDays == BlacklistParameters.defaults.retentionDays)
    }

    @Test func parameters_badValue_isRefusedNamingTheField() {
        let cases: [(JSONValue, String)] = [
            (.object(["appealAnswerDays": .integer(0)]), "appealAnswerDays"),
            (.object(["retentionDays": .string("five years")]), "retentionDays"),
            (.object(["reasonCodes": .array([])]), "reasonCodes"),
            (.object(["reasonCodes": .array([.string("Fraud!")])]), "reasonCodes[0]"),
            (.object(["purposeCodes": .array([.string("audit"), .string("audit")])]), "purposeCodes[1]"),
            (.object(["batchSubjectsMax": .integer(5000)]), "batchSubjectsMax"),
            (.object(["baseAllowence": .integer(5)]), "baseAllowence"),
        ]
        for (section, field) in cases {
            do {
                _ = try BlacklistParameters.fromGenesis(section)
                Issue.record("\(section) was accepted")
            } catch {
                #expect(error.message.contains(field), "\(error.message)")
            }
        }
    }

    @Test func genesis_badBlacklistSection_stopsTheLedger() {
        #expect(throws: (any Error).self) {
            _ = try BlacklistFixture(parameters: .object(["appealAnswerDays": .integer(-1)]))
        }
    }
}
