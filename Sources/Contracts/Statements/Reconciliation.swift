import Ledger
import LedgerCore

/// The four classes of outstanding items (未达账项).
public enum OutstandingClass: String, Sendable, CaseIterable {
    /// The bank credited the account; the books do not show it yet.
    case bankCreditedNotBooked = "bank_credited_not_booked"
    /// The bank debited the account; the books do not show it yet.
    case bankDebitedNotBooked = "bank_debited_not_booked"
    /// The books show a receipt the bank has not credited yet.
    case bookedReceiptNotAtBank = "booked_receipt_not_at_bank"
    /// The books show a payment the bank has not debited yet.
    case bookedPaymentNotAtBank = "booked_payment_not_at_bank"
}

/// Everything the reconciliation needs of one account, read from state.
struct AccountSnapshot {
    struct Line {
        var id: String
        var record: LineRecord
    }

    struct Entry {
        var id: String
        var record: BookRecord
    }

    var account: AccountRecord
    var statements: [StatementRecord]
    var lines: [Line]
    var entries: [Entry]
    var matches: [MatchRecord]
}

/// An outstanding item as reports show it.
struct OutstandingItem {
    var side: MatchSide
    var id: String
    var itemClass: OutstandingClass
    var amountMinor: Int64
    var date: CalendarDate
    var ageDays: Int
    var reference: String?
    var counterparty: String?
    var text: String
    /// True for the unbooked remainder of a fee match rather than a whole item.
    var isFeeDifference: Bool

    func answer(riskAgeDays: Int, exponent: Int) -> OutstandingItemAnswer {
        OutstandingItemAnswer(
            side: side == .bank ? "bank" : "book", id: id, itemClass: itemClass.rawValue, amountMinor: amountMinor,
            amount: ISO4217.decimalString(amountMinor, exponent: exponent), date: date.description, ageDays: Int64(ageDays),
            risk: ageDays > riskAgeDays, text: text, feeDifference: isFeeDifference, reference: reference, counterparty: counterparty)
    }
}

/// A counted statement whose closing balance its lines do not explain.
struct StatementDiscrepancy {
    var statementID: String
    var closingDate: CalendarDate
    /// Closing minus (opening plus lines).
    var differenceMinor: Int64
}

/// The balance reconciliation statement (余额调节表) of an account on a date.
struct ReconciliationReport {
    var date: CalendarDate
    var currency: String
    var bankBalanceMinor: Int64
    var bankBalanceStatement: String?
    var bookBalanceMinor: Int64
    var outstanding: [OutstandingItem]
    /// Matched groups on the date, corrections (an entry and its reversal) not counted.
    var matchedGroups: Int
    /// Matched groups on the date that await review as ambiguous.
    var ambiguousMatches: Int
    /// Counted statements posted with a discrepancy: part of the bank balance no line explains.
    var discrepancies: [StatementDiscrepancy]

    var discrepanciesTotalMinor: Int64 { discrepancies.reduce(0) { $0 &+ $1.differenceMinor } }

    func total(_ itemClass: OutstandingClass) -> Int64 {
        outstanding.filter { $0.itemClass == itemClass }.reduce(0) { $0 &+ $1.amountMinor }
    }

    /// Bank balance plus booked receipts not at the bank, less booked payments not at the bank.
    var adjustedBankMinor: Int64 {
        bankBalanceMinor &+ total(.bookedReceiptNotAtBank) &+ total(.bookedPaymentNotAtBank)
    }

    /// Book balance plus bank credits not booked, less bank debits not booked.
    var adjustedBookMinor: Int64 {
        bookBalanceMinor &+ total(.bankCreditedNotBooked) &+ total(.bankDebitedNotBooked)
    }

    var balances: Bool { adjustedBankMinor == adjustedBookMinor }

    func answer(account: String, riskAgeDays: Int) -> ReconciliationReportAnswer {
        let exponent = ISO4217.exponent(of: currency) ?? 2
        func money(_ value: Int64) -> MoneyAnswer { MoneyAnswer(minor: value, exponent: exponent) }
        var classes: [String: ReconciliationReportAnswer.OutstandingGroup] = [:]
        for itemClass in OutstandingClass.allCases {
            let items = outstanding.filter { $0.itemClass == itemClass }
            classes[itemClass.rawValue] = .init(count: Int64(items.count), total: money(total(itemClass)),
                                                items: items.prefix(StatementsLimits.reportItemsListedMax).map { $0.answer(riskAgeDays: riskAgeDays, exponent: exponent) })
        }
        return ReconciliationReportAnswer(
            account: account, date: date.description, currency: currency, bankBalanceStatement: bankBalanceStatement,
            bank: .init(balance: money(bankBalanceMinor), plusBookedReceiptsNotAtBank: money(total(.bookedReceiptNotAtBank)),
                        lessBookedPaymentsNotAtBank: money(0 &- total(.bookedPaymentNotAtBank)), adjustedBalance: money(adjustedBankMinor)),
            book: .init(balance: money(bookBalanceMinor), plusBankCreditsNotBooked: money(total(.bankCreditedNotBooked)),
                        lessBankDebitsNotBooked: money(0 &- total(.bankDebitedNotBooked)), adjustedBalance: money(adjustedBookMinor)),
            agrees: balances, differenceMinor: adjustedBankMinor &- adjustedBookMinor,
            statementDiscrepancies: .init(
                count: Int64(discrepancies.count), total: money(discrepanciesTotalMinor),
                items: discrepancies.prefix(StatementsLimits.reportItemsListedMax).map { item in
                    .init(statementID: item.statementID, closingDate: item.closingDate.description, difference: money(item.differenceMinor))
                }),
            differenceBeyondDiscrepanciesMinor: (adjustedBankMinor &- adjustedBookMinor) &- discrepanciesTotalMinor,
            outstanding: classes, matchedGroups: Int64(matchedGroups), ambiguousMatches: Int64(ambiguousMatches),
            riskItems: Int64(outstanding.filter { $0.ageDays > riskAgeDays }.count))
    }
}

enum Reconciliation {
    /// Computes the reconciliation statement as of the end of `date`.
    ///
    /// The bank side counts the lines of every statement (not replaced by a
    /// correction) whose closing date is on or before `date`; its balance is
    /// the closing balance of the latest such statement. The book side counts
    /// entries dated on or before `date` from the books' opening balance. A
    /// match counts as matched on `date` only if all its members are counted
    /// on their sides; otherwise its counted members are outstanding. The
    /// difference of a fee match is outstanding as a bank debit not booked.
    /// Counted statements posted with a discrepancy are listed: their
    /// differences are in the bank balance without a line behind them.
    static func report(_ snapshot: AccountSnapshot, date: CalendarDate) -> ReconciliationReport {
        let live = snapshot.statements.filter { $0.supersededBy == nil }
        let closedByDate = live.filter { $0.header.closingBooked.date <= date }
        let latest = closedByDate.max { lhs, rhs in
            (lhs.header.closingBooked.date, lhs.posted.height, lhs.header.statementID) < (rhs.header.closingBooked.date, rhs.posted.height, rhs.header.statementID)
        }
        let firstStatement = live.min { lhs, rhs in
            (lhs.header.openingBooked.date, lhs.posted.height, lhs.header.statementID) < (rhs.header.openingBooked.date, rhs.posted.height, rhs.header.statementID)
        }
        let bankBalance = latest?.header.closingBooked.amountMinor ?? firstStatement?.header.openingBooked.amountMinor ?? 0
        let countedStatements = Set(closedByDate.map(\.header.statementID))
        let countedLines = snapshot.lines.filter { countedStatements.contains($0.record.statementID) && $0.record.state != .withdrawn }
        let countedEntries = snapshot.entries.filter { $0.record.entry.date <= date }
        let lineIDs = Set(countedLines.map(\.id))
        let entryIDs = Set(countedEntries.map(\.id))
        var matchedOnDate: Set<UInt64> = []
        var corrections = 0
        var ambiguous = 0
        var outstanding: [OutstandingItem] = []
        for match in snapshot.matches where !match.dissolved {
            if match.bankItems.allSatisfy(lineIDs.contains) && match.bookItems.allSatisfy(entryIDs.contains) {
                matchedOnDate.insert(match.id)
                if match.rule == .correction { corrections += 1 }
                if match.awaitsReview { ambiguous += 1 }
                if match.differenceMinor != 0 {
                    outstanding.append(OutstandingItem(
                        side: .bank, id: "match-\(match.id)", itemClass: match.differenceMinor > 0 ? .bankCreditedNotBooked : .bankDebitedNotBooked,
                        amountMinor: match.differenceMinor, date: date, ageDays: 0, reference: nil, counterparty: nil,
                        text: match.rule == .manual ? "difference of manual match \(match.id): \(match.reason)"
                            : "bank fee deducted from a receipt (match \(match.id), rule \(match.rule.rawValue))", isFeeDifference: true))
                }
            }
        }
        let today = date.dayNumber
        var bookBalance = snapshot.account.bookOpeningMinor ?? 0
        for entry in countedEntries { bookBalance &+= entry.record.entry.amountMinor }
        for line in countedLines {
            if case .matched(let id) = line.record.state, matchedOnDate.contains(id) { continue }
            let input = line.record.line
            outstanding.append(OutstandingItem(
                side: .bank, id: line.id, itemClass: input.amountMinor >= 0 ? .bankCreditedNotBooked : .bankDebitedNotBooked,
                amountMinor: input.amountMinor, date: input.bookingDate, ageDays: max(0, today - input.bookingDate.dayNumber),
                reference: input.customerReference ?? input.bankReference, counterparty: input.counterpartyName,
                text: input.narrative, isFeeDifference: false))
        }
        for entry in countedEntries {
            if case .matched(let id) = entry.record.state, matchedOnDate.contains(id) { continue }
            let input = entry.record.entry
            outstanding.append(OutstandingItem(
                side: .book, id: entry.id, itemClass: input.amountMinor >= 0 ? .bookedReceiptNotAtBank : .bookedPaymentNotAtBank,
                amountMinor: input.amountMinor, date: input.date, ageDays: max(0, today - input.date.dayNumber),
                reference: input.reference, counterparty: input.counterparty, text: input.memo, isFeeDifference: false))
        }
        return ReconciliationReport(date: date, currency: snapshot.account.currency, bankBalanceMinor: bankBalance,
                                    bankBalanceStatement: latest?.header.statementID, bookBalanceMinor: bookBalance,
                                    outstanding: outstanding, matchedGroups: matchedOnDate.count - corrections, ambiguousMatches: ambiguous,
                                    discrepancies: closedByDate.compactMap { statement in
                                        guard case .discrepancy(let difference) = statement.header.balanceCheck else { return nil }
                                        return StatementDiscrepancy(statementID: statement.header.statementID,
                                                                    closingDate: statement.header.closingBooked.date, differenceMinor: difference)
                                    }.sorted { ($0.closingDate, $0.statementID) < ($1.closingDate, $1.statementID) })
    }
}
