import Ledger
import LedgerCore

// The typed answers of the clearing contract's queries. The contract builds
// its JSON from these and clients decode the JSON back into them, so both
// sides agree on every key. Integers are `Int64`, as the JSON carries them.

/// A finding as the `breaks` and `payment` queries list it; `resolution` is null while the finding is open.
public struct ClearingFindingAnswer: Codable, Sendable, Equatable {
    /// How a finding was resolved.
    public struct Resolution: Codable, Sendable, Equatable {
        public var resolvedAtHeight: Int64
        public var details: String
        public var postedBy: String
        public var postedAtHeight: Int64

        public init(resolvedAtHeight: Int64, details: String, postedBy: String, postedAtHeight: Int64) {
            self.resolvedAtHeight = resolvedAtHeight
            self.details = details
            self.postedBy = postedBy
            self.postedAtHeight = postedAtHeight
        }
    }

    public var paymentID: String
    public var kind: BreakKind
    public var side: ClearingSide
    public var detectedAtHeight: Int64
    public var details: String
    public var postedBy: String
    public var postedAtHeight: Int64
    /// Institutions and clearing house the payment concerns, sorted.
    public var participants: [String]
    public var open: Bool
    public var resolution: Resolution?

    public init(paymentID: String, kind: BreakKind, side: ClearingSide, detectedAtHeight: Int64, details: String, postedBy: String,
                postedAtHeight: Int64, participants: [String], open: Bool, resolution: Resolution?) {
        self.paymentID = paymentID
        self.kind = kind
        self.side = side
        self.detectedAtHeight = detectedAtHeight
        self.details = details
        self.postedBy = postedBy
        self.postedAtHeight = postedAtHeight
        self.participants = participants
        self.open = open
        self.resolution = resolution
    }

    enum CodingKeys: String, CodingKey {
        case paymentID = "paymentId"
        case kind, side, detectedAtHeight, details, postedBy, postedAtHeight, participants, open, resolution
    }

    /// Writes `resolution` as null while the finding is open.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(paymentID, forKey: .paymentID)
        try container.encode(kind, forKey: .kind)
        try container.encode(side, forKey: .side)
        try container.encode(detectedAtHeight, forKey: .detectedAtHeight)
        try container.encode(details, forKey: .details)
        try container.encode(postedBy, forKey: .postedBy)
        try container.encode(postedAtHeight, forKey: .postedAtHeight)
        try container.encode(participants, forKey: .participants)
        try container.encode(open, forKey: .open)
        try container.encode(resolution, forKey: .resolution)
    }
}

/// The `position` query's answer: a cycle's net positions, their hash (what
/// `signCycle` signs) and the per-currency totals (always 0).
public struct ClearingPositionAnswer: Codable, Sendable, Equatable {
    public var cycle: String
    public var status: CycleStatus
    public var positions: [NetPosition]
    public var positionsHash: Hash
    /// Sum of the net positions per currency.
    public var totals: [String: Int64]

    public init(cycle: String, status: CycleStatus, positions: [NetPosition], positionsHash: Hash, totals: [String: Int64]) {
        self.cycle = cycle
        self.status = status
        self.positions = positions
        self.positionsHash = positionsHash
        self.totals = totals
    }
}

/// The `openCycle` query's answer: the id of the cycle a clearing house has open.
public struct ClearingOpenCycleAnswer: Codable, Sendable, Equatable {
    public var cycle: String

    public init(cycle: String) {
        self.cycle = cycle
    }
}

/// The `config` query's answer: the contract's genesis parameters.
public struct ClearingConfigAnswer: Codable, Sendable, Equatable {
    /// The parameters every reconciliation job must use.
    public struct Reconciliation: Codable, Sendable, Equatable {
        public var graceMs: Int64
        public var inTransitThresholdMs: Int64
        public var duplicateWindowMs: Int64
        public var retentionMs: Int64

        public init(graceMs: Int64, inTransitThresholdMs: Int64, duplicateWindowMs: Int64, retentionMs: Int64) {
            self.graceMs = graceMs
            self.inTransitThresholdMs = inTransitThresholdMs
            self.duplicateWindowMs = duplicateWindowMs
            self.retentionMs = retentionMs
        }
    }

    /// Organizations allowed to post findings, sorted.
    public var reconcilers: [String]
    public var amountMinorMax: Int64
    public var reconciliation: Reconciliation

    public init(reconcilers: [String], amountMinorMax: Int64, reconciliation: Reconciliation) {
        self.reconcilers = reconcilers
        self.amountMinorMax = amountMinorMax
        self.reconciliation = reconciliation
    }
}
