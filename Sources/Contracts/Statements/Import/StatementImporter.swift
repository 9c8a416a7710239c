import Foundation
import Ledger
import LedgerCore

/// Entry points for the CLI's `statement import` and `books import`.
public enum StatementImporter {
    /// Detects the format (XML → camt, otherwise MT940) and parses every
    /// statement of the file; the file is rejected as a whole on any error.
    public static func parse(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        let firstVisible = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }).first
        if firstVisible == UInt8(ascii: "<") {
            return try CamtParser.parse(fileContents: bytes, fileName: fileName)
        }
        return try MT940Parser.parse(fileContents: bytes, fileName: fileName)
    }

    /// Turns a parsed statement into the arguments of `statements.postStatement`.
    /// Line ids are the line's position (`1`, `2`, …). Statements without
    /// opening and closing booked balances (camt.052 reports, camt.054
    /// notifications) cannot be posted and are refused.
    /// - Parameters:
    ///   - account: the registered account to post to; defaults to the statement's account.
    ///   - corrects: the id of the statement this one corrects, if any.
    public static func postStatementArguments(_ statement: ParsedStatement, fileName: String, account: String? = nil,
                                              corrects: String? = nil) throws(StatementImportError) -> PostStatement {
        guard let opening = statement.openingBooked, let closing = statement.closingBooked else {
            throw StatementImportError(fileName: fileName, location: "statement '\(statement.statementID)'",
                                       reason: "a \(statement.format.rawValue) without opening and closing booked balances can be shown but not posted as a statement")
        }
        let lines = statement.lines.enumerated().map { index, line in
            StatementLineInput(
                lineID: String(index + 1), bookingDate: line.bookingDate ?? line.valueDate, valueDate: line.valueDate,
                amountMinor: line.amountMinor, isReversal: line.isReversal, bankReference: line.bankReference.map { clip($0, StatementsLimits.referenceBytesMax) },
                customerReference: line.customerReference.map { clip($0, StatementsLimits.referenceBytesMax) },
                counterpartyName: line.counterpartyName.map { clip($0, StatementsLimits.nameBytesMax) },
                counterpartyAccount: line.counterpartyAccount.map { clip($0, StatementsLimits.identifierBytesMax) },
                transactionTypeCode: line.transactionTypeCode.map { clip($0, 35) }, narrative: clip(line.narrative, StatementsLimits.narrativeBytesMax))
        }
        return PostStatement(
            account: account ?? statement.account, statementID: statement.statementID, sequence: statement.sequence, currency: statement.currency,
            openingBooked: StatementBalance(amountMinor: opening.amountMinor, date: opening.date),
            closingBooked: StatementBalance(amountMinor: closing.amountMinor, date: closing.date),
            openingAvailable: statement.openingAvailable.map { StatementBalance(amountMinor: $0.amountMinor, date: $0.date) },
            closingAvailable: statement.closingAvailable.map { StatementBalance(amountMinor: $0.amountMinor, date: $0.date) },
            corrects: corrects, lines: lines)
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
    /// of statements with their balances and every line.
    public static func json(_ statements: [ParsedStatement]) -> JSONValue {
        .array(statements.map(json))
    }

    /// One statement as JSON; amounts as integer minor units and as decimal strings.
    public static func json(_ statement: ParsedStatement) -> JSONValue {
        let exponent = ISO4217.exponent(of: statement.currency) ?? 2
        func balance(_ value: ParsedBalance?) -> JSONValue {
            guard let value else { return .null }
            return .object(["amountMinor": .integer(value.amountMinor), "amount": .string(ISO4217.decimalString(value.amountMinor, exponent: exponent)),
                            "currency": .string(value.currency), "date": .string(value.date.description)])
        }
        func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
        let lines: [JSONValue] = statement.lines.enumerated().map { index, line in
            .object([
                "lineId": .string(String(index + 1)), "bookingDate": optional(line.bookingDate?.description), "valueDate": .string(line.valueDate.description),
                "amountMinor": .integer(line.amountMinor), "amount": .string(ISO4217.decimalString(line.amountMinor, exponent: exponent)),
                "currency": .string(line.currency), "reversal": .bool(line.isReversal), "bankReference": optional(line.bankReference),
                "customerReference": optional(line.customerReference), "counterpartyName": optional(line.counterpartyName),
                "counterpartyAccount": optional(line.counterpartyAccount), "transactionTypeCode": optional(line.transactionTypeCode),
                "narrative": .string(line.narrative), "source": .string(line.location),
            ])
        }
        return .object([
            "format": .string(statement.format.rawValue), "account": .string(statement.account), "accountIsIban": .bool(statement.accountIsIBAN),
            "statementId": .string(statement.statementID), "sequence": optional(statement.sequence), "currency": .string(statement.currency),
            "periodStart": optional(statement.periodStart?.description), "periodEnd": optional(statement.periodEnd?.description),
            "openingBooked": balance(statement.openingBooked), "closingBooked": balance(statement.closingBooked),
            "openingAvailable": balance(statement.openingAvailable), "closingAvailable": balance(statement.closingAvailable),
            "forwardAvailable": .array(statement.forwardAvailable.map(balance)), "lineCount": .integer(Int64(statement.lines.count)),
            "linesTotalMinor": .integer(statement.linesTotalMinor), "information": optional(statement.information), "lines": .array(lines),
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
