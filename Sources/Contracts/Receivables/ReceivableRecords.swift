import Ledger
import LedgerCore

/// Who signed a step and where it was committed: the provenance every trace shows.
public struct ReceivableSigning: Equatable, Sendable, CanonicalCodable {
    /// The transaction that completed the step.
    public var transactionID: Hash
    public var organization: String
    public var signer: PublicKey
    public var height: UInt64
    public var timeMs: UInt64
    /// Under maker–checker: the operator's transaction that prepared the step.
    public var preparedBy: ReceivablePreparation?

    public init(transactionID: Hash, organization: String, signer: PublicKey, height: UInt64, timeMs: UInt64,
                preparedBy: ReceivablePreparation? = nil) {
        self.transactionID = transactionID
        self.organization = organization
        self.signer = signer
        self.height = height
        self.timeMs = timeMs
        self.preparedBy = preparedBy
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(transactionID)
        encoder.write(organization)
        encoder.write(signer)
        encoder.write(height)
        encoder.write(timeMs)
        encoder.write(preparedBy)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        transactionID = try decoder.read(Hash.self, "signing transaction")
        organization = try decoder.readString("signing organization", limit: Limits.identifierBytesMax)
        signer = try decoder.read(PublicKey.self, "signing key")
        height = try decoder.readUInt64("signing height")
        timeMs = try decoder.readUInt64("signing time")
        preparedBy = try decoder.readOptional(ReceivablePreparation.self, "prepared by")
    }
}

/// The operator's half of a maker–checker step.
public struct ReceivablePreparation: Equatable, Sendable, CanonicalCodable {
    public var transactionID: Hash
    public var signer: PublicKey
    public var height: UInt64
    public var timeMs: UInt64

    public init(transactionID: Hash, signer: PublicKey, height: UInt64, timeMs: UInt64) {
        self.transactionID = transactionID
        self.signer = signer
        self.height = height
        self.timeMs = timeMs
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(transactionID)
        encoder.write(signer)
        encoder.write(height)
        encoder.write(timeMs)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        transactionID = try decoder.read(Hash.self, "preparation transaction")
        signer = try decoder.read(PublicKey.self, "preparation key")
        height = try decoder.readUInt64("preparation height")
        timeMs = try decoder.readUInt64("preparation time")
    }
}

/// A piece of a voucher: the voucher and the closed range of unit numbers
/// `[first, last]` it covers (one unit is one minor unit). Ranges of one
/// voucher nest like a binary tree and never repeat, so the pair identifies
/// the piece. Text form: `<voucher>:<first>-<last>`, e.g. `PO-7:1-250000`.
public struct ReceivablePieceID: Hashable, Comparable, Sendable, CanonicalCodable, CustomStringConvertible {
    public var voucherID: String
    public var first: UInt64
    public var last: UInt64

    public init(voucherID: String, first: UInt64, last: UInt64) {
        self.voucherID = voucherID
        self.first = first
        self.last = last
    }

    /// Parses `<voucher>:<first>-<last>`; nil if malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let voucher = String(text[text.startIndex..<colon])
        let range = text[text.index(after: colon)...].split(separator: "-", omittingEmptySubsequences: false)
        guard ReceivablesContract.isValidVoucherID(voucher), range.count == 2,
              let first = UInt64(range[0]), let last = UInt64(range[1]), first >= 1, first <= last else { return nil }
        self.init(voucherID: voucher, first: first, last: last)
    }

    /// Units covered, which is the piece's amount in minor units.
    public var amount: UInt64 { last - first + 1 }
    public var description: String { "\(voucherID):\(first)-\(last)" }

    /// True if `other` lies within this range (a piece contains itself).
    public func contains(_ other: ReceivablePieceID) -> Bool {
        other.voucherID == voucherID && other.first >= first && other.last <= last
    }

    public static func < (lhs: ReceivablePieceID, rhs: ReceivablePieceID) -> Bool {
        (lhs.voucherID, lhs.first, lhs.last) < (rhs.voucherID, rhs.first, rhs.last)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(voucherID)
        encoder.write(first)
        encoder.write(last)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        voucherID = try decoder.readString("voucher id", limit: ReceivablesLimits.voucherIDBytesMax)
        guard ReceivablesContract.isValidVoucherID(voucherID) else {
            throw .invalidValue(field: "voucher id", reason: "must be 1 to \(ReceivablesLimits.voucherIDBytesMax) characters of A-Z a-z 0-9 . _ -")
        }
        first = try decoder.readUInt64("first unit")
        last = try decoder.readUInt64("last unit")
        guard first >= 1, first <= last else { throw .invalidValue(field: "piece", reason: "unit range must satisfy 1 <= first <= last") }
    }
}

/// One invoice behind a voucher.
public struct ReceivableInvoice: Equatable, Sendable, CanonicalCodable {
    public var number: String
    /// Invoice amount in minor units.
    public var amount: UInt64
    public var date: ReceivableDay
    /// Hash of the invoice document; each invoice may back one voucher only.
    public var documentHash: Hash

    public init(number: String, amount: UInt64, date: ReceivableDay, documentHash: Hash) {
        self.number = number
        self.amount = amount
        self.date = date
        self.documentHash = documentHash
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(number)
        encoder.write(amount)
        encoder.write(date)
        encoder.write(documentHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        number = try decoder.readString("invoice number", limit: ReceivablesLimits.invoiceNumberBytesMax)
        amount = try decoder.readUInt64("invoice amount")
        date = try decoder.read(ReceivableDay.self, "invoice date")
        documentHash = try decoder.read(Hash.self, "invoice hash")
    }
}

/// Where a voucher is in its life.
public enum ReceivableVoucherStatus: String, CaseIterable, Sendable, CanonicalCodable {
    /// Issued, waiting for the supplier's signature; holds credit line.
    case pendingAcceptance = "pending_acceptance"
    /// Accepted; its pieces circulate.
    case active
    /// The supplier refused it; the credit line is released.
    case rejected
    /// The issuer withdrew it before acceptance.
    case cancelled
    /// Paid at (or, marked early, before) maturity; closed.
    case settled

    var tag: UInt64 { UInt64(Self.allCases.firstIndex(of: self) ?? 0) }
    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        self = try decoder.readCase(Self.self, "voucher status")
    }
}

/// One holder's share of a settlement's clearing (清分).
public struct ReceivableClearingLine: Equatable, Sendable, CanonicalCodable {
    public var holder: String
    public var amount: UInt64
    public var pieces: UInt64

    public init(holder: String, amount: UInt64, pieces: UInt64) {
        self.holder = holder
        self.amount = amount
        self.pieces = pieces
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(holder)
        encoder.write(amount)
        encoder.write(pieces)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        holder = try decoder.readString("clearing holder", limit: Limits.identifierBytesMax)
        amount = try decoder.readUInt64("clearing amount")
        pieces = try decoder.readUInt64("clearing pieces")
    }
}

/// How a voucher was paid.
public struct ReceivableSettlement: Equatable, Sendable, CanonicalCodable {
    public var early: Bool
    public var signing: ReceivableSigning
    /// What each holder received, sorted by holder.
    public var lines: [ReceivableClearingLine]

    public init(early: Bool, signing: ReceivableSigning, lines: [ReceivableClearingLine]) {
        self.early = early
        self.signing = signing
        self.lines = lines
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(early)
        encoder.write(signing)
        encoder.write(lines)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        early = try decoder.readBool("early settlement")
        signing = try decoder.read(ReceivableSigning.self, "settlement signing")
        lines = try decoder.readArray(ReceivableClearingLine.self, "clearing lines", limit: ReceivablesLimits.clearingLinesMax)
    }
}

/// A receivable voucher: a core enterprise's payable to a supplier.
public struct ReceivableVoucher: Equatable, Sendable, CanonicalCodable {
    public var id: String
    public var issuer: String
    public var supplier: String
    /// The bank whose credit line backs the voucher.
    public var creditBank: String
    /// Face amount in minor units; the units are numbered 1...amount.
    public var amount: UInt64
    public var currency: String
    public var issueDate: ReceivableDay
    public var dueDate: ReceivableDay
    public var contractHash: Hash
    public var invoices: [ReceivableInvoice]
    public var transferable: Bool
    public var note: String?
    public var status: ReceivableVoucherStatus
    public var issued: ReceivableSigning
    /// The supplier's acceptance or rejection, or the issuer's cancellation.
    public var decided: ReceivableSigning?
    public var decisionReason: String?
    public var settlement: ReceivableSettlement?
    /// Piece records created so far (live and retired).
    public var pieceRecords: UInt64

    public var rootPiece: ReceivablePieceID { ReceivablePieceID(voucherID: id, first: 1, last: amount) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(issuer)
        encoder.write(supplier)
        encoder.write(creditBank)
        encoder.write(amount)
        encoder.write(currency)
        encoder.write(issueDate)
        encoder.write(dueDate)
        encoder.write(contractHash)
        encoder.write(invoices)
        encoder.write(transferable)
        encoder.write(optional: note)
        encoder.write(status)
        encoder.write(issued)
        encoder.write(decided)
        encoder.write(optional: decisionReason)
        encoder.write(settlement)
        encoder.write(pieceRecords)
    }

    init(id: String, issuer: String, supplier: String, creditBank: String, amount: UInt64, currency: String,
         issueDate: ReceivableDay, dueDate: ReceivableDay, contractHash: Hash, invoices: [ReceivableInvoice],
         transferable: Bool, note: String?, issued: ReceivableSigning) {
        self.id = id
        self.issuer = issuer
        self.supplier = supplier
        self.creditBank = creditBank
        self.amount = amount
        self.currency = currency
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.contractHash = contractHash
        self.invoices = invoices
        self.transferable = transferable
        self.note = note
        self.status = .pendingAcceptance
        self.issued = issued
        self.decided = nil
        self.decisionReason = nil
        self.settlement = nil
        self.pieceRecords = 0
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.readString("voucher id", limit: ReceivablesLimits.voucherIDBytesMax)
        issuer = try decoder.readString("issuer", limit: Limits.identifierBytesMax)
        supplier = try decoder.readString("supplier", limit: Limits.identifierBytesMax)
        creditBank = try decoder.readString("credit bank", limit: Limits.identifierBytesMax)
        amount = try decoder.readUInt64("amount")
        currency = try decoder.readString("currency", limit: ReceivablesLimits.currencyBytes)
        issueDate = try decoder.read(ReceivableDay.self, "issue date")
        dueDate = try decoder.read(ReceivableDay.self, "due date")
        contractHash = try decoder.read(Hash.self, "contract hash")
        invoices = try decoder.readArray(ReceivableInvoice.self, "invoices", limit: ReceivablesLimits.invoicesMax)
        transferable = try decoder.readBool("transferable")
        note = try decoder.readOptionalString("note", limit: ReceivablesLimits.noteBytesMax)
        status = try decoder.read(ReceivableVoucherStatus.self, "voucher status")
        issued = try decoder.read(ReceivableSigning.self, "issued")
        decided = try decoder.readOptional(ReceivableSigning.self, "decided")
        decisionReason = try decoder.readOptionalString("decision reason", limit: ReceivablesLimits.reasonBytesMax)
        settlement = try decoder.readOptional(ReceivableSettlement.self, "settlement")
        pieceRecords = try decoder.readUInt64("piece records")
    }
}

/// Where a piece is in its life. `split` and `settled` are final; a
/// `financed` piece only waits for settlement.
public enum ReceivablePieceStatus: String, CaseIterable, Sendable, CanonicalCodable {
    /// Held and free to move.
    case active
    /// Offered to a recipient, who must accept; locked meanwhile.
    case transferOffered = "transfer_offered"
    /// Offered to a bank for financing; locked meanwhile.
    case financingOffered = "financing_offered"
    /// Cut into two children; retired.
    case split
    /// Discounted at a bank, which holds it until settlement; cannot move.
    case financed
    /// Paid to its holder at settlement.
    case settled

    /// Whether the piece still carries part of the voucher's face amount.
    public var isLive: Bool { self != .split }
    /// Whether the piece is still owed by the issuer.
    public var isOutstanding: Bool { self != .split && self != .settled }

    var tag: UInt64 { UInt64(Self.allCases.firstIndex(of: self) ?? 0) }
    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        self = try decoder.readCase(Self.self, "piece status")
    }
}

/// Whether the bank may claim from the seller if the issuer does not pay.
public enum ReceivableRecourse: String, CaseIterable, Sendable, CanonicalCodable {
    case withRecourse = "with_recourse"
    case withoutRecourse = "without_recourse"

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(self == .withRecourse ? UInt64(0) : 1) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("recourse") {
        case 0: self = .withRecourse
        case 1: self = .withoutRecourse
        case let tag: throw .unknownTag(field: "recourse", tag: tag)
        }
    }
}

/// An open offer on a piece: a transfer to a recipient or financing by a bank.
public struct ReceivableOffer: Equatable, Sendable, CanonicalCodable {
    /// The organization that must accept.
    public var counterparty: String
    /// Financing offers only: annual discount rate in basis points.
    public var discountRateBps: UInt32
    /// Financing offers only.
    public var recourse: ReceivableRecourse
    public var signing: ReceivableSigning

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(counterparty)
        encoder.write(discountRateBps)
        encoder.write(recourse)
        encoder.write(signing)
    }

    init(counterparty: String, discountRateBps: UInt32, recourse: ReceivableRecourse, signing: ReceivableSigning) {
        self.counterparty = counterparty
        self.discountRateBps = discountRateBps
        self.recourse = recourse
        self.signing = signing
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        counterparty = try decoder.readString("offer counterparty", limit: Limits.identifierBytesMax)
        discountRateBps = try decoder.readUInt32("discount rate")
        recourse = try decoder.read(ReceivableRecourse.self, "recourse")
        signing = try decoder.read(ReceivableSigning.self, "offer signing")
    }
}

/// The terms of a completed financing, kept on the piece.
///
/// Discount arithmetic (all integers, minor units): `days` is the number of
/// days from the financing day to the due date; `fee = principal × rateBps ×
/// days / (10 000 × 360)` on an ACT/360 basis, **rounded half up** to the
/// minor unit; `paidOut = principal − fee`.
public struct ReceivableFinancing: Equatable, Sendable, CanonicalCodable {
    public var bank: String
    /// The seller who received the paid-out amount.
    public var seller: String
    public var principal: UInt64
    public var discountRateBps: UInt32
    public var days: UInt32
    public var fee: UInt64
    public var paidOut: UInt64
    public var recourse: ReceivableRecourse
    /// Registration number in the movable-asset financing registry (动产融资统一登记), if given.
    public var registrationNumber: String?
    public var signing: ReceivableSigning

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(bank)
        encoder.write(seller)
        encoder.write(principal)
        encoder.write(discountRateBps)
        encoder.write(days)
        encoder.write(fee)
        encoder.write(paidOut)
        encoder.write(recourse)
        encoder.write(optional: registrationNumber)
        encoder.write(signing)
    }

    init(bank: String, seller: String, principal: UInt64, discountRateBps: UInt32, days: UInt32, fee: UInt64, paidOut: UInt64,
         recourse: ReceivableRecourse, registrationNumber: String?, signing: ReceivableSigning) {
        self.bank = bank
        self.seller = seller
        self.principal = principal
        self.discountRateBps = discountRateBps
        self.days = days
        self.fee = fee
        self.paidOut = paidOut
        self.recourse = recourse
        self.registrationNumber = registrationNumber
        self.signing = signing
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        bank = try decoder.readString("financing bank", limit: Limits.identifierBytesMax)
        seller = try decoder.readString("financing seller", limit: Limits.identifierBytesMax)
        principal = try decoder.readUInt64("principal")
        discountRateBps = try decoder.readUInt32("discount rate")
        days = try decoder.readUInt32("days")
        fee = try decoder.readUInt64("fee")
        paidOut = try decoder.readUInt64("paid out")
        recourse = try decoder.read(ReceivableRecourse.self, "recourse")
        registrationNumber = try decoder.readOptionalString("registration number", limit: ReceivablesLimits.registrationNumberBytesMax)
        signing = try decoder.read(ReceivableSigning.self, "financing signing")
    }

    /// The fee and paid-out amount for discounting `principal` at
    /// `rateBps` for `days`, by the rule above; nil if the fee would not
    /// leave a positive paid-out amount.
    public static func discount(principal: UInt64, rateBps: UInt32, days: UInt32) -> (fee: UInt64, paidOut: UInt64)? {
        let denominator: UInt64 = 10_000 * 360
        let factor = UInt64(rateBps) * UInt64(days)
        let product = principal.multipliedFullWidth(by: factor)
        let (low, carry) = product.low.addingReportingOverflow(denominator / 2)
        let high = product.high + (carry ? 1 : 0)
        guard high < denominator else { return nil }
        let fee = denominator.dividingFullWidth((high: high, low: low)).quotient
        guard fee < principal else { return nil }
        return (fee, principal - fee)
    }
}

/// What happened to a piece, in order.
public enum ReceivableStepAction: String, CaseIterable, Sendable, CanonicalCodable {
    /// The root piece came into being when the supplier accepted the voucher.
    case issued
    /// This piece was cut from its parent (named in `detail`).
    case splitFrom = "split_from"
    /// This piece was cut into the two children named in `detail`.
    case splitInto = "split_into"
    case transferOffered = "transfer_offered"
    /// The recipient accepted; `counterparty` is the previous holder.
    case transferred
    case transferDeclined = "transfer_declined"
    case financingOffered = "financing_offered"
    /// The bank accepted; `counterparty` is the seller.
    case financed
    case financingDeclined = "financing_declined"
    case offerWithdrawn = "offer_withdrawn"
    case frozen
    case unfrozen
    /// Paid at settlement; `counterparty` is the holder paid.
    case settled

    var tag: UInt64 { UInt64(Self.allCases.firstIndex(of: self) ?? 0) }
    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        self = try decoder.readCase(Self.self, "step action")
    }
}

/// One step in a piece's history.
public struct ReceivableStep: Equatable, Sendable, CanonicalCodable {
    public var action: ReceivableStepAction
    /// The other organization of the step (recipient, previous holder, bank…), if any.
    public var counterparty: String?
    public var amount: UInt64
    /// Related piece ids or a reason, for people.
    public var detail: String?
    public var signing: ReceivableSigning

    init(action: ReceivableStepAction, counterparty: String?, amount: UInt64, detail: String?, signing: ReceivableSigning) {
        self.action = action
        self.counterparty = counterparty
        self.amount = amount
        self.detail = detail
        self.signing = signing
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(action)
        encoder.write(optional: counterparty)
        encoder.write(amount)
        encoder.write(optional: detail)
        encoder.write(signing)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        action = try decoder.read(ReceivableStepAction.self, "step action")
        counterparty = try decoder.readOptionalString("step counterparty", limit: Limits.identifierBytesMax)
        amount = try decoder.readUInt64("step amount")
        detail = try decoder.readOptionalString("step detail", limit: ReceivablesLimits.noteBytesMax)
        signing = try decoder.read(ReceivableSigning.self, "step signing")
    }
}

/// A regulator's freeze on a piece.
public struct ReceivableFreeze: Equatable, Sendable, CanonicalCodable {
    public var reason: String
    public var signing: ReceivableSigning

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(reason)
        encoder.write(signing)
    }

    init(reason: String, signing: ReceivableSigning) {
        self.reason = reason
        self.signing = signing
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        reason = try decoder.readString("freeze reason", limit: ReceivablesLimits.reasonBytesMax)
        signing = try decoder.read(ReceivableSigning.self, "freeze signing")
    }
}

/// A piece's record.
public struct ReceivablePiece: Equatable, Sendable, CanonicalCodable {
    public var id: ReceivablePieceID
    /// The piece this one was cut from; nil for the root.
    public var parent: ReceivablePieceID?
    public var holder: String
    public var status: ReceivablePieceStatus
    public var offer: ReceivableOffer?
    public var financing: ReceivableFinancing?
    public var freeze: ReceivableFreeze?
    public var history: [ReceivableStep]

    public var amount: UInt64 { id.amount }
    public var isFrozen: Bool { freeze != nil }

    init(id: ReceivablePieceID, parent: ReceivablePieceID?, holder: String, status: ReceivablePieceStatus, history: [ReceivableStep]) {
        self.id = id
        self.parent = parent
        self.holder = holder
        self.status = status
        self.offer = nil
        self.financing = nil
        self.freeze = nil
        self.history = history
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(parent)
        encoder.write(holder)
        encoder.write(status)
        encoder.write(offer)
        encoder.write(financing)
        encoder.write(freeze)
        encoder.write(history)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.read(ReceivablePieceID.self, "piece id")
        parent = try decoder.readOptional(ReceivablePieceID.self, "parent")
        holder = try decoder.readString("holder", limit: Limits.identifierBytesMax)
        status = try decoder.read(ReceivablePieceStatus.self, "piece status")
        offer = try decoder.readOptional(ReceivableOffer.self, "offer")
        financing = try decoder.readOptional(ReceivableFinancing.self, "financing")
        freeze = try decoder.readOptional(ReceivableFreeze.self, "freeze")
        history = try decoder.readArray(ReceivableStep.self, "history", limit: ReceivablesLimits.pieceHistoryMax)
    }
}

/// A bank's credit line to a core enterprise, and how much of it vouchers use.
public struct ReceivableCreditLineRecord: Equatable, Sendable, CanonicalCodable {
    public var bank: String
    public var issuer: String
    public var currency: String
    public var limit: UInt64
    /// Face amount of the issuer's vouchers on this line that are pending or outstanding.
    public var used: UInt64
    public var signing: ReceivableSigning

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(bank)
        encoder.write(issuer)
        encoder.write(currency)
        encoder.write(limit)
        encoder.write(used)
        encoder.write(signing)
    }

    init(bank: String, issuer: String, currency: String, limit: UInt64, used: UInt64, signing: ReceivableSigning) {
        self.bank = bank
        self.issuer = issuer
        self.currency = currency
        self.limit = limit
        self.used = used
        self.signing = signing
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        bank = try decoder.readString("credit bank", limit: Limits.identifierBytesMax)
        issuer = try decoder.readString("credit issuer", limit: Limits.identifierBytesMax)
        currency = try decoder.readString("credit currency", limit: ReceivablesLimits.currencyBytes)
        limit = try decoder.readUInt64("credit limit")
        used = try decoder.readUInt64("credit used")
        signing = try decoder.read(ReceivableSigning.self, "credit signing")
    }
}

/// An issuer's running totals in one currency, for its disclosure.
public struct ReceivableIssuerTotals: Equatable, Sendable, CanonicalCodable {
    public var issuedCount: UInt64 = 0
    public var issuedAmount: UInt64 = 0
    public var outstandingCount: UInt64 = 0
    public var outstandingAmount: UInt64 = 0
    public var settledCount: UInt64 = 0
    public var settledAmount: UInt64 = 0

    init() {}

    public func encode(to encoder: inout CanonicalEncoder) {
        for value in [issuedCount, issuedAmount, outstandingCount, outstandingAmount, settledCount, settledAmount] { encoder.write(value) }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        issuedCount = try decoder.readUInt64("issued count")
        issuedAmount = try decoder.readUInt64("issued amount")
        outstandingCount = try decoder.readUInt64("outstanding count")
        outstandingAmount = try decoder.readUInt64("outstanding amount")
        settledCount = try decoder.readUInt64("settled count")
        settledAmount = try decoder.readUInt64("settled amount")
    }
}

/// A pending (or decided) maker–checker action.
public struct ReceivablePendingAction: Equatable, Sendable, CanonicalCodable {
    public enum Status: String, CaseIterable, Sendable, CanonicalCodable {
        case pending
        case approved
        case discarded

        public func encode(to encoder: inout CanonicalEncoder) { encoder.write(UInt64(Self.allCases.firstIndex(of: self) ?? 0)) }
        public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
            self = try decoder.readCase(Self.self, "action status")
        }
    }

    /// The operator's transaction id; names the action.
    public var id: Hash
    public var organization: String
    public var operation: String
    public var arguments: [UInt8]
    public var status: Status
    public var prepared: ReceivableSigning
    public var decided: ReceivableSigning?
    public var reason: String?

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(organization)
        encoder.write(operation)
        encoder.write(bytes: arguments)
        encoder.write(status)
        encoder.write(prepared)
        encoder.write(decided)
        encoder.write(optional: reason)
    }

    init(id: Hash, organization: String, operation: String, arguments: [UInt8], prepared: ReceivableSigning) {
        self.id = id
        self.organization = organization
        self.operation = operation
        self.arguments = arguments
        self.status = .pending
        self.prepared = prepared
        self.decided = nil
        self.reason = nil
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.read(Hash.self, "action id")
        organization = try decoder.readString("action organization", limit: Limits.identifierBytesMax)
        operation = try decoder.readString("action operation", limit: Limits.operationNameBytesMax)
        arguments = try decoder.readBytes("action arguments", limit: Limits.callArgumentsBytesMax)
        status = try decoder.read(Status.self, "action status")
        prepared = try decoder.read(ReceivableSigning.self, "action prepared")
        decided = try decoder.readOptional(ReceivableSigning.self, "action decided")
        reason = try decoder.readOptionalString("action reason", limit: ReceivablesLimits.reasonBytesMax)
    }
}
