import ArgumentParser
import Contracts
import Foundation
import Ledger
import Node

/// Parses a payment status as the contract names it.
func parsePaymentStatus(_ text: String) throws -> PaymentStatus {
    guard let status = PaymentStatus(rawValue: text) else {
        throw CLIError("--status must be one of \(PaymentStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'", .badInput)
    }
    return status
}

/// Parses a decimal amount (`1500.00`) into minor units of `currency`.
func parseAmount(_ text: String, currency: String) throws -> UInt64 {
    guard let exponent = ISO4217.exponent(of: currency) else { throw CLIError("'\(currency)' is not an ISO 4217 currency code", .badInput) }
    switch ISO4217.minorUnits(Substring(text), separator: ".", exponent: exponent) {
    case .success(let minor):
        guard minor > 0 else { throw CLIError("--amount must be positive, got '\(text)'", .badInput) }
        return UInt64(minor)
    case .failure(let error):
        throw CLIError("--amount '\(text)': \(error.reason)", .badInput)
    }
}

/// Parses `INSTITUTION:ACCOUNT`.
func parseAccountRef(_ text: String, _ name: String) throws -> AccountRef {
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw CLIError("\(name) must be INSTITUTION:ACCOUNT (an organization id and an account number), got '\(text)'", .badInput)
    }
    return AccountRef(institution: String(parts[0]), account: String(parts[1]))
}

struct ClearingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearing",
        abstract: "Clearing records of payments, settlement cycles and reconciliation breaks.",
        subcommands: [Post.self, Update.self, Payment.self, Breaks.self, Position.self, Cycle.self])

    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Post your side of a payment (payer bank, payee bank or clearing house key).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long, help: "End-to-end id or message id.") var payment: String
        @Option(name: .long, help: "Payer as INSTITUTION:ACCOUNT.") var payer: String
        @Option(name: .long, help: "Payee as INSTITUTION:ACCOUNT.") var payee: String
        @Option(name: .long, help: "Amount as a decimal in the currency's units (e.g. 1500.00).") var amount: String
        @Option(name: .long, help: "ISO 4217 code.") var currency: String
        @Option(name: .long, help: "Channel, e.g. CNAPS-HVPS, IBPS, CIPS.") var channel: String
        @Option(name: .long, help: "sent, received, settled, returned, rejected or timed_out.") var status: String
        @Option(name: .long, help: "Your system's timestamp (YYYY-MM-DD or ms since 1970; default: now).") var timestamp: String?

        func run() async throws {
            try await runReporting {
                let arguments = PostRecord(
                    paymentID: payment, payer: try parseAccountRef(payer, "--payer"), payee: try parseAccountRef(payee, "--payee"),
                    amountMinor: try parseAmount(amount, currency: currency), currency: currency,
                    participantTimestampMs: try timestamp.map { try parseTimeOption($0, "--timestamp") } ?? wallClockMs(),
                    channel: channel, status: try parsePaymentStatus(status))
                try await submitAndReport(ClearingContract.call(.post, arguments), options: options, signing: signing)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a new status (and optionally a corrected amount) of your side of a payment.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var payment: String
        @Option(name: .long, help: "sent, received, settled, returned, rejected or timed_out.") var status: String
        @Option(name: .long, help: "A corrected amount (decimal); needs --currency.") var amount: String?
        @Option(name: .long, help: "The currency of the corrected amount, or a corrected currency.") var currency: String?
        @Option(name: .long, help: "Your system's timestamp (YYYY-MM-DD or ms since 1970; default: now).") var timestamp: String?

        func validate() throws {
            if amount != nil && currency == nil { throw ValidationError("--amount needs --currency to know its minor units") }
        }

        func run() async throws {
            try await runReporting {
                let corrected = try amount.map { try parseAmount($0, currency: currency ?? "") }
                let arguments = UpdateRecord(paymentID: payment, status: try parsePaymentStatus(status),
                                             participantTimestampMs: try timestamp.map { try parseTimeOption($0, "--timestamp") } ?? wallClockMs(),
                                             correctedAmountMinor: corrected, correctedCurrency: currency)
                try await submitAndReport(ClearingContract.call(.update, arguments), options: options, signing: signing)
            }
        }
    }

    struct Payment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a payment's sides with their versions and its findings.")
        @OptionGroup var options: NodeOptions
        @Argument(help: "The payment id.") var payment: String

        func run() async throws {
            try await runReporting { try await queryAndPrint(options, contract: ClearingContract.name, "payment", ["id": payment]) }
        }
    }

    struct Breaks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reconciliation findings (breaks).")
        @OptionGroup var options: NodeOptions
        @Option(name: .long, help: "Only findings that concern this institution.") var participant: String?
        @Flag(name: .long, help: "Only findings not yet resolved.") var open = false
        @Option(name: .long, help: "Most findings to list.") var limit: Int?

        func run() async throws {
            try await runReporting {
                var parameters: [String: String] = [:]
                if let participant { parameters["participant"] = participant }
                if open { parameters["open"] = "true" }
                if let limit { parameters["limit"] = String(limit) }
                if options.json {
                    try await queryAndPrint(options, contract: ClearingContract.name, "breaks", parameters)
                    return
                }
                let answer = try await queryResult(options, contract: ClearingContract.name, "breaks", parameters)
                let findings = answer as? [[String: Any]] ?? []
                print("\(findings.count) finding(s)")
                for finding in findings {
                    let state = (finding["open"] as? Bool ?? false) ? "OPEN" : "resolved"
                    print("  \(finding["paymentId"] ?? "?") \(finding["kind"] ?? "?") on \(finding["side"] ?? "?") side, "
                          + "found at height \(finding["detectedAtHeight"] ?? "?"), \(state): \(finding["details"] ?? "")")
                }
            }
        }
    }

    struct Position: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each participant's multilateral net position in a cycle.")
        @OptionGroup var options: NodeOptions
        @Option(name: .long, help: "The cycle id.") var cycle: String

        func run() async throws {
            try await runReporting { try await queryAndPrint(options, contract: ClearingContract.name, "position", ["cycle": cycle]) }
        }
    }

    struct Cycle: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Settlement cycles.", subcommands: [Open.self, Close.self, Sign.self, Show.self])

        struct Open: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Open a cycle (clearing house key).")
            @OptionGroup var options: NodeOptions
            @OptionGroup var signing: SigningOptions
            @Argument(help: "The new cycle's id.") var cycle: String

            func run() async throws {
                try await runReporting { try await submitAndReport(ClearingContract.call(.openCycle, OpenCycle(cycleID: cycle)), options: options, signing: signing) }
            }
        }

        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Freeze a cycle for sign-off, or with --force close it at once, recording who has not signed.")
            @OptionGroup var options: NodeOptions
            @OptionGroup var signing: SigningOptions
            @Argument(help: "The cycle id.") var cycle: String
            @Flag(name: .long, help: "Close a frozen cycle without waiting for every signature.") var force = false

            func run() async throws {
                try await runReporting {
                    try await submitAndReport(ClearingContract.call(.closeCycle, CloseCycle(cycleID: cycle, force: force)), options: options, signing: signing)
                }
            }
        }

        struct Sign: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Sign off a frozen cycle's positions (bank key).",
                discussion: "Without --positions-hash the hash is read from the node's position query; pass the hash you checked to sign exactly those figures.")
            @OptionGroup var options: NodeOptions
            @OptionGroup var signing: SigningOptions
            @Argument(help: "The cycle id.") var cycle: String
            @Option(name: .long, help: "The positionsHash the position query showed (64 hex digits).") var positionsHash: String?

            func run() async throws {
                try await runReporting {
                    let hash: Hash
                    if let positionsHash {
                        hash = try parseHashOption(positionsHash, "--positions-hash")
                    } else {
                        let answer = try await queryResult(options, contract: ClearingContract.name, "position", ["cycle": cycle]) as? [String: Any]
                        guard let text = answer?["positionsHash"] as? String else { throw CLIError("the position query gave no positionsHash for cycle \(cycle)") }
                        hash = try parseHashOption(text, "positionsHash")
                    }
                    try await submitAndReport(ClearingContract.call(.signCycle, SignCycle(cycleID: cycle, positionsHash: hash)), options: options, signing: signing)
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a cycle: status, positions, signatures.")
            @OptionGroup var options: NodeOptions
            @Argument(help: "The cycle id.") var cycle: String

            func run() async throws {
                try await runReporting { try await queryAndPrint(options, contract: ClearingContract.name, "cycle", ["id": cycle]) }
            }
        }
    }
}
