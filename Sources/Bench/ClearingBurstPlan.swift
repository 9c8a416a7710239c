import Contracts
import Ledger
import LedgerCore

/// A kind of break a clearing burst injects into a payment.
public enum InjectedBreak: String, CaseIterable, Sendable {
    /// The payee bank records another amount than the clearing house.
    case amountMismatch = "amount_mismatch"
    /// The payee bank records another currency than the clearing house.
    case currencyMismatch = "currency_mismatch"
    /// The payee bank records the payment rejected; the clearing house settled it.
    case statusMismatch = "status_mismatch"
    /// The payee bank never records the payment the clearing house settled (long, 长款).
    case missingPayeeSide = "missing_payee_side"
    /// The clearing house never records the payment both banks record (short, 短款).
    case missingClearingSide = "missing_clearing_side"
    /// The payer bank posts an earlier payment's record again under a new id.
    case duplicatePayerSide = "duplicate_payer_side"

    /// The findings a reconciliation job must post for a payment with this break.
    public var expectedFindings: [(kind: BreakKind, side: ClearingSide)] {
        switch self {
        case .amountMismatch: [(.amountMismatch, .payee)]
        case .currencyMismatch: [(.currencyMismatch, .payee)]
        case .statusMismatch: [(.statusMismatch, .payee)]
        case .missingPayeeSide: [(.long, .payee)]
        case .missingClearingSide: [(.short, .payer), (.short, .payee)]
        case .duplicatePayerSide: [(.duplicate, .payer)]
        }
    }
}

/// One (payment, kind, side) a reconciliation job is expected to find.
public struct ExpectedFinding: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var paymentID: String
    public var kind: BreakKind
    public var side: ClearingSide

    public init(paymentID: String, kind: BreakKind, side: ClearingSide) {
        self.paymentID = paymentID
        self.kind = kind
        self.side = side
    }

    public static func < (lhs: ExpectedFinding, rhs: ExpectedFinding) -> Bool {
        (lhs.paymentID, lhs.kind, lhs.side) < (rhs.paymentID, rhs.kind, rhs.side)
    }

    public var description: String { "\(paymentID) \(kind.rawValue) on \(side.rawValue) side" }
}

/// The records of one payment in a burst: what each participant posts (nil: nothing).
public struct PlannedPayment: Equatable, Sendable {
    public var paymentID: String
    public var payer: PostRecord?
    public var payee: PostRecord?
    public var clearing: PostRecord?
    /// The break injected into this payment, if any.
    public var injected: InjectedBreak?
}

/// A reproducible burst of payments between two banks through a clearing
/// house, with a share of them broken on purpose, and the exact findings a
/// correct reconciliation job must post for it — no more, no fewer.
///
/// Clean payments: the payer bank records `sent`, the clearing house
/// `settled`, the payee bank `received`, all with the same amount and
/// currency. Every payment of a batch has its own amount and the batch id in
/// the payer's account, so no two payments of any batches look alike and
/// only the injected duplicates are duplicates.
public struct ClearingBurstPlan: Sendable {
    /// Prefix of every payment id of the batch (`burst-<batch>-`).
    public let paymentPrefix: String
    public let payerBank: String
    public let payeeBank: String
    public let clearingHouse: String
    public let timestampMs: UInt64
    public private(set) var payments: [PlannedPayment]

    /// The findings a job must post for the batch's injected breaks.
    public var expected: Set<ExpectedFinding> {
        var result = Set<ExpectedFinding>()
        for payment in payments {
            for finding in payment.injected?.expectedFindings ?? [] {
                result.insert(ExpectedFinding(paymentID: payment.paymentID, kind: finding.kind, side: finding.side))
            }
        }
        return result
    }

    /// How many payments carry each kind of injected break.
    public var injectedCounts: [InjectedBreak: Int] {
        var counts: [InjectedBreak: Int] = [:]
        for payment in payments { if let injected = payment.injected { counts[injected, default: 0] += 1 } }
        return counts
    }

    /// Plans `count` payments of which `breakCount` (at most count - 1) carry
    /// a break; the broken ones are chosen by `seed` and given the kinds in
    /// turn. Payment 0 is always clean, so every duplicate has an original.
    public init(batchID: String, count: Int, breakCount: Int, seed: UInt64,
                payerBank: String, payeeBank: String, clearingHouse: String, timestampMs: UInt64) {
        paymentPrefix = "burst-\(batchID)-"
        self.payerBank = payerBank
        self.payeeBank = payeeBank
        self.clearingHouse = clearingHouse
        self.timestampMs = timestampMs
        payments = []
        payments.reserveCapacity(count)
        var candidates = Array(1..<max(1, count))
        var random = SplitMix64(seed: seed)
        let breaks = min(max(0, breakCount), candidates.count)
        for chosen in 0..<breaks {
            let swap = chosen + Int(random.next(below: UInt64(candidates.count - chosen)))
            candidates.swapAt(chosen, swap)
        }
        var kinds: [Int: InjectedBreak] = [:]
        for (order, index) in candidates.prefix(breaks).sorted().enumerated() {
            kinds[index] = InjectedBreak.allCases[order % InjectedBreak.allCases.count]
        }
        var lastClean = 0
        for index in 0..<count {
            var payment = clean(index)
            switch kinds[index] {
            case nil:
                lastClean = index
            case .amountMismatch?:
                payment.payee?.amountMinor += 1
            case .currencyMismatch?:
                payment.payee?.currency = "USD"
            case .statusMismatch?:
                payment.payee?.status = .rejected
            case .missingPayeeSide?:
                payment.payee = nil
            case .missingClearingSide?:
                payment.clearing = nil
            case .duplicatePayerSide?:
                payment.payer = payments[lastClean].payer.map { original in
                    var copy = original
                    copy.paymentID = payment.paymentID
                    return copy
                }
                payment.payee = nil
                payment.clearing = nil
            }
            payment.injected = kinds[index]
            payments.append(payment)
        }
    }

    /// A clean payment of the batch with the given number; the burst's
    /// trailing payments (which keep blocks coming while breaks that wait out
    /// the grace period become due) use numbers past the planned ones.
    public func clean(_ index: Int) -> PlannedPayment {
        let paymentID = paymentPrefix + String(index)
        let batch = String(paymentPrefix.dropFirst("burst-".count).dropLast())
        func record(_ status: PaymentStatus) -> PostRecord {
            PostRecord(paymentID: paymentID, payer: AccountRef(institution: payerBank, account: "B\(batch)-\(index % 1000)"),
                       payee: AccountRef(institution: payeeBank, account: "C-\(index % 977)"),
                       amountMinor: 100_000 + UInt64(index), currency: "CNY",
                       participantTimestampMs: timestampMs, channel: "IBPS", status: status)
        }
        return PlannedPayment(paymentID: paymentID, payer: record(.sent), payee: record(.received), clearing: record(.settled), injected: nil)
    }
}
