import Foundation
import Testing
@testable import Contracts
import Ledger

/// Seeds for randomized tests: `CLEARING_SEED` replays one seed.
func clearingSeeds(count: UInt64, base: UInt64) -> [UInt64] {
    if let text = Environment.value("CLEARING_SEED"), let seed = UInt64(text) { return [seed] }
    return (0..<count).map { base &+ $0 &* 0x9E37 }
}

enum Environment {
    static func value(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
}

/// Builds consortia and calls for the clearing contract tests.
enum ClearingFixture {
    static let organizations: [(id: String, kind: OrganizationKind)] = [
        ("bankA", .bank), ("bankB", .bank), ("bankC", .bank), ("cch", .clearingHouse), ("cch2", .clearingHouse),
        ("reg", .regulator), ("acme", .enterprise),
    ]

    static func chain(_ parameters: JSONValue? = nil) throws -> LocalConsortium {
        var contracts: [String: JSONValue] = [:]
        if let parameters { contracts[ClearingContract.name] = parameters }
        let governance = GovernanceContract()
        return try LocalConsortium(
            organizations: organizations, contracts: contracts,
            registry: ContractRegistry(contracts: [governance, ClearingContract()], directory: governance))
    }

    static func call(_ operation: ClearingContract.Operation, _ arguments: some CanonicalEncodable) -> ContractCall {
        ClearingContract.call(operation, arguments)
    }

    static func record(_ id: String, payer: String = "bankA", payee: String = "bankB", amount: UInt64 = 10_000,
                       currency: String = "CNY", status: PaymentStatus = .sent, timestampMs: UInt64 = 1_767_225_600_000) -> PostRecord {
        PostRecord(paymentID: id, payer: AccountRef(institution: payer, account: "\(payer)-001"),
                   payee: AccountRef(institution: payee, account: "\(payee)-002"), amountMinor: amount, currency: currency,
                   participantTimestampMs: timestampMs, channel: "IBPS", status: status)
    }

    static func update(_ id: String, _ status: PaymentStatus, amount: UInt64? = nil, currency: String? = nil) -> UpdateRecord {
        UpdateRecord(paymentID: id, status: status, participantTimestampMs: 1_767_225_700_000, correctedAmountMinor: amount, correctedCurrency: currency)
    }
}

extension LocalConsortium {
    /// Submits a clearing operation and returns its receipt.
    @discardableResult
    func clearing(_ member: String, _ operation: ClearingContract.Operation, _ arguments: some CanonicalEncodable) throws -> Receipt {
        try submit(member, ClearingFixture.call(operation, arguments))
    }

    func clearingQuery(_ name: ClearingContract.Query, _ parameters: [String: String] = [:]) throws -> JSONValue {
        try ledger.query(contract: ClearingContract.name, name.rawValue, parameters: parameters)
    }
}

extension JSONValue {
    /// The elements of an array, or none.
    var items: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }

    var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}

/// Expects a receipt to be a success.
func expectSuccess(_ receipt: Receipt, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(receipt.isSuccess, "rejected: \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
}
