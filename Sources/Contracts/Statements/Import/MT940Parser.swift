import Ledger
import LedgerCore

/// Reads SWIFT MT940 customer statements and MT942 interim transaction reports.
///
/// A statement is a run of fields `:20:` (reference) [`:21:`] `:25:`
/// (account) `:28C:` (number/sequence) `:60F:`/`:60M:` (opening) then any
/// number of `:61:` lines each optionally followed by `:86:` details, then
/// `:62F:`/`:62M:` (closing), [`:64:`] (closing available), [`:65:`…]
/// (forward available) and an optional statement-level `:86:`. An MT942
/// report has `:34F:` (floor limit) and `:13D:` (date and time) after its
/// header, `:61:`/`:86:` lines, and `:90D:`/`:90C:` (number and sum of
/// debits and credits) instead of booked balances; it is an intraday report.
///
/// Around and between the fields, real files carry: a SWIFT FIN envelope
/// (`{1:…}{2:…}{4:` … `-}` `{5:…}`) with SOH/ETX control characters around
/// each message; bank header lines before a message (a BIC, `940`, `:940:`,
/// a record count); several messages in one file, separated by `-` lines;
/// blank lines and trailing spaces; LF, CRLF or CR line ends and none after
/// the last line; UTF-8 or ISO 8859-1 text. Header lines are skipped with a
/// warning, and so is text after a balance field, which is one line long.
///
/// Field variants read: `:28:` for `:28C:`; a currency code appended to the
/// `:25:` account; amounts with a decimal comma and any number of leading
/// zeros or missing decimals (`380115,`), and with a warning amounts without
/// a decimal comma (`500`) or with a decimal point (`500.25`); dates that
/// name no calendar day (30 February), read as the month's last day with a
/// warning; :61: without entry date, with a funds code (`CR`, `DR`), reversal
/// marks `RC`/`RD` and MT942's expected marks `EC`/`ED`; transaction types
/// other than N, S or F and three characters, kept as written with a warning;
/// empty or structured (`?20`…) :86: details.
public enum MT940Parser {
    /// One MT940 field as read, with its parsed content.
    public enum Field: Equatable, Sendable {
        case transactionReference(String)
        case relatedReference(String)
        case account(identifier: String, currency: String?)
        case statementNumber(number: String, sequence: String?)
        case openingBalance(ParsedBalance, intermediate: Bool)
        /// A `:61:` line. Its amount is in thousandths of the currency's
        /// unit and its currency empty until the statement's currency is known.
        case line(ParsedStatementLine)
        case details(MT940Details)
        case closingBalance(ParsedBalance, intermediate: Bool)
        case closingAvailable(ParsedBalance)
        case forwardAvailable(ParsedBalance)
        /// MT942 `:34F:` floor limit: its currency and amount in minor units.
        case floorLimit(currency: String, amountMinor: Int64)
        /// MT942 `:13D:`: the day the report was made.
        case reportDate(CalendarDate)
        /// MT942 `:90D:` (debits) or `:90C:` (credits): the number of entries and their sum in minor units.
        case entrySummary(isDebit: Bool, count: Int, currency: String, amountMinor: Int64)
        /// A field this reader does not interpret (`:13:`, `:23:`, …); it is skipped.
        case other(tag: String, value: String)
        /// The message type (`940`, `942`, `950`) a SWIFT envelope's block 2
        /// or a bank header line declares for the message that follows.
        case messageType(String)
        /// The end of a message: a `-` line or the `-}` that closes a SWIFT text block.
        case messageEnd
    }

    /// A field with the line it starts on (1-based) and what reading it normalised.
    public struct LocatedField: Equatable, Sendable {
        public var field: Field
        public var line: Int
        /// Warnings of this field, and of skipped lines just before it.
        public var warnings: [StatementImportWarning]
    }

    /// Parses every statement and report in a file. The file is rejected as
    /// a whole if any field is malformed or out of place or a statement is
    /// incomplete; a statement whose balances do not add up is kept with its
    /// discrepancy and a warning.
    public static func parse(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        let fields = try fields(fileContents: bytes, fileName: fileName)
        return try assemble(fields, fileName: fileName)
    }

    /// Reads and parses the fields of a file without assembling statements;
    /// useful for fragments and for pointing at a field's line.
    public static func fields(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [LocatedField] {
        guard bytes.count <= StatementsLimits.mt940FileBytesMax else {
            throw StatementImportError(fileName: fileName, location: "file", reason: "file is \(bytes.count) bytes, above the limit of \(StatementsLimits.mt940FileBytesMax)")
        }
        let (text, isUTF8) = decodeText(bytes)
        var scanner = Scanner(fileName: fileName)
        if !isUTF8 {
            scanner.pending.append(StatementImportWarning(kind: .encoding, fileName: fileName, location: "file",
                                                          reason: "the file is not valid UTF-8; it was read as ISO 8859-1"))
        }
        var lineNumber = 0
        for physicalLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            lineNumber += 1
            // SOH and ETX frame each SWIFT message; SUB ends DOS files. They separate like line ends.
            for segment in physicalLine.split(whereSeparator: { $0 == "\u{01}" || $0 == "\u{03}" || $0 == "\u{1A}" }) {
                try scanner.read(segment, line: lineNumber)
            }
        }
        let raw = scanner.finish()
        var result: [LocatedField] = []
        for item in raw {
            switch item.content {
            case .marker(let field):
                result.append(LocatedField(field: field, line: item.line, warnings: item.warnings))
            case .field(let tag, let lines):
                let (field, notes) = try parseField(tag: tag, lines: lines, line: item.line, fileName: fileName)
                let warnings = notes.map { StatementImportWarning(kind: $0.kind, fileName: fileName, location: "line \(item.line)", reason: $0.reason) }
                result.append(LocatedField(field: field, line: item.line, warnings: item.warnings + warnings))
            }
        }
        return result
    }

    /// The text of a file, and whether it was UTF-8 (else it is read as ISO 8859-1).
    static func decodeText(_ bytes: [UInt8]) -> (text: String, isUTF8: Bool) {
        if let text = String(validating: bytes, as: UTF8.self) { return (text, true) }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return (String(scalars), false)
    }

    /// What reading a field normalised.
    struct Note: Equatable {
        var kind: StatementImportWarning.Kind
        var reason: String
    }

    /// A field's raw lines or a marker, with the line it starts on and the warnings of the lines skipped before it.
    struct RawItem {
        enum Content {
            case field(tag: String, lines: [Substring])
            case marker(Field)
        }

        var content: Content
        var line: Int
        var warnings: [StatementImportWarning]
    }

    /// Splits a file's lines into fields, envelope and header markers, and skipped lines.
    struct Scanner {
        let fileName: String
        var items: [RawItem] = []
        /// Warnings of skipped lines, for the next item.
        var pending: [StatementImportWarning] = []
        /// True from a message's first field to its end.
        var inMessage = false
        /// The first line and text of the current run of skipped lines, and its length.
        var skippedRun: (line: Int, text: String, count: Int)?

        init(fileName: String) { self.fileName = fileName }

        /// Fields whose value is one line; text after them is not theirs.
        static let singleLineTags: Set<String> = ["60F", "60M", "62F", "62M", "64", "65", "13D", "34F", "90D", "90C"]

        mutating func emit(_ content: RawItem.Content, line: Int) {
            items.append(RawItem(content: content, line: line, warnings: pending))
            pending = []
        }

        mutating func endMessage(line: Int) {
            emit(.marker(.messageEnd), line: line)
            inMessage = false
            skippedRun = nil
        }

        mutating func read(_ segment: Substring, line: Int) throws(StatementImportError) {
            let text = segment.drop(while: { $0 == "\u{FEFF}" })
            if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\t" }) {
                throw StatementImportError(fileName: fileName, location: "line \(line)",
                                           reason: "contains control character 0x\(String(bad.value, radix: 16)); MT940 is text")
            }
            let trimmed = text.trimmingTrailingSpaces()
            if trimmed.isEmpty { return }
            if Self.isEnvelope(trimmed) {
                try readEnvelope(trimmed, line: line)
                return
            }
            if trimmed == "-" || trimmed.hasPrefix("-}") {
                endMessage(line: line)
                return
            }
            if let (tag, value) = fieldStart(text) {
                emit(.field(tag: tag, lines: [value]), line: line)
                inMessage = true
                skippedRun = nil
                return
            }
            if inMessage, let last = items.last, case .field(let tag, var lines) = last.content, !Self.singleLineTags.contains(tag) {
                lines.append(text)
                items[items.count - 1].content = .field(tag: tag, lines: lines)
                return
            }
            try skip(trimmed, line: line)
        }

        /// `{1:…`, `{2:…`, … `{5:…` (a block of the envelope), `}` or `}{5:…` (the end of block 4).
        static func isEnvelope(_ text: Substring) -> Bool {
            let characters = Array(text.prefix(3))
            if characters.first == "}" { return characters.count == 1 || characters[1] == "{" }
            return characters.count == 3 && characters[0] == "{" && ("1"..."5").contains(characters[1]) && characters[2] == ":"
        }

        /// `{1:…}{2:O940…}{4:` opens a message (its text may start on the
        /// same line), `-}` or `}` closes its text block, `{5:…}` trails it.
        mutating func readEnvelope(_ text: Substring, line: Int) throws(StatementImportError) {
            if text.first == "}" {
                endMessage(line: line)
                return
            }
            let opensMessage = text.contains("{1:") || text.contains("{2:") || text.contains("{4:")
            if opensMessage && inMessage { endMessage(line: line) }
            if let block2 = text.range(of: "{2:") {
                let header = Array(text[block2.upperBound...].prefix(4))
                if header.count == 4, header[0] == "I" || header[0] == "O", header[1...3].allSatisfy({ $0.isASCII && $0.isNumber }) {
                    emit(.marker(.messageType(String(header[1...3]))), line: line)
                }
            }
            guard let block4 = text.range(of: "{4:") else { return }
            let rest = text[block4.upperBound...]
            if !rest.trimmingTrailingSpaces().isEmpty { try read(rest, line: line) }
        }

        /// A line outside any field: a bank header line before a message, or
        /// text after a one-line field. Too many in a row are not a header.
        mutating func skip(_ text: Substring, line: Int) throws(StatementImportError) {
            var run = skippedRun ?? (line: line, text: String(text.prefix(40)), count: 0)
            run.count += 1
            skippedRun = run
            guard run.count <= StatementsLimits.mt940SkippedLinesMax else {
                throw StatementImportError(fileName: fileName, location: "line \(run.line)",
                                           reason: "text '\(run.text)' is outside any field, and more than \(StatementsLimits.mt940SkippedLinesMax) such lines in a row are not a bank header; a field starts with :TAG:")
            }
            let shown = String(text.prefix(40))
            let reason: String
            if let type = MT940Parser.headerMessageType(text) {
                reason = "'\(shown)' is not a field; skipped as the bank's header line declaring message type \(type)"
                pending.append(StatementImportWarning(kind: .skippedLine, fileName: fileName, location: "line \(line)", reason: reason))
                emit(.marker(.messageType(type)), line: line)
                return
            }
            if inMessage, let last = items.last, case .field(let tag, _) = last.content {
                reason = "'\(shown)' follows the one-line field :\(tag): and is not part of it; skipped"
            } else {
                reason = "'\(shown)' is not a field; skipped as a bank header line"
            }
            pending.append(StatementImportWarning(kind: .skippedLine, fileName: fileName, location: "line \(line)", reason: reason))
        }

        /// The items read; warnings of trailing skipped lines go with the last item.
        mutating func finish() -> [RawItem] {
            if !pending.isEmpty, !items.isEmpty {
                items[items.count - 1].warnings += pending
                pending = []
            }
            return items
        }
    }

    /// `940`, `:942:`, `940 00` → the message type, for 940, 942 and 950.
    static func headerMessageType(_ text: Substring) -> String? {
        var body = Substring(text.trimmingSpaces())
        if body.first == ":" && body.last == ":" && body.count > 2 { body = body.dropFirst().dropLast() }
        let digits = body.prefix(while: { $0.isASCII && $0.isNumber })
        guard digits.count == 3, ["940", "942", "950"].contains(digits) else { return nil }
        let rest = body.dropFirst(3)
        guard rest.isEmpty || rest.first == " " else { return nil }
        return String(digits)
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

    static func parseField(tag: String, lines: [Substring], line: Int, fileName: String) throws(StatementImportError) -> (Field, [Note]) {
        func fail(_ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: "line \(line)", reason: "field :\(tag):: \(reason)")
        }
        let first = lines.first.map { $0.trimmingTrailingSpaces() } ?? ""
        let joined = lines.map { $0.trimmingTrailingSpaces() }.joined(separator: " ").trimmingSpaces()
        switch tag {
        case "20":
            guard !joined.isEmpty else { throw fail("the statement reference is empty") }
            return (.transactionReference(joined), [])
        case "21":
            return (.relatedReference(joined), [])
        case "25":
            guard !joined.isEmpty else { throw fail("the account identification is empty") }
            return (splitAccount(joined), [])
        case "28", "28C":
            let parts = joined.split(separator: "/", maxSplits: 1)
            guard let number = parts.first, !number.isEmpty else { throw fail("the statement number is empty") }
            return (.statementNumber(number: String(number), sequence: parts.count > 1 ? String(parts[1]) : nil), [])
        case "60F", "60M", "62F", "62M", "64", "65":
            let balance: ParsedBalance
            let notes: [Note]
            switch parseBalance(Substring(first.trimmingSpaces())) {
            case .success(let value): (balance, notes) = value
            case .failure(let error): throw fail(error.reason)
            }
            switch tag {
            case "60F": return (.openingBalance(balance, intermediate: false), notes)
            case "60M": return (.openingBalance(balance, intermediate: true), notes)
            case "62F": return (.closingBalance(balance, intermediate: false), notes)
            case "62M": return (.closingBalance(balance, intermediate: true), notes)
            case "64": return (.closingAvailable(balance), notes)
            default: return (.forwardAvailable(balance), notes)
            }
        case "61":
            let supplementary = lines.dropFirst().map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
            switch parseLine(first, supplementary: supplementary, line: line) {
            case .success(let (value, notes)): return (.line(value), notes)
            case .failure(let error): throw fail(error.reason)
            }
        case "86":
            return (.details(MT940Details(lines: lines)), [])
        case "13D":
            let text = Substring(first.trimmingSpaces())
            guard let (date, clamped) = readDate(text.prefix(6)) else {
                throw fail("'\(text)' is not a date and time YYMMDDHHMM±HHMM")
            }
            return (.reportDate(date), clamped ? [impossibleDateNote("report date", text.prefix(6), date)] : [])
        case "34F":
            let text = Substring(first.trimmingSpaces())
            let currency = String(text.prefix(3))
            guard currency.count == 3, let exponent = ISO4217.exponent(of: currency) else {
                throw fail("'\(currency)' is not an ISO 4217 currency code")
            }
            var amountText = text.dropFirst(3)
            if amountText.first == "D" || amountText.first == "C" { amountText = amountText.dropFirst() }
            switch readAmount(amountText, exponent: exponent) {
            case .success(let (amount, note)): return (.floorLimit(currency: currency, amountMinor: amount), note.map { [$0] } ?? [])
            case .failure(let error): throw fail(error.reason)
            }
        case "90D", "90C":
            let text = Substring(first.trimmingSpaces())
            let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
            guard (1...5).contains(digits.count), let count = Int(digits) else { throw fail("'\(text)' does not start with the number of entries") }
            let currency = String(text.dropFirst(digits.count).prefix(3))
            guard currency.count == 3, let exponent = ISO4217.exponent(of: currency) else {
                throw fail("'\(currency)' is not an ISO 4217 currency code")
            }
            switch readAmount(text.dropFirst(digits.count + 3), exponent: exponent) {
            case .success(let (amount, note)):
                return (.entrySummary(isDebit: tag == "90D", count: count, currency: currency, amountMinor: amount), note.map { [$0] } ?? [])
            case .failure(let error): throw fail(error.reason)
            }
        default:
            return (.other(tag: tag, value: joined), [])
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

    /// `YYMMDD`; two-digit years below 80 are 20xx, others 19xx. A day past
    /// the end of its month (`150230`) is the month's last day, and
    /// `clamped` is true; days 0 and above 31 and months outside 1…12 are no date.
    static func readDate(_ text: Substring) -> (date: CalendarDate, clamped: Bool)? {
        guard text.count == 6, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else { return nil }
        let yy = value / 10_000
        let year = yy < 80 ? 2000 + yy : 1900 + yy
        return clampedDate(year: year, month: (value / 100) % 100, day: value % 100)
    }

    /// The date, or the last day of the month when `day` is past its end (up to 31).
    static func clampedDate(year: Int, month: Int, day: Int) -> (date: CalendarDate, clamped: Bool)? {
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let last = CalendarDate.daysIn(month: month, year: year)
        guard let date = CalendarDate(year: year, month: month, day: min(day, last)) else { return nil }
        return (date, day > last)
    }

    static func impossibleDateNote(_ what: String, _ text: Substring, _ date: CalendarDate) -> Note {
        Note(kind: .impossibleDate, reason: "\(what) '\(text)' names no calendar day; \(date), the last day of that month, is used")
    }

    /// An MT amount: digits with one decimal comma. Without a separator, or
    /// with a decimal point instead, it is read too and a note says so.
    static func readAmount(_ text: Substring, exponent: Int) -> Result<(Int64, Note?), AmountError> {
        let commas = text.filter { $0 == "," }.count
        let points = text.filter { $0 == "." }.count
        let separator: Character
        let note: Note?
        switch (commas, points) {
        case (1, 0):
            separator = ","
            note = nil
        case (0, 1):
            separator = "."
            note = Note(kind: .amountSpelling, reason: "amount '\(text)' has a decimal point where MT940 writes a decimal comma; read as \(text.replacingOccurrences(of: ".", with: ","))")
        case (0, 0):
            separator = ","
            note = Note(kind: .amountSpelling, reason: "amount '\(text)' has no decimal comma; read as the whole amount \(text),")
        default:
            return .failure(AmountError("amount '\(text)' must have one decimal comma"))
        }
        return ISO4217.minorUnits(text, separator: separator, exponent: exponent).map { ($0, note) }
    }

    /// `C140829EUR000000000147,64`
    static func parseBalance(_ text: Substring) -> Result<(ParsedBalance, [Note]), AmountError> {
        let characters = Array(text)
        guard characters.count >= 11 else { return .failure(AmountError("'\(text)' is too short for mark, date, currency and amount")) }
        let sign: Int64
        switch characters[0] {
        case "C": sign = 1
        case "D": sign = -1
        default: return .failure(AmountError("debit/credit mark is '\(characters[0])', expected C or D"))
        }
        let dateText = Substring(String(characters[1...6]))
        guard let (date, clamped) = readDate(dateText) else {
            return .failure(AmountError("'\(dateText)' is not a date YYMMDD"))
        }
        var notes: [Note] = clamped ? [impossibleDateNote("balance date", dateText, date)] : []
        let currency = String(characters[7...9])
        guard let exponent = ISO4217.exponent(of: currency) else {
            return .failure(AmountError("'\(currency)' is not an ISO 4217 currency code"))
        }
        return readAmount(Substring(String(characters[10...])), exponent: exponent).map { amount, note in
            if let note { notes.append(note) }
            return (ParsedBalance(amountMinor: sign * amount, currency: currency, date: date), notes)
        }
    }

    /// `:61:` first line: value date YYMMDD, [entry date MMDD], mark (C, D,
    /// RC, RD, EC, ED), [funds code], amount, type (N, S or F + 3),
    /// customer reference, [`//` bank reference]. The amount is read in
    /// thousandths and rescaled, and the currency filled in, once the
    /// statement's currency is known.
    static func parseLine(_ text: Substring, supplementary: String, line: Int) -> Result<(ParsedStatementLine, [Note]), AmountError> {
        let characters = Array(text)
        var notes: [Note] = []
        let valueText = Substring(String(characters.prefix(6)))
        guard characters.count >= 6, let (valueDate, valueClamped) = readDate(valueText) else {
            return .failure(AmountError("value date '\(valueText)' is not a date YYMMDD"))
        }
        var valueDateAsWritten: String?
        if valueClamped {
            notes.append(impossibleDateNote("value date", valueText, valueDate))
            valueDateAsWritten = String(valueText)
        }
        var position = 6
        var bookingDate: CalendarDate?
        var bookingDateAsWritten: String?
        if characters.count >= position + 4, characters[position..<(position + 4)].allSatisfy({ $0.isASCII && $0.isNumber }) {
            let entryText = Substring(String(characters[position..<(position + 4)]))
            let digits = Int(entryText) ?? 0
            guard let (date, clamped) = nearestDate(month: digits / 100, day: digits % 100, near: valueDate) else {
                return .failure(AmountError("entry date '\(entryText)' is not a date MMDD"))
            }
            bookingDate = date
            if clamped {
                notes.append(impossibleDateNote("entry date", entryText, date))
                bookingDateAsWritten = String(entryText)
            }
            position += 4
        }
        let rest = String(characters[position...])
        let sign: Int64
        var isReversal = false
        if rest.hasPrefix("RC") || rest.hasPrefix("RD") {
            sign = rest.hasPrefix("RC") ? -1 : 1
            isReversal = true
            position += 2
        } else if rest.hasPrefix("EC") || rest.hasPrefix("ED") {
            sign = rest.hasPrefix("EC") ? 1 : -1
            position += 2
        } else if rest.hasPrefix("C") {
            sign = 1
            position += 1
        } else if rest.hasPrefix("D") {
            sign = -1
            position += 1
        } else {
            return .failure(AmountError("debit/credit mark at '\(rest.prefix(4))' is not C, D, RC, RD, EC or ED"))
        }
        if position < characters.count, characters[position].isLetter {
            position += 1
        }
        let amountStart = position
        while position < characters.count, characters[position].isASCII,
              characters[position].isNumber || characters[position] == "," || characters[position] == "." {
            position += 1
        }
        let amountText = Substring(String(characters[amountStart..<position]))
        guard !amountText.isEmpty else { return .failure(AmountError("the amount after the debit/credit mark is missing")) }
        // The currency's exponent is not known here; read with 3 places and rescale later.
        let magnitude: Int64
        switch readAmount(amountText, exponent: 3) {
        case .success(let (value, note)):
            magnitude = value
            if let note { notes.append(note) }
        case .failure(let error): return .failure(error)
        }
        var references = String(characters[position...])
        var typeCode: String?
        if references.isEmpty || references.hasPrefix("//") || references == "NONREF" || references.hasPrefix("NONREF//") {
            notes.append(Note(kind: .transactionType, reason: "no transaction type follows the amount"))
        } else {
            let beforeSlashes = references.range(of: "//").map { references[..<$0.lowerBound] } ?? Substring(references)
            let code = String(beforeSlashes.prefix(4))
            let typeCharacters = Array(code)
            let isStandard = typeCharacters.count == 4 && ["N", "S", "F"].contains(typeCharacters[0])
                && typeCharacters.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            if !isStandard {
                notes.append(Note(kind: .transactionType, reason: "transaction type '\(code)' is not N, S or F and three letters or digits; kept as written"))
            }
            typeCode = code.trimmingSpaces().isEmpty ? nil : code.trimmingSpaces()
            references = String(references.dropFirst(code.count))
        }
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
        return .success((ParsedStatementLine(
            bookingDate: bookingDate, valueDate: valueDate, amountMinor: sign * magnitude, currency: "", isReversal: isReversal,
            bankReference: bankReference, customerReference: customerReference, counterpartyName: nil, counterpartyAccount: nil,
            transactionTypeCode: typeCode, narrative: supplementary, location: "line \(line)", valueDateAsWritten: valueDateAsWritten,
            bookingDateAsWritten: bookingDateAsWritten), notes))
    }

    /// The date with this month and day nearest to `reference` (same year, or
    /// the one before or after); a day past the month's end is its last day.
    static func nearestDate(month: Int, day: Int, near reference: CalendarDate) -> (date: CalendarDate, clamped: Bool)? {
        var best: (date: CalendarDate, clamped: Bool)?
        for year in [reference.year - 1, reference.year, reference.year + 1] {
            guard let candidate = clampedDate(year: year, month: month, day: day) else { continue }
            if let current = best, abs(current.date.dayNumber - reference.dayNumber) <= abs(candidate.date.dayNumber - reference.dayNumber) { continue }
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
        /// True for an MT942 report: declared by the envelope or header, or
        /// seen from :34F:/:13D:/:90D:/:90C: before any opening balance.
        var isReport: Bool
        /// True when the message type was declared, so fields are not used to guess it.
        var typeDeclared: Bool
        var accountCurrency: String?
        var floorLimitCurrency: String?
        var hasAccount = false
        var stage = Stage.header
        var lastWasLine = false
        var balanceLines: [String: Int] = [:]
        /// The line each :61: starts on, in the order of ``ParsedStatement/lines``.
        var lineFieldLines: [Int] = []
        var summaries: [(isDebit: Bool, count: Int, currency: String, amountMinor: Int64, line: Int)] = []
        var warnings = WarningLog()

        enum Stage { case header, body, closed }

        /// An undeclared message becomes a report at an MT942 field that comes before any opening balance.
        mutating func noteReportField() {
            if !typeDeclared && !isReport && statement.openingBooked == nil { isReport = true }
        }
    }

    static func assemble(_ fields: [LocatedField], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        var statements: [ParsedStatement] = []
        var current: Builder?
        var declaredType: String?
        /// Warnings met outside any statement, for the next one (or the last, at the end).
        var carried = WarningLog()

        func fail(_ line: Int, _ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: "line \(line)", reason: reason)
        }
        func finish(_ builder: Builder, at line: Int) throws(StatementImportError) {
            var builder = builder
            let id = builder.statement.statementID
            if builder.isReport {
                guard builder.hasAccount else {
                    throw fail(line, "report '\(id)' opened at line \(builder.openedAtLine) has no :25: account")
                }
                guard let currency = builder.accountCurrency ?? builder.floorLimitCurrency ?? builder.statement.openingBooked?.currency
                        ?? builder.summaries.first?.currency ?? builder.statement.closingBooked?.currency else {
                    throw fail(builder.openedAtLine, "report '\(id)' names no currency: no currency after the :25: account, no :34F: floor limit, balance or :90D:/:90C: sum")
                }
                builder.statement.currency = currency
                builder.statement.format = .mt942
            } else {
                guard builder.stage == .closed else {
                    throw fail(line, "statement '\(id)' opened at line \(builder.openedAtLine) ends without a closing balance :62F:/:62M:")
                }
            }
            let currency = builder.statement.currency
            guard let exponent = ISO4217.exponent(of: currency) else { throw fail(builder.openedAtLine, "'\(currency)' is not an ISO 4217 currency code") }
            for index in builder.statement.lines.indices {
                guard let amount = rescale(builder.statement.lines[index].amountMinor, exponent: exponent) else {
                    throw fail(builder.lineFieldLines[index], "field :61:: amount has more decimal places than \(currency) allows")
                }
                builder.statement.lines[index].amountMinor = amount
                builder.statement.lines[index].currency = currency
            }
            if builder.isReport {
                let dates = builder.statement.lines.map { $0.bookingDate ?? $0.valueDate }
                builder.statement.periodStart = builder.statement.periodStart ?? builder.statement.openingBooked?.date ?? dates.min()
                builder.statement.periodEnd = builder.statement.periodEnd ?? builder.statement.closingBooked?.date ?? dates.max()
                checkSummaries(builder, exponent: exponent, fileName: fileName, warnings: &builder.warnings)
            }
            let balanceLines = builder.balanceLines
            let openedAtLine = builder.openedAtLine
            try builder.statement.checkBalances(fileName: fileName, incomplete: builder.isReport ? .accept : .reject,
                                                warnings: &builder.warnings) { name in
                "line \(balanceLines[name] ?? openedAtLine)"
            }
            builder.statement.warnings = builder.warnings.finished(fileName: fileName)
            statements.append(builder.statement)
        }

        for located in fields {
            let line = located.line
            switch located.field {
            case .messageType(let type):
                if let builder = current { try finish(builder, at: line) }
                current = nil
                guard ["940", "942", "950"].contains(type) else {
                    throw fail(line, "the message is an MT\(type), neither a statement (MT940, MT950) nor an interim report (MT942)")
                }
                declaredType = type
                carried.add(located.warnings)
                continue
            case .messageEnd:
                if var builder = current {
                    builder.warnings.add(located.warnings)
                    try finish(builder, at: line)
                } else {
                    carried.add(located.warnings)
                }
                current = nil
                declaredType = nil
                continue
            case .transactionReference(let reference):
                if let builder = current { try finish(builder, at: line) }
                var builder = Builder(statement: ParsedStatement(
                    format: .mt940, account: "", accountIsIBAN: false, statementID: reference, sequence: nil, currency: "",
                    periodStart: nil, periodEnd: nil, openingBooked: nil, closingBooked: nil, openingAvailable: nil,
                    closingAvailable: nil, forwardAvailable: [], lines: [], information: nil), openedAtLine: line,
                    isReport: declaredType == "942", typeDeclared: declaredType != nil)
                builder.warnings = carried
                builder.warnings.add(located.warnings)
                carried = WarningLog()
                current = builder
                continue
            default:
                break
            }
            guard var builder = current else {
                throw fail(line, "field \(tagName(located.field)) comes before any :20: field that opens a statement")
            }
            builder.warnings.add(located.warnings)
            let wasLine = builder.lastWasLine
            builder.lastWasLine = false
            switch located.field {
            case .transactionReference, .messageType, .messageEnd, .relatedReference, .other:
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
            case .floorLimit(let currency, _):
                builder.noteReportField()
                if builder.isReport && builder.floorLimitCurrency == nil { builder.floorLimitCurrency = currency }
            case .reportDate(let date):
                builder.noteReportField()
                if builder.isReport { builder.statement.periodEnd = date }
            case .entrySummary(let isDebit, let count, let currency, let amount):
                builder.noteReportField()
                if builder.isReport {
                    builder.summaries.append((isDebit, count, currency, amount, line))
                    builder.stage = .closed
                }
            case .openingBalance(let balance, _):
                guard builder.stage == .header, builder.statement.openingBooked == nil else {
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
            case .line(let statementLine):
                let inPlace = builder.isReport ? builder.stage != .closed && builder.hasAccount : builder.stage == .body
                guard inPlace else {
                    throw fail(line, builder.isReport
                        ? "field :61: (statement line) is out of place: a report's lines come after its :25: account and before its :90D:/:90C: sums"
                        : "field :61: (statement line) is out of place: lines come between the opening :60: and the closing :62: balance")
                }
                builder.stage = .body
                builder.statement.lines.append(statementLine)
                builder.lineFieldLines.append(line)
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
                let inPlace = builder.isReport ? builder.stage != .closed : builder.stage == .body
                guard inPlace, builder.statement.closingBooked == nil else {
                    throw fail(line, "field :62F:/:62M: (closing balance) is out of place in statement '\(builder.statement.statementID)'")
                }
                builder.statement.closingBooked = balance
                builder.statement.periodEnd = balance.date
                builder.balanceLines["closing booked balance"] = line
                builder.stage = .closed
            case .closingAvailable(let balance):
                guard builder.stage == .closed || builder.isReport, builder.statement.closingAvailable == nil else {
                    throw fail(line, "field :64: (closing available balance) is out of place: it follows the closing balance, once")
                }
                builder.statement.closingAvailable = balance
                builder.balanceLines["closing available balance"] = line
            case .forwardAvailable(let balance):
                guard builder.stage == .closed || builder.isReport else {
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
        if !carried.isEmpty {
            statements[statements.count - 1].warnings += carried.finished(fileName: fileName)
        }
        return statements
    }

    /// Compares a report's :90D:/:90C: counts and sums with its lines; a difference is a warning.
    private static func checkSummaries(_ builder: Builder, exponent: Int, fileName: String, warnings: inout WarningLog) {
        let report = builder.statement
        for summary in builder.summaries {
            let tag = summary.isDebit ? ":90D:" : ":90C:"
            let lines = report.lines.filter { summary.isDebit ? $0.amountMinor < 0 : $0.amountMinor > 0 }
            let total = lines.reduce(Int64(0)) { $0 &+ $1.amountMinor.magnitude.clampedToInt64 }
            guard summary.currency != report.currency || summary.count != lines.count || summary.amountMinor != total else { continue }
            let side = summary.isDebit ? "debit" : "credit"
            warnings.add(StatementImportWarning(
                kind: .entrySummary, fileName: fileName, location: "line \(summary.line)",
                reason: "\(tag) states \(summary.count) \(side) entries totalling \(ISO4217.decimalString(summary.amountMinor, exponent: ISO4217.exponent(of: summary.currency) ?? exponent)) \(summary.currency), but report '\(report.statementID)' holds \(lines.count) totalling \(ISO4217.decimalString(total, exponent: exponent)) \(report.currency)"))
        }
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
        case .floorLimit: ":34F:"
        case .reportDate: ":13D:"
        case .entrySummary(let isDebit, _, _, _): isDebit ? ":90D:" : ":90C:"
        case .other(let tag, _): ":\(tag):"
        case .messageType(let type): "{2:\(type)}"
        case .messageEnd: "-"
        }
    }
}

private extension UInt64 {
    /// The value, or `Int64.max` when it does not fit.
    var clampedToInt64: Int64 { self > UInt64(Int64.max) ? Int64.max : Int64(self) }
}

/// The contents of an MT940 `:86:` field. German and Polish banks structure
/// it as a three-digit transaction code followed by `?NN` subfields:
/// `?00` booking text, `?20`–`?29` and `?60`–`?63` remittance text, `?30`
/// bank code, `?31` account, `?32`/`?33` counterparty name, `?38` IBAN.
/// Dutch banks write `/KEY/value` pairs: `/TRTP/` transaction type,
/// `/IBAN/`, `/NAME/`, `/REMI/` remittance, `/EREF/` end-to-end reference,
/// `/CNTP/` account/BIC/name/city of the counterparty. Other banks write free text.
public struct MT940Details: Equatable, Sendable {
    public var code: String?
    public var narrative: String
    public var counterpartyName: String?
    public var counterpartyAccount: String?
    /// The end-to-end reference of a Dutch `/EREF/` pair.
    public var endToEndReference: String?

    init(lines: [Substring]) {
        let raw = lines.map { String($0.trimmingTrailingSpaces()) }
        let compact = raw.joined().trimmingSpaces()
        endToEndReference = nil
        if let pairs = Self.slashPairs(compact) {
            code = nil
            let counterparty = pairs["CNTP"].map { $0.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingSpaces() } } ?? []
            var remittance = pairs["REMI"] ?? ""
            for prefix in ["USTD//", "USTD/", "STRD/"] where remittance.hasPrefix(prefix) { remittance = String(remittance.dropFirst(prefix.count)) }
            narrative = [pairs["TRTP"], remittance].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            let name = pairs["NAME"] ?? (counterparty.count > 2 ? counterparty[2] : nil)
            counterpartyName = name?.isEmpty == false ? name : nil
            let account = pairs["IBAN"] ?? counterparty.first
            counterpartyAccount = account?.isEmpty == false ? account?.replacingSpaces() : nil
            if let reference = pairs["EREF"], !reference.isEmpty, reference != "NOTPROVIDED" { endToEndReference = reference }
            return
        }
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

    /// The keys of Dutch `/KEY/value` details.
    static let slashKeys: Set<String> = ["TRTP", "CSID", "MARF", "EREF", "IBAN", "BIC", "NAME", "REMI", "ORDP", "BENM", "ID", "ADDR",
                                         "PURP", "RTRN", "CNTP", "ISDT", "ULTC", "ULTD", "SVCL", "PREF", "OCMT", "EXCH", "CHGS", "ACCW"]

    /// `/TRTP/SEPA OVERBOEKING/IBAN/NL…/NAME/…` → key to value, or nil when the text is not such pairs.
    static func slashPairs(_ text: String) -> [String: String]? {
        guard text.hasPrefix("/") else { return nil }
        var pairs: [String: String] = [:]
        var key: String?
        var value: [Substring] = []
        func close() {
            guard let key else { return }
            let joined = value.joined(separator: "/")
            pairs[key] = String(joined.drop(while: { $0 == "/" }).reversed().drop(while: { $0 == "/" }).reversed()).trimmingSpaces()
        }
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if slashKeys.contains(String(part)) {
                close()
                key = String(part)
                value = []
            } else if key != nil {
                value.append(part)
            } else {
                return nil
            }
        }
        close()
        let meaningful: Set<String> = ["NAME", "REMI", "EREF", "IBAN", "CNTP", "TRTP"]
        return pairs.keys.contains(where: meaningful.contains) ? pairs : nil
    }

    func apply(to line: inout ParsedStatementLine) {
        line.narrative = [line.narrative, narrative].filter { !$0.isEmpty }.joined(separator: " ")
        if let counterpartyName { line.counterpartyName = counterpartyName }
        if let counterpartyAccount { line.counterpartyAccount = counterpartyAccount }
        if line.transactionTypeCode == nil, let code { line.transactionTypeCode = code }
        if line.customerReference == nil, let endToEndReference { line.customerReference = endToEndReference }
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
