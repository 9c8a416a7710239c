import ArgumentParser
import Contracts
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeClient

/// Parses a payment status as the contract names it.
func parsePaymentStatus(_ text: String) throws -> PaymentStatus {
    guard let status = PaymentStatus(rawValue: text) else {
        throw CLIError("--status must be one of \(PaymentStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'", .badInput)
    }
    return status
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
        subcommands: [Post.self, Update.self, Payment.self, Breaks.self, Position.self, Cycle.self, ClearingJobCommand.self, Burst.self])

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

        func validate() throws {
            _ = try validating { try parseAmount(amount, currency: currency) }
            _ = try validating { try timestamp.map { try parseTimeOption($0, "--timestamp") } }
        }

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
            _ = try validating { try amount.map { try parseAmount($0, currency: currency ?? "") } }
            _ = try validating { try timestamp.map { try parseTimeOption($0, "--timestamp") } }
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
        @Option(name: .long, help: "Only payments whose id starts with this, such as one batch's.") var paymentPrefix: String?
        @Option(name: .long, help: "Most findings to list (1 to \(ClearingLimits.queryResultsMax)).") var limit: Int?

        func validate() throws {
            try ArgumentRanges.check(limit, 1...ClearingLimits.queryResultsMax, "--limit")
        }

        func run() async throws {
            try await runReporting {
                var parameters: [String: String] = [:]
                if let participant { parameters["participant"] = participant }
                if let paymentPrefix { parameters["paymentPrefix"] = paymentPrefix }
                if open { parameters["open"] = "true" }
                if let limit { parameters["limit"] = String(limit) }
                if options.json {
                    try await queryAndPrint(options, contract: ClearingContract.name, "breaks", parameters)
                    return
                }
                let findings = try await queryResult(options, contract: ClearingContract.name, "breaks", parameters, as: [ClearingFindingAnswer].self)
                print("\(findings.count) finding(s)")
                for finding in findings {
                    let state = finding.open ? "OPEN" : "resolved"
                    print("  \(finding.paymentID) \(finding.kind.rawValue) on \(finding.side.rawValue) side, "
                          + "found at height \(finding.detectedAtHeight), \(state): \(finding.details)")
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
                        hash = try await queryResult(options, contract: ClearingContract.name, "position", ["cycle": cycle],
                                                     as: ClearingPositionAnswer.self).positionsHash
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

extension ClearingCommand {
    /// `consort clearing burst`: many payments with injected breaks, checked against what the reconciliation job posts.
    struct Burst: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Post a burst of payments with injected breaks and check the reconciliation job's findings.",
            discussion: """
                The payer bank, the clearing house and the payee bank each post their side of --payments payments, \
                the three sides of a payment together, at --rate payments per second; --break-percent of the payments \
                get a break (amount, currency or status mismatch, a missing payee or clearing side, a duplicate payer \
                record). With a reconciliation job running (`consort reconcile watch`), the command then waits until the \
                job has posted every expected finding, checks that it posted no other, and prints the detection delay \
                measured on the ledger: the finding's block time minus the exposing block's time. Exit status 1 when a \
                finding is missing, unexpected or later than --max-delay.
                """)

        @Option(name: .customLong("node"), help: "A node's API URL; repeat to spread the participants over nodes (default: $CONSORT_NODE or http://127.0.0.1:8080).")
        var nodes: [String] = []
        @Option(name: .long, help: "Key file of the payer bank.") var payerKey: String
        @Option(name: .long, help: "Key file of the payee bank.") var payeeKey: String
        @Option(name: .long, help: "Key file of the clearing house.") var clearingKey: String
        @Option(name: .long, help: "Payments in the burst.") var payments: Int = 10_000
        @Option(name: .long, help: "Percentage of payments given a break.") var breakPercent: Double = 1
        @Option(name: .long, help: "Payments started per second.") var rate: Int = 40
        @Option(name: .long, help: "Seed that chooses the broken payments.") var seed: UInt64 = 1
        @Option(name: .long, help: "Batch id in the payment ids (default: random).") var batch: String?
        @Option(name: .long, help: "Seconds to wait for the findings once the burst has committed.") var settle: Int = 120
        @Option(name: .long, help: "Longest allowed detection delay, in ms.") var maxDelay: Int = 5000
        @Flag(name: .long, help: "Print machine-readable JSON.") var json = false

        private var batchID: String { batch ?? String(UInt64.random(in: 0...UInt64(UInt32.max)), radix: 16) }

        func settings(batchID: String) throws(LoadRunError) -> ClearingBurstSettings {
            let urls = nodes.isEmpty ? [ProcessInfo.processInfo.environment["CONSORT_NODE"] ?? "http://127.0.0.1:8080"] : nodes
            return try ClearingBurstSettings(nodes: urls, payments: payments, breakPercent: breakPercent, paymentsPerSecond: rate,
                                             seed: seed, batchID: batchID, settleSeconds: settle, maxDelayMs: maxDelay)
        }

        func validate() throws {
            do throws(LoadRunError) { _ = try settings(batchID: batch ?? "check") } catch { throw ValidationError(error.description) }
        }

        func run() async throws {
            try await runReporting {
                let chosen: ClearingBurstSettings
                do throws(LoadRunError) { chosen = try settings(batchID: batchID) } catch { throw CLIError(error.description, .badInput) }
                let keys = ClearingBurst.Keys(payerBank: try KeyFile.read(payerKey), payeeBank: try KeyFile.read(payeeKey),
                                              clearingHouse: try KeyFile.read(clearingKey))
                let report: ClearingBurstReport
                do throws(LoadRunError) {
                    report = try await ClearingBurst.run(chosen, keys: keys) { line in
                        FileHandle.standardError.write(Data("burst: \(line)\n".utf8))
                    }
                } catch {
                    throw CLIError.from(error, failing: "burst failed")
                }
                if json {
                    try printJSONObject(report.dictionary)
                } else {
                    report.lines.forEach { print($0) }
                }
                if !report.passed { throw CLIError("the reconciliation job's findings do not match the injected breaks (see above)") }
            }
        }
    }
}
