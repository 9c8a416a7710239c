import NIOHTTP1
import Foundation
import Testing
import Contracts
import Ledger
import ConsortTesting
@testable import Bench
import LedgerCore
@testable import Node
import NodeAPI
@testable import NodeClient
@testable import NodeCLI

/// The repository root, the project's statement fixtures and the built binary.
enum RepositoryPaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/consort")
    /// The statement files the project ships (the contracts tests' fixtures).
    static let statementFixtures = root.appendingPathComponent("Tests/ContractsTests/Fixtures/Statements")

    static func fixture(_ relative: String) -> String { statementFixtures.appendingPathComponent(relative).path }

    /// A folder of sample statement files, used when it exists: `CONSORT_STATEMENT_SAMPLES`, else `shared/samples` beside the checkout.
    static let samples: URL = {
        if let configured = ProcessInfo.processInfo.environment["CONSORT_STATEMENT_SAMPLES"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        return root.deletingLastPathComponent().appendingPathComponent("shared/samples")
    }()

    static var samplesAvailable: Bool { FileManager.default.fileExists(atPath: samples.path) }
}

/// Runs the built `consort` binary and returns its exit code, stdout and stderr.
func runConsort(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    try runToEnd(RepositoryPaths.binary, arguments, environment: ["CONSORT_NODE": "http://127.0.0.1:1"])
}

/// The message argument parsing gives for `arguments`, or nil when they parse.
func parseError(_ arguments: [String]) -> String? {
    do {
        _ = try Consort.parseAsRoot(arguments)
        return nil
    } catch {
        return Consort.message(for: error)
    }
}

@Suite struct ReconcileCommandArgumentTests {
    @Test func statementImport_withoutKeyOrDryRun_asksForKey() {
        #expect(parseError(["statement", "import", "file.sta"])?.contains("--key") == true)
        #expect(parseError(["statement", "import", "file.sta", "--dry-run", "--json"]) == nil)
        #expect(parseError(["statement", "import", "file.sta", "--key", "k", "--account", "A", "--corrects", "S1"]) == nil)
    }

    @Test func booksImport_batchSizeOutOfRange_isRefused() {
        #expect(parseError(["books", "import", "b.csv", "--account", "A", "--key", "k", "--batch-size", "0"])?.contains("--batch-size") == true)
        #expect(parseError(["books", "import", "b.csv", "--key", "k"])?.contains("--account") == true)
    }

    @Test func reconcileReport_badDate_isRefused() {
        #expect(parseError(["reconcile", "report", "--account", "A", "--date", "2026-13-01"])?.contains("YYYY-MM-DD") == true)
        #expect(parseError(["reconcile", "report", "--account", "A"])?.contains("--date") == true)
        #expect(parseError(["reconcile", "status", "--account", "A", "--json"]) == nil)
    }

    /// The clearing job has its own group; the old `reconcile watch|run` spellings still parse the same options.
    @Test(arguments: [["clearing", "job"], ["reconcile"]])
    func clearingJobWatch_needsKeyAndState(group: [String]) {
        #expect(parseError(group + ["watch", "--state", "s"])?.contains("--key") == true)
        #expect(parseError(group + ["watch", "--key", "k"])?.contains("--state") == true)
        #expect(parseError(group + ["watch", "--key", "k", "--state", "s", "--from-height", "0"])?.contains("--from-height") == true)
        #expect(parseError(group + ["watch", "--key", "k", "--state", "s", "--from-height", "5"]) == nil)
    }

    @Test(arguments: [["clearing", "job"], ["reconcile"]])
    func clearingJobRun_rangeAndKeyAreChecked(group: [String]) {
        #expect(parseError(group + ["run", "--from", "5", "--to", "3", "--dry-run"])?.contains("--from") == true)
        #expect(parseError(group + ["run", "--from", "1", "--to", "3"])?.contains("--key") == true)
        #expect(parseError(group + ["run", "--from", "1", "--to", "3", "--dry-run"]) == nil)
    }

    @Test func oldJobSpelling_printsWhereTheCommandMoved_andHelpShowsOnlyTheNewOne() throws {
        let old = try runConsort(["reconcile", "run", "--from", "1", "--to", "1", "--dry-run"])
        #expect(old.err.contains("`consort reconcile run` is now `consort clearing job run`"), "\(old.err)")
        let help = try runConsort(["reconcile", "--help"])
        #expect(!help.out.contains("watch") && !help.out.contains("run "), "\(help.out)")
        let jobHelp = try runConsort(["clearing", "job", "--help"])
        #expect(jobHelp.out.contains("watch") && jobHelp.out.contains("run"))
    }

    @Test func clearingCommands_parseTheirOptions() {
        #expect(parseError(["clearing", "update", "--payment", "P", "--status", "settled", "--amount", "1.00", "--key", "k"])?.contains("--currency") == true)
        #expect(parseError(["clearing", "breaks", "--participant", "bankA", "--open"]) == nil)
        #expect(parseError(["clearing", "position"])?.contains("--cycle") == true)
        #expect(parseError(["clearing", "cycle", "close", "C1", "--force", "--key", "k"]) == nil)
        #expect(parseError(["clearing", "cycle", "sign", "C1", "--key", "k"]) == nil)
    }

    @Test func clearingValues_badInputSaysWhatIsWrong() throws {
        #expect(throws: CLIError.self) { try parsePaymentStatus("done") }
        #expect(try parseAmount("15.50", currency: "CNY") == 1550)
        #expect(try parseAmount("100", currency: "JPY") == 100)
        let negative = #expect(throws: CLIError.self) { try parseAmount("-1.00", currency: "CNY") }
        #expect(negative?.status == .badInput)
        #expect(throws: CLIError.self) { try parseAmount("1.00", currency: "XYZW") }
        let account = #expect(throws: CLIError.self) { try parseAccountRef("bankA", "--payer") }
        #expect(account?.message.contains("INSTITUTION:ACCOUNT") == true)
        #expect(try parseAccountRef("bankA:001:x", "--payer").account == "001:x")
    }

    private static func money(_ minor: Int64) -> MoneyAnswer {
        MoneyAnswer(minor: minor, amount: ISO4217.decimalString(minor, exponent: 2))
    }

    private static func report(agrees: Bool, differenceMinor: Int64, differenceBeyondDiscrepanciesMinor: Int64 = 0,
                               discrepancies: [ReconciliationReportAnswer.Discrepancy] = [],
                               outstanding: [String: ReconciliationReportAnswer.OutstandingGroup] = [:]) -> ReconciliationReportAnswer {
        ReconciliationReportAnswer(
            account: "A", date: "2026-01-31", currency: "CNY", bankBalanceStatement: nil,
            bank: .init(balance: money(10_000), plusBookedReceiptsNotAtBank: money(500), lessBookedPaymentsNotAtBank: money(0),
                        adjustedBalance: money(10_500)),
            book: .init(balance: money(9_500), plusBankCreditsNotBooked: money(500), lessBankDebitsNotBooked: money(0), adjustedBalance: money(10_000)),
            agrees: agrees, differenceMinor: differenceMinor,
            statementDiscrepancies: .init(count: Int64(discrepancies.count), total: money(discrepancies.reduce(0) { $0 + $1.difference.minor }),
                                          items: discrepancies),
            differenceBeyondDiscrepanciesMinor: differenceBeyondDiscrepanciesMinor, outstanding: outstanding, matchedGroups: 0, ambiguousMatches: 0, riskItems: 0)
    }

    @Test func reconciliationTable_showsBothSidesAndTheVerdict() {
        let item = OutstandingItemAnswer(side: "book", id: "E1", itemClass: OutstandingClass.bookedReceiptNotAtBank.rawValue, amountMinor: 500,
                                         amount: "5.00", date: "2026-01-30", ageDays: 1, risk: false, text: "memo", feeDifference: false,
                                         reference: nil, counterparty: nil)
        let table = renderReconciliationTable(Self.report(
            agrees: false, differenceMinor: 500,
            outstanding: [OutstandingClass.bookedReceiptNotAtBank.rawValue: .init(count: 1, total: Self.money(500), items: [item]),
                          OutstandingClass.bankDebitedNotBooked.rawValue: .init(count: 0, total: Self.money(0), items: [])]))
        #expect(table.contains("Adjusted bank balance"))
        #expect(table.contains("105.00"))
        #expect(table.contains("DO NOT agree: difference 500 minor units"))
        #expect(table.contains("account A, 2026-01-31, CNY"))
        #expect(table.contains("Outstanding booked receipt not at bank: 1 item(s), total 5.00"))
        #expect(!table.contains("bank debited not booked"))
        #expect(table.contains("E1"))
        #expect(table.contains("2026-01-30"))
        #expect(table.contains("age 1 d"))
        #expect(!table.contains("Statement discrepancies"))
    }

    @Test func reconciliationTable_listsStatementDiscrepancies() {
        let discrepancy = ReconciliationReportAnswer.Discrepancy(statementID: "UNBALANCED-1", closingDate: "2026-03-06", difference: Self.money(-1))
        let table = renderReconciliationTable(Self.report(agrees: false, differenceMinor: -1, discrepancies: [discrepancy]))
        #expect(table.contains("Statement discrepancies (closing balances their lines do not explain): 1, total -0.01; difference beyond them 0 minor units"))
        #expect(table.contains("statement UNBALANCED-1 closing 2026-03-06 discrepancy -0.01"))
    }
}

@Suite struct StatementImportDryRunTests {
    static func statements(_ output: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
    }

    @Test(arguments: ["mt940/plain.sta", "mt940/swift-envelope.sta", "camt/camt053-two-statements.xml"])
    func dryRunJSON_goodFile_printsEveryStatement(file: String) throws {
        let result = try runConsort(["statement", "import", RepositoryPaths.fixture(file), "--dry-run", "--json"])
        #expect(result.status == 0, "\(result.err)")
        let statements = try Self.statements(result.out)
        #expect(!statements.isEmpty)
        for statement in statements {
            #expect(statement["statementId"] is String)
            #expect(statement["openingBooked"] is [String: Any])
            #expect(statement["postAs"] as? String == "statement")
            #expect((statement["warnings"] as? [Any])?.isEmpty == true)
            let lines = statement["lines"] as? [[String: Any]] ?? []
            #expect(lines.count == statement["lineCount"] as? Int)
            let total = lines.reduce(0) { $0 + ($1["amountMinor"] as? Int ?? 0) }
            let opening = (statement["openingBooked"] as? [String: Any])?["amountMinor"] as? Int ?? 0
            let closing = (statement["closingBooked"] as? [String: Any])?["amountMinor"] as? Int ?? 0
            #expect(opening + total == closing)
        }
    }

    @Test func dryRunJSON_showsWarningsAndTheDiscrepancy() throws {
        let result = try runConsort(["statement", "import", RepositoryPaths.fixture("mt940/unbalanced.sta"), "--dry-run", "--json"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.isEmpty)
        let statement = try #require(try Self.statements(result.out).first)
        let check = statement["balanceCheck"] as? [String: Any]
        #expect(check?["result"] as? String == "discrepancy" && check?["differenceMinor"] as? Int == -1)
        let warnings = statement["warnings"] as? [[String: Any]] ?? []
        #expect(warnings.map { $0["kind"] as? String } == ["discrepancy"])
        #expect(warnings.first?["location"] as? String == "line 7")
    }

    @Test func dryRun_text_listsWarningsUnderTheirStatement() throws {
        let result = try runConsort(["statement", "import", RepositoryPaths.fixture("mt940/bank-header-lines.sta"), "--dry-run"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("  warning: line 3: '940' is not a field; skipped as the bank's header line declaring message type 940"))
        #expect(result.out.contains("2 statement(s) valid, with 5 warning(s); nothing submitted (dry run)"))
        let report = try runConsort(["statement", "import", RepositoryPaths.fixture("mt942/interim-report.sta"), "--dry-run"])
        #expect(report.out.contains("mt942 intraday report INTRADAY-0305-1"))
        #expect(report.out.contains("2 intraday report(s) valid, with 1 warning(s)"))
    }

    @Test func dryRun_strict_refusesAnUnbalancedStatementAsBefore() throws {
        let result = try runConsort(["statement", "import", RepositoryPaths.fixture("mt940/unbalanced.sta"), "--dry-run", "--strict"])
        #expect(result.status == 2)
        #expect(result.err.contains("unbalanced.sta: line 7: statement 'UNBALANCED-1': opening balance 1000.00 plus 2 line(s) totalling -50.00 gives 950.00, but the closing balance is 949.99 EUR"))
        #expect(result.out.isEmpty)
        #expect(try runConsort(["statement", "import", RepositoryPaths.fixture("mt940/plain.sta"), "--dry-run", "--strict"]).status == 0)
    }

    @Test func dryRun_brokenFile_failsWithExitCode2NamingFileAndLine() throws {
        let result = try runConsort(["statement", "import", RepositoryPaths.fixture("mt940/field-out-of-place.sta"), "--dry-run", "--json"])
        #expect(result.status == 2)
        #expect(result.err.contains("field-out-of-place.sta"))
        #expect(result.err.contains("line 6"))
        #expect(result.out.isEmpty)
    }

    @Test func dryRun_brokenCamt_namesTheElement() throws {
        let result = try runConsort(["statement", "import", RepositoryPaths.fixture("camt/camt053-no-statement.xml"), "--dry-run"])
        #expect(result.status == 2)
        #expect(result.err.contains("camt053-no-statement.xml"))
        #expect(result.err.contains("Document/BkToCstmrStmt"))
    }

    @Test(.enabled(if: RepositoryPaths.samplesAvailable, "the statement samples folder is not there"))
    func dryRunJSON_sampleFiles_whenPresent() throws {
        for file in ["mt940/cmxl/mt940.sta", "camt/genkgo/camt053.v2.multi.statement.xml", "camt/genkgo/camt052.v2.xml"] {
            let result = try runConsort(["statement", "import", RepositoryPaths.samples.appendingPathComponent(file).path, "--dry-run", "--json"])
            #expect(result.status == 0, "\(file): \(result.err)")
            #expect(try !Self.statements(result.out).isEmpty, "\(file)")
        }
    }

    @Test func import_missingFile_isBadInput() throws {
        let result = try runConsort(["statement", "import", "/nonexistent/x.sta", "--dry-run"])
        #expect(result.status == 2)
        #expect(result.err.contains("cannot read /nonexistent/x.sta"))
    }

    @Test func booksImport_badCSV_isRejectedBeforeAnyNodeContact() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("books-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("entry_id,date,amount,currency\nE1,2026-01-02,10.00,CNY\nE2,2026-02-30,1.00,CNY\n".utf8).write(to: URL(fileURLWithPath: path))
        let result = try runConsort(["books", "import", path, "--account", "A", "--key", "/nonexistent/key"])
        #expect(result.status == 2)
        #expect(result.err.contains("line 3"))
    }
}

/// Runs the binary off the cooperative pool, so that an in-process API server keeps serving meanwhile.
func runConsortAsync(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
    try await offPool { try runConsort(arguments) }
}

/// Runs `body` on a thread of its own rather than one of the cooperative
/// pool's few, so that waiting for a child does not stall in-process servers.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

@Suite(.serialized) struct StatementImportPostingTests {
    static let account = "NL72CNST0123456789"

    /// A chain where bankA holds the fixtures' camt account for acme, served by an in-process API.
    static func withChain(_ body: (CommittingBackend, String, String) async throws -> Void) async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank), ("acme", .enterprise)], genesisTimestampMs: wallClockMs())
        try #require(try chain.submit("bankA", StatementsContract.call(.registerAccount, RegisterAccount(account: account, enterpriseID: "acme", currency: "EUR"))).isSuccess)
        try #require(try chain.submit("acme", StatementsContract.call(.acceptAccount, AcceptAccount(account: account, bank: "bankA"))).isSuccess)
        let keyPath = FileManager.default.temporaryDirectory.appendingPathComponent("bank-\(UUID().uuidString).key").path
        defer { try? FileManager.default.removeItem(atPath: keyPath) }
        try KeyFile.write(chain.member("bankA").key, to: keyPath)
        let backend = CommittingBackend(chain: chain)
        try await withAPIServer(backend) { client in try await body(backend, client.baseURL, keyPath) }
    }

    /// A query's `result`, parsed loosely, for checks on a few fields.
    static func query(_ url: String, _ path: String) async throws -> Any? {
        let response = try await NodeClient(baseURL: url).request(.GET, path)
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["result"]
    }

    @Test func import_camtFile_postsEveryStatementAndReportsEachReceipt() async throws {
        try await Self.withChain { backend, url, keyPath in
            let result = try await runConsortAsync(["statement", "import", RepositoryPaths.fixture("camt/camt053-two-statements.xml"), "--key", keyPath, "--node", url])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("statement CNST-20260114-EUR"))
            #expect(result.out.contains("statement CNST-20260115-EUR"))
            #expect((try await Self.query(url, "/v1/query/statements/statements?account=\(Self.account)") as? [Any])?.count == 2)
        }
    }

    @Test func reconcileReport_ofPostedStatements_printsTheTableFromTheTypedAnswer() async throws {
        try await Self.withChain { backend, url, keyPath in
            let posted = try await runConsortAsync(["statement", "import", RepositoryPaths.fixture("camt/camt053-two-statements.xml"), "--key", keyPath, "--node", url])
            #expect(posted.status == 0, "\(posted.err)")
            let result = try await runConsortAsync(["reconcile", "report", "--account", Self.account, "--date", "2026-01-31", "--node", url])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("Balance reconciliation statement — account \(Self.account), 2026-01-31, EUR"))
            #expect(result.out.contains("Bank balance from statement CNST-20260115-EUR"))
            #expect(result.out.contains("Adjusted bank balance"))
            #expect(result.out.contains("Outstanding bank "))
        }
    }

    @Test func import_unbalancedFile_postsItWithItsDiscrepancyAndSaysSo() async throws {
        try await Self.withChain { backend, url, keyPath in
            let file = RepositoryPaths.fixture("mt940/unbalanced.sta")
            let result = try await runConsortAsync(["statement", "import", file, "--key", keyPath, "--node", url, "--account", Self.account])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("statement UNBALANCED-1 of \(Self.account) (closing balance minus opening plus lines: discrepancy of -0.01 EUR recorded)"))
            #expect(result.err.contains("warning: \(file): line 7: statement 'UNBALANCED-1'"))
            let stored = try await Self.query(url, "/v1/query/statements/statement?account=\(Self.account)&statementId=UNBALANCED-1") as? [String: Any]
            #expect((stored?["balanceCheck"] as? [String: Any])?["differenceMinor"] as? Int == -1)
        }
    }

    @Test func import_strict_postsNothingFromAnUnbalancedFile() async throws {
        try await Self.withChain { backend, url, keyPath in
            let before = backend.ledger.head.height
            let file = RepositoryPaths.fixture("mt940/unbalanced.sta")
            let result = try await runConsortAsync(["statement", "import", file, "--key", keyPath, "--node", url, "--account", Self.account, "--strict"])
            #expect(result.status == 2)
            #expect(result.err.contains("unbalanced.sta: line 7:"))
            #expect(backend.ledger.head.height == before)
        }
    }

    @Test func import_brokenFile_postsNothingAndExitsWithBadInput() async throws {
        try await Self.withChain { backend, url, keyPath in
            let before = backend.ledger.head.height
            let result = try await runConsortAsync(["statement", "import", RepositoryPaths.fixture("mt940/field-out-of-place.sta"), "--key", keyPath,
                                                    "--node", url, "--account", Self.account])
            #expect(result.status == 2)
            #expect(result.err.contains("field-out-of-place.sta: line 6"))
            #expect(backend.ledger.head.height == before)
        }
    }

    @Test func import_camt052_postsAnIntradayReport_andCamt054IsRefused() async throws {
        try await Self.withChain { backend, url, keyPath in
            let report = try await runConsortAsync(["statement", "import", RepositoryPaths.fixture("camt/camt052-intraday.xml"), "--key", keyPath, "--node", url])
            #expect(report.status == 0, "\(report.err)")
            #expect(report.out.contains("intraday report RPT-20260210-1200 of \(Self.account)"))
            #expect(report.err.contains("warning: ") && report.err.contains("Rpt[1]/Ntry[3]"))
            let stored = try await Self.query(url, "/v1/query/statements/intradayReport?account=\(Self.account)&reportId=RPT-20260210-1200") as? [String: Any]
            #expect((stored?["lines"] as? [Any])?.count == 2)
            #expect((stored?["balances"] as? [[String: Any]])?.map { $0["code"] as? String } == ["OPBD", "ITBD", "ITAV"])
            let before = backend.ledger.head.height
            let notification = try await runConsortAsync(["statement", "import", RepositoryPaths.fixture("camt/camt054-notification.xml"), "--key", keyPath, "--node", url])
            #expect(notification.status == 2)
            #expect(notification.err.contains("can be shown but not posted"))
            #expect(backend.ledger.head.height == before)
        }
    }
}

@Suite(.serialized) struct ClearingCommandTests {
    @Test func clearingPostAndReconcileRun_throughTheBinary_findTheInjectedAmountMismatch() async throws {
        let backend = try ClearingScript.makeBackend()
        var keyPaths: [String: String] = [:]
        for member in ["bankA", "bankB", "ch"] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(member)-\(UUID().uuidString).key").path
            try KeyFile.write(backend.chain.member(member).key, to: path)
            keyPaths[member] = path
        }
        defer { for path in keyPaths.values { try? FileManager.default.removeItem(atPath: path) } }
        try await withAPIServer(backend) { client in
            let node = ["--node", client.baseURL]
            let open = try await runConsortAsync(["clearing", "cycle", "open", "C1", "--key", keyPaths["ch"] ?? ""] + node)
            #expect(open.status == 0, "\(open.err)")
            for (member, amount) in [("bankA", "100.00"), ("ch", "100.00"), ("bankB", "120.00")] {
                let post = try await runConsortAsync(["clearing", "post", "--payment", "PX", "--payer", "bankA:A-1", "--payee", "bankB:B-1", "--amount", amount,
                                                      "--currency", "CNY", "--channel", "IBPS", "--status", "settled", "--key", keyPaths[member] ?? ""] + node)
                #expect(post.status == 0, "\(member): \(post.err)")
            }
            let update = try await runConsortAsync(["clearing", "update", "--payment", "PX", "--status", "returned", "--key", keyPaths["bankA"] ?? "",
                                                       "--json"] + node)
            #expect(update.status == 0, "\(update.err)")
            let head = backend.ledger.head.height
            let run = try await runConsortAsync(["reconcile", "run", "--from", "1", "--to", String(head), "--dry-run"] + node)
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("finding PX amount_mismatch on payee side"))
            #expect(run.out.contains("dry run, nothing posted"))
            #expect(backend.ledger.head.height == head)
            let breaks = try await runConsortAsync(["clearing", "breaks", "--json"] + node)
            #expect(breaks.status == 0)
            let posted = try await runConsortAsync(["reconcile", "run", "--from", "1", "--to", String(head), "--key", keyPaths["ch"] ?? ""] + node)
            #expect(posted.status == 0, "\(posted.err)")
            let listed = try await runConsortAsync(["clearing", "breaks", "--open"] + node)
            #expect(listed.out.contains("PX amount_mismatch on payee side"))
        }
    }
}
