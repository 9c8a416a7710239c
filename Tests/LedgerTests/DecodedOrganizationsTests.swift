import Testing
import LedgerCore
@testable import Ledger

/// The directory's decoded organizations answer only for the exact record
/// they came from (`LedgerTests.suspendedOrganization_isRefused` follows a
/// change through the ledger).
@Suite struct DecodedOrganizationsTests {
    @Test func aChangedRecord_isNotAnsweredFromTheCache() throws {
        let cache = DecodedOrganizations()
        let before = Organization(id: "acme", name: "Acme", kind: .enterprise, memberKeys: [try PrivateKey.generate().publicKey])
        var after = before
        after.memberKeys.append(try PrivateKey.generate().publicKey)
        cache.remember(before, record: before.canonicalBytes)
        #expect(cache.organization(id: "acme", record: before.canonicalBytes) == before)
        #expect(cache.organization(id: "acme", record: after.canonicalBytes) == nil, "a key added since is not missed")
        #expect(cache.organization(id: "other", record: before.canonicalBytes) == nil)
        cache.remember(after, record: after.canonicalBytes)
        #expect(cache.organization(id: "acme", record: after.canonicalBytes) == after)
        #expect(cache.organization(id: "acme", record: before.canonicalBytes) == nil)
    }
}
