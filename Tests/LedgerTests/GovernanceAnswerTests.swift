import Testing
import Ledger
import LedgerCore

/// The governance queries' JSON decodes into ``OrganizationAnswer`` and
/// encodes back to the same JSON, so the struct reads every key governance writes.
@Suite struct GovernanceAnswerTests {
    @Test func organizations_decodeIntoOrganizationAnswers() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(FaultInjectingStore())
        let json = try ledger.query(contract: GovernanceContract.name, GovernanceContract.Query.organizations.rawValue, parameters: [:])
        for item in json.arrayValue ?? [] {
            #expect(item.objectValue?.keys.sorted() == ["id", "kind", "memberKeys", "name", "status"])
        }
        let organizations = try json.decode([OrganizationAnswer].self)
        #expect(try JSONValue(encoding: organizations) == json)
        #expect(organizations.map(\.id) == ["acme", "bank"])
        #expect(organizations.map(\.kind) == [.enterprise, .bank])
        #expect(organizations.allSatisfy { $0.status == .active })
        #expect(organizations.first?.memberKeys == chain.senders.map(\.publicKey))
        #expect(organizations.last?.memberKeys == [DeterministicChain.key("bank").publicKey])
    }

    @Test func organizationAndMember_decodeIntoOrganizationAnswer() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(FaultInjectingStore())
        let byID = try ledger.query(contract: GovernanceContract.name, GovernanceContract.Query.organization.rawValue, parameters: ["id": "bank"])
        let answer = try byID.decode(OrganizationAnswer.self)
        #expect(try JSONValue(encoding: answer) == byID)
        #expect(answer == OrganizationAnswer(id: "bank", name: "Bank", kind: .bank, status: .active,
                                             memberKeys: [DeterministicChain.key("bank").publicKey]))
        let byMember = try ledger.query(contract: GovernanceContract.name, GovernanceContract.Query.member.rawValue,
                                        parameters: ["key": DeterministicChain.key("bank").publicKey.hex])
        #expect(try byMember.decode(OrganizationAnswer.self) == answer)
    }

    @Test func decode_otherShape_namesTheField() {
        let json: JSONValue = .object(["id": .string("bank"), "name": .string("Bank"), "kind": .string("bank"), "status": .string("active")])
        #expect { try json.decode(OrganizationAnswer.self) } throws: { error in
            guard case DecodingError.keyNotFound(let key, _) = error else { return false }
            return key.stringValue == "memberKeys"
        }
    }
}
