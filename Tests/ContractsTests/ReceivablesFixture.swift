import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// A local consortium with the receivables contract: two banks, two core
/// enterprises, five suppliers and a regulator. Genesis is 2026-01-01 00:00 UTC.
final class ReceivablesFixture {
    typealias Operation = ReceivablesContract.Operation

    static let organizations: [(id: String, kind: OrganizationKind)] = [
        ("bankA", .bank), ("bankB", .bank), ("core", .coreEnterprise), ("core2", .coreEnterprise),
        ("s1", .enterprise), ("s2", .enterprise), ("s3", .enterprise), ("s4", .enterprise), ("s5", .enterprise),
        ("reg", .regulator), ("audit", .auditor),
    ]

    let chain: LocalConsortium

    static func registry() -> ContractRegistry {
        let governance = GovernanceContract()
        return ContractRegistry(contracts: [governance, ReceivablesContract()], directory: governance)
    }

    /// Creates the consortium; `creditLimit` (if any) is granted by bankA to `core` in CNY.
    init(parameters: JSONValue? = nil, keysPerOrganization: Int = 2, creditLimit: UInt64? = 100_000_000,
         store: any KeyValueStore = MemoryStore()) throws {
        chain = try LocalConsortium(organizations: Self.organizations, keysPerOrganization: keysPerOrganization,
                                    contracts: parameters.map { ["receivables": $0] } ?? [:], registry: Self.registry(), store: store)
        if let creditLimit {
            try succeed(submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "core", currency: "CNY", limit: creditLimit)))
        }
    }

    /// The day the next block falls on.
    var today: ReceivableDay { ReceivableDay(timestampMs: chain.nextBlockTimeMs) }

    /// Moves the clock so that the next block is early on `day`.
    func advance(to day: ReceivableDay) {
        let current = chain.nextBlockTimeMs - 1000
        if day.startMs > current { chain.advanceClock(byMs: day.startMs - current) }
    }

    func transaction(_ organization: String, _ operation: Operation, _ arguments: some CanonicalEncodable, key: Int = 0) -> Transaction {
        chain.transaction(organization, keyIndex: key, ReceivablesContract.call(operation, arguments))
    }

    @discardableResult
    func submit(_ organization: String, _ operation: Operation, _ arguments: some CanonicalEncodable, key: Int = 0) throws -> Receipt {
        try chain.submit(organization, keyIndex: key, ReceivablesContract.call(operation, arguments))
    }

    func issueArguments(_ id: String, amount: UInt64 = 1_000_000, supplier: String = "s1", issuer: String = "core",
                        months: Int = 3, transferable: Bool = true) -> ReceivableIssue {
        let today = self.today
        return ReceivableIssue(
            voucherID: id, supplier: supplier, creditBank: "bankA", amount: amount, currency: "CNY", issueDate: today,
            dueDate: today.addingMonths(months), contractHash: Hash.sha256(Array("contract-\(id)".utf8)),
            invoices: [ReceivableInvoice(number: "INV-\(id)", amount: amount, date: today, documentHash: Hash.sha256(Array("invoice-\(id)".utf8)))],
            transferable: transferable, note: "goods for \(id)")
    }

    /// Issues and accepts a voucher; returns its root piece.
    @discardableResult
    func issueAccepted(_ id: String, amount: UInt64 = 1_000_000, supplier: String = "s1", months: Int = 3,
                       transferable: Bool = true) throws -> ReceivablePieceID {
        try succeed(submit("core", .issue, issueArguments(id, amount: amount, supplier: supplier, months: months, transferable: transferable)))
        try succeed(submit(supplier, .acceptVoucher, ReceivableVoucherRef(voucherID: id)))
        return ReceivablePieceID(voucherID: id, first: 1, last: amount)
    }

    /// Offers `amount` of `piece` to `recipient` and has the recipient accept; returns the moved piece.
    @discardableResult
    func transfer(_ piece: ReceivablePieceID, amount: UInt64, from holder: String, to recipient: String) throws -> ReceivablePieceID {
        try succeed(submit(holder, .offerTransfer, ReceivableTransfer(piece: piece, amount: amount, recipient: recipient)))
        let moved = ReceivablePieceID(voucherID: piece.voucherID, first: piece.first, last: piece.first + amount - 1)
        try succeed(submit(recipient, .acceptTransfer, ReceivablePieceRef(piece: moved)))
        return moved
    }

    func piece(_ id: ReceivablePieceID) throws -> ReceivablePiece {
        let raw = try #require(try chain.ledger.stateValue(contract: ReceivablesContract.name, key: ReceivablesContract.Keys.piece(id)))
        return try ReceivablePiece(canonicalBytes: raw)
    }

    func voucher(_ id: String) throws -> ReceivableVoucher {
        let raw = try #require(try chain.ledger.stateValue(contract: ReceivablesContract.name, key: ReceivablesContract.Keys.voucher(id)))
        return try ReceivableVoucher(canonicalBytes: raw)
    }

    func creditLine(issuer: String = "core", bank: String = "bankA") throws -> ReceivableCreditLineRecord {
        let raw = try #require(try chain.ledger.stateValue(contract: ReceivablesContract.name,
                                                             key: ReceivablesContract.Keys.creditLine(issuer: issuer, bank: bank)))
        return try ReceivableCreditLineRecord(canonicalBytes: raw)
    }

    func query(_ query: ReceivablesContract.Query, _ parameters: [String: String]) throws -> JSONValue {
        try chain.ledger.query(contract: ReceivablesContract.name, query.rawValue, parameters: parameters)
    }

    /// Every piece record of a voucher, from state.
    func pieces(of voucher: String) throws -> [ReceivablePiece] {
        let view = chain.ledger.queryView()
        return try ReceivablesContract.pieces(of: voucher, within: nil, view, limit: ReceivablesLimits.queryPiecesMax).0
    }
}

func succeed(_ receipt: Receipt, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(receipt.isSuccess, "rejected: \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
    if !receipt.isSuccess { throw ReceiptMismatch(receipt: receipt) }
}

func expectRejected(_ receipt: Receipt, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(receipt.rejection?.code == code, "expected \(code), got \(receipt.rejection.map { $0.description } ?? "success")",
            sourceLocation: sourceLocation)
    if let message = receipt.rejection?.message { #expect(!message.isEmpty, sourceLocation: sourceLocation) }
}

struct ReceiptMismatch: Error, CustomStringConvertible {
    let receipt: Receipt
    var description: String { "unexpected receipt: \(String(describing: receipt.rejection))" }
}

extension JSONValue {
    /// Walks object members by key.
    subscript(path: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }
}
