import Ledger
import LedgerCore

// Arguments of the receivables contract's operations. Each is the canonical
// encoding carried in `ContractCall.arguments`; build a call with
// `ReceivablesContract.call(_:_:)`.

/// `setCreditLine` (bank): grants or changes the line the bank gives `issuer`.
/// A line cannot be cut below what the issuer's open vouchers use, and its
/// currency cannot change while any of it is used.
public struct ReceivableCreditLine: Equatable, Sendable, CanonicalCodable {
    public var issuer: String
    /// ISO 4217 code, three upper-case letters.
    public var currency: String
    /// In minor units.
    public var limit: UInt64

    public init(issuer: String, currency: String, limit: UInt64) {
        self.issuer = issuer
        self.currency = currency
        self.limit = limit
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(issuer)
        encoder.write(currency)
        encoder.write(limit)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        issuer = try decoder.readString("issuer", limit: Limits.identifierBytesMax)
        currency = try decoder.readString("currency", limit: ReceivablesLimits.currencyBytes)
        limit = try decoder.readUInt64("limit")
    }
}

/// `issue` (core enterprise): issues a voucher to a supplier, drawing on the
/// credit line `creditBank` granted the issuer.
public struct ReceivableIssue: Equatable, Sendable, CanonicalCodable {
    /// Chosen by the issuer: 1–64 of `A–Z a–z 0–9 . _ -`; unique on the ledger.
    public var voucherID: String
    public var supplier: String
    public var creditBank: String
    /// Face amount in minor units.
    public var amount: UInt64
    /// ISO 4217 code, three upper-case letters.
    public var currency: String
    public var issueDate: ReceivableDay
    public var dueDate: ReceivableDay
    /// Hash of the underlying trade contract.
    public var contractHash: Hash
    /// At least one; their amounts must cover the face amount.
    public var invoices: [ReceivableInvoice]
    public var transferable: Bool
    public var note: String?

    public init(voucherID: String, supplier: String, creditBank: String, amount: UInt64, currency: String,
                issueDate: ReceivableDay, dueDate: ReceivableDay, contractHash: Hash, invoices: [ReceivableInvoice],
                transferable: Bool = true, note: String? = nil) {
        self.voucherID = voucherID
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
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(voucherID)
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
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        voucherID = try decoder.readString("voucher id", limit: ReceivablesLimits.voucherIDBytesMax)
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
    }
}

/// Names a voucher: `cancel` (issuer), `acceptVoucher` and `rejectVoucher` (supplier).
public struct ReceivableVoucherRef: Equatable, Sendable, CanonicalCodable {
    public var voucherID: String
    /// Why, for `rejectVoucher` and `cancel`; optional.
    public var reason: String?

    public init(voucherID: String, reason: String? = nil) {
        self.voucherID = voucherID
        self.reason = reason
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(voucherID)
        encoder.write(optional: reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        voucherID = try decoder.readString("voucher id", limit: ReceivablesLimits.voucherIDBytesMax)
        reason = try decoder.readOptionalString("reason", limit: ReceivablesLimits.reasonBytesMax)
    }
}

/// `offerTransfer` (holder): offers `amount` of `piece` to `recipient`. A
/// partial amount first splits the piece: the transferred child takes the
/// lower units `[first, first + amount − 1]`, the retained child the rest.
public struct ReceivableTransfer: Equatable, Sendable, CanonicalCodable {
    public var piece: ReceivablePieceID
    /// In minor units; at most the piece's amount.
    public var amount: UInt64
    public var recipient: String

    public init(piece: ReceivablePieceID, amount: UInt64, recipient: String) {
        self.piece = piece
        self.amount = amount
        self.recipient = recipient
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(piece)
        encoder.write(amount)
        encoder.write(recipient)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        piece = try decoder.read(ReceivablePieceID.self, "piece")
        amount = try decoder.readUInt64("amount")
        recipient = try decoder.readString("recipient", limit: Limits.identifierBytesMax)
    }
}

/// Names a piece: `acceptTransfer` and `declineTransfer` (recipient),
/// `declineFinancing` (bank), `withdrawOffer` (holder), `freeze` and
/// `unfreeze` (regulator; `reason` is required there).
public struct ReceivablePieceRef: Equatable, Sendable, CanonicalCodable {
    public var piece: ReceivablePieceID
    public var reason: String?

    public init(piece: ReceivablePieceID, reason: String? = nil) {
        self.piece = piece
        self.reason = reason
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(piece)
        encoder.write(optional: reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        piece = try decoder.read(ReceivablePieceID.self, "piece")
        reason = try decoder.readOptionalString("reason", limit: ReceivablesLimits.reasonBytesMax)
    }
}

/// `offerFinancing` (holder): offers `amount` of `piece` to `bank` for
/// discounting at the stated terms; a partial amount splits first, as for a transfer.
public struct ReceivableFinanceOffer: Equatable, Sendable, CanonicalCodable {
    public var piece: ReceivablePieceID
    public var amount: UInt64
    public var bank: String
    /// Annual discount rate in basis points (350 = 3.50 %), 1…10 000.
    public var discountRateBps: UInt32
    public var recourse: ReceivableRecourse

    public init(piece: ReceivablePieceID, amount: UInt64, bank: String, discountRateBps: UInt32, recourse: ReceivableRecourse) {
        self.piece = piece
        self.amount = amount
        self.bank = bank
        self.discountRateBps = discountRateBps
        self.recourse = recourse
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(piece)
        encoder.write(amount)
        encoder.write(bank)
        encoder.write(discountRateBps)
        encoder.write(recourse)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        piece = try decoder.read(ReceivablePieceID.self, "piece")
        amount = try decoder.readUInt64("amount")
        bank = try decoder.readString("bank", limit: Limits.identifierBytesMax)
        discountRateBps = try decoder.readUInt32("discount rate")
        recourse = try decoder.read(ReceivableRecourse.self, "recourse")
    }
}

/// `acceptFinancing` (the named bank): takes the piece and records the
/// financing; see ``ReceivableFinancing`` for the arithmetic.
public struct ReceivableFinanceAccept: Equatable, Sendable, CanonicalCodable {
    public var piece: ReceivablePieceID
    /// Registration number in the movable-asset financing registry, if registered.
    public var registrationNumber: String?

    public init(piece: ReceivablePieceID, registrationNumber: String? = nil) {
        self.piece = piece
        self.registrationNumber = registrationNumber
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(piece)
        encoder.write(optional: registrationNumber)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        piece = try decoder.read(ReceivablePieceID.self, "piece")
        registrationNumber = try decoder.readOptionalString("registration number", limit: ReceivablesLimits.registrationNumberBytesMax)
    }
}

/// `settle` (issuer): pays every outstanding piece to its holder and closes
/// the voucher. Before the due date only with `early` set.
public struct ReceivableSettle: Equatable, Sendable, CanonicalCodable {
    public var voucherID: String
    public var early: Bool

    public init(voucherID: String, early: Bool = false) {
        self.voucherID = voucherID
        self.early = early
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(voucherID)
        encoder.write(early)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        voucherID = try decoder.readString("voucher id", limit: ReceivablesLimits.voucherIDBytesMax)
        early = try decoder.readBool("early")
    }
}

/// `configure` (any organization, for itself): its receivables settings.
public struct ReceivableSettings: Equatable, Sendable, CanonicalCodable {
    /// Incoming transfers complete at once, without an `acceptTransfer`.
    public var autoAcceptTransfers: Bool
    /// Every receivables operation of the organization (except `approve` and
    /// `discard`) needs two different member keys: the first signature
    /// creates a pending action, a second key's `approve` completes it.
    public var makerChecker: Bool

    public init(autoAcceptTransfers: Bool = false, makerChecker: Bool = false) {
        self.autoAcceptTransfers = autoAcceptTransfers
        self.makerChecker = makerChecker
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(autoAcceptTransfers)
        encoder.write(makerChecker)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        autoAcceptTransfers = try decoder.readBool("auto accept")
        makerChecker = try decoder.readBool("maker checker")
    }
}

/// `approve` and `discard` (a member key of the action's organization).
public struct ReceivableActionRef: Equatable, Sendable, CanonicalCodable {
    /// The id of the operator's transaction that created the action.
    public var actionID: Hash
    public var reason: String?

    public init(actionID: Hash, reason: String? = nil) {
        self.actionID = actionID
        self.reason = reason
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(actionID)
        encoder.write(optional: reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        actionID = try decoder.read(Hash.self, "action id")
        reason = try decoder.readOptionalString("reason", limit: ReceivablesLimits.reasonBytesMax)
    }
}

/// The contract's genesis parameters (`genesis.contracts["receivables"]`,
/// a JSON object; every field optional).
public struct ReceivableParameters: Equatable, Sendable, CanonicalCodable {
    /// Longest term from issue date to due date, in calendar months:
    /// `dueMonthsMax`, default 6, 1…12 (never beyond one year).
    public var dueMonthsMax: UInt32
    /// Smallest piece a split may leave on either side, in minor units:
    /// `minimumSplitAmount`, default 100 (1.00 in a two-decimal currency), at least 1.
    public var minimumSplitAmount: UInt64
    /// An issuer with more overdue vouchers than this cannot issue:
    /// `overdueVouchersMax`, default 0, 0…10 000.
    public var overdueVouchersMax: UInt32
    /// Most piece records (live and retired) one voucher may have, which bounds
    /// the work of its settlement: `pieceRecordsPerVoucherMax`, default 50 000, 1…150 000.
    public var pieceRecordsPerVoucherMax: UInt64

    public static let defaults = ReceivableParameters(dueMonthsMax: 6, minimumSplitAmount: 100, overdueVouchersMax: 0,
                                                      pieceRecordsPerVoucherMax: 50_000)

    public init(dueMonthsMax: UInt32, minimumSplitAmount: UInt64, overdueVouchersMax: UInt32, pieceRecordsPerVoucherMax: UInt64) {
        self.dueMonthsMax = dueMonthsMax
        self.minimumSplitAmount = minimumSplitAmount
        self.overdueVouchersMax = overdueVouchersMax
        self.pieceRecordsPerVoucherMax = pieceRecordsPerVoucherMax
    }

    /// Reads the genesis section; absent fields take their defaults, bad values are refused naming the field.
    public init(json: JSONValue?) throws(GenesisError) {
        var parameters = Self.defaults
        guard let json, json != .null else {
            self = parameters
            return
        }
        guard case .object(let members) = json else { throw GenesisError("contracts.receivables must be an object") }
        let known: Set<String> = ["dueMonthsMax", "minimumSplitAmount", "overdueVouchersMax", "pieceRecordsPerVoucherMax"]
        for key in members.keys.sorted() where !known.contains(key) {
            throw GenesisError("contracts.receivables.\(key) is not a receivables parameter (\(known.sorted().joined(separator: ", ")))")
        }
        func integer(_ field: String, _ range: ClosedRange<Int64>) throws(GenesisError) -> Int64? {
            guard let value = members[field] else { return nil }
            guard let number = value.intValue, range.contains(number) else {
                throw GenesisError("contracts.receivables.\(field) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        if let value = try integer("dueMonthsMax", 1...12) { parameters.dueMonthsMax = UInt32(value) }
        if let value = try integer("minimumSplitAmount", 1...Int64(ReceivablesLimits.amountMax)) { parameters.minimumSplitAmount = UInt64(value) }
        if let value = try integer("overdueVouchersMax", 0...10_000) { parameters.overdueVouchersMax = UInt32(value) }
        if let value = try integer("pieceRecordsPerVoucherMax", 1...150_000) { parameters.pieceRecordsPerVoucherMax = UInt64(value) }
        self = parameters
    }

    /// The parameters as a genesis JSON section.
    public var json: JSONValue {
        .object([
            "dueMonthsMax": .integer(Int64(dueMonthsMax)),
            "minimumSplitAmount": .integer(Int64(clamping: minimumSplitAmount)),
            "overdueVouchersMax": .integer(Int64(overdueVouchersMax)),
            "pieceRecordsPerVoucherMax": .integer(Int64(clamping: pieceRecordsPerVoucherMax)),
        ])
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(dueMonthsMax)
        encoder.write(minimumSplitAmount)
        encoder.write(overdueVouchersMax)
        encoder.write(pieceRecordsPerVoucherMax)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        dueMonthsMax = try decoder.readUInt32("due months max")
        minimumSplitAmount = try decoder.readUInt64("minimum split amount")
        overdueVouchersMax = try decoder.readUInt32("overdue vouchers max")
        pieceRecordsPerVoucherMax = try decoder.readUInt64("piece records per voucher max")
    }
}
