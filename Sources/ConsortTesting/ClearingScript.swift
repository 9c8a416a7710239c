import Contracts
import Foundation
import Ledger
import LedgerCore
import NodeClient

/// A finding as the ledger shows it, without the height, to compare runs whose block layouts differ.
public struct PostedBreak: Hashable, Comparable, Sendable, CustomStringConvertible {
    public init(payment: String, kind: String, side: String, open: Bool) {
        self.payment = payment
        self.kind = kind
        self.side = side
        self.open = open
    }

    public let payment: String
    public let kind: String
    public let side: String
    public let open: Bool
    public static func < (lhs: PostedBreak, rhs: PostedBreak) -> Bool { lhs.description < rhs.description }
    public var description: String { "\(payment) \(kind) \(side)\(open ? " open" : " resolved")" }
}

/// One scripted clearing scenario with injected breaks.
public enum ClearingScript {
    public static let organizations: [(id: String, kind: OrganizationKind)] = [("bankA", .bank), ("bankB", .bank), ("ch", .clearingHouse)]
    /// A short grace so that missing sides are found a few blocks later.
    public static let contracts: [String: JSONValue] = ["clearing": .object(["graceMs": .integer(2000), "inTransitThresholdMs": .integer(3_600_000)])]

    /// The breaks the script injects, as the job must report them once the script and its tick blocks are committed.
    public static let expected: Set<PostedBreak> = [
        PostedBreak(payment: "P2", kind: "amount_mismatch", side: "payee", open: true),
        PostedBreak(payment: "P3", kind: "long", side: "payee", open: true),
        PostedBreak(payment: "P4", kind: "short", side: "payer", open: true),
        PostedBreak(payment: "P5", kind: "status_mismatch", side: "payee", open: true),
        PostedBreak(payment: "P6", kind: "currency_mismatch", side: "payer", open: true),
        PostedBreak(payment: "P7", kind: "long", side: "payee", open: false),
    ]

    /// A record of payment `id` ("P<n>"); each payment has its own default amount so that none duplicates another.
    public static func record(_ id: String, amount: UInt64? = nil, currency: String = "CNY", status: PaymentStatus) -> PostRecord {
        let number = UInt64(id.dropFirst()) ?? 0
        return PostRecord(paymentID: id, payer: AccountRef(institution: "bankA", account: "A-001"), payee: AccountRef(institution: "bankB", account: "B-002"),
                          amountMinor: amount ?? 10_000 + 100 * number, currency: currency, participantTimestampMs: 1_000 * number, channel: "IBPS",
                          status: status)
    }

    /// The script's steps: each is one block of records (member, record).
    public static var steps: [[(String, PostRecord)]] {
        [
            [("bankA", record("P1", status: .settled)), ("ch", record("P1", status: .settled)), ("bankB", record("P1", status: .settled))],
            [("bankA", record("P2", status: .settled)), ("ch", record("P2", status: .settled)), ("bankB", record("P2", amount: 12_000, status: .settled))],
            [("bankA", record("P3", status: .settled)), ("ch", record("P3", status: .settled))],
            [("bankA", record("P4", status: .sent))],
            [("bankA", record("P5", status: .settled)), ("ch", record("P5", status: .settled)), ("bankB", record("P5", status: .rejected))],
            [("bankA", record("P6", currency: "USD", status: .settled)), ("ch", record("P6", status: .settled)), ("bankB", record("P6", status: .settled))],
            [("bankA", record("P7", status: .settled)), ("ch", record("P7", status: .settled))],
            [], [], [], [], [],
            [("bankB", record("P7", status: .settled))],
        ]
    }

    /// Opens the cycle, then commits the script's blocks, then `tickBlocks` empty blocks, pausing between blocks.
    public static func play(on backend: CommittingBackend, pauseMs: UInt64, tickBlocks: Int = 6) async throws {
        try expectSuccess(backend.commit("ch", ClearingContract.call(.openCycle, OpenCycle(cycleID: "C1"))))
        for step in steps {
            let calls = step.map { member, record in (member: member, call: ClearingContract.call(.post, record)) }
            for receipt in try backend.commit(calls: calls) { try expectSuccess(receipt) }
            try await Task.sleep(nanoseconds: pauseMs * 1_000_000)
        }
        for _ in 0..<tickBlocks {
            try backend.commit([])
            try await Task.sleep(nanoseconds: pauseMs * 1_000_000)
        }
    }

    public static func expectSuccess(_ receipt: Receipt) throws {
        guard receipt.isSuccess else { throw InProcessNodeError("script record rejected: \(receipt.rejection?.description ?? "?")") }
    }

    public static func makeBackend() throws -> CommittingBackend {
        let chain = try LocalConsortium(organizations: organizations, contracts: contracts, genesisTimestampMs: wallClockMs())
        return CommittingBackend(chain: chain)
    }

    /// The breaks on the ledger, from the `breaks` query.
    public static func posted(_ client: NodeClient) async throws -> [PostedBreak] {
        let findings = try await client.query(contract: ClearingContract.name, ClearingContract.Query.breaks.rawValue, parameters: ["limit": "1000"],
                                              as: [ClearingFindingAnswer].self)
        return findings.map {
            PostedBreak(payment: $0.paymentID, kind: $0.kind.rawValue, side: $0.side.rawValue, open: $0.open)
        }.sorted()
    }

    /// The finding keys on the ledger with their heights.
    public static func postedKeys(_ ledger: Ledger) throws -> Set<FindingKey> {
        var keys = Set<FindingKey>()
        for height in 1...ledger.head.height {
            guard let block = try ledger.block(at: height) else { continue }
            let receipts = try ledger.receipts(at: height) ?? []
            for (transaction, receipt) in zip(block.transactions, receipts) where receipt.isSuccess && transaction.body.call.operation == ClearingContract.Operation.postFinding.rawValue {
                guard !receipt.events.contains(where: { $0.name == "finding_ignored" }) else { continue }
                keys.insert(try PostFinding(canonicalBytes: transaction.body.call.arguments).key)
            }
        }
        return keys
    }

    /// What an engine that never stopped finds over the whole final chain.
    public static func replayedKeys(_ ledger: Ledger, configuration: ReconciliationConfiguration) throws -> Set<FindingKey> {
        var engine = ReconciliationEngine(configuration: configuration)
        var keys = Set<FindingKey>()
        for height in 1...ledger.head.height {
            guard let block = try ledger.block(at: height) else { continue }
            let output = try engine.process(ClearingBlock.extract(block: block, receipts: try ledger.receipts(at: height) ?? []))
            for finding in output.findings { keys.insert(finding.key) }
        }
        return keys
    }
}
