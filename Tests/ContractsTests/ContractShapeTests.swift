import Testing
import Contracts
import Ledger
import LedgerCore

/// Every built-in contract has one shape: its `Operation` enum is its whole
/// permission table and the only source of the call builder's names. The
/// expected tables are written out here because operation names and
/// permissions are on-ledger behaviour: a renamed case or a changed row
/// must fail a test, not slip through.
@Suite struct ContractShapeTests {
    private static let chainMembers: Set<OrganizationKind> = [.bank, .clearingHouse, .regulator]
    private static let enterprises: Set<OrganizationKind> = [.enterprise, .coreEnterprise]
    private static let everyKind = Set(OrganizationKind.allCases)

    static let blacklist: [String: Set<OrganizationKind>] = [
        "add": chainMembers, "amend": chainMembers, "corroborate": chainMembers, "dispute": chainMembers,
        "appeal": [.bank], "answer": chainMembers, "revoke": chainMembers, "check": chainMembers,
        "batchCheck": chainMembers, "settle": chainMembers,
    ]

    static let clearing: [String: Set<OrganizationKind>] = [
        "post": [.bank, .clearingHouse], "update": [.bank, .clearingHouse], "openCycle": [.clearingHouse],
        "closeCycle": [.clearingHouse], "signCycle": [.bank], "postFinding": [.bank, .clearingHouse],
        "resolveFinding": [.bank, .clearingHouse],
    ]

    static let receivables: [String: Set<OrganizationKind>] = [
        "setCreditLine": [.bank], "issue": [.coreEnterprise], "cancel": [.coreEnterprise],
        "acceptVoucher": enterprises, "rejectVoucher": enterprises, "offerTransfer": enterprises,
        "acceptTransfer": enterprises, "declineTransfer": enterprises, "withdrawOffer": enterprises,
        "offerFinancing": enterprises, "acceptFinancing": [.bank], "declineFinancing": [.bank],
        "settle": [.coreEnterprise], "freeze": [.regulator], "unfreeze": [.regulator],
        "configure": everyKind, "approve": everyKind, "discard": everyKind,
    ]

    static let statements: [String: Set<OrganizationKind>] = [
        "registerAccount": [.bank], "postStatement": [.bank], "postBookEntries": enterprises,
        "confirmBalance": enterprises, "disputeBalance": enterprises, "resolveDispute": [.bank, .enterprise, .coreEnterprise],
        "postIntradayReport": [.bank],
        "matchItems": [.bank, .enterprise, .coreEnterprise],
        "unmatch": [.bank, .enterprise, .coreEnterprise],
        "reviewMatch": [.bank, .enterprise, .coreEnterprise],
        "correctBookEntry": [.enterprise, .coreEnterprise],
        "acceptAccount": [.enterprise, .coreEnterprise],
    ]

    /// Names that are operations of some contract, for checking that no contract answers for another's.
    static let everyOperationName = Set([blacklist, clearing, receivables, statements].flatMap(\.keys))
        .union(["addOrganization", "setOrganizationStatus", "addMemberKey", "removeMemberKey"])

    @Test func blacklist_operationsArePermissionTableAndCallNames() {
        expectShape(BlacklistContract(), expected: Self.blacklist, name: "blacklist")
    }

    @Test func clearing_operationsArePermissionTableAndCallNames() {
        expectShape(ClearingContract(), expected: Self.clearing, name: "clearing")
    }

    @Test func receivables_operationsArePermissionTableAndCallNames() {
        expectShape(ReceivablesContract(), expected: Self.receivables, name: "receivables")
    }

    @Test func statements_operationsArePermissionTableAndCallNames() {
        expectShape(StatementsContract(), expected: Self.statements, name: "statements")
    }

    @Test func standardRegistry_holdsEachContractUnderItsStaticName() {
        let registry = StandardContracts.registry()
        #expect(registry.names == ["blacklist", "clearing", "governance", "receivables", "statements"])
        #expect(registry.contract(named: BlacklistContract.name) is BlacklistContract)
        #expect(registry.contract(named: ClearingContract.name) is ClearingContract)
        #expect(registry.contract(named: ReceivablesContract.name) is ReceivablesContract)
        #expect(registry.contract(named: StatementsContract.name) is StatementsContract)
        #expect(registry.contract(named: GovernanceContract.name) is GovernanceContract)
    }

    /// `permittedKinds(for:)` answers exactly `expected` for the names of
    /// `Operation` and nil for every other name; `call` names the contract and
    /// the operation and carries the arguments' canonical bytes.
    private func expectShape<C: BuiltInContract>(_ contract: C, expected: [String: Set<OrganizationKind>], name: String,
                                                 sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(C.name == name, sourceLocation: sourceLocation)
        #expect(contract.name == name, sourceLocation: sourceLocation)
        #expect(Set(C.Operation.allCases.map(\.rawValue)) == Set(expected.keys), sourceLocation: sourceLocation)
        #expect(C.Operation.allCases.count == expected.count, sourceLocation: sourceLocation)

        let arguments = ShapeArguments(text: "arguments")
        for operation in C.Operation.allCases {
            #expect(contract.permittedKinds(for: operation.rawValue) == expected[operation.rawValue],
                    "\(name).\(operation.rawValue)", sourceLocation: sourceLocation)
            #expect(operation.permittedKinds == expected[operation.rawValue], "\(name).\(operation.rawValue)", sourceLocation: sourceLocation)

            let call = C.call(operation, arguments)
            #expect(call == ContractCall(contract: name, operation: operation.rawValue, arguments: arguments.canonicalBytes),
                    sourceLocation: sourceLocation)
            #expect(C.call(operation, encodedArguments: [0xFF]) == ContractCall(contract: name, operation: operation.rawValue, arguments: [0xFF]),
                    sourceLocation: sourceLocation)
        }

        let variants = expected.keys.flatMap { [$0.uppercased(), $0 + " ", " " + $0, $0 + "s", String($0.dropLast())] }
        let strangers = Self.everyOperationName.union(variants).union(["", "unknown", "\(name).post"])
            .subtracting(expected.keys)
        for stranger in strangers.sorted() {
            #expect(contract.permittedKinds(for: stranger) == nil, "\(name) answers for '\(stranger)'", sourceLocation: sourceLocation)
        }
    }
}

/// Arguments with a recognisable encoding, for checking what a call carries.
private struct ShapeArguments: CanonicalEncodable {
    var text: String

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(text)
    }
}
