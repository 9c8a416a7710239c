import Ledger
import LedgerCore

// The typed answers of the statements contract's queries that clients read.
// The contract builds its JSON from these and clients decode the JSON back
// into them, so both sides agree on every key.

/// An amount in minor units with its decimal text in the account's currency (`12.30`).
public struct MoneyAnswer: Codable, Sendable, Equatable {
    public var minor: Int64
    public var amount: String

    public init(minor: Int64, amount: String) {
        self.minor = minor
        self.amount = amount
    }

    init(minor: Int64, exponent: Int) {
        self.init(minor: minor, amount: ISO4217.decimalString(minor, exponent: exponent))
    }
}

/// An outstanding item (未达账项) as the `report` and `status` queries list it;
/// `reference` and `counterparty` are absent when the item has none.
public struct OutstandingItemAnswer: Codable, Sendable, Equatable {
    /// `bank` for a statement line, `book` for a book entry.
    public var side: String
    public var id: String
    /// An ``OutstandingClass`` raw value.
    public var itemClass: String
    public var amountMinor: Int64
    /// The amount as decimal text.
    public var amount: String
    public var date: String
    public var ageDays: Int64
    /// Older than the contract's risk age.
    public var risk: Bool
    public var text: String
    /// The unbooked remainder of a fee match rather than a whole item.
    public var feeDifference: Bool
    public var reference: String?
    public var counterparty: String?

    public init(side: String, id: String, itemClass: String, amountMinor: Int64, amount: String, date: String, ageDays: Int64, risk: Bool,
                text: String, feeDifference: Bool, reference: String?, counterparty: String?) {
        self.side = side
        self.id = id
        self.itemClass = itemClass
        self.amountMinor = amountMinor
        self.amount = amount
        self.date = date
        self.ageDays = ageDays
        self.risk = risk
        self.text = text
        self.feeDifference = feeDifference
        self.reference = reference
        self.counterparty = counterparty
    }

    enum CodingKeys: String, CodingKey {
        case itemClass = "class"
        case side, id, amountMinor, amount, date, ageDays, risk, text, feeDifference, reference, counterparty
    }
}

/// The `report` query's answer: the balance reconciliation statement (余额调节表)
/// of an account at the end of a date. `bankBalanceStatement` is absent when
/// no statement closes on or before the date.
public struct ReconciliationReportAnswer: Codable, Sendable, Equatable {
    /// The bank side: the statement balance adjusted by what the books show and the bank does not.
    public struct BankSide: Codable, Sendable, Equatable {
        public var balance: MoneyAnswer
        public var plusBookedReceiptsNotAtBank: MoneyAnswer
        public var lessBookedPaymentsNotAtBank: MoneyAnswer
        public var adjustedBalance: MoneyAnswer

        public init(balance: MoneyAnswer, plusBookedReceiptsNotAtBank: MoneyAnswer, lessBookedPaymentsNotAtBank: MoneyAnswer,
                    adjustedBalance: MoneyAnswer) {
            self.balance = balance
            self.plusBookedReceiptsNotAtBank = plusBookedReceiptsNotAtBank
            self.lessBookedPaymentsNotAtBank = lessBookedPaymentsNotAtBank
            self.adjustedBalance = adjustedBalance
        }
    }

    /// The book side: the book balance adjusted by what the bank shows and the books do not.
    public struct BookSide: Codable, Sendable, Equatable {
        public var balance: MoneyAnswer
        public var plusBankCreditsNotBooked: MoneyAnswer
        public var lessBankDebitsNotBooked: MoneyAnswer
        public var adjustedBalance: MoneyAnswer

        public init(balance: MoneyAnswer, plusBankCreditsNotBooked: MoneyAnswer, lessBankDebitsNotBooked: MoneyAnswer, adjustedBalance: MoneyAnswer) {
            self.balance = balance
            self.plusBankCreditsNotBooked = plusBankCreditsNotBooked
            self.lessBankDebitsNotBooked = lessBankDebitsNotBooked
            self.adjustedBalance = adjustedBalance
        }
    }

    /// A counted statement whose closing balance its lines do not explain.
    public struct Discrepancy: Codable, Sendable, Equatable {
        public var statementID: String
        public var closingDate: String
        /// Closing minus (opening plus lines).
        public var difference: MoneyAnswer

        public init(statementID: String, closingDate: String, difference: MoneyAnswer) {
            self.statementID = statementID
            self.closingDate = closingDate
            self.difference = difference
        }

        enum CodingKeys: String, CodingKey {
            case statementID = "statementId"
            case closingDate, difference
        }
    }

    /// The statements with a discrepancy; `items` holds at most the first 500.
    public struct Discrepancies: Codable, Sendable, Equatable {
        public var count: Int64
        public var total: MoneyAnswer
        public var items: [Discrepancy]

        public init(count: Int64, total: MoneyAnswer, items: [Discrepancy]) {
            self.count = count
            self.total = total
            self.items = items
        }
    }

    /// The outstanding items of one class; `items` holds at most the first 500.
    public struct OutstandingGroup: Codable, Sendable, Equatable {
        public var count: Int64
        public var total: MoneyAnswer
        public var items: [OutstandingItemAnswer]

        public init(count: Int64, total: MoneyAnswer, items: [OutstandingItemAnswer]) {
            self.count = count
            self.total = total
            self.items = items
        }
    }

    public var account: String
    public var date: String
    public var currency: String
    /// The statement whose closing balance is the bank balance.
    public var bankBalanceStatement: String?
    public var bank: BankSide
    public var book: BookSide
    /// The adjusted balances are equal.
    public var agrees: Bool
    /// Adjusted bank minus adjusted book balance.
    public var differenceMinor: Int64
    public var statementDiscrepancies: Discrepancies
    /// The difference less the statement discrepancies' total.
    public var differenceBeyondDiscrepanciesMinor: Int64
    /// Keyed by ``OutstandingClass`` raw value; every class is present.
    public var outstanding: [String: OutstandingGroup]
    public var matchedGroups: Int64
    /// Matched groups the matcher chose among equally good candidates, not yet reviewed.
    public var ambiguousMatches: Int64
    /// Outstanding items older than the contract's risk age.
    public var riskItems: Int64

    public init(account: String, date: String, currency: String, bankBalanceStatement: String?, bank: BankSide, book: BookSide, agrees: Bool,
                differenceMinor: Int64, statementDiscrepancies: Discrepancies, differenceBeyondDiscrepanciesMinor: Int64,
                outstanding: [String: OutstandingGroup], matchedGroups: Int64, ambiguousMatches: Int64, riskItems: Int64) {
        self.account = account
        self.date = date
        self.currency = currency
        self.bankBalanceStatement = bankBalanceStatement
        self.bank = bank
        self.book = book
        self.agrees = agrees
        self.differenceMinor = differenceMinor
        self.statementDiscrepancies = statementDiscrepancies
        self.differenceBeyondDiscrepanciesMinor = differenceBeyondDiscrepanciesMinor
        self.outstanding = outstanding
        self.matchedGroups = matchedGroups
        self.ambiguousMatches = ambiguousMatches
        self.riskItems = riskItems
    }
}
