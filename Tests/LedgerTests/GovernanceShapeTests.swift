import Testing
import Ledger
import LedgerCore

/// Governance has the shape of every built-in contract: its `Operation` enum
/// is its whole permission table and the only source of the call builder's
/// names. The expected table is written out because operation names and
/// permissions are on-ledger behaviour.
@Suite struct GovernanceShapeTests {
    static let expected: [String: Set<OrganizationKind>] = [
        "addOrganization": [.regulator],
        "setOrganizationStatus": [.regulator],
        "addMemberKey": Set(OrganizationKind.allCases),
        "removeMemberKey": Set(OrganizationKind.allCases),
    ]

    @Test func operations_areExactlyThePermissionTable() {
        let governance = GovernanceContract()
        #expect(GovernanceContract.name == "governance")
        #expect(governance.name == "governance")
        #expect(Set(GovernanceContract.Operation.allCases.map(\.rawValue)) == Set(Self.expected.keys))
        #expect(GovernanceContract.Operation.allCases.count == Self.expected.count)
        for operation in GovernanceContract.Operation.allCases {
            #expect(governance.permittedKinds(for: operation.rawValue) == Self.expected[operation.rawValue], "\(operation.rawValue)")
            #expect(operation.permittedKinds == Self.expected[operation.rawValue], "\(operation.rawValue)")
        }
    }

    @Test func permittedKinds_isNilForAnyOtherName() {
        let governance = GovernanceContract()
        let variants = Self.expected.keys.flatMap { [$0.uppercased(), $0 + " ", " " + $0, $0 + "s", String($0.dropLast())] }
        let strangers = Set(variants).union(["", "unknown", "post", "add", "addMember", "governance.addMemberKey"])
            .subtracting(Self.expected.keys)
        for stranger in strangers.sorted() {
            #expect(governance.permittedKinds(for: stranger) == nil, "governance answers for '\(stranger)'")
        }
    }

    @Test func call_namesTheContractAndTheRawOperation() {
        let key = DeterministicChain.key("governance-shape").publicKey
        for operation in GovernanceContract.Operation.allCases {
            #expect(GovernanceContract.call(operation, MemberKeyChange(key: key))
                == ContractCall(contract: "governance", operation: operation.rawValue, arguments: MemberKeyChange(key: key).canonicalBytes))
            #expect(GovernanceContract.call(operation, encodedArguments: [1, 2])
                == ContractCall(contract: "governance", operation: operation.rawValue, arguments: [1, 2]))
        }
    }

    @Test func operationOfCall_refusesAnUnknownNameWithTheLedgersRejection() throws {
        let governance = GovernanceContract()
        let known = try governance.operation(of: GovernanceContract.call(.addMemberKey, encodedArguments: []))
        #expect(known == .addMemberKey)
        #expect(throws: LedgerRejection.unknownOperation(contract: "governance", operation: "mint")) {
            try governance.operation(of: ContractCall(contract: "governance", operation: "mint", arguments: []))
        }
    }
}
