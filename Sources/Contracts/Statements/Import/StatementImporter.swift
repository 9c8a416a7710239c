import Foundation
import Ledger
import LedgerCore

/// Entry points for the CLI's `statement import` and `books import`.
public enum StatementImporter {
    /// Detects the format (XML → camt, otherwise MT940/MT942) and parses
    /// every statement and report of the file; the file is rejected as a
    /// whole on any error. What the importers normalised is in each item's
    /// ``ParsedStatement/warnings``.
    public static func parse(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        let firstVisible = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }).first
        if firstVisible == UInt8(ascii: "<") {
            return try CamtParser.parse(fileContents: bytes, fileName: fileName)
        }
        return try MT940Parser.parse(fileContents: bytes, fileName: fileName)
    }

    /// What one parsed item becomes on the ledger.
    public enum Posting: Equatable, Sendable {
        case statement(PostStatement)
        case intradayReport(PostIntradayReport)
    }

    /// Turns every item of a file into what would be posted: statements
    /// into `postStatement`, intraday reports into `postIntradayReport`, and
    /// camt.054 notifications, which cannot be posted, into nil (see ``notPostable(_:fileName:)``).
    /// - Parameters:
    ///   - account: the registered account to post to; defaults to each item's account.
    ///   - corrects: the id of the statement this one corrects, if any; the file must hold that one statement.
    ///   - strict: refuse a statement whose balances the file does not state in full and in agreement
    ///     (a discrepancy, a derived closing balance, a balance in another currency), with the error
    ///     an importer that takes balances only as stated gives (``ParsedStatement/strictRefusal``).
    public static func postings(_ statements: [ParsedStatement], fileName: String, account: String? = nil, corrects: String? = nil,
                                strict: Bool = false) throws(StatementImportError) -> [Posting?] {
        if corrects != nil && (statements.count != 1 || statements.first?.kind != .statement) {
            throw StatementImportError(fileName: fileName, location: "file",
                                       reason: "--corrects applies to one statement, but the file holds \(statements.count) item(s)\(statements.contains { $0.kind != .statement } ? ", not all of them statements" : "")")
        }
        var result: [Posting?] = []
        for statement in statements {
            if strict, let refusal = statement.strictRefusal { throw refusal }
            switch statement.kind {
            case .statement:
                result.append(.statement(try postStatementArguments(statement, fileName: fileName, account: account, corrects: corrects)))
            case .intradayReport:
                result.append(.intradayReport(postIntradayReportArguments(statement, account: account)))
            case .notification:
                result.append(nil)
            }
        }
        return result
    }

    /// Why an item cannot be posted: a camt.054 notification is shown, not posted.
    public static func notPostable(_ statement: ParsedStatement, fileName: String) -> StatementImportError {
        StatementImportError(fileName: fileName, location: "statement '\(statement.statementID)'",
                             reason: "a \(statement.format.rawValue) notification can be shown but not posted; the account's statement or intraday report carries its entries")
    }

    /// Turns a parsed statement into the arguments of `statements.postStatement`.
    /// Line ids are the line's position (`1`, `2`, …). Items without
    /// opening and closing booked balances cannot be posted as statements and are refused.
    /// - Parameters:
    ///   - account: the registered account to post to; defaults to the statement's account.
    ///   - corrects: the id of the statement this one corrects, if any.
    public static func postStatementArguments(_ statement: ParsedStatement, fileName: String, account: String? = nil,
                                              corrects: String? = nil) throws(StatementImportError) -> PostStatement {
        guard statement.kind == .statement, let opening = statement.openingBooked, let closing = statement.closingBooked else {
            throw StatementImportError(fileName: fileName, location: "statement '\(statement.statementID)'",
                                       reason: "a \(statement.format.rawValue) without opening and closing booked balances can be shown but not posted as a statement")
        }
        return PostStatement(
            account: account ?? statement.account, statementID: statement.statementID, sequence: statement.sequence, currency: statement.currency,
            openingBooked: StatementBalance(amountMinor: opening.amountMinor, date: opening.date),
            closingBooked: StatementBalance(amountMinor: closing.amountMinor, date: closing.date),
            openingAvailable: statement.openingAvailable.map { StatementBalance(amountMinor: $0.amountMinor, date: $0.date) },
            closingAvailable: statement.closingAvailable.map { StatementBalance(amountMinor: $0.amountMinor, date: $0.date) },
            balanceCheck: statement.balanceCheck, corrects: corrects, lines: lineInputs(statement))
    }

    /// Turns a parsed intraday report into the arguments of
    /// `statements.postIntradayReport`, with every balance it states in the
    /// account's currency (at most ``PostIntradayReport/balancesMax``), each
    /// under its file's type code.
    public static func postIntradayReportArguments(_ report: ParsedStatement, account: String? = nil) -> PostIntradayReport {
        var balances: [ReportBalance] = []
        let named: [(String, ParsedBalance?)] = [
            (report.format == .mt942 ? "60M" : "OPBD", report.openingBooked), (report.format == .mt942 ? "62M" : "CLBD", report.closingBooked),
            ("OPAV", report.openingAvailable), (report.format == .mt942 ? "64" : "CLAV", report.closingAvailable),
        ]
        for (code, balance) in named {
            if let balance { balances.append(ReportBalance(code: code, amountMinor: balance.amountMinor, date: balance.date)) }
        }
        for balance in report.forwardAvailable {
            balances.append(ReportBalance(code: report.format == .mt942 ? "65" : "FWAV", amountMinor: balance.amountMinor, date: balance.date))
        }
        for typed in report.additionalBalances {
            balances.append(ReportBalance(code: reportBalanceCode(typed.code), amountMinor: typed.balance.amountMinor, date: typed.balance.date))
        }
        return PostIntradayReport(
            account: account ?? report.account, reportID: report.statementID, sequence: report.sequence, currency: report.currency,
            reportDate: report.periodEnd, balances: Array(balances.prefix(StatementsLimits.reportBalancesMax)), lines: lineInputs(report))
    }

    /// A file's balance type as a report balance code: its letters and digits, at most
    /// ``ReportBalance/codeBytesMax`` of them (`PRTRY` when a proprietary code has none).
    static func reportBalanceCode(_ code: String) -> String {
        let kept = String(code.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(StatementsLimits.balanceCodeBytesMax))
        return kept.isEmpty ? "PRTRY" : kept
    }

    /// The lines of an item as the contract takes them; line ids are positions (`1`, `2`, …).
    static func lineInputs(_ statement: ParsedStatement) -> [StatementLineInput] {
        statement.lines.enumerated().map { index, line in
            StatementLineInput(
                lineID: String(index + 1), bookingDate: line.bookingDate ?? line.valueDate, valueDate: line.valueDate,
                amountMinor: line.amountMinor, isReversal: line.isReversal, bankReference: line.bankReference.map { clip($0, StatementsLimits.referenceBytesMax) },
                customerReference: line.customerReference.map { clip($0, StatementsLimits.referenceBytesMax) },
                counterpartyName: line.counterpartyName.map { clip($0, StatementsLimits.nameBytesMax) },
                counterpartyAccount: line.counterpartyAccount.map { clip($0, StatementsLimits.identifierBytesMax) },
                transactionTypeCode: line.transactionTypeCode.map { clip($0, StatementsLimits.transactionTypeCodeBytesMax) }, narrative: clip(line.narrative, StatementsLimits.narrativeBytesMax))
        }
    }

    /// Cuts text to at most `bytes` UTF-8 bytes on a character boundary.
    static func clip(_ text: String, _ bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        for character in text {
            if result.utf8.count + character.utf8.count > bytes { break }
            result.append(character)
        }
        return result
    }

    /// The JSON document `statement import --dry-run --json` prints: an array
    /// of statements and reports with their balances, every line, the
    /// warnings, and what each would be posted as.
    public static func json(_ statements: [ParsedStatement]) -> JSONValue {
        .array(statements.map(json))
    }

    /// One statement as JSON; amounts as integer minor units and as decimal strings.
    public static func json(_ statement: ParsedStatement) -> JSONValue {
        let exponent = ISO4217.exponent(of: statement.currency) ?? 2
        func money(_ minor: Int64, _ currency: String) -> String {
            ISO4217.decimalString(minor, exponent: ISO4217.exponent(of: currency) ?? exponent)
        }
        func balance(_ value: ParsedBalance?) -> JSONValue {
            guard let value else { return .null }
            return .object(["amountMinor": .integer(value.amountMinor), "amount": .string(money(value.amountMinor, value.currency)),
                            "currency": .string(value.currency), "date": .string(value.date.description)])
        }
        func typed(_ value: TypedBalance) -> JSONValue {
            .object(["code": .string(value.code), "name": .string(value.name), "amountMinor": .integer(value.balance.amountMinor),
                     "amount": .string(money(value.balance.amountMinor, value.balance.currency)), "currency": .string(value.balance.currency),
                     "date": .string(value.balance.date.description), "source": .string(value.location)])
        }
        func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
        let lines: [JSONValue] = statement.lines.enumerated().map { index, line in
            var object: [String: JSONValue] = [
                "lineId": .string(String(index + 1)), "bookingDate": optional(line.bookingDate?.description), "valueDate": .string(line.valueDate.description),
                "amountMinor": .integer(line.amountMinor), "amount": .string(ISO4217.decimalString(line.amountMinor, exponent: exponent)),
                "currency": .string(line.currency), "reversal": .bool(line.isReversal), "bankReference": optional(line.bankReference),
                "customerReference": optional(line.customerReference), "counterpartyName": optional(line.counterpartyName),
                "counterpartyAccount": optional(line.counterpartyAccount), "transactionTypeCode": optional(line.transactionTypeCode),
                "narrative": .string(line.narrative), "source": .string(line.location),
            ]
            if let written = line.valueDateAsWritten { object["valueDateAsWritten"] = .string(written) }
            if let written = line.bookingDateAsWritten { object["bookingDateAsWritten"] = .string(written) }
            return .object(object)
        }
        var check: [String: JSONValue] = ["result": .string(statement.balanceCheck.label)]
        if case .discrepancy(let difference) = statement.balanceCheck {
            check["differenceMinor"] = .integer(difference)
            check["difference"] = .string(ISO4217.decimalString(difference, exponent: exponent))
        }
        let postAs: JSONValue = switch statement.kind {
        case .statement: .string("statement")
        case .intradayReport: .string("intradayReport")
        case .notification: .null
        }
        return .object([
            "format": .string(statement.format.rawValue), "kind": .string(statement.kind.rawValue), "postAs": postAs,
            "account": .string(statement.account), "accountIsIban": .bool(statement.accountIsIBAN),
            "statementId": .string(statement.statementID), "sequence": optional(statement.sequence), "currency": .string(statement.currency),
            "periodStart": optional(statement.periodStart?.description), "periodEnd": optional(statement.periodEnd?.description),
            "openingBooked": balance(statement.openingBooked), "closingBooked": balance(statement.closingBooked),
            "openingAvailable": balance(statement.openingAvailable), "closingAvailable": balance(statement.closingAvailable),
            "forwardAvailable": .array(statement.forwardAvailable.map(balance)),
            "additionalBalances": .array(statement.additionalBalances.map(typed)),
            "foreignCurrencyBalances": .array(statement.foreignCurrencyBalances.map(typed)),
            "balanceCheck": .object(check), "strictRefusal": optional(statement.strictRefusal?.description),
            "lineCount": .integer(Int64(statement.lines.count)),
            "linesTotalMinor": .integer(statement.linesTotalMinor), "information": optional(statement.information), "lines": .array(lines),
            "warnings": .array(statement.warnings.map { warning in
                .object(["kind": .string(warning.kind.rawValue), "location": .string(warning.location), "reason": .string(warning.reason)])
            }),
        ])
    }

    /// Pretty-printed JSON text with sorted keys, for the CLI.
    public static func renderJSON(_ statements: [ParsedStatement]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(json(statements)) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}
