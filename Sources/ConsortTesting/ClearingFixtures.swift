import Contracts
import Ledger
import LedgerCore

/// Builds consortia and calls for clearing tests.
public enum ClearingFixture {
    public static let organizations: [(id: String, kind: OrganizationKind)] = [
        ("bankA", .bank), ("bankB", .bank), ("bankC", .bank), ("cch", .clearingHouse), ("cch2", .clearingHouse),
        ("reg", .regulator), ("acme", .enterprise),
    ]

    public static func chain(_ parameters: JSONValue? = nil) throws -> LocalConsortium {
        var contracts: [String: JSONValue] = [:]
        if let parameters { contracts[ClearingContract.name] = parameters }
        let governance = GovernanceContract()
        return try LocalConsortium(
            organizations: organizations, contracts: contracts,
            registry: ContractRegistry(contracts: [governance, ClearingContract()], directory: governance))
    }

    public static func record(_ id: String, payer: String = "bankA", payee: String = "bankB", amount: UInt64 = 10_000,
                       currency: String = "CNY", status: PaymentStatus = .sent, timestampMs: UInt64 = 1_767_225_600_000) -> PostRecord {
        PostRecord(paymentID: id, payer: AccountRef(institution: payer, account: "\(payer)-001"),
                   payee: AccountRef(institution: payee, account: "\(payee)-002"), amountMinor: amount, currency: currency,
                   participantTimestampMs: timestampMs, channel: "IBPS", status: status)
    }

    public static func update(_ id: String, _ status: PaymentStatus, amount: UInt64? = nil, currency: String? = nil) -> UpdateRecord {
        UpdateRecord(paymentID: id, status: status, participantTimestampMs: 1_767_225_700_000, correctedAmountMinor: amount, correctedCurrency: currency)
    }
}

extension LocalConsortium {
    /// Submits a clearing operation and returns its receipt.
    @discardableResult
    public func clearing(_ member: String, _ operation: ClearingContract.Operation, _ arguments: some CanonicalEncodable) throws -> Receipt {
        try submit(member, ClearingContract.call(operation, arguments))
    }

    public func clearingQuery(_ name: ClearingContract.Query, _ parameters: [String: String] = [:]) throws -> JSONValue {
        try ledger.query(contract: ClearingContract.name, name.rawValue, parameters: parameters)
    }
}

/// A reconciliation job in miniature, as the CLI runs it: follows the
/// committed blocks of a ledger from its cursor, feeds the engine and queues
/// the findings and resolutions to post.
public struct InProcessReconciliationJob {
    public var engine: ReconciliationEngine
    public var queued: [(call: ContractCall, exposedAtMs: UInt64)] = []
    public var findings: [ReconciliationFinding] = []
    public var resolutions: [ReconciliationResolution] = []

    public init(configuration: ReconciliationConfiguration) {
        engine = ReconciliationEngine(configuration: configuration)
    }

    /// A job restarted from a saved engine, with nothing queued.
    public init(engine: ReconciliationEngine) {
        self.engine = engine
    }

    /// Processes every committed block above the cursor.
    public mutating func catchUp(_ ledger: Ledger) throws {
        while engine.cursor < ledger.head.height {
            let height = engine.cursor + 1
            guard let block = try ledger.block(at: height), let receipts = try ledger.receipts(at: height) else {
                throw InProcessNodeError("block \(height) or its receipts are missing below the head")
            }
            let output = try engine.process(block: block, receipts: receipts)
            queued += output.calls.map { ($0, output.blockTimeMs) }
            findings += output.findings
            resolutions += output.resolutions
        }
    }

    /// Signed transactions for the queued calls, emptying the queue, with
    /// the time of the block that exposed each.
    public mutating func drain(_ chain: LocalConsortium, as member: String, keyIndex: Int) -> (transactions: [Transaction], exposedAtMs: [UInt64]) {
        defer { queued = [] }
        return (queued.map { chain.transaction(member, keyIndex: keyIndex, $0.call) }, queued.map(\.exposedAtMs))
    }
}

