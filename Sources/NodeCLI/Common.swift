import ArgumentParser
import Contracts
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeAPI
import NodeClient

/// Runs a contract query and reads its `result` member as the contract's typed answer.
func queryResult<Result: Decodable>(_ options: NodeOptions, contract: String, _ name: String, _ parameters: [String: String],
                                    as type: Result.Type) async throws -> Result {
    try await options.client().query(contract: contract, name, parameters: parameters, as: type)
}

/// What every query command prints with `--json`: the answer and the height it was read at,
/// the shape of the node's own query answer (``QueryAnswer``).
struct QueryOutput<Result: Encodable>: Encodable {
    let height: UInt64
    let result: Result
}

/// Runs a contract query and prints the result as text for a person (``AnswerText``);
/// `--json` prints the whole answer as JSON, with the head's height.
func queryAndPrint(_ options: NodeOptions, contract: String, _ name: String, _ parameters: [String: String]) async throws {
    let answer = try await options.client().query(contract: contract, name, parameters: parameters)
    if options.json {
        try printJSON(answer)
    } else {
        print(AnswerText.render(answer.result))
    }
}

/// The query parameters naming an account: its number, and its bank when given.
func accountParameters(_ account: String, _ bank: String?) -> [String: String] {
    var parameters = ["account": account]
    if let bank { parameters["bank"] = bank }
    return parameters
}

/// Parses a 64-hex-digit hash option.
func parseHashOption(_ text: String, _ name: String) throws -> Hash {
    guard let hash = try? Hash(hex: text) else { throw CLIError("\(name) must be 64 hex digits (a SHA-256 hash)", .badInput) }
    return hash
}

/// SHA-256 of a file's bytes, for evidence and document hashes.
func hashOfFile(_ path: String) throws -> Hash {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)", .badInput) }
    return Hash.sha256(Array(data))
}

/// A hash given directly (`--x HEX`) or as a file to hash (`--x-file PATH`).
func hashOption(hex: String?, file: String?, _ name: String) throws -> Hash? {
    if let hex { return try parseHashOption(hex, "--\(name)") }
    if let file { return try hashOfFile(file) }
    return nil
}

/// The ranges of the CLI's numeric and date arguments. Commands check them
/// in `validate()`, so a value out of range is refused as bad input (exit 2)
/// before anything is signed or sent, and no conversion can overflow.
enum ArgumentRanges {
    /// The latest time an argument may name: 9999-12-31T23:59:59.999Z.
    static let timeMsMax: UInt64 = 253_402_300_799_999
    /// The longest transaction lifetime any chain allows: its genesis
    /// `transactionLifetimeMsMax` is at most 2³¹ − 1 ms; the node refuses
    /// lifetimes beyond its own chain's.
    static let ttlSecondsMax: UInt64 = UInt64(Int32.max) / 1000
    /// Longest wait, in seconds, for a transaction to commit.
    static let waitSecondsMax: UInt64 = 86_400
    /// Longest interval, in seconds, between two reports of a long-running command.
    static let reportIntervalSecondsMax: UInt64 = 86_400
    /// Longest interval, in milliseconds, between two saves of a state file.
    static let saveIntervalMsMax: UInt64 = 86_400_000
    /// Most items a local benchmark builds (transactions, entries, lines), so that it fits in memory.
    static let benchItemsMax = 10_000_000

    /// Refuses `value` outside `range`, naming the option and the range.
    static func check<Value: Comparable>(_ value: Value?, _ range: ClosedRange<Value>, _ name: String) throws {
        guard let value, !range.contains(value) else { return }
        throw ValidationError("\(name) must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
    }

    /// Refuses a reason the ledger would refuse: blank, or longer than it keeps.
    static func checkReason(_ reason: String, _ name: String) throws {
        guard !reason.allSatisfy(\.isWhitespace) else { throw ValidationError("\(name) must say why; it is kept with the change") }
        guard reason.utf8.count <= StatementsLimits.reasonBytesMax else {
            throw ValidationError("\(name) is \(reason.utf8.count) bytes; the ledger keeps at most \(StatementsLimits.reasonBytesMax)")
        }
    }
}

/// Runs a parse step inside `validate()`, so that its error is reported as
/// bad input before the command runs.
func validating<T>(_ parse: () throws -> T) throws -> T {
    do {
        return try parse()
    } catch let error as CLIError {
        throw ValidationError(error.message)
    }
}

/// Parses a date (YYYY-MM-DD, UTC) or milliseconds since 1970, from
/// 1970-01-01 up to 9999-12-31.
func parseTimeOption(_ text: String, _ name: String) throws -> UInt64 {
    let range = "a date YYYY-MM-DD from 1970-01-01 to 9999-12-31, or milliseconds since 1970 up to \(ArgumentRanges.timeMsMax)"
    if !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
        guard let milliseconds = UInt64(text), milliseconds <= ArgumentRanges.timeMsMax else {
            throw CLIError("\(name) \(text) is after 9999-12-31; give \(range)", .badInput)
        }
        return milliseconds
    }
    guard let day = ReceivableDay(iso: text) else {
        throw CLIError("\(name) must be \(range), got '\(text)'", .badInput)
    }
    return UInt64(day.daysSinceEpoch) * ReceivableDay.millisecondsPerDay
}

/// Parses a decimal amount a person typed (`1500.00`, `1500`) into minor
/// units of `currency`: the one way every command reads amounts. `option`
/// names it in errors; zero is refused unless `allowingZero`. A code the
/// ISO 4217 table does not know is refused, unless `unknownCurrencyExponent`
/// says how many decimals to read it with.
func parseAmount(_ text: String, currency: String, option: String = "--amount", allowingZero: Bool = false,
                 unknownCurrencyExponent: Int? = nil) throws -> UInt64 {
    guard let exponent = ISO4217.exponent(of: currency) ?? unknownCurrencyExponent else {
        throw CLIError("'\(currency)' is not an ISO 4217 currency code", .badInput)
    }
    switch ISO4217.minorUnits(Substring(text), separator: ".", exponent: exponent) {
    case .success(let minor):
        guard minor > 0 || allowingZero else { throw CLIError("\(option) must be positive, got '\(text)'", .badInput) }
        return UInt64(minor)
    case .failure(let error):
        throw CLIError("\(option): \(error.reason)", .badInput)
    }
}

/// A signed decimal amount (`-250.00` for an overdraft) in minor units of
/// `currency`, within what the statements contract keeps; zero allowed.
func parseSignedAmount(_ text: String, currency: String, option: String) throws -> Int64 {
    let negative = text.hasPrefix("-")
    let magnitude = try parseAmount(negative ? String(text.dropFirst()) : text, currency: currency, option: option, allowingZero: true)
    let minor = Int64(magnitude)
    guard StatementsLimits.amountMinorRange.contains(minor) else {
        throw CLIError("\(option) '\(text)' is beyond the largest amount the ledger keeps", .badInput)
    }
    return negative ? -minor : minor
}

/// The currency of a registered account, asked of the node (the account query).
func accountCurrency(_ account: String, bank: String?, options: NodeOptions) async throws -> String {
    var parameters = ["account": account]
    if let bank { parameters["bank"] = bank }
    let answer = try await options.client().query(contract: StatementsContract.name, "account", parameters: parameters)
    guard let currency = answer.result["currency"]?.stringValue else {
        throw CLIError("the node's account answer for '\(account)' has no currency", .failed)
    }
    return currency
}

/// Checks the spelling of a decimal amount before its currency is known:
/// digits with at most one `.` and at most four decimals (the most any
/// currency has), positive unless `signed` (which also allows a leading `-`
/// and zero). Its size is checked once the currency is known.
func checkDecimalAmount(_ text: String?, option: String, signed: Bool = false) throws {
    guard let text else { return }
    let magnitude = signed && text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    let parts = magnitude.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let digitsOnly = parts.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
    guard digitsOnly, parts.contains(where: { !$0.isEmpty }) else {
        throw ValidationError("\(option): '\(text)' is not a decimal amount (digits, with '.' before the decimals)")
    }
    if parts.count == 2, parts[1].reversed().drop(while: { $0 == "0" }).count > 4 {
        throw ValidationError("\(option): '\(text)' has more decimal places than any currency has")
    }
    if !signed, !magnitude.contains(where: { $0 != "0" && $0 != "." }) {
        throw ValidationError("\(option) must be positive, got '\(text)'")
    }
}
