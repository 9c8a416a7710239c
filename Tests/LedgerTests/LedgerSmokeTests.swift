import Testing
@testable import Ledger
import Contracts

@Suite struct LedgerExecutionTests {
    @Test func governance_addMemberKey_commitsAndChangesRoot() throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank), ("reg", .regulator), ("acme", .enterprise)])
        let before = chain.ledger.head
        let newKey = try PrivateKey.generate()
        let receipt = try chain.submit("acme", ContractCall(contract: "governance", operation: "addMemberKey",
                                                            arguments: MemberKeyChange(key: newKey.publicKey).canonicalBytes))
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        let after = chain.ledger.head
        #expect(after.height == before.height + 1)
        #expect(after.stateRoot != before.stateRoot)
        let record = try #require(try chain.ledger.transaction(receipt.transactionID))
        #expect(record.location.height == 1)
    }
}
