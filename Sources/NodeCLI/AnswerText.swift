import Contracts
import Foundation
import LedgerCore

/// A query's answer as text for a person, the default output of the query
/// commands that have no view of their own (`--json` prints the answer as
/// the node gave it): members as `name: value` lines, nested records
/// indented under their name, lists of flat records as tables. Times
/// (`…Ms`) read as ISO 8601 and amounts in minor units (`amount`, `…Minor`)
/// as decimals of the record's currency: its `currency` member, or the
/// ISO 4217 code a total is filed under.
enum AnswerText {
    /// The widest a table cell gets before it is cut with `…`.
    static let cellCharactersMax = 48
    /// A `…Ms` number at least this large (2001-09-09) is a time; smaller ones are durations.
    static let earliestTimeMs: Int64 = 1_000_000_000_000

    static func render(_ answer: JSONValue) -> String {
        lines(answer, indent: "", currency: nil).joined(separator: "\n")
    }

    private static func lines(_ value: JSONValue, indent: String, currency: String?) -> [String] {
        switch value {
        case .object(let members):
            let currency = members["currency"]?.stringValue ?? currency
            var out: [String] = []
            for name in members.keys.sorted() {
                guard let member = members[name] else { continue }
                out += memberLines(name, member, indent: indent, currency: currency)
            }
            return out.isEmpty ? [indent + "(empty)"] : out
        case .array(let items):
            return listLines(items, indent: indent, currency: currency)
        default:
            return [indent + scalar(value, name: "", currency: currency)]
        }
    }

    private static func memberLines(_ name: String, _ member: JSONValue, indent: String, currency: String?) -> [String] {
        switch member {
        case .object(let members) where members.isEmpty:
            return ["\(indent)\(name): none"]
        case .object:
            let filedUnder = ISO4217.exponent(of: name) != nil ? name : currency
            return ["\(indent)\(name):"] + lines(member, indent: indent + "  ", currency: filedUnder)
        case .array(let items) where items.isEmpty:
            return ["\(indent)\(name): none"]
        case .array(let items) where items.allSatisfy(isScalar):
            return ["\(indent)\(name): " + items.map { scalar($0, name: name, currency: currency) }.joined(separator: ", ")]
        case .array(let items):
            return ["\(indent)\(name) (\(items.count)):"] + listLines(items, indent: indent + "  ", currency: currency)
        default:
            return ["\(indent)\(label(name, of: member, currency: currency)): \(scalar(member, name: name, currency: currency))"]
        }
    }

    /// A member's name as shown: `amountMinor` reads `amount` once its value is shown as a decimal.
    private static func label(_ name: String, of value: JSONValue, currency: String?) -> String {
        isDecimalAmount(name, value, currency: currency) ? withoutMinor(name) : name
    }

    /// `amountMinor` → `amount`; other names as they are.
    static func withoutMinor(_ name: String) -> String {
        name.hasSuffix("Minor") && name.count > "Minor".count ? String(name.dropLast("Minor".count)) : name
    }

    /// Whether `value` of member `name` is shown as a decimal of `currency`.
    private static func isDecimalAmount(_ name: String, _ value: JSONValue, currency: String?) -> Bool {
        guard case .integer = value, name == "amount" || name.hasSuffix("Minor"), let currency else { return false }
        return ISO4217.exponent(of: currency) != nil
    }

    /// A list: a table when every item is a record of plain values, else each item under a dash.
    private static func listLines(_ items: [JSONValue], indent: String, currency: String?) -> [String] {
        guard !items.isEmpty else { return [indent + "none"] }
        let records = items.compactMap(\.objectValue)
        if records.count == items.count, records.allSatisfy({ $0.values.allSatisfy(isScalar) }) {
            return table(records, indent: indent, currency: currency)
        }
        var out: [String] = []
        for item in items {
            let itemLines = lines(item, indent: indent + "  ", currency: currency)
            guard let first = itemLines.first else { continue }
            out.append(indent + "- " + first.dropFirst(indent.count + 2))
            out += itemLines.dropFirst()
        }
        return out
    }

    private static func table(_ records: [[String: JSONValue]], indent: String, currency: String?) -> [String] {
        var columns: [String] = []
        for record in records {
            for name in record.keys.sorted() where !columns.contains(name) { columns.append(name) }
        }
        let cells = records.map { record in
            columns.map { name -> String in
                guard let value = record[name] else { return "" }
                let text = scalar(value, name: name, currency: record["currency"]?.stringValue ?? currency)
                return text.count > cellCharactersMax ? String(text.prefix(cellCharactersMax - 1)) + "…" : text
            }
        }
        // A column whose every value reads as a decimal is headed without `Minor`.
        let headers = columns.map { name -> String in
            let decimal = records.allSatisfy { record in
                record[name].map { isDecimalAmount(name, $0, currency: record["currency"]?.stringValue ?? currency) } ?? true
            }
            return decimal ? withoutMinor(name) : name
        }
        let widths = columns.indices.map { column in cells.reduce(headers[column].count) { max($0, $1[column].count) } }
        func row(_ values: [String]) -> String {
            let padded = zip(values, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }
            return indent + padded.joined(separator: "  ").trimmingTrailingSpaces
        }
        return [row(headers)] + cells.map(row)
    }

    private static func isScalar(_ value: JSONValue) -> Bool {
        switch value {
        case .array, .object: false
        default: true
        }
    }

    /// One plain value; `name` decides whether a number is a time or an amount.
    static func scalar(_ value: JSONValue, name: String, currency: String?) -> String {
        switch value {
        case .null: return "-"
        case .bool(let flag): return flag ? "yes" : "no"
        case .string(let text): return text
        case .integer(let number):
            if name.hasSuffix("Ms"), number >= earliestTimeMs { return isoTime(UInt64(number)) }
            if isDecimalAmount(name, value, currency: currency), let currency, let exponent = ISO4217.exponent(of: currency) {
                return "\(ISO4217.decimalString(number, exponent: exponent)) \(currency)"
            }
            return String(number)
        case .array, .object:
            return lines(value, indent: "", currency: currency).joined(separator: "; ")
        }
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
