import Ledger
import LedgerCore

/// The file formats the importers read.
public enum StatementFormat: String, Sendable, Equatable {
    case mt940
    case camt052 = "camt.052"
    case camt053 = "camt.053"
    case camt054 = "camt.054"
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

    public init(bookingDate: CalendarDate?, valueDate: CalendarDate, amountMinor: Int64, currency: String, isReversal: Bool,
                bankReference: String?, customerReference: String?, counterpartyName: String?, counterpartyAccount: String?,
                transactionTypeCode: String?, narrative: String, location: String) {
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
    }
}

/// A statement read from a file and checked: every balance and line is in
/// the statement's currency and, where both booked balances are present,
/// opening plus lines equals closing.
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
    public var closingBooked: ParsedBalance?
    public var openingAvailable: ParsedBalance?
    public var closingAvailable: ParsedBalance?
    /// Forward available balances (MT940 :65:, camt `FWAV`).
    public var forwardAvailable: [ParsedBalance]
    public var lines: [ParsedStatementLine]
    /// Statement-level information (MT940 :86: after :62:, camt `AddtlStmtInf`).
    public var information: String?

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

extension ParsedStatement {
    /// Checks currencies and, where both booked balances are present, that
    /// opening plus lines equals closing. `location` names where to point.
    func validate(fileName: String, location: (String) -> String) throws(StatementImportError) {
        func fail(_ where: String, _ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: location(`where`), reason: "statement '\(statementID)': \(reason)")
        }
        let balances: [(String, ParsedBalance?)] = [("opening booked balance", openingBooked), ("closing booked balance", closingBooked),
                                                     ("opening available balance", openingAvailable),
                                                     ("closing available balance", closingAvailable)]
        for (name, balance) in balances {
            if let balance, balance.currency != currency {
                throw fail(name, "\(name) is in \(balance.currency) but the statement's currency is \(currency)")
            }
        }
        for (index, balance) in forwardAvailable.enumerated() where balance.currency != currency {
            throw fail("forward available balance \(index + 1)", "forward available balance is in \(balance.currency) but the statement's currency is \(currency)")
        }
        for line in lines where line.currency != currency {
            throw StatementImportError(fileName: fileName, location: line.location,
                                       reason: "statement '\(statementID)': line is in \(line.currency) but the statement's currency is \(currency)")
        }
        if let openingBooked, let closingBooked {
            var total = openingBooked.amountMinor
            for line in lines {
                let (sum, overflow) = total.addingReportingOverflow(line.amountMinor)
                guard !overflow else { throw fail("closing booked balance", "the lines' total overflows") }
                total = sum
            }
            guard total == closingBooked.amountMinor else {
                guard let exponent = ISO4217.exponent(of: currency) else { throw fail("closing booked balance", "unknown currency") }
                throw fail("closing booked balance", "opening balance \(ISO4217.decimalString(openingBooked.amountMinor, exponent: exponent)) plus \(lines.count) line(s) totalling \(ISO4217.decimalString(linesTotalMinor, exponent: exponent)) gives \(ISO4217.decimalString(total, exponent: exponent)), but the closing balance is \(ISO4217.decimalString(closingBooked.amountMinor, exponent: exponent)) \(currency)")
            }
        } else if (openingBooked == nil) != (closingBooked == nil) {
            throw fail(openingBooked == nil ? "closing booked balance" : "opening booked balance",
                       "has \(openingBooked == nil ? "a closing" : "an opening") booked balance but no \(openingBooked == nil ? "opening" : "closing") one")
        }
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
