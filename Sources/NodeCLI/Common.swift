import ArgumentParser
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeAPI
import NodeClient

/// Runs a contract query and returns its `result` member.
func queryResult(_ options: NodeOptions, contract: String, _ name: String, _ parameters: [String: String]) async throws -> JSONValue {
    try await options.client().query(contract: contract, name, parameters: parameters).result
}

/// Runs a contract query and prints the result (JSON always; it is the readable form of nested records);
/// `--json` prints the whole answer, with the head's height.
func queryAndPrint(_ options: NodeOptions, contract: String, _ name: String, _ parameters: [String: String]) async throws {
    let answer = try await options.client().query(contract: contract, name, parameters: parameters)
    if options.json {
        try printJSON(answer)
    } else {
        try printJSON(answer.result)
    }
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

/// Parses a date (YYYY-MM-DD, UTC) or milliseconds since 1970.
func parseTimeOption(_ text: String, _ name: String) throws -> UInt64 {
    if let milliseconds = UInt64(text) { return milliseconds }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    guard let date = formatter.date(from: text) else {
        throw CLIError("\(name) must be a date YYYY-MM-DD or milliseconds since 1970, got '\(text)'", .badInput)
    }
    return UInt64(date.timeIntervalSince1970 * 1000)
}
