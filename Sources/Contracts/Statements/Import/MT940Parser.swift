import Ledger
import LedgerCore

/// Reads SWIFT MT940 customer statements.
///
/// A file holds one or more statements, each a run of fields
/// `:20:` (reference) [`:21:`] `:25:` (account) `:28C:` (number/sequence)
/// `:60F:`/`:60M:` (opening) then any number of `:61:` lines each optionally
/// followed by `:86:` details, then `:62F:`/`:62M:` (closing), [`:64:`]
/// (closing available), [`:65:`…] (forward available) and an optional
/// statement-level `:86:`. Statements may be separated by a line holding `-`.
///
/// Accepted variants seen in bank files: LF or CRLF line ends and no line
/// end after the last line; blank lines; trailing spaces; `:28:` for
/// `:28C:`; a SWIFT FIN envelope (`{1:…}{2:…}{4:` … `-}`); a currency code appended to the `:25:` account; amounts with a
/// decimal comma and any number of leading zeros or missing decimals
/// (`380115,`); :61: without entry date, with a funds code (`CR`, `DR`,
/// `CN`) and reversal marks `RC`/`RD`; empty or structured (`?20`…) :86:
/// details; UTF-8 text with a fallback to ISO 8859-1 for files that are not
/// valid UTF-8.
public enum MT940Parser {
    /// One MT940 field as read, with its parsed content.
    public enum Field: Equatable, Sendable {
        case transactionReference(String)
        case relatedReference(String)
        case account(identifier: String, currency: String?)
        case statementNumber(number: String, sequence: String?)
        case openingBalance(ParsedBalance, intermediate: Bool)
        case line(ParsedStatementLine)
        case details(MT940Details)
        case closingBalance(ParsedBalance, intermediate: Bool)
        case closingAvailable(ParsedBalance)
        case forwardAvailable(ParsedBalance)
        /// A field this reader does not interpret (`:13D:`, `:34F:`, `:90C:`, …); it is skipped.
        case other(tag: String, value: String)
    }

    /// A field with the line it starts on (1-based).
    public struct LocatedField: Equatable, Sendable {
        public var field: Field
        public var line: Int
    }

    /// The largest file the reader accepts.
    public static let fileBytesMax = 16 * 1024 * 1024

    /// Parses every statement in a file. The file is rejected as a whole if
    /// any field is malformed or out of place, if a statement is incomplete,
    /// or if a statement's balances do not add up.
    public static func parse(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        let fields = try fields(fileContents: bytes, fileName: fileName)
        return try assemble(fields, fileName: fileName)
    }

    /// Reads and parses the fields of a file without assembling statements;
    /// useful for fragments and for pointing at a field's line.
    public static func fields(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [LocatedField] {
        guard bytes.count <= fileBytesMax else {
            throw StatementImportError(fileName: fileName, location: "file", reason: "file is \(bytes.count) bytes, above the limit of \(fileBytesMax)")
        }
        let text = decodeText(bytes)
        var raw: [(tag: String, lines: [Substring], line: Int)] = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            lineNumber += 1
            if let bad = rawLine.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\t" }) {
                throw StatementImportError(fileName: fileName, location: "line \(lineNumber)",
                                           reason: "contains control character 0x\(String(bad.value, radix: 16)); MT940 is text")
            }
            var line = rawLine.drop(while: { $0 == "\u{FEFF}" })
            if line.first == "{" {
                // SWIFT FIN envelope: `{1:…}{2:…}{4:` opens the text block, `{5:…}` trails it.
                guard let text = line.range(of: "{4:") else { continue }
                line = line[text.upperBound...]
            }
            let trimmed = line.trimmingTrailingSpaces()
            if trimmed.isEmpty { continue }
            if trimmed == "-" || trimmed.hasPrefix("-}") {
                raw.append(("-", [], lineNumber))
                continue
            }
            if let (tag, value) = fieldStart(line) {
                raw.append((tag, [value], lineNumber))
            } else if raw.isEmpty || raw[raw.count - 1].tag == "-" {
                throw StatementImportError(fileName: fileName, location: "line \(lineNumber)",
                                           reason: "text '\(trimmed.prefix(40))' is outside any field; a field starts with :TAG:")
            } else {
                raw[raw.count - 1].lines.append(line)
            }
        }
        var result: [LocatedField] = []
        for entry in raw {
            if entry.tag == "-" {
                result.append(LocatedField(field: .other(tag: "-", value: ""), line: entry.line))
                continue
            }
            let field = try parseField(tag: entry.tag, lines: entry.lines, line: entry.line, fileName: fileName)
            result.append(LocatedField(field: field, line: entry.line))
        }
        return result
    }

    static func decodeText(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    /// `:20:value`, `:60F:value`, `:28C:value` → (tag, value).
    static func fieldStart(_ line: Substring) -> (String, Substring)? {
        guard line.first == ":" else { return nil }
        let body = line.dropFirst()
        guard let colon = body.firstIndex(of: ":") else { return nil }
        let tag = body[body.startIndex..<colon]
        let tagCharacters = Array(tag)
        guard (2...3).contains(tagCharacters.count), tagCharacters[0].isASCII, tagCharacters[0].isNumber,
              tagCharacters[1].isASCII, tagCharacters[1].isNumber else { return nil }
        if tagCharacters.count == 3 && !(tagCharacters[2].isASCII && tagCharacters[2].isUppercase) { return nil }
        return (String(tag), body[body.index(after: colon)...])
    }

    static func parseField(tag: String, lines: [Substring], line: Int, fileName: String) throws(StatementImportError) -> Field {
        func fail(_ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: "line \(line)", reason: "field :\(tag):: \(reason)")
        }
        let first = lines.first.map { $0.trimmingTrailingSpaces() } ?? ""
        let joined = lines.map { $0.trimmingTrailingSpaces() }.joined(separator: " ").trimmingSpaces()
        switch tag {
        case "20":
            guard !joined.isEmpty else { throw fail("the statement reference is empty") }
            return .transactionReference(joined)
        case "21":
            return .relatedReference(joined)
        case "25":
            guard !joined.isEmpty else { throw fail("the account identification is empty") }
            return splitAccount(joined)
        case "28", "28C":
            let parts = joined.split(separator: "/", maxSplits: 1)
            guard let number = parts.first, !number.isEmpty else { throw fail("the statement number is empty") }
            return .statementNumber(number: String(number), sequence: parts.count > 1 ? String(parts[1]) : nil)
        case "60F", "60M", "62F", "62M", "64", "65":
            let balance: ParsedBalance
            switch parseBalance(first) {
            case .success(let value): balance = value
            case .failure(let error): throw fail(error.reason)
            }
            switch tag {
            case "60F": return .openingBalance(balance, intermediate: false)
            case "60M": return .openingBalance(balance, intermediate: true)
            case "62F": return .closingBalance(balance, intermediate: false)
            case "62M": return .closingBalance(balance, intermediate: true)
            case "64": return .closingAvailable(balance)
            default: return .forwardAvailable(balance)
            }
        case "61":
            let supplementary = lines.dropFirst().map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
            switch parseLine(first, supplementary: supplementary, line: line) {
            case .success(let value): return .line(value)
            case .failure(let error): throw fail(error.reason)
            }
        case "86":
            return .details(MT940Details(lines: lines))
        default:
            return .other(tag: tag, value: joined)
        }
    }

    static func splitAccount(_ value: String) -> Field {
        let characters = Array(value)
        if characters.count > 3 {
            let suffix = String(characters.suffix(3))
            let before = characters[characters.count - 4]
            if suffix.allSatisfy({ $0.isASCII && $0.isUppercase }), ISO4217.exponent(of: suffix) != nil, before.isNumber {
                return .account(identifier: String(characters.dropLast(3)), currency: suffix)
            }
        }
        return .account(identifier: value, currency: nil)
    }

    /// `YYMMDD`; two-digit years below 80 are 20xx, others 19xx.
    static func parseDate(_ text: Substring) -> CalendarDate? {
        guard text.count == 6, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else { return nil }
        let yy = value / 10_000
        return CalendarDate(year: yy < 80 ? 2000 + yy : 1900 + yy, month: (value / 100) % 100, day: value % 100)
    }

    /// `C140829EUR000000000147,64`
    static func parseBalance(_ text: Substring) -> Result<ParsedBalance, AmountError> {
        let characters = Array(text)
        guard characters.count >= 11 else { return .failure(AmountError("'\(text)' is too short for mark, date, currency and amount")) }
        let sign: Int64
        switch characters[0] {
        case "C": sign = 1
        case "D": sign = -1
        default: return .failure(AmountError("debit/credit mark is '\(characters[0])', expected C or D"))
        }
        guard let date = parseDate(Substring(String(characters[1...6]))) else {
            return .failure(AmountError("'\(String(characters[1...6]))' is not a date YYMMDD"))
        }
        let currency = String(characters[7...9])
        guard let exponent = ISO4217.exponent(of: currency) else {
            return .failure(AmountError("'\(currency)' is not an ISO 4217 currency code"))
        }
        let amountText = Substring(String(characters[10...]))
        guard amountText.contains(",") else { return .failure(AmountError("amount '\(amountText)' has no decimal comma")) }
        return ISO4217.minorUnits(amountText, separator: ",", exponent: exponent).map {
            ParsedBalance(amountMinor: sign * $0, currency: currency, date: date)
        }
    }

    /// `:61:` first line: value date YYMMDD, [entry date MMDD], mark (C, D, RC, RD),
    /// [funds code], amount, type (1 letter + 3), customer reference, [`//` bank reference].
    /// The currency is filled in later from the statement.
    static func parseLine(_ text: Substring, supplementary: String, line: Int) -> Result<ParsedStatementLine, AmountError> {
        let characters = Array(text)
        var position = 0
        guard characters.count >= 6, let valueDate = parseDate(Substring(String(characters[0..<6]))) else {
            return .failure(AmountError("value date '\(String(characters.prefix(6)))' is not a date YYMMDD"))
        }
        position = 6
        var bookingDate: CalendarDate?
        if characters.count >= position + 4, characters[position..<(position + 4)].allSatisfy({ $0.isASCII && $0.isNumber }) {
            let digits = Int(String(characters[position..<(position + 4)])) ?? 0
            bookingDate = nearestDate(month: digits / 100, day: digits % 100, near: valueDate)
            guard bookingDate != nil else {
                return .failure(AmountError("entry date '\(String(characters[position..<(position + 4)]))' is not a date MMDD"))
            }
            position += 4
        }
        let rest = String(characters[position...])
        let sign: Int64
        var isReversal = false
        if rest.hasPrefix("RC") {
            sign = -1
            isReversal = true
            position += 2
        } else if rest.hasPrefix("RD") {
            sign = 1
            isReversal = true
            position += 2
        } else if rest.hasPrefix("C") {
            sign = 1
            position += 1
        } else if rest.hasPrefix("D") {
            sign = -1
            position += 1
        } else {
            return .failure(AmountError("debit/credit mark at '\(rest.prefix(4))' is not C, D, RC or RD"))
        }
        if position < characters.count, characters[position].isLetter {
            position += 1
        }
        let amountStart = position
        while position < characters.count, characters[position].isASCII, characters[position].isNumber || characters[position] == "," {
            position += 1
        }
        let amountText = Substring(String(characters[amountStart..<position]))
        guard amountText.filter({ $0 == "," }).count == 1 else {
            return .failure(AmountError("amount '\(amountText)' must have exactly one decimal comma"))
        }
        // The currency's exponent is not known here; read with 3 places and rescale later.
        let magnitude: Int64
        switch ISO4217.minorUnits(amountText, separator: ",", exponent: 3) {
        case .success(let value): magnitude = value
        case .failure(let error): return .failure(error)
        }
        guard characters.count >= position + 4 else {
            return .failure(AmountError("transaction type after the amount is missing"))
        }
        let typeCharacters = characters[position..<(position + 4)]
        guard let typeFirst = typeCharacters.first, typeFirst.isLetter,
              typeCharacters.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return .failure(AmountError("transaction type '\(String(typeCharacters))' is not a letter and three characters"))
        }
        position += 4
        let references = String(characters[position...])
        var customerReference: String?
        var bankReference: String?
        if let range = references.range(of: "//") {
            customerReference = String(references[references.startIndex..<range.lowerBound])
            bankReference = String(references[range.upperBound...])
        } else {
            customerReference = references
        }
        customerReference = customerReference?.trimmingSpaces()
        bankReference = bankReference?.trimmingSpaces()
        if customerReference == "NONREF" || customerReference?.isEmpty == true { customerReference = nil }
        if bankReference?.isEmpty == true { bankReference = nil }
        return .success(ParsedStatementLine(
            bookingDate: bookingDate, valueDate: valueDate, amountMinor: sign * magnitude, currency: "", isReversal: isReversal,
            bankReference: bankReference, customerReference: customerReference, counterpartyName: nil, counterpartyAccount: nil,
            transactionTypeCode: String(typeCharacters), narrative: supplementary, location: "line \(line)"))
    }

    /// The date with this month and day nearest to `reference` (same year, or the one before or after).
    static func nearestDate(month: Int, day: Int, near reference: CalendarDate) -> CalendarDate? {
        var best: CalendarDate?
        for year in [reference.year - 1, reference.year, reference.year + 1] {
            guard let candidate = CalendarDate(year: year, month: month, day: day) else { continue }
            if let current = best, abs(current.dayNumber - reference.dayNumber) <= abs(candidate.dayNumber - reference.dayNumber) { continue }
            best = candidate
        }
        return best
    }

    /// Rescales a :61: amount read with 3 decimals to `exponent`; nil if it has more precision than the currency.
    static func rescale(_ amountMilli: Int64, exponent: Int) -> Int64? {
        switch exponent {
        case 3: return amountMilli
        case 2: return amountMilli % 10 == 0 ? amountMilli / 10 : nil
        case 0: return amountMilli % 1000 == 0 ? amountMilli / 1000 : nil
        case 4: return amountMilli * 10
        default: return nil
        }
    }

    // MARK: Statements

    private struct Builder {
        var statement: ParsedStatement
        var openedAtLine: Int
        var accountCurrency: String?
        var hasAccount = false
        var stage = Stage.header
        var lastWasLine = false
        var balanceLines: [String: Int] = [:]

        enum Stage { case header, body, closed }
    }

    static func assemble(_ fields: [LocatedField], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        var statements: [ParsedStatement] = []
        var current: Builder?

        func fail(_ line: Int, _ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: "line \(line)", reason: reason)
        }
        func finish(_ builder: Builder, at line: Int) throws(StatementImportError) {
            guard builder.stage == .closed else {
                throw fail(line, "statement '\(builder.statement.statementID)' opened at line \(builder.openedAtLine) ends without a closing balance :62F:/:62M:")
            }
            let statement = builder.statement
            try statement.validate(fileName: fileName) { name in
                if let balanceLine = builder.balanceLines[name] { return "line \(balanceLine)" }
                return "line \(builder.openedAtLine)"
            }
            statements.append(statement)
        }

        for located in fields {
            let line = located.line
            if case .other(let tag, _) = located.field, tag == "-" {
                if let builder = current { try finish(builder, at: line) }
                current = nil
                continue
            }
            if case .transactionReference(let reference) = located.field {
                if let builder = current { try finish(builder, at: line) }
                current = Builder(statement: ParsedStatement(
                    format: .mt940, account: "", accountIsIBAN: false, statementID: reference, sequence: nil, currency: "",
                    periodStart: nil, periodEnd: nil, openingBooked: nil, closingBooked: nil, openingAvailable: nil,
                    closingAvailable: nil, forwardAvailable: [], lines: [], information: nil), openedAtLine: line)
                continue
            }
            guard var builder = current else {
                throw fail(line, "field \(tagName(located.field)) comes before any :20: field that opens a statement")
            }
            let wasLine = builder.lastWasLine
            builder.lastWasLine = false
            switch located.field {
            case .transactionReference:
                break
            case .relatedReference, .other:
                break
            case .account(let identifier, let currency):
                guard builder.stage == .header, !builder.hasAccount else {
                    throw fail(line, "field :25: (account) is out of place: a statement names its account once, before its opening balance")
                }
                builder.hasAccount = true
                builder.statement.account = identifier
                builder.statement.accountIsIBAN = IBAN.isValid(identifier.replacingSpaces())
                builder.accountCurrency = currency
            case .statementNumber(let number, let sequence):
                guard builder.stage == .header else {
                    throw fail(line, "field :28C: (statement number) is out of place after the opening balance")
                }
                builder.statement.sequence = sequence.map { "\(number)/\($0)" } ?? number
            case .openingBalance(let balance, _):
                guard builder.stage == .header else {
                    throw fail(line, "field :60F:/:60M: (opening balance) appears twice in statement '\(builder.statement.statementID)'")
                }
                guard builder.hasAccount else {
                    throw fail(line, "statement '\(builder.statement.statementID)' has no :25: account before its opening balance")
                }
                if let accountCurrency = builder.accountCurrency, accountCurrency != balance.currency {
                    throw fail(line, "opening balance is in \(balance.currency) but the account :25: names \(accountCurrency)")
                }
                builder.statement.currency = balance.currency
                builder.statement.openingBooked = balance
                builder.statement.periodStart = balance.date
                builder.balanceLines["opening booked balance"] = line
                builder.stage = .body
            case .line(var statementLine):
                guard builder.stage == .body else {
                    throw fail(line, "field :61: (statement line) is out of place: lines come between the opening :60: and the closing :62: balance")
                }
                guard let exponent = ISO4217.exponent(of: builder.statement.currency),
                      let amount = rescale(statementLine.amountMinor, exponent: exponent) else {
                    throw fail(line, "field :61:: amount has more decimal places than \(builder.statement.currency) allows")
                }
                statementLine.amountMinor = amount
                statementLine.currency = builder.statement.currency
                builder.statement.lines.append(statementLine)
                builder.lastWasLine = true
            case .details(let details):
                if wasLine, var last = builder.statement.lines.popLast() {
                    details.apply(to: &last)
                    builder.statement.lines.append(last)
                } else if builder.stage == .closed {
                    let text = details.narrative
                    builder.statement.information = [builder.statement.information, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                } else {
                    throw fail(line, "field :86: (details) is out of place: it belongs after a :61: line or after the closing balance")
                }
            case .closingBalance(let balance, _):
                guard builder.stage == .body else {
                    throw fail(line, "field :62F:/:62M: (closing balance) is out of place in statement '\(builder.statement.statementID)'")
                }
                builder.statement.closingBooked = balance
                builder.statement.periodEnd = balance.date
                builder.balanceLines["closing booked balance"] = line
                builder.stage = .closed
            case .closingAvailable(let balance):
                guard builder.stage == .closed, builder.statement.closingAvailable == nil else {
                    throw fail(line, "field :64: (closing available balance) is out of place: it follows the closing balance, once")
                }
                builder.statement.closingAvailable = balance
                builder.balanceLines["closing available balance"] = line
            case .forwardAvailable(let balance):
                guard builder.stage == .closed else {
                    throw fail(line, "field :65: (forward available balance) is out of place: it follows the closing balance")
                }
                builder.statement.forwardAvailable.append(balance)
                builder.balanceLines["forward available balance \(builder.statement.forwardAvailable.count)"] = line
            }
            current = builder
        }
        let lastLine = fields.last?.line ?? 1
        if let builder = current { try finish(builder, at: lastLine) }
        guard !statements.isEmpty else {
            throw fail(1, "the file holds no MT940 statement (no :20: field)")
        }
        return statements
    }

    static func tagName(_ field: Field) -> String {
        switch field {
        case .transactionReference: ":20:"
        case .relatedReference: ":21:"
        case .account: ":25:"
        case .statementNumber: ":28C:"
        case .openingBalance(_, let intermediate): intermediate ? ":60M:" : ":60F:"
        case .line: ":61:"
        case .details: ":86:"
        case .closingBalance(_, let intermediate): intermediate ? ":62M:" : ":62F:"
        case .closingAvailable: ":64:"
        case .forwardAvailable: ":65:"
        case .other(let tag, _): ":\(tag):"
        }
    }
}

/// The contents of an MT940 `:86:` field. German and Polish banks structure
/// it as a three-digit transaction code followed by `?NN` subfields:
/// `?00` booking text, `?20`–`?29` and `?60`–`?63` remittance text, `?30`
/// bank code, `?31` account, `?32`/`?33` counterparty name, `?38` IBAN.
/// Other banks write free text.
public struct MT940Details: Equatable, Sendable {
    public var code: String?
    public var narrative: String
    public var counterpartyName: String?
    public var counterpartyAccount: String?

    init(lines: [Substring]) {
        let raw = lines.map { String($0.trimmingTrailingSpaces()) }
        let compact = raw.joined().trimmingSpaces()
        let characters = Array(compact)
        let isStructured = characters.count >= 3 && characters.prefix(3).allSatisfy({ $0.isASCII && $0.isNumber })
            && (characters.count == 3 || characters[3] == "?")
        guard isStructured else {
            code = nil
            narrative = raw.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
            counterpartyName = nil
            counterpartyAccount = nil
            return
        }
        code = String(characters.prefix(3))
        var subfields: [String: String] = [:]
        var order: [String] = []
        var index = 3
        while index + 2 < characters.count {
            guard characters[index] == "?", characters[index + 1].isNumber, characters[index + 2].isNumber else { index += 1; continue }
            let key = String(characters[(index + 1)...(index + 2)])
            var end = index + 3
            while end < characters.count, !(characters[end] == "?" && end + 2 < characters.count && characters[end + 1].isNumber && characters[end + 2].isNumber) {
                end += 1
            }
            let value = String(characters[(index + 3)..<end])
            if subfields[key] == nil { order.append(key) }
            subfields[key, default: ""] += value
            index = end
        }
        let remittanceKeys = order.filter { key in
            guard let number = Int(key) else { return false }
            return (20...29).contains(number) || (60...63).contains(number)
        }.sorted()
        let bookingText = subfields["00"]?.trimmingSpaces() ?? ""
        let remittance = remittanceKeys.compactMap { subfields[$0] }.joined().trimmingSpaces()
        narrative = [bookingText, remittance].filter { !$0.isEmpty }.joined(separator: " ")
        let name = [subfields["32"], subfields["33"]].compactMap { $0 }.joined().trimmingSpaces()
        counterpartyName = name.isEmpty ? nil : name
        let account = (subfields["38"] ?? subfields["31"])?.trimmingSpaces().replacingSpaces() ?? ""
        counterpartyAccount = account.isEmpty ? nil : account
    }

    func apply(to line: inout ParsedStatementLine) {
        line.narrative = [line.narrative, narrative].filter { !$0.isEmpty }.joined(separator: " ")
        if let counterpartyName { line.counterpartyName = counterpartyName }
        if let counterpartyAccount { line.counterpartyAccount = counterpartyAccount }
        if line.transactionTypeCode == nil, let code { line.transactionTypeCode = code }
    }
}

extension StringProtocol {
    func trimmingTrailingSpaces() -> Substring {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    func trimmingSpaces() -> String {
        String(trimmingTrailingSpaces().drop(while: { $0 == " " || $0 == "\t" }))
    }

    func replacingSpaces() -> String {
        String(filter { $0 != " " })
    }
}
