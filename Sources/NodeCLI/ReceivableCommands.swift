import ArgumentParser
import Contracts
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeClient

/// Parses `VOUCHER:FIRST-LAST`.
func parsePiece(_ text: String) throws -> ReceivablePieceID {
    guard let piece = ReceivablePieceID(text) else {
        throw CLIError("'\(text)' is not a piece; write it as VOUCHER:FIRST-LAST, e.g. PO-7:1-250000", .badInput)
    }
    return piece
}

/// A receivable amount typed as a decimal of `currency` (`6000.00`), in minor
/// units within what a voucher may carry; `option` names it in errors. The
/// contract takes any three-letter code; one the ISO 4217 table does not know
/// is read with two decimals, as ``ReceivableTree/amount(_:_:)`` shows it.
func parseReceivableAmount(_ text: String, currency: String, option: String, allowingZero: Bool = false) throws -> UInt64 {
    let minor = try parseAmount(text, currency: currency, option: option, allowingZero: allowingZero, unknownCurrencyExponent: 2)
    guard minor <= ReceivablesLimits.amountMax else {
        throw CLIError("\(option) '\(text)' is above the most a voucher may carry, \(ReceivableTree.amount(Int64(ReceivablesLimits.amountMax), currency))", .badInput)
    }
    return minor
}

/// The minor units of `amount` (a decimal) in the currency of `piece`'s voucher,
/// which the node is asked for; the whole piece when no amount is given.
func pieceAmount(_ amount: String?, of piece: ReceivablePieceID, options: NodeOptions) async throws -> UInt64 {
    guard let amount else { return piece.amount }
    let currency = try await voucherCurrency(piece.voucherID, client: try options.client())
    return try parseReceivableAmount(amount, currency: currency, option: "--amount")
}

/// The currency of a voucher, asked of the node.
func voucherCurrency(_ voucher: String, client: NodeClient) async throws(NodeClientError) -> String {
    try await client.query(contract: ReceivablesContract.name, "voucher", parameters: ["voucher": voucher], as: ReceivableVoucherAnswer.self).currency
}

/// Parses a calendar date YYYY-MM-DD.
func parseDay(_ text: String, _ name: String) throws -> ReceivableDay {
    guard let day = ReceivableDay(iso: text) else { throw CLIError("\(name) must be a date YYYY-MM-DD, got '\(text)'", .badInput) }
    return day
}

struct ReceivableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receivable",
        abstract: "Receivable vouchers: issue, accept, split and transfer through supplier tiers, finance, settle, trace.",
        subcommands: [CreditLine.self, Issue.self, Accept.self, Reject.self, Cancel.self, Transfer.self, Withdraw.self, Finance.self,
                      Settle.self, Freeze.self, Unfreeze.self, Configure.self, Pending.self, Approve.self, Show.self, Trace.self, Holdings.self,
                      Disclosure.self])

    struct CreditLine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "credit-line", abstract: "As a bank, set a core enterprise's credit line.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var issuer: String
        @Option(name: .long, help: "ISO 4217 code.") var currency: String = "CNY"
        @Option(name: .long, help: "The limit, a decimal in the currency (e.g. 10000000.00).") var limit: String

        func validate() throws {
            _ = try validating { try parseReceivableAmount(limit, currency: currency, option: "--limit", allowingZero: true) }
        }

        func run() async throws {
            try await runReporting {
                let call = ReceivablesContract.call(.setCreditLine, ReceivableCreditLine(issuer: issuer, currency: currency,
                                                                                                 limit: try parseReceivableAmount(limit, currency: currency, option: "--limit", allowingZero: true)))
                try await submitAndReport(call, options: options, signing: signing)
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As a core enterprise, issue a voucher to a tier-1 supplier.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long, help: "Voucher id (1–64 of A–Z a–z 0–9 . _ -).") var voucher: String
        @Option(name: .long, help: "The tier-1 supplier (an enterprise) the voucher is issued to.") var supplier: String
        @Option(name: .long, help: "The bank whose credit line this uses.") var bank: String
        @Option(name: .long, help: "Face amount, a decimal in the currency (e.g. 10000.00).") var amount: String
        @Option(name: .long) var currency: String = "CNY"
        @Option(name: .long, help: "YYYY-MM-DD.") var issueDate: String
        @Option(name: .long, help: "YYYY-MM-DD.") var dueDate: String
        @Option(name: .long, help: "SHA-256 of the trade contract, hex (this or --contract-file is required).") var contractHash: String?
        @Option(name: .long, help: "A file whose SHA-256 is the contract hash (this or --contract-hash is required).") var contractFile: String?
        @Option(name: .long, help: "An invoice as NUMBER:AMOUNT:YYYY-MM-DD:SHA256HEX, the amount a decimal in the voucher's currency (at least one is required; repeat for several).") var invoice: [String] = []
        @Flag(name: .long, help: "Forbid transfers of this voucher.") var notTransferable = false
        @Option(name: .long) var note: String?

        func validate() throws {
            _ = try validating { try parseReceivableAmount(amount, currency: currency, option: "--amount") }
            _ = try validating { try invoices() }
            _ = try validating { (try parseDay(issueDate, "--issue-date"), try parseDay(dueDate, "--due-date")) }
        }

        private func invoices() throws -> [ReceivableInvoice] {
            try invoice.map { text -> ReceivableInvoice in
                let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 4 else {
                    throw CLIError("--invoice '\(text)' must be NUMBER:AMOUNT:YYYY-MM-DD:SHA256HEX", .badInput)
                }
                let amount = try parseReceivableAmount(parts[1], currency: currency, option: "--invoice '\(text)': the amount")
                return ReceivableInvoice(number: parts[0], amount: amount, date: try parseDay(parts[2], "invoice date"),
                                         documentHash: try parseHashOption(parts[3], "invoice hash"))
            }
        }

        func run() async throws {
            try await runReporting {
                guard let contract = try hashOption(hex: contractHash, file: contractFile, "contract-hash") else {
                    throw CLIError("give --contract-hash or --contract-file", .badInput)
                }
                guard !invoice.isEmpty else { throw CLIError("give at least one --invoice NUMBER:AMOUNT:DATE:HASH", .badInput) }
                let invoices = try invoices()
                let arguments = ReceivableIssue(
                    voucherID: voucher, supplier: supplier, creditBank: bank,
                    amount: try parseReceivableAmount(amount, currency: currency, option: "--amount"), currency: currency,
                    issueDate: try parseDay(issueDate, "--issue-date"), dueDate: try parseDay(dueDate, "--due-date"), contractHash: contract,
                    invoices: invoices, transferable: !notTransferable, note: note)
                try await submitAndReport(ReceivablesContract.call(.issue, arguments), options: options, signing: signing)
            }
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a voucher issued to you, a piece offered to you, or (--financing, as the bank) a financing offer.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "A voucher id, or a piece VOUCHER:FIRST-LAST.") var target: String
        @Flag(name: .long, help: "Accept a financing offer on the piece (banks).") var financing = false
        @Option(name: .long, help: "Registration number in the movable-asset financing registry.") var registration: String?

        func run() async throws {
            try await runReporting {
                let call: ContractCall
                if target.contains(":") {
                    let piece = try parsePiece(target)
                    call = financing
                        ? ReceivablesContract.call(.acceptFinancing, ReceivableFinanceAccept(piece: piece, registrationNumber: registration))
                        : ReceivablesContract.call(.acceptTransfer, ReceivablePieceRef(piece: piece))
                } else {
                    guard !financing else { throw CLIError("--financing needs a piece VOUCHER:FIRST-LAST", .badInput) }
                    call = ReceivablesContract.call(.acceptVoucher, ReceivableVoucherRef(voucherID: target))
                }
                try await submitAndReport(call, options: options, signing: signing)
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a voucher, decline a piece offered to you, or (--financing) decline financing.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "A voucher id, or a piece VOUCHER:FIRST-LAST.") var target: String
        @Flag(name: .long) var financing = false
        @Option(name: .long) var reason: String?

        func run() async throws {
            try await runReporting {
                let call: ContractCall
                if target.contains(":") {
                    let reference = ReceivablePieceRef(piece: try parsePiece(target), reason: reason)
                    call = ReceivablesContract.call(financing ? .declineFinancing : .declineTransfer, reference)
                } else {
                    call = ReceivablesContract.call(.rejectVoucher, ReceivableVoucherRef(voucherID: target, reason: reason))
                }
                try await submitAndReport(call, options: options, signing: signing)
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As the issuer, cancel a voucher the supplier has not accepted yet.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument var voucher: String
        @Option(name: .long) var reason: String?

        func run() async throws {
            try await runReporting {
                try await submitAndReport(ReceivablesContract.call(.cancel, ReceivableVoucherRef(voucherID: voucher, reason: reason)),
                                          options: options, signing: signing)
            }
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Offer an amount of a piece you hold to another organization (a part splits the piece).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The piece, VOUCHER:FIRST-LAST.") var piece: String
        @Option(name: .long, help: "Amount, a decimal in the voucher's currency (e.g. 6000.00; default: the whole piece).") var amount: String?
        @Option(name: .long, help: "The receiving organization.") var to: String

        func validate() throws {
            try checkDecimalAmount(amount, option: "--amount")
        }

        func run() async throws {
            try await runReporting {
                let parsed = try parsePiece(piece)
                let units = try await pieceAmount(amount, of: parsed, options: options)
                let call = ReceivablesContract.call(.offerTransfer, ReceivableTransfer(piece: parsed, amount: units, recipient: to))
                try await submitAndReport(call, options: options, signing: signing)
            }
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw your open offer on a piece.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument var piece: String

        func run() async throws {
            try await runReporting {
                try await submitAndReport(ReceivablesContract.call(.withdrawOffer, ReceivablePieceRef(piece: try parsePiece(piece))),
                                          options: options, signing: signing)
            }
        }
    }

    struct Finance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Offer (part of) a piece to a bank for financing at a discount rate.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument var piece: String
        @Option(name: .long, help: "Amount, a decimal in the voucher's currency (e.g. 6000.00; default: the whole piece).") var amount: String?
        @Option(name: .long) var bank: String
        @Option(name: .long, help: "Annual discount rate in basis points (ACT/360).") var rateBps: UInt32
        @Option(name: .long, help: "with or without recourse.") var recourse: String = "with"

        func validate() throws {
            try checkDecimalAmount(amount, option: "--amount")
            try ArgumentRanges.check(rateBps, 1...ReceivablesLimits.discountRateBpsMax, "--rate-bps")
        }

        func run() async throws {
            try await runReporting {
                let parsed = try parsePiece(piece)
                let kind: ReceivableRecourse
                switch recourse {
                case "with": kind = .withRecourse
                case "without": kind = .withoutRecourse
                default: throw CLIError("--recourse must be with or without", .badInput)
                }
                let units = try await pieceAmount(amount, of: parsed, options: options)
                let offer = ReceivableFinanceOffer(piece: parsed, amount: units, bank: bank, discountRateBps: rateBps, recourse: kind)
                try await submitAndReport(ReceivablesContract.call(.offerFinancing, offer), options: options, signing: signing)
            }
        }
    }

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As the issuer, settle a voucher: pay every outstanding piece to its holder.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument var voucher: String
        @Flag(name: .long, help: "Settle before the due date.") var early = false

        func run() async throws {
            try await runReporting {
                try await submitAndReport(ReceivablesContract.call(.settle, ReceivableSettle(voucherID: voucher, early: early)),
                                          options: options, signing: signing)
            }
        }
    }

    /// A piece and the reason for a regulator's freeze or unfreeze.
    struct FreezeOptions: ParsableArguments {
        @Argument var piece: String
        @Option(name: .long) var reason: String

        func submit(_ operation: ReceivablesContract.Operation, options: NodeOptions, signing: SigningOptions) async throws {
            let reference = ReceivablePieceRef(piece: try parsePiece(piece), reason: reason)
            try await submitAndReport(ReceivablesContract.call(operation, reference), options: options, signing: signing)
        }
    }

    struct Freeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As a regulator, freeze a piece (e.g. on a court order).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @OptionGroup var target: FreezeOptions

        func run() async throws {
            try await runReporting { try await target.submit(.freeze, options: options, signing: signing) }
        }
    }

    struct Unfreeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As a regulator, lift a freeze.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @OptionGroup var target: FreezeOptions

        func run() async throws {
            try await runReporting { try await target.submit(.unfreeze, options: options, signing: signing) }
        }
    }

    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set your organization's auto-accept and maker–checker settings.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Flag(name: .long, help: "Accept incoming pieces automatically.") var autoAccept = false
        @Flag(name: .long, help: "Require a second member key to approve each operation.") var makerChecker = false

        func run() async throws {
            try await runReporting {
                let settings = ReceivableSettings(autoAcceptTransfers: autoAccept, makerChecker: makerChecker)
                try await submitAndReport(ReceivablesContract.call(.configure, settings), options: options, signing: signing)
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As the checker, approve (or --discard) a pending action prepared by another key of your organization.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The pending action's id (64 hex digits).") var action: String
        @Flag(name: .long) var discard = false
        @Option(name: .long) var reason: String?

        func run() async throws {
            try await runReporting {
                let reference = ReceivableActionRef(actionID: try parseHashOption(action, "action"), reason: reason)
                try await submitAndReport(ReceivablesContract.call(discard ? .discard : .approve, reference), options: options, signing: signing)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a piece (VOUCHER:FIRST-LAST) or a voucher (VOUCHER), or a voucher's every piece with --tree.")
        @OptionGroup var options: NodeOptions
        @Argument(help: "A piece (VOUCHER:FIRST-LAST) or a voucher id.") var target: String
        @Flag(name: .long, help: "With a voucher: every piece record of it, live and retired, in unit order.") var tree = false

        func run() async throws {
            try await runReporting {
                if target.contains(":") {
                    guard !tree else { throw CLIError("--tree shows a voucher's pieces; give the voucher id, not the piece \(target)", .badInput) }
                    _ = try parsePiece(target)
                    try await queryAndPrint(options, contract: ReceivablesContract.name, "piece", ["piece": target])
                } else if tree && !options.json {
                    let answer = try await options.client().query(contract: ReceivablesContract.name, "tree", parameters: ["voucher": target],
                                                                  as: ReceivableTreeAnswer.self)
                    printVoucherHeading(answer.voucher)
                    for line in ReceivableTree.lines(answer.pieces, currency: answer.voucher.currency) { print("  " + line) }
                    if answer.truncated { print("  … more pieces than one answer holds; --json with a limit pages through them") }
                } else {
                    try await queryAndPrint(options, contract: ReceivablesContract.name, tree ? "tree" : "voucher", ["voucher": target])
                }
            }
        }
    }

    struct Trace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Penetration trace of a piece: back to the issuance and its invoices, forward to every descendant and holder, with certificates.")
        @OptionGroup var options: NodeOptions
        @Argument var piece: String
        @Flag(name: .long, help: "Leave out the commit certificates.") var noCertificates = false

        func run() async throws {
            try await runReporting {
                let id = try parsePiece(piece)
                let parameters = ["piece": piece, "certificates": noCertificates ? "false" : "true"]
                guard !options.json else {
                    try await queryAndPrint(options, contract: ReceivablesContract.name, "trace", parameters)
                    return
                }
                let answer = try await options.client().query(contract: ReceivablesContract.name, "trace", parameters: parameters,
                                                              as: ReceivableTraceAnswer.self)
                printVoucherHeading(answer.issuance)
                for invoice in answer.issuance.invoices {
                    print("  invoice \(invoice.number) of \(invoice.date.iso): \(ReceivableTree.amount(invoice.amount, answer.issuance.currency))")
                }
                let pieces = answer.ancestors + [answer.piece] + answer.descendants
                for line in ReceivableTree.lines(pieces, currency: answer.issuance.currency, marked: id) { print("  " + line) }
                if answer.truncated { print("  … more descendants than one answer holds; --json shows the raw answer") }
                if let certificates = answer.certificates, let transactions = answer.transactions {
                    print("  \(transactions.count) transactions in \(certificates.count) certified blocks, as of height \(answer.height); --json shows the certificates")
                }
            }
        }
    }

    struct Pending: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The approvals inbox: an organization's maker–checker actions awaiting a second key, with what each would do.",
            discussion: "Each action shows the operation and its decoded arguments (voucher, piece, amount, counterparty), who prepared it and when; approve one with `consort receivable approve ACTION`, or refuse it with --discard.")
        @OptionGroup var options: NodeOptions
        @Argument(help: "The organization whose actions to list.") var organization: String
        @Flag(name: .long, help: "Also list the actions already approved or discarded.") var all = false

        func run() async throws {
            try await runReporting {
                let raw = try await options.client().query(contract: ReceivablesContract.name, "actions", parameters: ["organization": organization])
                let answer = try NodeClient.decodeResult(raw.result, as: ReceivableActionsAnswer.self, contract: ReceivablesContract.name, "actions")
                let actions = answer.actions.filter { all || $0.status == .pending }
                if options.json {
                    try printJSON(QueryOutput(height: raw.height, result: actions))
                } else {
                    let currencies = try await voucherCurrencies(of: actions, options: options)
                    print(renderPendingActions(actions, organization: organization, currencies: currencies), terminator: "")
                }
            }
        }
    }

    struct Holdings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything an organization holds, with totals by status.")
        @OptionGroup var options: NodeOptions
        @Argument var organization: String

        func run() async throws {
            try await runReporting { try await queryAndPrint(options, contract: ReceivablesContract.name, "holdings", ["organization": organization]) }
        }
    }

    struct Disclosure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An issuer's disclosure: issued, outstanding, overdue, credit lines.")
        @OptionGroup var options: NodeOptions
        @Argument var issuer: String

        func run() async throws {
            try await runReporting { try await queryAndPrint(options, contract: ReceivablesContract.name, "disclosure", ["issuer": issuer]) }
        }
    }
}

/// A voucher in one line: who issued it to whom, its amount, due date and status.
func printVoucherHeading(_ voucher: ReceivableVoucherAnswer) {
    print("voucher \(voucher.id): \(voucher.issuer) → \(voucher.supplier), \(ReceivableTree.amount(voucher.amount, voucher.currency)), "
        + "due \(voucher.dueDate.iso), \(voucher.status.rawValue), credit line at \(voucher.creditBank)")
}

/// The voucher an action's arguments name (its `voucher`, or its `piece`'s voucher).
func voucherID(of action: ReceivableActionsAnswer.Action) -> String? {
    for detail in action.details {
        if detail.name == "voucher" { return detail.value }
        if detail.name == "piece", let piece = ReceivablePieceID(detail.value) { return piece.voucherID }
    }
    return nil
}

/// The currency an action's arguments name themselves (a credit line's, an issuance's).
func ownCurrency(of action: ReceivableActionsAnswer.Action) -> String? {
    action.details.first { $0.name == "currency" }?.value
}

/// The currency of each voucher the actions name without naming their
/// currency, asked of the node once per voucher. A voucher the node does not
/// have (an issuance awaiting approval names a voucher not issued yet) is
/// left out, and its amounts stay in minor units.
func voucherCurrencies(of actions: [ReceivableActionsAnswer.Action], options: NodeOptions) async throws -> [String: String] {
    var currencies: [String: String] = [:]
    let client = try options.client()
    for voucher in Set(actions.filter { ownCurrency(of: $0) == nil }.compactMap(voucherID(of:))).sorted() {
        do {
            currencies[voucher] = try await voucherCurrency(voucher, client: client)
        } catch {
            guard error.isNotFound else { throw error }
        }
    }
    return currencies
}

/// Maker–checker actions as text: one block each, oldest first, with the
/// decoded arguments a checker approves; an amount in minor units reads as a
/// decimal of its voucher's currency when `currencies` knows it.
func renderPendingActions(_ actions: [ReceivableActionsAnswer.Action], organization: String, currencies: [String: String] = [:]) -> String {
    guard !actions.isEmpty else { return "no actions of \(organization) await approval\n" }
    var out = ""
    for action in actions {
        let when = Date(timeIntervalSince1970: Double(action.prepared.timeMs) / 1000).formatted(.iso8601)
        out += "\(action.id.hex)  \(action.operation)  \(action.status.rawValue)\n"
        let currency = ownCurrency(of: action) ?? voucherID(of: action).flatMap { currencies[$0] }
        for detail in action.details {
            if detail.name.hasSuffix("Minor"), let currency, let minor = Int64(detail.value) {
                out += "  \(AnswerText.withoutMinor(detail.name)): \(ReceivableTree.amount(minor, currency))\n"
            } else {
                out += "  \(detail.name): \(detail.value)\n"
            }
        }
        out += "  prepared by \(action.prepared.organization) (key \(action.prepared.signer.hex.prefix(16))…) at height \(action.prepared.height), \(when)\n"
        if let decided = action.decided {
            out += "  decided by \(decided.organization) (key \(decided.signer.hex.prefix(16))…) at height \(decided.height)\(action.reason.map { ": \($0)" } ?? "")\n"
        }
    }
    return out
}
