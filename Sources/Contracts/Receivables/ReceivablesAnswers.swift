import Ledger
import LedgerCore

// The typed answers of the receivables contract's queries. The contract builds
// its JSON from these and clients decode the JSON back into them, so both
// sides agree on every key. Integers are `Int64`, as the JSON carries them
// (amounts and heights clamped); an optional field is absent when it has no
// value. Hashes and keys are hex text, dates `YYYY-MM-DD`, pieces
// `<voucher>:<first>-<last>`, statuses and actions their raw values.

/// A voucher's status as its JSON text (`pending_acceptance`, `active`, …).
extension ReceivableVoucherStatus: Codable {}

/// A piece's status as its JSON text (`active`, `transfer_offered`, …).
extension ReceivablePieceStatus: Codable {}

/// A history step's action as its JSON text (`issued`, `split_from`, …).
extension ReceivableStepAction: Codable {}

/// Recourse as its JSON text (`with_recourse`, `without_recourse`).
extension ReceivableRecourse: Codable {}

/// A pending action's status as its JSON text (`pending`, `approved`, `discarded`).
extension ReceivablePendingAction.Status: Codable {}

/// A day travels in JSON as `YYYY-MM-DD`; decoding refuses any other text.
extension ReceivableDay: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let day = ReceivableDay(iso: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a date as YYYY-MM-DD, got '\(text.prefix(40))'")
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}

/// A piece id travels in JSON as `<voucher>:<first>-<last>`; decoding refuses any other text.
extension ReceivablePieceID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ReceivablePieceID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a piece as <voucher>:<first>-<last>, got '\(text.prefix(80))'")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Who signed a step and where it was committed; `preparedBy` is present
/// only when a maker prepared it and this signer approved it as checker.
public struct ReceivableSigningAnswer: Codable, Sendable, Equatable {
    /// The maker's preparation of a maker–checker step.
    public struct Preparation: Codable, Sendable, Equatable {
        public var transaction: Hash
        public var signer: PublicKey
        public var height: Int64
        public var timeMs: Int64

        public init(_ preparation: ReceivablePreparation) {
            transaction = preparation.transactionID
            signer = preparation.signer
            height = Int64(clamping: preparation.height)
            timeMs = Int64(clamping: preparation.timeMs)
        }
    }

    public var transaction: Hash
    public var organization: String
    public var signer: PublicKey
    public var height: Int64
    public var timeMs: Int64
    public var preparedBy: Preparation?

    public init(_ signing: ReceivableSigning) {
        transaction = signing.transactionID
        organization = signing.organization
        signer = signing.signer
        height = Int64(clamping: signing.height)
        timeMs = Int64(clamping: signing.timeMs)
        preparedBy = signing.preparedBy.map(Preparation.init)
    }
}

/// A voucher as the `voucher` query answers it (and `tree` and `trace` embed
/// it): its terms, trade documents, issuance, and — once they happened — the
/// supplier's decision and the settlement with its clearing lines.
public struct ReceivableVoucherAnswer: Codable, Sendable, Equatable {
    /// One invoice behind the voucher; `hash` is its document hash.
    public struct Invoice: Codable, Sendable, Equatable {
        public var number: String
        public var amount: Int64
        public var date: ReceivableDay
        public var hash: Hash

        public init(_ invoice: ReceivableInvoice) {
            number = invoice.number
            amount = Int64(clamping: invoice.amount)
            date = invoice.date
            hash = invoice.documentHash
        }
    }

    /// How the voucher was paid out: what each holder received.
    public struct Settlement: Codable, Sendable, Equatable {
        /// One holder's share of the settlement.
        public struct Line: Codable, Sendable, Equatable {
            public var holder: String
            public var amount: Int64
            /// Pieces the holder was paid for.
            public var pieces: Int64

            public init(_ line: ReceivableClearingLine) {
                holder = line.holder
                amount = Int64(clamping: line.amount)
                pieces = Int64(clamping: line.pieces)
            }
        }

        /// Settled before the due date.
        public var early: Bool
        public var signing: ReceivableSigningAnswer
        public var clearing: [Line]

        public init(_ settlement: ReceivableSettlement) {
            early = settlement.early
            signing = ReceivableSigningAnswer(settlement.signing)
            clearing = settlement.lines.map(Line.init)
        }
    }

    public var id: String
    public var issuer: String
    public var supplier: String
    public var creditBank: String
    public var amount: Int64
    public var currency: String
    public var issueDate: ReceivableDay
    public var dueDate: ReceivableDay
    public var contractHash: Hash
    public var invoices: [Invoice]
    public var transferable: Bool
    public var status: ReceivableVoucherStatus
    public var issued: ReceivableSigningAnswer
    /// The piece covering the whole face amount.
    public var rootPiece: ReceivablePieceID
    /// Piece records the voucher has, live and retired.
    public var pieceRecords: Int64
    public var note: String?
    /// The supplier's acceptance or rejection, or the issuer's cancellation.
    public var decided: ReceivableSigningAnswer?
    public var decisionReason: String?
    public var settlement: Settlement?

    public init(_ voucher: ReceivableVoucher) {
        id = voucher.id
        issuer = voucher.issuer
        supplier = voucher.supplier
        creditBank = voucher.creditBank
        amount = Int64(clamping: voucher.amount)
        currency = voucher.currency
        issueDate = voucher.issueDate
        dueDate = voucher.dueDate
        contractHash = voucher.contractHash
        invoices = voucher.invoices.map(Invoice.init)
        transferable = voucher.transferable
        status = voucher.status
        issued = ReceivableSigningAnswer(voucher.issued)
        rootPiece = voucher.rootPiece
        pieceRecords = Int64(clamping: voucher.pieceRecords)
        note = voucher.note
        decided = voucher.decided.map(ReceivableSigningAnswer.init)
        decisionReason = voucher.decisionReason
        settlement = voucher.settlement.map(Settlement.init)
    }
}

/// A piece as the `piece` query answers it (and `tree` and `trace` list it):
/// its unit range, holder, state, the open offer, financing or freeze if any,
/// and its full history.
public struct ReceivablePieceAnswer: Codable, Sendable, Equatable {
    /// One step of the piece's history.
    public struct Step: Codable, Sendable, Equatable {
        public var action: ReceivableStepAction
        public var amount: Int64
        public var signing: ReceivableSigningAnswer
        public var counterparty: String?
        public var detail: String?

        public init(_ step: ReceivableStep) {
            action = step.action
            amount = Int64(clamping: step.amount)
            signing = ReceivableSigningAnswer(step.signing)
            counterparty = step.counterparty
            detail = step.detail
        }
    }

    /// The open transfer or financing offer; `discountRateBps` and `recourse`
    /// are present only for a financing offer.
    public struct Offer: Codable, Sendable, Equatable {
        /// The organization offered the piece.
        public var to: String
        public var signing: ReceivableSigningAnswer
        public var discountRateBps: Int64?
        public var recourse: ReceivableRecourse?

        public init(_ offer: ReceivableOffer, financing: Bool) {
            to = offer.counterparty
            signing = ReceivableSigningAnswer(offer.signing)
            discountRateBps = financing ? Int64(offer.discountRateBps) : nil
            recourse = financing ? offer.recourse : nil
        }
    }

    /// The bank's financing of the piece and how its fee was computed.
    public struct Financing: Codable, Sendable, Equatable {
        public var bank: String
        public var seller: String
        public var principal: Int64
        public var discountRateBps: Int64
        public var days: Int64
        public var fee: Int64
        public var paidOut: Int64
        public var recourse: ReceivableRecourse
        /// The fee formula, in words.
        public var rounding: String
        public var signing: ReceivableSigningAnswer
        /// The registration number at the registry, when the bank gave one.
        public var registrationNumber: String?

        /// The fee formula every financing answer states.
        public static let feeRounding = "fee = principal × rateBps × days / 3 600 000, half up"

        public init(_ financing: ReceivableFinancing) {
            bank = financing.bank
            seller = financing.seller
            principal = Int64(clamping: financing.principal)
            discountRateBps = Int64(financing.discountRateBps)
            days = Int64(financing.days)
            fee = Int64(clamping: financing.fee)
            paidOut = Int64(clamping: financing.paidOut)
            recourse = financing.recourse
            rounding = Self.feeRounding
            signing = ReceivableSigningAnswer(financing.signing)
            registrationNumber = financing.registrationNumber
        }
    }

    /// Why and by whom the piece is frozen.
    public struct Freeze: Codable, Sendable, Equatable {
        public var reason: String
        public var signing: ReceivableSigningAnswer

        public init(_ freeze: ReceivableFreeze) {
            reason = freeze.reason
            signing = ReceivableSigningAnswer(freeze.signing)
        }
    }

    public var piece: ReceivablePieceID
    public var voucher: String
    public var first: Int64
    public var last: Int64
    public var amount: Int64
    public var holder: String
    public var status: ReceivablePieceStatus
    public var frozen: Bool
    public var history: [Step]
    /// The piece this one was split from; absent for a voucher's root piece.
    public var parent: ReceivablePieceID?
    public var offer: Offer?
    public var financing: Financing?
    public var freeze: Freeze?

    public init(_ piece: ReceivablePiece) {
        self.piece = piece.id
        voucher = piece.id.voucherID
        first = Int64(clamping: piece.id.first)
        last = Int64(clamping: piece.id.last)
        amount = Int64(clamping: piece.amount)
        holder = piece.holder
        status = piece.status
        frozen = piece.isFrozen
        history = piece.history.map(Step.init)
        parent = piece.parent
        offer = piece.offer.map { Offer($0, financing: piece.status == .financingOffered) }
        financing = piece.financing.map(Financing.init)
        freeze = piece.freeze.map(Freeze.init)
    }
}

/// The `tree` query's answer: a voucher and its piece records in unit order;
/// `truncated` when the limit cut the list.
public struct ReceivableTreeAnswer: Codable, Sendable, Equatable {
    public var voucher: ReceivableVoucherAnswer
    public var pieces: [ReceivablePieceAnswer]
    public var truncated: Bool
}

/// The `trace` query's answer, the penetration trace of a piece: the voucher's
/// issuance, the ancestors (root first), the piece, its descendants (unit
/// order, `truncated` when the limit cut them) and the height it was read at.
/// `transactions` and `certificates` are present only with `certificates=true`.
public struct ReceivableTraceAnswer: Codable, Sendable, Equatable {
    /// Where a transaction sits: its block's height and its index in that block.
    public struct Location: Codable, Sendable, Equatable {
        public var height: Int64
        public var index: Int64
    }

    /// One validator's signature in a commit certificate.
    public struct CertificateSignature: Codable, Sendable, Equatable {
        public var validator: Int64
        public var signature: Signature
    }

    /// A block's commit certificate with the header fields that check a
    /// transaction against it.
    public struct Certificate: Codable, Sendable, Equatable {
        public var height: Int64
        public var view: Int64
        public var blockHash: Hash
        public var timestampMs: Int64
        public var transactionsRoot: Hash
        public var signatures: [CertificateSignature]
    }

    public var issuance: ReceivableVoucherAnswer
    public var ancestors: [ReceivablePieceAnswer]
    public var piece: ReceivablePieceAnswer
    public var descendants: [ReceivablePieceAnswer]
    public var truncated: Bool
    public var height: Int64
    /// By transaction hash (hex): every transaction the trace cites.
    public var transactions: [String: Location]?
    /// One per height in `transactions`, in height order.
    public var certificates: [Certificate]?
}

/// The `holdings` query's answer: what an organization holds, its totals, the
/// offers waiting for it and the vouchers waiting for its acceptance.
public struct ReceivableHoldingsAnswer: Codable, Sendable, Equatable {
    /// A held piece.
    public struct Piece: Codable, Sendable, Equatable {
        public var piece: ReceivablePieceID
        public var amount: Int64
        public var currency: String
        public var status: ReceivablePieceStatus
        public var frozen: Bool
    }

    /// A piece offered to the organization; `discountRateBps` and `recourse`
    /// are present only for a financing offer.
    public struct Incoming: Codable, Sendable, Equatable {
        public var piece: ReceivablePieceID
        public var amount: Int64
        public var currency: String
        public var status: ReceivablePieceStatus
        public var frozen: Bool
        /// The holder making the offer.
        public var from: String
        public var discountRateBps: Int64?
        public var recourse: ReceivableRecourse?
    }

    /// A count of pieces and their amount.
    public struct Total: Codable, Sendable, Equatable {
        public var count: Int64
        public var amount: Int64
    }

    /// A voucher naming the organization as supplier that waits for its acceptance.
    public struct AwaitingVoucher: Codable, Sendable, Equatable {
        public var voucher: String
        public var issuer: String
        public var amount: Int64
        public var currency: String
        public var dueDate: ReceivableDay
    }

    public var organization: String
    public var pieces: [Piece]
    /// By currency, then by piece status raw value, plus `frozen`.
    public var totals: [String: [String: Total]]
    public var incoming: [Incoming]
    public var vouchersAwaitingAcceptance: [AwaitingVoucher]
    /// The limit cut the held pieces.
    public var truncated: Bool
}

/// The `creditLine` query's answer (and the `disclosure` query's lines): a
/// bank's credit line to an issuer and its use.
public struct ReceivableCreditLineAnswer: Codable, Sendable, Equatable {
    public var bank: String
    public var issuer: String
    public var currency: String
    public var limit: Int64
    public var used: Int64
    /// `limit − used`, never below 0.
    public var unused: Int64
    public var signing: ReceivableSigningAnswer

    public init(_ line: ReceivableCreditLineRecord) {
        bank = line.bank
        issuer = line.issuer
        currency = line.currency
        limit = Int64(clamping: line.limit)
        used = Int64(clamping: line.used)
        unused = Int64(clamping: line.limit >= line.used ? line.limit - line.used : 0)
        signing = ReceivableSigningAnswer(line.signing)
    }
}

/// The `disclosure` query's answer: an issuer's cumulative figures per
/// currency, judged at `asOfMs`, and its credit lines.
public struct ReceivableDisclosureAnswer: Codable, Sendable, Equatable {
    /// The issuer's figures in one currency.
    public struct Currency: Codable, Sendable, Equatable {
        public var issuedCount: Int64
        public var issuedAmount: Int64
        public var outstandingCount: Int64
        public var outstandingAmount: Int64
        public var settledCount: Int64
        public var settledAmount: Int64
        public var overdueCount: Int64
        public var overdueAmount: Int64
    }

    public var issuer: String
    public var asOfMs: Int64
    /// By currency code.
    public var currencies: [String: Currency]
    public var creditLines: [ReceivableCreditLineAnswer]
}

/// The `overdue` query's answer: accepted, unsettled vouchers past their due
/// date as of `asOf`, oldest first.
public struct ReceivableOverdueAnswer: Codable, Sendable, Equatable {
    /// One overdue voucher.
    public struct Voucher: Codable, Sendable, Equatable {
        public var voucher: String
        public var issuer: String
        public var amount: Int64
        public var currency: String
        public var dueDate: ReceivableDay
        public var daysOverdue: Int64
    }

    public var asOf: ReceivableDay
    public var vouchers: [Voucher]
    public var truncated: Bool
}

/// The `actions` query's answer: an organization's settings and its
/// maker–checker actions, newest last.
public struct ReceivableActionsAnswer: Codable, Sendable, Equatable {
    /// The organization's receivables settings.
    public struct Settings: Codable, Sendable, Equatable {
        public var autoAcceptTransfers: Bool
        public var makerChecker: Bool
    }

    /// A prepared operation and, once decided, who decided it and why.
    public struct Action: Codable, Sendable, Equatable {
        public var id: Hash
        public var organization: String
        public var operation: String
        public var status: ReceivablePendingAction.Status
        public var prepared: ReceivableSigningAnswer
        public var decided: ReceivableSigningAnswer?
        public var reason: String?

        /// What the operation would do, read from its arguments: what a checker approves.
        public var details: [Detail]

        public init(_ action: ReceivablePendingAction) {
            id = action.id
            organization = action.organization
            operation = action.operation
            status = action.status
            prepared = ReceivableSigningAnswer(action.prepared)
            decided = action.decided.map(ReceivableSigningAnswer.init)
            reason = action.reason
            details = Self.details(operation: action.operation, arguments: action.arguments)
        }

        /// The arguments of a parked `operation`, as (name, value) pairs; amounts in minor units.
        static func details(operation: String, arguments: [UInt8]) -> [Detail] {
            func detail(_ name: String, _ value: String?) -> Detail? { value.map { Detail(name: name, value: $0) } }
            do {
                switch ReceivablesContract.Operation(rawValue: operation) {
                case .setCreditLine:
                    let line = try ReceivableCreditLine(canonicalBytes: arguments)
                    return [Detail(name: "issuer", value: line.issuer), Detail(name: "limitMinor", value: String(line.limit)),
                            Detail(name: "currency", value: line.currency)]
                case .issue:
                    let issue = try ReceivableIssue(canonicalBytes: arguments)
                    return [Detail(name: "voucher", value: issue.voucherID), Detail(name: "supplier", value: issue.supplier),
                            Detail(name: "creditBank", value: issue.creditBank), Detail(name: "amountMinor", value: String(issue.amount)),
                            Detail(name: "currency", value: issue.currency), Detail(name: "dueDate", value: issue.dueDate.description),
                            Detail(name: "invoices", value: String(issue.invoices.count))]
                case .cancel, .acceptVoucher, .rejectVoucher:
                    let ref = try ReceivableVoucherRef(canonicalBytes: arguments)
                    return [Detail(name: "voucher", value: ref.voucherID), detail("reason", ref.reason)].compactMap { $0 }
                case .offerTransfer:
                    let transfer = try ReceivableTransfer(canonicalBytes: arguments)
                    return [Detail(name: "piece", value: transfer.piece.description), Detail(name: "amountMinor", value: String(transfer.amount)),
                            Detail(name: "recipient", value: transfer.recipient)]
                case .acceptTransfer, .declineTransfer, .withdrawOffer, .declineFinancing, .freeze, .unfreeze:
                    let ref = try ReceivablePieceRef(canonicalBytes: arguments)
                    return [Detail(name: "piece", value: ref.piece.description), Detail(name: "amountMinor", value: String(ref.piece.amount)),
                            detail("reason", ref.reason)].compactMap { $0 }
                case .offerFinancing:
                    let offer = try ReceivableFinanceOffer(canonicalBytes: arguments)
                    return [Detail(name: "piece", value: offer.piece.description), Detail(name: "amountMinor", value: String(offer.amount)),
                            Detail(name: "bank", value: offer.bank), Detail(name: "discountRateBps", value: String(offer.discountRateBps)),
                            Detail(name: "recourse", value: offer.recourse.rawValue)]
                case .acceptFinancing:
                    let accept = try ReceivableFinanceAccept(canonicalBytes: arguments)
                    return [Detail(name: "piece", value: accept.piece.description), Detail(name: "amountMinor", value: String(accept.piece.amount)),
                            detail("registrationNumber", accept.registrationNumber)].compactMap { $0 }
                case .settle:
                    let settle = try ReceivableSettle(canonicalBytes: arguments)
                    return [Detail(name: "voucher", value: settle.voucherID), Detail(name: "early", value: String(settle.early))]
                case .configure:
                    let settings = try ReceivableSettings(canonicalBytes: arguments)
                    return [Detail(name: "autoAcceptTransfers", value: String(settings.autoAcceptTransfers)),
                            Detail(name: "makerChecker", value: String(settings.makerChecker))]
                case .approve, .discard, nil:
                    return [Detail(name: "arguments", value: "\(arguments.count) bytes of an operation that is never parked")]
                }
            } catch {
                return [Detail(name: "arguments", value: "do not decode: \(error)")]
            }
        }
    }

    /// One named value of a parked operation's arguments.
    public struct Detail: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public var settings: Settings
    public var actions: [Action]
}
