import Ledger
import LedgerCore

/// The file formats the importers read.
public enum StatementFormat: String, Sendable, Equatable {
    case mt940
    case mt942
    case camt052 = "camt.052"
    case camt053 = "camt.053"
    case camt054 = "camt.054"

    /// What an item of this format is, and so how it is posted.
    public var kind: StatementKind {
        switch self {
        case .mt940, .camt053: .statement
        case .mt942, .camt052: .intradayReport
        case .camt054: .notification
        }
    }
}

/// What a parsed item is.
public enum StatementKind: String, Sendable, Equatable {
    /// An end-of-period statement (MT940, camt.053), posted with `postStatement`.
    case statement
    /// An intraday account report (MT942, camt.052), posted with `postIntradayReport`; the day's statement books its entries.
    case intradayReport
    /// A debit or credit notification (camt.054): it can be shown, not posted.
    case notification
}

/// A balance as a statement states it: signed minor units (credit positive,
/// debit negative), currency and the date it refers to.
public struct ParsedBalance: Equatable, Sendable {
    public var amountMinor: Int64
    public var currency: String
    public var date: CalendarDate

    public init(amountMinor: Int64, currency: String, date: CalendarDate) {
        self.amountMinor = amountMinor
        self.currency = currency
        self.date = date
    }
}

/// A balance with the type the file gives it (camt `ITBD`, `PRCD`, `CLBD`, …;
/// MT `60F`, `62M`, …) and where the file states it.
public struct TypedBalance: Equatable, Sendable {
    public var code: String
    public var balance: ParsedBalance
    public var location: String

    public init(code: String, balance: ParsedBalance, location: String) {
        self.code = code
        self.balance = balance
        self.location = location
    }

    /// What the code names: `closing booked balance` for `CLBD` or `62F`, or the code itself when it is not a known one.
    public var name: String {
        switch code {
        case "OPBD", "60F", "60M": "opening booked balance"
        case "CLBD", "62F", "62M": "closing booked balance"
        case "OPAV": "opening available balance"
        case "CLAV", "64": "closing available balance"
        case "FWAV", "65": "forward available balance"
        case "PRCD": "previously closed booked balance"
        case "ITBD": "interim booked balance"
        case "ITAV": "interim available balance"
        default: "\(code) balance"
        }
    }
}

/// One booked line of a statement.
public struct ParsedStatementLine: Equatable, Sendable {
    /// The booking (entry) date; files may omit it, then the value date stands in.
    public var bookingDate: CalendarDate?
    public var valueDate: CalendarDate
    /// Signed minor units: credits to the account positive, debits negative.
    public var amountMinor: Int64
    public var currency: String
    /// True for a reversal (MT940 marks RC/RD, camt `RvslInd`).
    public var isReversal: Bool
    /// The account servicer's reference (MT940 `//` part of :61:, camt `AcctSvcrRef`).
    public var bankReference: String?
    /// The account owner's reference (MT940 :61: reference, camt end-to-end or creditor reference).
    public var customerReference: String?
    public var counterpartyName: String?
    public var counterpartyAccount: String?
    /// MT940 transaction type (`NTRF`) or camt bank transaction code (`PMNT/ICDT/DMCT` or proprietary).
    public var transactionTypeCode: String?
    public var narrative: String
    /// Where the line sits in its file: `line N` (MT940) or an element path (camt).
    public var location: String
    /// The value date as the file wrote it, when it named no calendar day (`150230`) and ``valueDate`` is the month's last day.
    public var valueDateAsWritten: String?
    /// The entry date as the file wrote it, when it named no calendar day and ``bookingDate`` is the month's last day.
    public var bookingDateAsWritten: String?

    public init(bookingDate: CalendarDate?, valueDate: CalendarDate, amountMinor: Int64, currency: String, isReversal: Bool,
                bankReference: String?, customerReference: String?, counterpartyName: String?, counterpartyAccount: String?,
                transactionTypeCode: String?, narrative: String, location: String, valueDateAsWritten: String? = nil,
                bookingDateAsWritten: String? = nil) {
        self.bookingDate = bookingDate
        self.valueDate = valueDate
        self.amountMinor = amountMinor
        self.currency = currency
        self.isReversal = isReversal
        self.bankReference = bankReference
        self.customerReference = customerReference
        self.counterpartyName = counterpartyName
        self.counterpartyAccount = counterpartyAccount
        self.transactionTypeCode = transactionTypeCode
        self.narrative = narrative
        self.location = location
        self.valueDateAsWritten = valueDateAsWritten
        self.bookingDateAsWritten = bookingDateAsWritten
    }
}

/// A statement, intraday report or notification read from a file and
/// checked: every balance it uses and every line is in its currency, and
/// ``balanceCheck`` says how opening plus lines compares with closing.
public struct ParsedStatement: Equatable, Sendable {
    public var format: StatementFormat
    /// Account identifier as the file gives it (IBAN or domestic number, without a trailing currency).
    public var account: String
    /// True when ``account`` has the form and check digits of an IBAN.
    public var accountIsIBAN: Bool
    public var statementID: String
    /// Statement number and sequence (MT940 :28C:, camt `ElctrncSeqNb`/`LglSeqNb`).
    public var sequence: String?
    public var currency: String
    public var periodStart: CalendarDate?
    public var periodEnd: CalendarDate?
    public var openingBooked: ParsedBalance?
    /// The closing booked balance; for ``StatementBalanceCheck/closingDerived`` the opening balance plus the lines.
    public var closingBooked: ParsedBalance?
    public var openingAvailable: ParsedBalance?
    public var closingAvailable: ParsedBalance?
    /// Forward available balances (MT940 :65:, camt `FWAV`).
    public var forwardAvailable: [ParsedBalance]
    /// Other balances in the statement's currency: camt interim (`ITBD`, `ITAV`), a `PRCD` beside `OPBD`, and the like.
    public var additionalBalances: [TypedBalance] = []
    /// Balances the file states in a currency other than the account's; kept, not used as the account's balances.
    public var foreignCurrencyBalances: [TypedBalance] = []
    public var lines: [ParsedStatementLine]
    /// Statement-level information (MT940 :86: after :62:, camt `AddtlStmtInf`).
    public var information: String?
    /// How opening plus lines compares with the closing balance.
    public var balanceCheck: StatementBalanceCheck = .agrees
    /// The error an importer that takes balances only as stated (`--strict`) raises for this statement: a
    /// balance in another currency, a missing closing balance, or a closing balance the lines do not give.
    public var strictRefusal: StatementImportError?
    /// What the importer normalised or left out, each with its place in the file.
    public var warnings: [StatementImportWarning] = []

    public var kind: StatementKind { format.kind }

    /// Sum of the lines' signed amounts.
    public var linesTotalMinor: Int64 { lines.reduce(0) { $0 &+ $1.amountMinor } }
}

/// Why a statement or books file was rejected as a whole.
public struct StatementImportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file name the caller gave.
    public var fileName: String
    /// `line N` for line-based files, an element path for XML (`Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt`).
    public var location: String
    public var reason: String

    public init(fileName: String, location: String, reason: String) {
        self.fileName = fileName
        self.location = location
        self.reason = reason
    }

    public var description: String { "\(fileName): \(location): \(reason)" }
}

/// Something the importer normalised or left out while reading a file, and where.
public struct StatementImportWarning: Equatable, Sendable, CustomStringConvertible {
    /// What kind of normalisation it was.
    public enum Kind: String, Sendable, CaseIterable {
        /// A line before or between messages that is not a field (a BIC, `940`, `:940:`, a record count) was skipped.
        case skippedLine = "skipped_line"
        /// The file is not UTF-8 and was read as ISO 8859-1.
        case encoding
        /// An amount without a decimal comma or with a decimal point.
        case amountSpelling = "amount_spelling"
        /// A date that names no calendar day (30 February) became the month's last day.
        case impossibleDate = "impossible_date"
        /// A :61: transaction type that is not N, S or F and three letters or digits, or none at all.
        case transactionType = "transaction_type"
        /// A camt `PRCD` balance stood in for a missing `OPBD`, or differs from the `OPBD` beside it.
        case previousClosingBalance = "previous_closing_balance"
        /// A balance in a currency other than the account's was kept aside.
        case foreignCurrencyBalance = "foreign_currency_balance"
        /// A statement without a closing booked balance got opening balance plus lines as its closing balance.
        case closingDerived = "closing_derived"
        /// Opening balance plus lines does not give the closing balance; the difference is recorded as a discrepancy.
        case discrepancy
        /// An MT942 :90D:/:90C: count or sum that does not agree with the lines.
        case entrySummary = "entry_summary"
        /// A camt entry that is not booked (pending, information) was left out.
        case unbookedEntry = "unbooked_entry"
        /// More warnings of one kind than are listed; this one counts the rest.
        case more
    }

    public var kind: Kind
    public var fileName: String
    /// `line N`, an element path, or `file`.
    public var location: String
    public var reason: String

    public init(kind: Kind, fileName: String, location: String, reason: String) {
        self.kind = kind
        self.fileName = fileName
        self.location = location
        self.reason = reason
    }

    public var description: String { "\(fileName): \(location): \(reason)" }
}

/// The warnings of one statement: at most ``StatementsLimits/importWarningsPerKindMax`` of each kind are
/// kept, and one more warning counts those left out.
struct WarningLog: Sendable {
    private(set) var kept: [StatementImportWarning] = []
    private var counts: [StatementImportWarning.Kind: Int] = [:]

    mutating func add(_ warning: StatementImportWarning) {
        counts[warning.kind, default: 0] += 1
        if counts[warning.kind, default: 0] <= StatementsLimits.importWarningsPerKindMax { kept.append(warning) }
    }

    mutating func add(_ warnings: [StatementImportWarning]) {
        for warning in warnings { add(warning) }
    }

    var isEmpty: Bool { kept.isEmpty }

    /// The kept warnings, followed by one per kind that had more than ``StatementsLimits/importWarningsPerKindMax``.
    func finished(fileName: String) -> [StatementImportWarning] {
        var result = kept
        for kind in StatementImportWarning.Kind.allCases {
            let count = counts[kind, default: 0]
            guard count > StatementsLimits.importWarningsPerKindMax else { continue }
            result.append(StatementImportWarning(kind: .more, fileName: fileName, location: "file",
                                                 reason: "\(count - StatementsLimits.importWarningsPerKindMax) more warning(s) of kind \(kind.rawValue) are not listed"))
        }
        return result
    }
}

/// What a statement without both booked balances gets.
enum IncompleteBalances {
    /// An opening balance without a closing one: opening plus lines becomes the closing balance.
    case derive
    /// A statement needs both.
    case reject
    /// Reports and notifications may have either, both or none.
    case accept
}

extension ParsedStatement {
    /// Checks the currencies of balances and lines, then compares opening
    /// plus lines with closing. A difference is kept as
    /// ``StatementBalanceCheck/discrepancy(differenceMinor:)``; what a
    /// statement with only one booked balance gets, `incomplete` says. A
    /// discrepancy, a derived closing balance and a balance in another
    /// currency are each a warning and set ``strictRefusal``. `location`
    /// names where a balance sits.
    mutating func checkBalances(fileName: String, incomplete: IncompleteBalances, warnings: inout WarningLog,
                                location: (String) -> String) throws(StatementImportError) {
        func error(_ where: String, _ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: location(`where`), reason: "statement '\(statementID)': \(reason)")
        }
        let balances: [(String, ParsedBalance?)] = [("opening booked balance", openingBooked), ("closing booked balance", closingBooked),
                                                     ("opening available balance", openingAvailable),
                                                     ("closing available balance", closingAvailable)]
        for (name, balance) in balances {
            if let balance, balance.currency != currency {
                throw error(name, "\(name) is in \(balance.currency) but the statement's currency is \(currency)")
            }
        }
        for (index, balance) in forwardAvailable.enumerated() where balance.currency != currency {
            throw error("forward available balance \(index + 1)", "forward available balance is in \(balance.currency) but the statement's currency is \(currency)")
        }
        for line in lines where line.currency != currency {
            throw StatementImportError(fileName: fileName, location: line.location,
                                       reason: "statement '\(statementID)': line is in \(line.currency) but the statement's currency is \(currency)")
        }
        guard let exponent = ISO4217.exponent(of: currency) else { throw error("opening booked balance", "'\(currency)' is not an ISO 4217 currency code") }
        func money(_ minor: Int64) -> String { ISO4217.decimalString(minor, exponent: exponent) }
        if let foreign = foreignCurrencyBalances.first, strictRefusal == nil {
            strictRefusal = StatementImportError(fileName: fileName, location: foreign.location,
                                                 reason: "statement '\(statementID)': \(foreign.name) is in \(foreign.balance.currency) but the statement's currency is \(currency)")
        }
        if incomplete == .accept && (openingBooked == nil || closingBooked == nil) { return }
        guard let openingBooked else {
            if closingBooked != nil {
                throw error("closing booked balance", "has a closing booked balance but no opening one")
            }
            return
        }
        var total = openingBooked.amountMinor
        for line in lines {
            let (sum, overflow) = total.addingReportingOverflow(line.amountMinor)
            guard !overflow else { throw error("closing booked balance", "the lines' total overflows") }
            total = sum
        }
        guard let closingBooked else {
            let refusal = error("opening booked balance", "has an opening booked balance but no closing one")
            guard incomplete == .derive else { throw refusal }
            let date = periodEnd ?? lines.map { $0.bookingDate ?? $0.valueDate }.max() ?? openingBooked.date
            self.closingBooked = ParsedBalance(amountMinor: total, currency: currency, date: max(date, openingBooked.date))
            periodEnd = periodEnd ?? self.closingBooked?.date
            balanceCheck = .closingDerived
            if strictRefusal == nil { strictRefusal = refusal }
            warnings.add(StatementImportWarning(
                kind: .closingDerived, fileName: fileName, location: refusal.location,
                reason: "statement '\(statementID)' states no closing booked balance in \(currency); opening balance \(money(openingBooked.amountMinor)) plus \(lines.count) line(s) gives \(money(total)), taken as its closing balance"))
            return
        }
        guard total != closingBooked.amountMinor else { return }
        let (difference, overflow) = closingBooked.amountMinor.subtractingReportingOverflow(total)
        guard !overflow else { throw error("closing booked balance", "the difference between the lines' total and the closing balance overflows") }
        let refusal = error("closing booked balance", "opening balance \(money(openingBooked.amountMinor)) plus \(lines.count) line(s) totalling \(money(linesTotalMinor)) gives \(money(total)), but the closing balance is \(money(closingBooked.amountMinor)) \(currency)")
        balanceCheck = .discrepancy(differenceMinor: difference)
        if strictRefusal == nil { strictRefusal = refusal }
        warnings.add(StatementImportWarning(kind: .discrepancy, fileName: fileName, location: refusal.location,
                                            reason: refusal.reason + "; the difference \(money(difference)) \(currency) is recorded as the statement's discrepancy"))
    }
}

/// IBAN form and ISO 7064 mod-97 check digits.
enum IBAN {
    static func isValid(_ text: String) -> Bool {
        let characters = Array(text.utf8)
        guard (15...34).contains(characters.count),
              characters.prefix(2).allSatisfy({ $0 >= 65 && $0 <= 90 }),
              characters.dropFirst(2).prefix(2).allSatisfy({ $0 >= 48 && $0 <= 57 }),
              characters.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) }) else { return false }
        let rearranged = characters.dropFirst(4) + characters.prefix(4)
        var remainder = 0
        for character in rearranged {
            let value = character <= 57 ? Int(character) - 48 : Int(character) - 55
            remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97
        }
        return remainder == 1
    }
}
