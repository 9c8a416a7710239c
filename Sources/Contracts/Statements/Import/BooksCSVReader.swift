import Ledger
import LedgerCore

/// Reads the enterprise's book entries from CSV.
///
/// The first line is a header naming the columns, in any order (names are
/// case-insensitive):
///
/// | column | required | content |
/// |---|---|---|
/// | `entry_id` | yes | unique id of the entry in the books |
/// | `date` | yes | `YYYY-MM-DD` |
/// | `amount` | yes | signed decimal with `.` (`-1500.00` is a payment, `250.5` a receipt) |
/// | `currency` | yes | ISO 4217 code |
/// | `reference` | no | payment reference shared with the bank |
/// | `counterparty` | no | name of the other party |
/// | `memo` | no | free text |
/// | `reversal` | no | `true` when the entry reverses an earlier one |
///
/// Fields may be quoted with `"` (doubled inside quotes), as in RFC 4180;
/// blank lines are skipped. Any bad line rejects the whole file.
public enum BooksCSVReader {
    public static let requiredColumns = ["entry_id", "date", "amount", "currency"]
    public static let optionalColumns = ["reference", "counterparty", "memo", "reversal"]

    public static func parse(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [BookEntryInput] {
        func fail(_ line: Int, _ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: "line \(line)", reason: reason)
        }
        guard bytes.count <= StatementsLimits.booksCSVFileBytesMax else { throw fail(1, "file is \(bytes.count) bytes, above the limit of \(StatementsLimits.booksCSVFileBytesMax)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail(1, "file is not UTF-8 text") }
        let rows = try records(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, fail: fail)
        guard let header = rows.first else { throw fail(1, "file is empty; expected a header line \(requiredColumns.joined(separator: ","))") }
        var columns: [String: Int] = [:]
        for (index, name) in header.fields.enumerated() {
            let key = name.trimmingSpaces().lowercased()
            guard requiredColumns.contains(key) || optionalColumns.contains(key) else {
                throw fail(header.line, "unknown column '\(name)'; columns are \((requiredColumns + optionalColumns).joined(separator: ", "))")
            }
            guard columns[key] == nil else { throw fail(header.line, "column '\(key)' appears twice") }
            columns[key] = index
        }
        for required in requiredColumns where columns[required] == nil {
            throw fail(header.line, "the header lacks column '\(required)'")
        }
        var entries: [BookEntryInput] = []
        var seen: [String: Int] = [:]
        for row in rows.dropFirst() {
            guard row.fields.count == header.fields.count else {
                throw fail(row.line, "has \(row.fields.count) fields, the header has \(header.fields.count)")
            }
            func field(_ name: String) -> String? {
                guard let index = columns[name] else { return nil }
                let value = row.fields[index].trimmingSpaces()
                return value.isEmpty ? nil : value
            }
            guard let entryID = field("entry_id") else { throw fail(row.line, "entry_id is empty") }
            if let first = seen[entryID] { throw fail(row.line, "entry_id '\(entryID)' already appears on line \(first)") }
            seen[entryID] = row.line
            guard let dateText = field("date"), let date = CalendarDate(iso: Substring(dateText)), dateText.count == 10 else {
                throw fail(row.line, "date '\(field("date") ?? "")' is not YYYY-MM-DD")
            }
            guard let currency = field("currency"), let exponent = ISO4217.exponent(of: currency) else {
                throw fail(row.line, "currency '\(field("currency") ?? "")' is not an ISO 4217 code")
            }
            guard var amountText = field("amount") else { throw fail(row.line, "amount is empty") }
            var sign: Int64 = 1
            if amountText.hasPrefix("-") {
                sign = -1
                amountText.removeFirst()
            } else if amountText.hasPrefix("+") {
                amountText.removeFirst()
            }
            let magnitude: Int64
            switch ISO4217.minorUnits(Substring(amountText), separator: ".", exponent: exponent) {
            case .success(let value): magnitude = value
            case .failure(let error): throw fail(row.line, "amount \(error.reason)")
            }
            guard magnitude != 0 else { throw fail(row.line, "amount is zero") }
            let reversalText = field("reversal")?.lowercased()
            guard reversalText == nil || reversalText == "true" || reversalText == "false" else {
                throw fail(row.line, "reversal must be true or false")
            }
            entries.append(BookEntryInput(entryID: entryID, date: date, amountMinor: sign * magnitude, currency: currency,
                                          reference: field("reference"), counterparty: field("counterparty"), memo: field("memo") ?? "",
                                          isReversal: reversalText == "true"))
        }
        guard !entries.isEmpty else { throw fail(1, "the file has a header but no entries") }
        return entries
    }

    /// Splits entries into `statements.postBookEntries` batches named
    /// `<batchID>-<n>-<digest>`, where the digest is the first 8 hex digits of
    /// SHA-256 over the batch's entries; the opening balance goes with the
    /// first. Importing the same file again gives the same batches, which the
    /// ledger recognises as posted; a file that grew gives a new last batch,
    /// whose entries already posted are skipped. A batch of `entriesPerBatch`
    /// entries stays well below the ledger's argument size limit.
    public static func batches(_ entries: [BookEntryInput], account: String, batchID: String, openingBalanceMinor: Int64? = nil,
                               entriesPerBatch: Int = 1000) -> [PostBookEntries] {
        let size = max(1, min(entriesPerBatch, StatementsLimits.entriesPerBatchMax))
        return stride(from: 0, to: entries.count, by: size).enumerated().map { number, start in
            let slice = Array(entries[start..<min(entries.count, start + size)])
            let digest = Hash.sha256(slice.flatMap(\.canonicalBytes)).hex.prefix(8)
            return PostBookEntries(account: account, batchID: "\(batchID)-\(number + 1)-\(digest)",
                                   openingBalanceMinor: number == 0 ? openingBalanceMinor : nil, entries: slice)
        }
    }

    private struct Row {
        var fields: [String]
        var line: Int
    }

    /// Splits RFC 4180 text into rows of fields, skipping blank lines.
    private static func records(_ text: String, fail: (Int, String) -> StatementImportError) throws(StatementImportError) -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowStart = 1
        var pendingQuote = false
        var fieldWasQuoted = false
        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].trimmingSpaces().isEmpty && !fieldWasQuoted) {
                rows.append(Row(fields: fields, line: rowStart))
            }
            fields = []
            field = ""
            fieldWasQuoted = false
        }
        for character in text {
            if inQuotes {
                if pendingQuote {
                    pendingQuote = false
                    if character == "\"" { field.append("\""); continue }
                    inQuotes = false
                } else if character == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                    continue
                }
            }
            switch character {
            case "\"":
                guard field.isEmpty else { throw fail(line, "a quote appears inside an unquoted field") }
                inQuotes = true
                fieldWasQuoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\n", "\r\n", "\r":
                endRow()
                line += 1
                rowStart = line
            default:
                field.append(character)
            }
        }
        if inQuotes && !pendingQuote { throw fail(rowStart, "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRow() }
        return rows
    }
}
