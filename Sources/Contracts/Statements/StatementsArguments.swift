import Ledger
import LedgerCore

/// How an account's lines and entries are matched. Set per account when the
/// bank registers it; absent fields come from the genesis defaults.
public struct MatchingRules: Equatable, Sendable, CanonicalCodable {
    /// Amount + date matching accepts dates this many days apart (0…31).
    public var dateToleranceDays: UInt32
    /// Whether one bank line may match several book entries with the same
    /// reference that sum to it, and several lines one entry.
    public var allowSplit: Bool
    /// The most items on the "many" side of a split match (2…64).
    public var splitGroupMax: UInt32
    /// The largest bank fee (minor units) a receipt matched by reference may
    /// lack against the booked amount; 0 disables fee tolerance.
    public var feeToleranceMinor: Int64

    public init(dateToleranceDays: UInt32 = 3, allowSplit: Bool = false, splitGroupMax: UInt32 = 8, feeToleranceMinor: Int64 = 0) {
        self.dateToleranceDays = dateToleranceDays
        self.allowSplit = allowSplit
        self.splitGroupMax = splitGroupMax
        self.feeToleranceMinor = feeToleranceMinor
    }

    /// A reason when the rules are out of range, else nil.
    public var problem: String? {
        if dateToleranceDays > 31 { return "dateToleranceDays must be 0 to 31" }
        if !(2...UInt32(StatementsLimits.matchMembersMax)).contains(splitGroupMax) { return "splitGroupMax must be 2 to \(StatementsLimits.matchMembersMax)" }
        if !(0...StatementsLimits.feeToleranceMinorMax).contains(feeToleranceMinor) {
            return "feeToleranceMinor must be 0 to \(StatementsLimits.feeToleranceMinorMax)"
        }
        return nil
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(dateToleranceDays)
        encoder.write(allowSplit)
        encoder.write(splitGroupMax)
        encoder.write(feeToleranceMinor)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        dateToleranceDays = try decoder.readUInt32("date tolerance days")
        allowSplit = try decoder.readBool("allow split")
        splitGroupMax = try decoder.readUInt32("split group max")
        feeToleranceMinor = try decoder.readInt64("fee tolerance")
    }
}

/// Arguments of `statements.registerAccount`: the bank declares that it holds
/// `account` for the enterprise organization `enterpriseID`.
public struct RegisterAccount: Equatable, Sendable, CanonicalCodable {
    public var account: String
    public var enterpriseID: String
    public var currency: String
    /// Matching rules for the account; nil takes the genesis defaults.
    public var rules: MatchingRules?

    public init(account: String, enterpriseID: String, currency: String, rules: MatchingRules? = nil) {
        self.account = account
        self.enterpriseID = enterpriseID
        self.currency = currency
        self.rules = rules
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(enterpriseID)
        encoder.write(currency)
        encoder.write(rules)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        enterpriseID = try decoder.readString("enterprise id", limit: Limits.identifierBytesMax)
        currency = try decoder.readString("currency", limit: StatementsLimits.currencyBytes)
        rules = try decoder.readOptional(MatchingRules.self, "rules")
    }
}

/// A balance in a statement: signed minor units (credit positive) and its date.
public struct StatementBalance: Equatable, Sendable, CanonicalCodable {
    public var amountMinor: Int64
    public var date: CalendarDate

    public init(amountMinor: Int64, date: CalendarDate) {
        self.amountMinor = amountMinor
        self.date = date
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(amountMinor)
        encoder.write(date)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        amountMinor = try decoder.readInt64("balance amount")
        date = try decoder.read(CalendarDate.self, "balance date")
    }
}

/// How a statement's opening balance plus its lines compares with its closing balance.
public enum StatementBalanceCheck: Equatable, Sendable, CanonicalCodable {
    /// Opening plus lines equals the closing balance the bank stated.
    case agrees
    /// The bank's file states a closing balance that opening plus lines does
    /// not give; `differenceMinor` is closing minus (opening plus lines), never 0.
    case discrepancy(differenceMinor: Int64)
    /// The bank's file states no closing booked balance; the closing balance is opening plus lines.
    case closingDerived

    /// Closing minus (opening plus lines): the discrepancy, or 0.
    public var differenceMinor: Int64 {
        if case .discrepancy(let difference) = self { return difference }
        return 0
    }

    /// `agrees`, `discrepancy` or `closing_derived`.
    public var label: String {
        switch self {
        case .agrees: "agrees"
        case .discrepancy: "discrepancy"
        case .closingDerived: "closing_derived"
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .agrees: encoder.write(UInt64(0))
        case .discrepancy(let difference):
            encoder.write(UInt64(1))
            encoder.write(difference)
        case .closingDerived: encoder.write(UInt64(2))
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("balance check") {
        case 0: self = .agrees
        case 1: self = .discrepancy(differenceMinor: try decoder.readInt64("discrepancy"))
        case 2: self = .closingDerived
        case let tag: throw .unknownTag(field: "balance check", tag: tag)
        }
    }
}

/// One line of a statement as the bank posts it.
public struct StatementLineInput: Equatable, Sendable, CanonicalCodable {
    /// Unique within the statement.
    public var lineID: String
    public var bookingDate: CalendarDate
    public var valueDate: CalendarDate
    /// Signed minor units in the statement's currency: credits positive, debits negative.
    public var amountMinor: Int64
    public var isReversal: Bool
    public var bankReference: String?
    public var customerReference: String?
    public var counterpartyName: String?
    public var counterpartyAccount: String?
    public var transactionTypeCode: String?
    public var narrative: String

    public init(lineID: String, bookingDate: CalendarDate, valueDate: CalendarDate, amountMinor: Int64, isReversal: Bool = false,
                bankReference: String? = nil, customerReference: String? = nil, counterpartyName: String? = nil,
                counterpartyAccount: String? = nil, transactionTypeCode: String? = nil, narrative: String = "") {
        self.lineID = lineID
        self.bookingDate = bookingDate
        self.valueDate = valueDate
        self.amountMinor = amountMinor
        self.isReversal = isReversal
        self.bankReference = bankReference
        self.customerReference = customerReference
        self.counterpartyName = counterpartyName
        self.counterpartyAccount = counterpartyAccount
        self.transactionTypeCode = transactionTypeCode
        self.narrative = narrative
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(lineID)
        encoder.write(bookingDate)
        encoder.write(valueDate)
        encoder.write(amountMinor)
        encoder.write(isReversal)
        encoder.write(optional: bankReference)
        encoder.write(optional: customerReference)
        encoder.write(optional: counterpartyName)
        encoder.write(optional: counterpartyAccount)
        encoder.write(optional: transactionTypeCode)
        encoder.write(narrative)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        lineID = try decoder.readString("line id", limit: StatementsLimits.identifierBytesMax)
        bookingDate = try decoder.read(CalendarDate.self, "booking date")
        valueDate = try decoder.read(CalendarDate.self, "value date")
        amountMinor = try decoder.readInt64("line amount")
        isReversal = try decoder.readBool("reversal")
        bankReference = try decoder.readOptionalString("bank reference", limit: StatementsLimits.referenceBytesMax)
        customerReference = try decoder.readOptionalString("customer reference", limit: StatementsLimits.referenceBytesMax)
        counterpartyName = try decoder.readOptionalString("counterparty name", limit: StatementsLimits.nameBytesMax)
        counterpartyAccount = try decoder.readOptionalString("counterparty account", limit: StatementsLimits.identifierBytesMax)
        transactionTypeCode = try decoder.readOptionalString("transaction type code", limit: StatementsLimits.transactionTypeCodeBytesMax)
        narrative = try decoder.readString("narrative", limit: StatementsLimits.narrativeBytesMax)
    }
}

/// Arguments of `statements.postStatement`.
public struct PostStatement: Equatable, Sendable, CanonicalCodable {
    public var account: String
    /// Unique per account; a statement id is never posted twice.
    public var statementID: String
    public var sequence: String?
    public var currency: String
    public var openingBooked: StatementBalance
    public var closingBooked: StatementBalance
    public var openingAvailable: StatementBalance?
    public var closingAvailable: StatementBalance?
    /// How opening plus lines compares with the closing balance; the contract checks it.
    public var balanceCheck: StatementBalanceCheck
    /// The id of an earlier statement of the account this one corrects.
    public var corrects: String?
    public var lines: [StatementLineInput]

    public init(account: String, statementID: String, sequence: String? = nil, currency: String, openingBooked: StatementBalance,
                closingBooked: StatementBalance, openingAvailable: StatementBalance? = nil, closingAvailable: StatementBalance? = nil,
                balanceCheck: StatementBalanceCheck = .agrees, corrects: String? = nil, lines: [StatementLineInput]) {
        self.account = account
        self.statementID = statementID
        self.sequence = sequence
        self.currency = currency
        self.openingBooked = openingBooked
        self.closingBooked = closingBooked
        self.openingAvailable = openingAvailable
        self.closingAvailable = closingAvailable
        self.balanceCheck = balanceCheck
        self.corrects = corrects
        self.lines = lines
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(statementID)
        encoder.write(optional: sequence)
        encoder.write(currency)
        encoder.write(openingBooked)
        encoder.write(closingBooked)
        encoder.write(openingAvailable)
        encoder.write(closingAvailable)
        encoder.write(balanceCheck)
        encoder.write(optional: corrects)
        encoder.write(lines)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        statementID = try decoder.readString("statement id", limit: StatementsLimits.identifierBytesMax)
        sequence = try decoder.readOptionalString("sequence", limit: StatementsLimits.identifierBytesMax)
        currency = try decoder.readString("currency", limit: StatementsLimits.currencyBytes)
        openingBooked = try decoder.read(StatementBalance.self, "opening booked")
        closingBooked = try decoder.read(StatementBalance.self, "closing booked")
        openingAvailable = try decoder.readOptional(StatementBalance.self, "opening available")
        closingAvailable = try decoder.readOptional(StatementBalance.self, "closing available")
        balanceCheck = try decoder.read(StatementBalanceCheck.self, "balance check")
        corrects = try decoder.readOptionalString("corrects", limit: StatementsLimits.identifierBytesMax)
        lines = try decoder.readArray(StatementLineInput.self, "lines", limit: StatementsLimits.linesPerStatementMax)
    }
}

extension PostStatement {
    /// SHA-256 of the canonical arguments, lines included: what the ledger
    /// keeps to recognise the same statement posted again.
    public var digest: Hash { Hash.sha256(canonicalBytes) }
}

/// One entry of the enterprise's books for the account.
public struct BookEntryInput: Equatable, Sendable, CanonicalCodable {
    /// Unique per account.
    public var entryID: String
    public var date: CalendarDate
    /// Signed minor units: receipts positive, payments negative.
    public var amountMinor: Int64
    public var currency: String
    public var reference: String?
    public var counterparty: String?
    public var memo: String
    /// True when the entry reverses an earlier entry of the same amount.
    public var isReversal: Bool

    public init(entryID: String, date: CalendarDate, amountMinor: Int64, currency: String, reference: String? = nil,
                counterparty: String? = nil, memo: String = "", isReversal: Bool = false) {
        self.entryID = entryID
        self.date = date
        self.amountMinor = amountMinor
        self.currency = currency
        self.reference = reference
        self.counterparty = counterparty
        self.memo = memo
        self.isReversal = isReversal
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entryID)
        encoder.write(date)
        encoder.write(amountMinor)
        encoder.write(currency)
        encoder.write(optional: reference)
        encoder.write(optional: counterparty)
        encoder.write(memo)
        encoder.write(isReversal)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entryID = try decoder.readString("entry id", limit: StatementsLimits.identifierBytesMax)
        date = try decoder.read(CalendarDate.self, "entry date")
        amountMinor = try decoder.readInt64("entry amount")
        currency = try decoder.readString("entry currency", limit: StatementsLimits.currencyBytes)
        reference = try decoder.readOptionalString("entry reference", limit: StatementsLimits.referenceBytesMax)
        counterparty = try decoder.readOptionalString("entry counterparty", limit: StatementsLimits.nameBytesMax)
        memo = try decoder.readString("memo", limit: StatementsLimits.narrativeBytesMax)
        isReversal = try decoder.readBool("entry reversal")
    }
}

/// Arguments of `statements.postBookEntries`: one batch of the enterprise's entries.
public struct PostBookEntries: Equatable, Sendable, CanonicalCodable {
    public var account: String
    /// Unique per account; a batch is never posted twice.
    public var batchID: String
    /// The books' balance before the first entry; accepted only while the
    /// account has no book entries (defaults to 0 when never given).
    public var openingBalanceMinor: Int64?
    public var entries: [BookEntryInput]
    /// The bank holding the account; needed only when the enterprise holds the same account number at several banks.
    public var bank: String?

    public init(account: String, batchID: String, openingBalanceMinor: Int64? = nil, entries: [BookEntryInput], bank: String? = nil) {
        self.account = account
        self.batchID = batchID
        self.openingBalanceMinor = openingBalanceMinor
        self.entries = entries
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(batchID)
        encoder.write(optional: openingBalanceMinor.map { UInt64(bitPattern: $0) })
        encoder.write(entries)
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        batchID = try decoder.readString("batch id", limit: StatementsLimits.identifierBytesMax)
        openingBalanceMinor = try decoder.readOptionalUInt64("opening balance").map { Int64(bitPattern: $0) }
        entries = try decoder.readArray(BookEntryInput.self, "entries", limit: StatementsLimits.entriesPerBatchMax)
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }

    /// SHA-256 of the canonical arguments without `bank` (which only says
    /// which account is meant): what the ledger keeps to recognise the same batch posted again.
    public var digest: Hash {
        var unnamed = self
        unnamed.bank = nil
        return Hash.sha256(unnamed.canonicalBytes)
    }
}

/// Arguments of `statements.acceptAccount`: the enterprise accepts `bank`'s registration of account `account`.
public struct AcceptAccount: Equatable, Sendable, CanonicalCodable {
    public var account: String
    public var bank: String

    public init(account: String, bank: String) {
        self.account = account
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        bank = try decoder.readString("bank", limit: Limits.identifierBytesMax)
    }
}

/// Arguments of `statements.confirmBalance`: the enterprise confirms a statement's closing booked balance.
public struct ConfirmBalance: Equatable, Sendable, CanonicalCodable {
    public var account: String
    public var statementID: String
    /// Must equal the statement's closing booked balance.
    public var closingBalanceMinor: Int64
    /// The bank holding the account; needed only when the enterprise holds the same account number at several banks.
    public var bank: String?

    public init(account: String, statementID: String, closingBalanceMinor: Int64, bank: String? = nil) {
        self.account = account
        self.statementID = statementID
        self.closingBalanceMinor = closingBalanceMinor
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(statementID)
        encoder.write(closingBalanceMinor)
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        statementID = try decoder.readString("statement id", limit: StatementsLimits.identifierBytesMax)
        closingBalanceMinor = try decoder.readInt64("closing balance")
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }
}

/// Arguments of `statements.disputeBalance`.
public struct DisputeBalance: Equatable, Sendable, CanonicalCodable {
    public var account: String
    public var statementID: String
    public var reason: String
    /// The balance the enterprise's records show, if it wants to state one.
    public var claimedBalanceMinor: Int64?
    /// The bank holding the account; needed only when the enterprise holds the same account number at several banks.
    public var bank: String?

    public init(account: String, statementID: String, reason: String, claimedBalanceMinor: Int64? = nil, bank: String? = nil) {
        self.account = account
        self.statementID = statementID
        self.reason = reason
        self.claimedBalanceMinor = claimedBalanceMinor
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(statementID)
        encoder.write(reason)
        encoder.write(optional: claimedBalanceMinor.map { UInt64(bitPattern: $0) })
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        statementID = try decoder.readString("statement id", limit: StatementsLimits.identifierBytesMax)
        reason = try decoder.readString("reason", limit: StatementsLimits.reasonBytesMax)
        claimedBalanceMinor = try decoder.readOptionalUInt64("claimed balance").map { Int64(bitPattern: $0) }
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }
}

/// Arguments of `statements.resolveDispute`: the bank or the enterprise closes an open dispute with a signed note.
public struct ResolveDispute: Equatable, Sendable, CanonicalCodable {
    public var account: String
    public var statementID: String
    public var resolution: String
    /// The bank holding the account; needed only when the enterprise holds the same account number at several banks.
    public var bank: String?

    public init(account: String, statementID: String, resolution: String, bank: String? = nil) {
        self.account = account
        self.statementID = statementID
        self.resolution = resolution
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(statementID)
        encoder.write(resolution)
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        statementID = try decoder.readString("statement id", limit: StatementsLimits.identifierBytesMax)
        resolution = try decoder.readString("resolution", limit: StatementsLimits.reasonBytesMax)
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }
}
