import ArgumentParser
import Contracts
import Dispatch
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeClient

struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Bank–enterprise balance reconciliation: outstanding items and the reconciliation statement.",
        subcommands: [Status.self, Report.self, DeprecatedWatch.self, DeprecatedRun.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's matched items, outstanding items by class and last confirmation.")
        @OptionGroup var options: NodeOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "Age outstanding items at this date (YYYY-MM-DD; default: the latest block's date).") var date: String?

        func validate() throws {
            if let date, CalendarDate(iso: Substring(date)) == nil { throw ValidationError("--date must be YYYY-MM-DD, got '\(date)'") }
        }

        func run() async throws {
            try await runReporting {
                var parameters = accountParameters(account, bank)
                if let date { parameters["date"] = date }
                try await queryAndPrint(options, contract: StatementsContract.name, "status", parameters)
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The balance reconciliation statement (余额调节表) of an account at a date.")
        @OptionGroup var options: NodeOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "YYYY-MM-DD.") var date: String

        func validate() throws {
            if CalendarDate(iso: Substring(date)) == nil { throw ValidationError("--date must be YYYY-MM-DD, got '\(date)'") }
        }

        func run() async throws {
            try await runReporting {
                let parameters = accountParameters(account, bank).merging(["date": date]) { $1 }
                if options.json {
                    try await queryAndPrint(options, contract: StatementsContract.name, "report", parameters)
                    return
                }
                let report = try await queryResult(options, contract: StatementsContract.name, "report", parameters,
                                                   as: ReconciliationReportAnswer.self)
                print(renderReconciliationTable(report), terminator: "")
            }
        }
    }

    /// `reconcile watch`, kept for one release: now `clearing job watch`.
    struct DeprecatedWatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "watch", abstract: "Renamed: use `consort clearing job watch`.",
                                                        shouldDisplay: false)
        @OptionGroup var job: ClearingJobCommand.Watch

        func run() async throws {
            printDeprecation(old: "reconcile watch", new: "clearing job watch")
            try await job.run()
        }
    }

    /// `reconcile run`, kept for one release: now `clearing job run`.
    struct DeprecatedRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Renamed: use `consort clearing job run`.",
                                                        shouldDisplay: false)
        @OptionGroup var job: ClearingJobCommand.Run

        func run() async throws {
            printDeprecation(old: "reconcile run", new: "clearing job run")
            try await job.run()
        }
    }
}

/// Prints the job's findings and resolutions as they are posted (one JSON object a line with --json).
func printJobEvent(json: Bool) -> @Sendable (ReconciliationJobEvent) -> Void {
    { event in
        switch event {
        case .started(let cursor, let resumed):
            if !json { print(resumed ? "resuming after height \(cursor)" : "starting at height \(cursor + 1)") }
        case .finding(let finding, let id, let delay):
            if json {
                var object: [String: Any] = ["event": "finding", "paymentId": finding.key.paymentID, "kind": finding.key.kind.rawValue,
                                             "side": finding.key.side.rawValue, "detectedAtHeight": finding.key.detectedAtHeight, "details": finding.details]
                if let id { object["transactionId"] = id.hex }
                if let delay { object["delayMs"] = delay }
                printJSONLine(object)
            } else {
                let posted = id.map { " posted \($0.short)…" } ?? ""
                print("finding \(finding.key.paymentID) \(finding.key.kind.rawValue) on \(finding.key.side.rawValue) side at height "
                      + "\(finding.key.detectedAtHeight)\(posted)\(delay.map { ", delay \($0) ms" } ?? ""): \(finding.details)")
            }
        case .resolution(let resolution, let id):
            if json {
                var object: [String: Any] = ["event": "resolution", "paymentId": resolution.key.paymentID, "kind": resolution.key.kind.rawValue,
                                             "side": resolution.key.side.rawValue, "resolvedAtHeight": resolution.resolvedAtHeight]
                if let id { object["transactionId"] = id.hex }
                printJSONLine(object)
            } else {
                print("resolved \(resolution.key.paymentID) \(resolution.key.kind.rawValue) on \(resolution.key.side.rawValue) side at height "
                      + "\(resolution.resolvedAtHeight)\(id.map { " posted \($0.short)…" } ?? ""): \(resolution.details)")
            }
        case .processed:
            break
        case .retrying(let reason, let afterMs):
            FileHandle.standardError.write(Data("warning: \(reason); retrying in \(afterMs) ms\n".utf8))
        }
    }
}

/// One compact JSON object on a line.
func printJSONLine(_ object: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), let text = String(data: data, encoding: .utf8) {
        print(text)
    }
}

/// Calls `stop` on the first SIGINT or SIGTERM; returns the signal sources to cancel when done.
func stopOnSignals(_ stop: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: stop)
        source.resume()
        return source
    }
}

/// The balance reconciliation statement (the statements contract's `report` answer) as a text table.
func renderReconciliationTable(_ report: ReconciliationReportAnswer) -> String {
    let bank = report.bank
    let book = report.book
    let rows: [(String, String, String, String)] = [
        ("Bank statement balance", bank.balance.amount, "Book balance", book.balance.amount),
        ("+ receipts booked, not at bank", bank.plusBookedReceiptsNotAtBank.amount, "+ bank credits not booked", book.plusBankCreditsNotBooked.amount),
        ("- payments booked, not at bank", bank.lessBookedPaymentsNotAtBank.amount, "- bank debits not booked", book.lessBankDebitsNotBooked.amount),
        ("Adjusted bank balance", bank.adjustedBalance.amount, "Adjusted book balance", book.adjustedBalance.amount),
    ]
    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
    let amountWidth = max(12, rows.map { max($0.1.count, $0.3.count) }.max() ?? 0)
    var out = "Balance reconciliation statement — account \(report.account), \(report.date), \(report.currency)\n"
    if let statement = report.bankBalanceStatement { out += "Bank balance from statement \(statement)\n" }
    out += pad("Bank side", 32) + pad("", amountWidth) + " | " + "Book side\n"
    for row in rows {
        out += pad(row.0, 32) + pad(row.1, amountWidth, right: true) + " | " + pad(row.2, 28) + pad(row.3, amountWidth, right: true) + "\n"
    }
    out += report.agrees ? "The adjusted balances agree.\n" : "The adjusted balances DO NOT agree: difference \(report.differenceMinor) minor units.\n"
    let discrepancies = report.statementDiscrepancies
    if !discrepancies.items.isEmpty {
        out += "Statement discrepancies (closing balances their lines do not explain): \(discrepancies.count), "
            + "total \(discrepancies.total.amount); difference beyond them \(report.differenceBeyondDiscrepanciesMinor) minor units\n"
        for item in discrepancies.items {
            out += "  statement \(item.statementID) closing \(item.closingDate) discrepancy \(item.difference.amount)\n"
        }
    }
    if report.ambiguousMatches > 0 {
        out += "Ambiguous matches to review: \(report.ambiguousMatches) (the matcher chose among equally good candidates; "
            + "`consort statement matches --ambiguous` lists them, `statement review-match` or `statement unmatch` settles each)\n"
    }
    for name in report.outstanding.keys.sorted() {
        guard let group = report.outstanding[name], !group.items.isEmpty else { continue }
        out += "Outstanding \(name.replacingOccurrences(of: "_", with: " ")): \(group.count) item(s), total \(group.total.amount)\n"
        for item in group.items {
            let risk = item.risk ? " RISK" : ""
            out += "  \(pad(item.id, 16)) \(item.date) \(pad(item.amount, amountWidth, right: true)) age \(item.ageDays) d\(risk)  \(item.text)\n"
        }
    }
    return out
}

/// Says on standard error that a command was renamed; the old spelling still works for one release.
private func printDeprecation(old: String, new: String) {
    FileHandle.standardError.write(Data("notice: `consort \(old)` is now `consort \(new)`; the old spelling will be removed in the next release\n".utf8))
}

/// The T+0 clearing reconciliation job: `watch` follows the chain, `run` covers a range once.
struct ClearingJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "The T+0 clearing reconciliation job: follow committed blocks and post the breaks found.",
        subcommands: [Watch.self, Run.self])

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the T+0 clearing reconciliation job: follow committed blocks, post findings and resolutions.",
            discussion: """
                The job's state (engine and cursor) is saved to --state once a block's posts have committed, at most every \
                --save-interval ms and when the job stops, by writing a temporary file, flushing it and renaming it; a killed job \
                restarts from it and re-processes the blocks after it, re-posting only what the contract ignores, so it neither \
                misses nor double-counts a block. \
                A corrupt state file, one from another chain, or one made under a different reconciliation configuration is refused. \
                On SIGINT or SIGTERM, and every --report-interval seconds, it prints the detection delay p50/p99.
                """)
        @OptionGroup var options: NodeOptions
        @Option(name: .long, help: "The key that signs findings (a bank or clearing house member, or a genesis reconciler).") var key: String
        @Option(name: .long, help: "The state file; created when missing.") var state: String
        @Option(name: .long, help: "First height to process when the state file does not exist yet (default 1).") var fromHeight: UInt64?
        @Option(name: .long, help: "Seconds between detection-delay reports (0: only at exit).") var reportInterval: UInt64 = 60
        @Option(name: .long, help: "Least milliseconds between two saves of the state file (0: after every block).") var saveInterval: UInt64 = ReconciliationJobDefaults.saveIntervalMs

        func validate() throws {
            if fromHeight == 0 { throw ValidationError("--from-height must be at least 1") }
            try ArgumentRanges.check(reportInterval, 0...ArgumentRanges.reportIntervalSecondsMax, "--report-interval (seconds)")
            try ArgumentRanges.check(saveInterval, 0...ArgumentRanges.saveIntervalMsMax, "--save-interval (ms)")
        }

        func run() async throws {
            try await runReporting {
                let signingKey = try KeyFile.read(key)
                let job = ReconciliationJob(client: try options.client(), key: signingKey,
                                            options: .init(statePath: state, fromHeight: fromHeight, saveIntervalMs: saveInterval), onEvent: printJobEvent(json: options.json))
                let watcher = Task { try await job.watch() }
                let signals = stopOnSignals { watcher.cancel() }
                let reporter = Task {
                    guard reportInterval > 0 else { return }
                    while !Task.isCancelled {
                        do { try await Task.sleep(nanoseconds: reportInterval * 1_000_000_000) } catch { return }
                        print(await job.delays.summary)
                    }
                }
                let outcome = await watcher.result
                reporter.cancel()
                signals.forEach { $0.cancel() }
                print(await job.delays.summary)
                if case .failure(let error) = outcome { throw CLIError("\(error)") }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reconcile a range of committed blocks once, printing the breaks found and posting them unless --dry-run.",
            discussion: "The engine starts empty at --from: records committed before it are unknown, so their later sides may show as breaks.")
        @OptionGroup var options: NodeOptions
        @Option(name: .long, help: "First height.") var from: UInt64
        @Option(name: .long, help: "Last height.") var to: UInt64
        @Option(name: .long, help: "The key that signs findings (not needed with --dry-run).") var key: String?
        @Flag(name: .long, help: "Only print the breaks; post nothing.") var dryRun = false

        func validate() throws {
            guard from >= 1, from <= to else { throw ValidationError("the range needs 1 ≤ --from ≤ --to") }
            if !dryRun && key == nil { throw ValidationError("posting findings needs --key; use --dry-run to only print them") }
        }

        func run() async throws {
            try await runReporting {
                let signingKey = try key.map { try KeyFile.read($0) }
                let job = ReconciliationJob(client: try options.client(), key: dryRun ? nil : signingKey,
                                            options: .init(statePath: nil, fromHeight: from, post: !dryRun), onEvent: printJobEvent(json: options.json))
                let outputs: [ReconciliationOutput]
                do throws(ReconciliationJobError) { outputs = try await job.run(from: from, to: to) } catch { throw error.isTransient ? CLIError.unreachable(error.message) : CLIError(error.message) }
                let findings = outputs.reduce(0) { $0 + $1.findings.count }
                let resolutions = outputs.reduce(0) { $0 + $1.resolutions.count }
                if !options.json {
                    print("heights \(from)…\(to): \(findings) finding(s), \(resolutions) resolution(s)\(dryRun ? " (dry run, nothing posted)" : "")")
                    if !dryRun { print(await job.delays.summary) }
                }
            }
        }
    }
}
