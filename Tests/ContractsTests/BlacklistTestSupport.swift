import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// A local consortium running governance and the blacklist, with helpers
/// that submit blacklist calls and read its queries.
final class BlacklistFixture {
    static let consortiumKey = Array("blacklist-test-consortium-key-v1".utf8)
    static let dayMs: UInt64 = 86_400_000

    let store: MemoryStore
    let chain: LocalConsortium

    /// Banks bankA, bankB, bankC; clearing house `clear`; regulator `reg`;
    /// auditor `audit`; enterprise `acme`.
    init(parameters: JSONValue? = nil) throws {
        store = MemoryStore()
        let governance = GovernanceContract()
        chain = try LocalConsortium(
            organizations: [("bankA", .bank), ("bankB", .bank), ("bankC", .bank), ("clear", .clearingHouse), ("reg", .regulator),
                            ("audit", .auditor), ("acme", .enterprise)],
            contracts: parameters.map { ["blacklist": $0] } ?? [:],
            registry: ContractRegistry(contracts: [governance, BlacklistContract()], directory: governance),
            store: store)
    }

    static func company(_ serial: UInt64) throws -> BlacklistSubject {
        try BlacklistFixtures.company(serial: serial)
    }

    static func person(_ identifier: String) throws -> BlacklistSubject {
        try BlacklistSubject.person(identifier: identifier, consortiumKey: consortiumKey)
    }

    static func evidence(_ text: String) -> Hash { Hash.sha256(Array(text.utf8)) }

    @discardableResult
    func submit<Arguments: CanonicalEncodable>(_ organization: String, _ operation: BlacklistContract.Operation, _ arguments: Arguments) throws -> Receipt {
        try chain.submit(organization, BlacklistContract.call(operation, arguments))
    }

    /// Lists `subject` as `organization` and returns the new entry's id.
    func add(_ organization: String, _ subject: BlacklistSubject, reason: String = "fraud", expiresAtMs: UInt64? = nil,
             note: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
        let receipt = try submit(organization, .add, AddBlacklistEntry(
            subject: subject, reasonCode: reason, evidenceHash: Self.evidence("evidence of \(subject.text)"), expiresAtMs: expiresAtMs, note: note))
        try #require(receipt.isSuccess, "add failed: \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
        let event = try #require(receipt.events.first { $0.name == "entry_added" }, sourceLocation: sourceLocation)
        return try #require(event["entry"].flatMap { UInt64($0) }, sourceLocation: sourceLocation)
    }

    func check(_ organization: String, _ subject: BlacklistSubject, purpose: String = "account_opening") throws -> Receipt {
        try submit(organization, .check, CheckBlacklistSubject(subject: subject, purposeCode: purpose))
    }

    func query(_ name: BlacklistContract.Query, _ parameters: [String: String] = [:]) throws -> JSONValue {
        try chain.ledger.query(contract: BlacklistContract.name, name.rawValue, parameters: parameters)
    }

    func entry(_ id: UInt64) throws -> JSONValue {
        try query(.entry, ["id": String(id)])
    }

    func status(_ id: UInt64) throws -> String? {
        try entry(id)["status"]?.stringValue
    }

    func report(_ organization: String) throws -> JSONValue {
        try query(.report, ["organization": organization])
    }

    /// Commits an empty block, so that queries see a later block time.
    func tick() throws {
        try chain.commit([])
    }

    /// The `check_match` events of a receipt, by subject text.
    static func matches(_ receipt: Receipt) -> [String: Event] {
        var result: [String: Event] = [:]
        for event in receipt.events where event.name == "check_match" {
            if let subject = event["subject"] { result[subject] = event }
        }
        return result
    }

    static func expectRejected(_ receipt: Receipt, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(receipt.rejection?.code == code, "expected \(code), got \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
    }

    static func expectSuccess(_ receipt: Receipt, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(receipt.isSuccess, "rejected: \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
    }
}
