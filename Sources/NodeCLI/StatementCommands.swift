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

/// Reads a file the user named, as bytes, with a message naming it when it cannot be read.
func readInputFile(_ path: String, bytesMax: Int) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)", .badInput) }
    guard data.count <= bytesMax else { throw CLIError("\(path) is \(data.count) bytes, above the limit of \(bytesMax)", .badInput) }
    return Array(data)
}

/// Posts `calls` one after another from one key, waiting for each to commit
/// and printing its receipt. Stops at the first rejection, saying how many were posted.
func postInSequence(_ calls: [(label: String, call: ContractCall)], options: NodeOptions, keyFile: String, firstNonce: UInt64?, ttlSeconds: UInt64,
                    resumeHint: String? = nil) async throws {
    if let firstNonce, firstNonce.addingReportingOverflow(UInt64(calls.count)).overflow {
        throw CLIError("--nonce \(firstNonce) leaves no room for the \(calls.count) transactions to post", .badInput)
    }
    let client = try options.client()
    let key = try KeyFile.read(keyFile)
    var reports: [PostedItem] = []
    for (index, item) in calls.enumerated() {
        let nonce = firstNonce.map { $0 + UInt64(index) }
        let transaction = try await signedTransaction(item.call, key: key, client: client, nonce: nonce, ttlSeconds: ttlSeconds)
        try await client.submit(transaction)
        let answer = try await waitForCommit(transaction.id, client: client, timeoutSeconds: SigningOptions.defaultWaitSeconds)
        if options.json {
            reports.append(PostedItem(item: item.label, result: answer))
        } else {
            print("\(item.label):")
            printTransactionStatus(answer)
        }
        if answer.committed?.receipt.isSuccess != true {
            if options.json { try printJSON(reports) }
            throw CLIError("\(item.label) was rejected; \(index) of \(calls.count) posted before it, none after it" + (resumeHint.map { "; \($0)" } ?? ""))
        }
    }
    if options.json { try printJSON(reports) }
}

/// Whether a statement or report of a file is on the ledger already: an
/// import posts only what is absent, and refuses the whole file, before
/// posting anything, when an id is taken by other content.
enum LedgerCopy {
    case absent
    case same(height: Int64)
    case different(label: String, height: Int64)

    /// Looks `label` up by `query` and compares the ledger's digest with `digest`.
    static func find(_ label: String, account: String, bank: String, query: String, _ parameters: [String: String], digest: Hash,
                     client: NodeClient) async throws -> LedgerCopy {
        guard try await answer(client, "account", ["account": account, "bank": bank]) != nil else {
            throw CLIError("account '\(account)' is not registered by '\(bank)', so nothing from the file was posted; "
                + "fix: the account's bank registers it first: `consort statement register-account` with --account, --enterprise and --currency", .badInput)
        }
        var all = parameters
        all["account"] = account
        all["bank"] = bank
        guard let found = try await answer(client, query, all) else { return .absent }
        let height = found["posted"]?["height"]?.intValue ?? 0
        return found["digest"]?.stringValue == digest.hex ? .same(height: height) : .different(label: label, height: height)
    }

    /// A statements query's result; nil when the node answers 404 (not found).
    private static func answer(_ client: NodeClient, _ query: String, _ parameters: [String: String]) async throws -> JSONValue? {
        let result: Result<JSONValue, NodeClientError>
        do {
            result = .success(try await client.query(contract: StatementsContract.name, query, parameters: parameters).result)
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let value): return value
        case .failure(.api(status: 404, _, _)): return nil
        case .failure(let error): throw error
        }
    }

    /// The calls still to post, saying which are already on the ledger;
    /// refuses the file when an id holds other content.
    static func remaining(_ calls: [(label: String, call: ContractCall)], _ copies: [LedgerCopy],
                          fileName: String) throws -> [(label: String, call: ContractCall)] {
        let conflicts = copies.compactMap { copy -> String? in
            if case .different(let label, let height) = copy { return "\(label) (posted at height \(height))" }
            return nil
        }
        guard conflicts.isEmpty else {
            throw CLIError("\(fileName): other content is already on the ledger under the id of \(conflicts.joined(separator: ", ")); "
                + "nothing from the file was posted. A correction is a new statement: `consort statement import` with --corrects", .badInput)
        }
        var remaining: [(label: String, call: ContractCall)] = []
        for (call, copy) in zip(calls, copies) {
            if case .same(let height) = copy {
                print("\(call.label): already on the ledger (height \(height)), skipped")
            } else {
                remaining.append(call)
            }
        }
        return remaining
    }
}

/// One posted call in the `--json` output of ``postInSequence(_:options:keyFile:firstNonce:ttlSeconds:)``.
struct PostedItem: Encodable {
    let item: String
    let result: TransactionStatusAnswer
}

struct StatementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statement",
        abstract: "Bank statements (MT940, camt.053): import, accounts, balance confirmation and disputes.",
        subcommands: [Import.self, RegisterAccountCommand.self, AcceptAccountCommand.self, Confirm.self, Dispute.self, Resolve.self, Match.self, Unmatch.self,
                      ReviewMatch.self, Matches.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a SWIFT MT940/MT942 or ISO 20022 camt.053/camt.052 file (bank key), one transaction per statement or report.",
            discussion: """
                The whole file is parsed and checked first; a file with any error is rejected with the file, line or element and \
                the reason, and nothing from it is posted. What the importer normalised (bank header lines, amounts without a \
                decimal comma, impossible dates, balances in another currency, …) is printed as a warning with its place in the file. \
                A statement whose opening balance plus lines does not give its closing balance is posted with the difference \
                recorded as its discrepancy, and a camt.053 statement without a closing balance with opening plus lines as its \
                closing balance; --strict refuses both. MT942 and camt.052 intraday reports are posted as intraday reports, whose \
                lines are not matched. With --dry-run nothing is submitted and no node or key is needed.
                """)

        @Argument(help: "The statement file.") var file: String
        @Option(name: .long, help: "The registered account to post to (default: the account named in each statement).") var account: String?
        @Option(name: .long, help: "The id of an earlier statement the (single) statement of this file corrects.") var corrects: String?
        @Flag(name: .long, help: "Only parse and validate; print the statements, submit nothing.") var dryRun = false
        @Flag(name: .long, help: "Refuse a file with a statement whose balances do not add up, lack a closing balance or are in another currency.")
        var strict = false
        @OptionGroup var options: NodeOptions
        @Option(name: .long, help: "The bank's key file (not needed with --dry-run).") var key: String?
        @Option(name: .long, help: "Nonce of the first transaction (default: from the node).") var nonce: UInt64?
        @Option(name: .long, help: "Seconds until each transaction expires.") var ttl: UInt64 = 600

        func validate() throws {
            if !dryRun && key == nil { throw ValidationError("posting needs --key (the bank's key file); use --dry-run to only check the file") }
            try ArgumentRanges.check(ttl, 1...ArgumentRanges.ttlSecondsMax, "--ttl (seconds)")
        }

        func run() async throws {
            try await runReporting {
                let bytes = try readInputFile(file, bytesMax: 64 * 1024 * 1024)
                let statements: [ParsedStatement]
                let postings: [StatementImporter.Posting?]
                do {
                    statements = try StatementImporter.parse(fileContents: bytes, fileName: file)
                    postings = try StatementImporter.postings(statements, fileName: file, account: account, corrects: corrects, strict: strict)
                } catch {
                    throw CLIError("\(error)", .badInput)
                }
                if dryRun {
                    if options.json {
                        print(StatementImporter.renderJSON(statements))
                    } else {
                        for statement in statements { printStatementSummary(statement) }
                        print("\(file): \(importCountsSummary(statements)); nothing submitted (dry run)")
                    }
                    return
                }
                if let unpostable = postings.firstIndex(where: { $0 == nil }) {
                    throw CLIError("\(StatementImporter.notPostable(statements[unpostable], fileName: file))", .badInput)
                }
                for warning in statements.flatMap(\.warnings) {
                    FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
                }
                guard let key else { throw CLIError("posting needs --key", .badInput) }
                var calls: [(label: String, call: ContractCall)] = []
                var copies: [LedgerCopy] = []
                let client = try options.client()
                let signer = try KeyFile.read(key).publicKey
                guard let bank = try await client.nonces(of: signer).organization else {
                    throw CLIError("key \(signer.hex) belongs to no organization of this consortium", .badInput)
                }
                for (statement, posting) in zip(statements, postings) {
                    switch posting {
                    case .statement(let arguments):
                        let label = "statement \(arguments.statementID) of \(arguments.account)"
                        copies.append(try await LedgerCopy.find(label, account: arguments.account, bank: bank, query: "statement",
                                                                ["statementId": arguments.statementID], digest: arguments.digest, client: client))
                        calls.append((label + balanceNote(statement), StatementsContract.call(.postStatement, arguments)))
                    case .intradayReport(let arguments):
                        let label = "intraday report \(arguments.reportID) of \(arguments.account)"
                        copies.append(try await LedgerCopy.find(label, account: arguments.account, bank: bank, query: "intradayReport",
                                                                ["reportId": arguments.reportID], digest: arguments.digest, client: client))
                        calls.append((label, StatementsContract.call(.postIntradayReport, arguments)))
                    case nil:
                        break
                    }
                }
                let toPost = try LedgerCopy.remaining(calls, copies, fileName: file)
                guard !toPost.isEmpty else {
                    print("\(file): every statement and report is already on the ledger; nothing submitted")
                    return
                }
                try await postInSequence(toPost, options: options, keyFile: key, firstNonce: nonce, ttlSeconds: ttl,
                                         resumeHint: "run the same command again to post the rest: what is already on the ledger is recognised and skipped")
            }
        }
    }

    struct RegisterAccountCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register-account", abstract: "Declare an account the bank holds for an enterprise (bank key).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long, help: "Account number (IBAN or domestic).") var account: String
        @Option(name: .long, help: "The enterprise organization's id.") var enterprise: String
        @Option(name: .long, help: "ISO 4217 currency of the account.") var currency: String
        @Option(name: .long, help: "Days amount matching may look either side (0…31; default: genesis).") var dateToleranceDays: UInt32?
        @Flag(name: .long, help: "Allow one line against several book entries and the reverse.") var allowSplit = false
        @Option(name: .long, help: "Most items on the many side of a split (2…64).") var splitGroupMax: UInt32 = 8
        @Option(name: .long, help: "Largest bank fee a receipt may lack, a decimal in the currency (e.g. 2.50).") var feeTolerance: String = "0"

        /// The fee tolerance in minor units of the account's currency.
        private var feeToleranceMinor: Int64 {
            get throws {
                let minor = try parseAmount(feeTolerance, currency: currency, option: "--fee-tolerance", allowingZero: true)
                guard minor <= UInt64(StatementsLimits.feeToleranceMinorMax) else {
                    throw CLIError("--fee-tolerance '\(feeTolerance)' is above the most a fee may be, \(ISO4217.decimalString(StatementsLimits.feeToleranceMinorMax, exponent: ISO4217.exponent(of: currency) ?? 2)) \(currency)", .badInput)
                }
                return Int64(minor)
            }
        }

        func validate() throws {
            let chosen = MatchingRules(dateToleranceDays: dateToleranceDays ?? 3, allowSplit: allowSplit, splitGroupMax: splitGroupMax,
                                       feeToleranceMinor: try validating { try feeToleranceMinor })
            if let problem = chosen.problem { throw ValidationError(problem) }
        }

        func run() async throws {
            try await runReporting {
                var rules: MatchingRules?
                let feeToleranceMinor = try self.feeToleranceMinor
                if dateToleranceDays != nil || allowSplit || feeToleranceMinor != 0 {
                    let chosen = MatchingRules(dateToleranceDays: dateToleranceDays ?? 3, allowSplit: allowSplit, splitGroupMax: splitGroupMax,
                                               feeToleranceMinor: feeToleranceMinor)
                    if let problem = chosen.problem { throw CLIError(problem, .badInput) }
                    rules = chosen
                }
                let arguments = RegisterAccount(account: account, enterpriseID: enterprise, currency: currency, rules: rules)
                try await submitAndReport(StatementsContract.call(.registerAccount, arguments), options: options, signing: signing)
            }
        }
    }

    struct AcceptAccountCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept-account",
            abstract: "Accept a bank's registration of your account (enterprise key); until then your operations do not reach it.",
            discussion: "A bank that registers an account number for you without holding it reaches nothing: only the registrations you accept carry your books, confirmations and matches.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long, help: "The account number.") var account: String
        @Option(name: .long, help: "The bank that registered it and holds it.") var bank: String

        func run() async throws {
            try await runReporting {
                try await submitAndReport(StatementsContract.call(.acceptAccount, AcceptAccount(account: account, bank: bank)), options: options, signing: signing)
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm a statement's closing balance (enterprise key).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "The statement id.") var statement: String
        @Option(name: .long, parsing: .unconditional, help: "The closing booked balance as the statement states it, a decimal in the account's currency (e.g. 20.00; -250.00 when overdrawn).") var balance: String

        func validate() throws {
            try checkDecimalAmount(balance, option: "--balance", signed: true)
        }

        func run() async throws {
            try await runReporting {
                let currency = try await accountCurrency(account, bank: bank, options: options)
                let balanceMinor = try parseSignedAmount(balance, currency: currency, option: "--balance")
                let arguments = ConfirmBalance(account: account, statementID: statement, closingBalanceMinor: balanceMinor, bank: bank)
                try await submitAndReport(StatementsContract.call(.confirmBalance, arguments), options: options, signing: signing)
            }
        }
    }

    struct Dispute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dispute a statement's closing balance (enterprise key).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "The statement id.") var statement: String
        @Option(name: .long, help: "Why the balance is disputed.") var reason: String
        @Option(name: .long, parsing: .unconditional, help: "The balance the enterprise's books show, a decimal in the account's currency (negative when overdrawn).") var claimed: String?

        func validate() throws {
            try checkDecimalAmount(claimed, option: "--claimed", signed: true)
        }

        func run() async throws {
            try await runReporting {
                var claimedMinor: Int64?
                if let claimed {
                    claimedMinor = try parseSignedAmount(claimed, currency: try await accountCurrency(account, bank: bank, options: options), option: "--claimed")
                }
                let arguments = DisputeBalance(account: account, statementID: statement, reason: reason, claimedBalanceMinor: claimedMinor, bank: bank)
                try await submitAndReport(StatementsContract.call(.disputeBalance, arguments), options: options, signing: signing)
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an open dispute with a signed note (bank or enterprise key).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "The statement id.") var statement: String
        @Option(name: .long, help: "How the dispute was resolved.") var resolution: String

        func run() async throws {
            try await runReporting {
                let arguments = ResolveDispute(account: account, statementID: statement, resolution: resolution, bank: bank)
                try await submitAndReport(StatementsContract.call(.resolveDispute, arguments), options: options, signing: signing)
            }
        }
    }
}

/// One paragraph per statement or report for `statement import --dry-run` without --json, its warnings included.
func printStatementSummary(_ statement: ParsedStatement) {
    let exponent = ISO4217.exponent(of: statement.currency) ?? 2
    func money(_ balance: ParsedBalance?) -> String {
        guard let balance else { return "-" }
        return "\(ISO4217.decimalString(balance.amountMinor, exponent: exponent)) on \(balance.date)"
    }
    let kind = statement.kind == .statement ? "statement" : statement.kind == .intradayReport ? "intraday report" : "notification"
    print("\(statement.format.rawValue) \(kind) \(statement.statementID)\(statement.sequence.map { " seq \($0)" } ?? "") account \(statement.account) \(statement.currency)")
    print("  opening \(money(statement.openingBooked)), closing \(money(statement.closingBooked)), "
          + "\(statement.lines.count) lines totalling \(ISO4217.decimalString(statement.linesTotalMinor, exponent: exponent))\(balanceNote(statement))")
    for balance in statement.foreignCurrencyBalances {
        let foreignExponent = ISO4217.exponent(of: balance.balance.currency) ?? 2
        print("  foreign-currency \(balance.name) \(ISO4217.decimalString(balance.balance.amountMinor, exponent: foreignExponent)) \(balance.balance.currency) on \(balance.balance.date)")
    }
    for warning in statement.warnings { print("  warning: \(warning.location): \(warning.reason)") }
}

/// ` (discrepancy 0.01 EUR recorded)` or ` (closing balance derived …)` for a statement whose balances do not simply agree, else "".
func balanceNote(_ statement: ParsedStatement) -> String {
    let exponent = ISO4217.exponent(of: statement.currency) ?? 2
    switch statement.balanceCheck {
    case .agrees: return ""
    case .discrepancy(let difference):
        return " (closing balance minus opening plus lines: discrepancy of \(ISO4217.decimalString(difference, exponent: exponent)) \(statement.currency) recorded)"
    case .closingDerived: return " (no closing balance in the file: opening plus lines taken as closing)"
    }
}

/// `2 statement(s) valid`, `1 statement(s) and 1 intraday report(s) valid, with 3 warning(s)`.
func importCountsSummary(_ statements: [ParsedStatement]) -> String {
    var parts: [String] = []
    let statementCount = statements.filter { $0.kind == .statement }.count
    if statementCount > 0 || statements.allSatisfy({ $0.kind == .statement }) { parts.append("\(statementCount) statement(s)") }
    let reports = statements.filter { $0.kind == .intradayReport }.count
    if reports > 0 { parts.append("\(reports) intraday report(s)") }
    let notifications = statements.filter { $0.kind == .notification }.count
    if notifications > 0 { parts.append("\(notifications) notification(s) (shown, not postable)") }
    let warnings = statements.reduce(0) { $0 + $1.warnings.count }
    return parts.joined(separator: " and ") + " valid" + (warnings > 0 ? ", with \(warnings) warning(s)" : "")
}

struct BooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "books", abstract: "The enterprise's book entries.", subcommands: [Import.self, Correct.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import book entries from CSV (enterprise key), in batches.",
            discussion: """
                Header (any order, case-insensitive): entry_id,date,amount,currency and optionally reference,counterparty,memo,reversal. \
                date is YYYY-MM-DD; amount a signed decimal with '.' (negative = payment); reversal true/false. \
                Any bad line rejects the whole file and nothing is posted.
                """)
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The CSV file.") var file: String
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "Batch id prefix; batches are <id>-1, <id>-2, … (default: the file's name).") var batchId: String?
        @Option(name: .long, help: "Entries per batch (1…10000).") var batchSize: Int = 1000
        @Option(name: .long, parsing: .unconditional, help: "The books' balance before the first entry, a decimal in the entries' currency (negative when overdrawn; only for an account without entries).") var openingBalance: String?

        func validate() throws {
            guard (1...StatementsLimits.entriesPerBatchMax).contains(batchSize) else {
                throw ValidationError("--batch-size must be 1 to \(StatementsLimits.entriesPerBatchMax)")
            }
            try checkDecimalAmount(openingBalance, option: "--opening-balance", signed: true)
        }

        func run() async throws {
            try await runReporting {
                let bytes = try readInputFile(file, bytesMax: StatementsLimits.booksCSVFileBytesMax)
                let entries: [BookEntryInput]
                do { entries = try BooksCSVReader.parse(fileContents: bytes, fileName: file) } catch { throw CLIError("\(error)", .badInput) }
                guard !entries.isEmpty else { throw CLIError("\(file) holds no entries", .badInput) }
                let openingBalanceMinor = try openingBalance.map { try parseSignedAmount($0, currency: entries[0].currency, option: "--opening-balance") }
                let prefix = batchId ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
                var batches = BooksCSVReader.batches(entries, account: account, batchID: prefix, openingBalanceMinor: openingBalanceMinor, entriesPerBatch: batchSize)
                for position in batches.indices { batches[position].bank = bank }
                try await postInSequence(batches.map { ("batch \($0.batchID) (\($0.entries.count) entries)", StatementsContract.call(.postBookEntries, $0)) },
                                         options: options, keyFile: signing.key, firstNonce: signing.nonce, ttlSeconds: signing.ttl,
                                         resumeHint: "run the same command again to post the rest: batches and entries already on the ledger are recognised and skipped")
            }
        }
    }
}
