import Foundation
import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// The project's own statement files: `Fixtures/Statements` of this test target, one file per convention and case.
enum StatementFixtures {
    struct Missing: Error, CustomStringConvertible {
        var relative: String
        var description: String { "the test bundle has no fixture Fixtures/Statements/\(relative)" }
    }

    static func url(_ relative: String) throws -> URL {
        guard let base = Bundle.module.resourceURL else { throw Missing(relative: relative) }
        return base.appendingPathComponent("Fixtures/Statements").appendingPathComponent(relative)
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relative)))
    }

    static func parse(_ relative: String) throws -> [ParsedStatement] {
        try StatementImporter.parse(fileContents: bytes(relative), fileName: relative)
    }

    static func rejection(_ relative: String) throws -> StatementImportError? {
        let contents = try bytes(relative)
        do {
            _ = try StatementImporter.parse(fileContents: contents, fileName: relative)
            return nil
        } catch {
            return error
        }
    }

    static func date(_ text: String) -> CalendarDate? { CalendarDate(iso: Substring(text)) }

    /// Every statement file of the fixtures, relative to `Fixtures/Statements`.
    static func allFiles() throws -> [String] {
        let directory = try url("")
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".sta") || path.hasSuffix(".xml") { files.append(path) }
        }
        return files.sorted()
    }
}

/// A folder of sample statement files, read when it exists: the one
/// `CONSORT_STATEMENT_SAMPLES` names, else `shared/samples` beside the
/// checkout. Tests over it are skipped when it does not exist.
enum StatementSamples {
    static let directory: URL = {
        if let configured = ProcessInfo.processInfo.environment["CONSORT_STATEMENT_SAMPLES"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/samples")
    }()

    static var available: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func parse(_ relative: String) throws -> [ParsedStatement] {
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(relative)))
        return try StatementImporter.parse(fileContents: bytes, fileName: relative)
    }

    static func rejection(_ relative: String) throws -> StatementImportError? {
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(relative)))
        do {
            _ = try StatementImporter.parse(fileContents: bytes, fileName: relative)
            return nil
        } catch {
            return error
        }
    }

    static func allFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".sta") || path.hasSuffix(".xml") { files.append(path) }
        }
        return files.sorted()
    }
}

func parseText(_ text: String, _ name: String = "test.sta") throws -> [ParsedStatement] {
    try StatementImporter.parse(fileContents: Array(text.utf8), fileName: name)
}

func rejectionOf(_ text: String, _ name: String = "test.sta") -> StatementImportError? {
    do {
        _ = try StatementImporter.parse(fileContents: Array(text.utf8), fileName: name)
        return nil
    } catch {
        return error
    }
}

extension ParsedStatement {
    var warningKinds: [StatementImportWarning.Kind] { warnings.map(\.kind) }
    var warningLocations: [String] { warnings.map(\.location) }
}

@Suite struct MT940FixtureTests {
    @Test func everyFixture_parsesOrIsRejectedWithFileLocationAndReason() throws {
        let files = try StatementFixtures.allFiles()
        #expect(files.count >= 20)
        let broken: Set<String> = ["mt940/field-out-of-place.sta", "mt940/truncated.sta", "mt940/not-a-statement.sta",
                                   "mt940/other-message-type.sta", "camt/camt053-no-statement.xml"]
        for file in files {
            let rejection = try StatementFixtures.rejection(file)
            if broken.contains(file) {
                let error = try #require(rejection, "\(file) should be rejected")
                #expect(error.description.hasPrefix("\(file): \(error.location): "))
                #expect(error.location.hasPrefix("line ") || error.location.hasPrefix("Document"), "\(error)")
            } else {
                #expect(rejection == nil, "\(file): \(String(describing: rejection))")
            }
        }
    }

    @Test func plainStatement_readsBalancesLinesAndStructuredDetails() throws {
        let statements = try StatementFixtures.parse("mt940/plain.sta")
        let statement = try #require(statements.first)
        #expect(statements.count == 1)
        #expect(statement.format == .mt940 && statement.kind == .statement)
        #expect(statement.statementID == "STMT-2026-001")
        #expect(statement.account == "DE89370400440532013000" && statement.accountIsIBAN)
        #expect(statement.sequence == "00001/001")
        #expect(statement.openingBooked?.amountMinor == 100_000 && statement.closingBooked?.amountMinor == 195_050)
        #expect(statement.closingAvailable?.amountMinor == 195_050)
        #expect(statement.lines.map(\.amountMinor) == [-25_000, 120_050])
        #expect(statement.balanceCheck == .agrees && statement.strictRefusal == nil)
        #expect(statement.warnings.isEmpty)
        let rent = statement.lines[0]
        #expect(rent.bookingDate == StatementFixtures.date("2026-01-05"))
        #expect(rent.customerReference == "INV-2026-17" && rent.bankReference == "BK-0001")
        #expect(rent.transactionTypeCode == "NTRF")
        #expect(rent.counterpartyName == "ACME PROPERTIES")
        #expect(rent.counterpartyAccount == "DE12500105170648489890")
        #expect(rent.narrative == "SEPA-UEBERWEISUNG INV-2026-17 OFFICE RENT")
        #expect(rent.location == "line 5")
        #expect(statement.lines[1].customerReference == nil && statement.lines[1].narrative == "Customer payment order 4411")
    }

    @Test func swiftEnvelope_withSOHAndETX_yieldsEachMessage() throws {
        let statements = try StatementFixtures.parse("mt940/swift-envelope.sta")
        #expect(statements.map(\.statementID) == ["ENV-0131-1", "ENV-0131-2"])
        #expect(statements.map(\.account) == ["NL72CNST0123456789", "NL24CNST0987654321"])
        #expect(statements.map { $0.openingBooked?.amountMinor } == [50_000, -1_000])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [42_475, 10_000])
        #expect(statements.map(\.lines.count) == [1, 1])
        #expect(statements[0].lines[0].location == "line 6")
        #expect(statements[1].lines[0].location == "line 15")
        #expect(statements.allSatisfy { $0.warnings.isEmpty })
    }

    @Test func envelopeOnOwnLines_andDutchSlashDetails() throws {
        let statement = try #require(try StatementFixtures.parse("mt940/envelope-own-lines.sta").first)
        #expect(statement.account == "NL72CNST0123456789" && statement.accountIsIBAN)
        #expect(statement.closingBooked?.amountMinor == 152_500)
        let transfer = statement.lines[0]
        #expect(transfer.counterpartyName == "ACME GMBH")
        #expect(transfer.counterpartyAccount == "DE89370400440532013000")
        #expect(transfer.customerReference == "E2E-2026-31")
        #expect(transfer.narrative == "SEPA OVERBOEKING INVOICE 2026-31")
        let gift = statement.lines[1]
        #expect(gift.counterpartyName == "J. JANSEN")
        #expect(gift.counterpartyAccount == "NL24CNST0987654321")
        #expect(gift.narrative == "Gift 2026")
        #expect(statement.warnings.isEmpty)
    }

    @Test func bankHeaderLines_areSkippedWithLocatedWarnings() throws {
        let statements = try StatementFixtures.parse("mt940/bank-header-lines.sta")
        #expect(statements.map(\.statementID) == ["CONSORT-0201", "940S260203"])
        #expect(statements.map(\.account) == ["123456789", "CNST0123456789"])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [6_000, 7_500])
        #expect(statements[0].sequence == "00101/1")
        #expect(statements[0].warningKinds == [.skippedLine, .skippedLine, .skippedLine, .skippedLine])
        #expect(statements[0].warningLocations == ["line 1", "line 2", "line 3", "line 4"])
        #expect(statements[0].warnings[2].reason.contains("message type 940"))
        #expect(statements[1].warningLocations == ["line 13"])
        #expect(statements[1].warnings[0].description == "mt940/bank-header-lines.sta: line 13: ':940:' is not a field; skipped as the bank's header line declaring message type 940")
    }

    @Test func amountSpellings_areReadWithWarnings() throws {
        let statement = try #require(try StatementFixtures.parse("mt940/amount-spellings.sta").first)
        #expect(statement.openingBooked?.amountMinor == 50_000)
        #expect(statement.lines.map(\.amountMinor) == [-2_000, 50, -1_230, 725])
        #expect(statement.closingBooked?.amountMinor == 47_545 && statement.balanceCheck == .agrees)
        #expect(statement.warningKinds == [.amountSpelling, .amountSpelling, .amountSpelling])
        #expect(statement.warningLocations == ["line 4", "line 5", "line 8"])
        #expect(statement.warnings[0].reason.contains("amount '500' has no decimal comma"))
        #expect(statement.warnings[2].reason.contains("'7.25' has a decimal point"))
    }

    @Test func transactionTypes_otherThanNSF_areKeptAsWritten() throws {
        let statement = try #require(try StatementFixtures.parse("mt940/transaction-types.sta").first)
        #expect(statement.lines.map(\.transactionTypeCode) == [nil, nil, "CHGS", "N-01", "S103"])
        #expect(statement.lines.map(\.customerReference) == [nil, nil, "FEE-MARCH", nil, "ORDER-9"])
        #expect(statement.lines.map(\.bankReference) == ["BANKREF-1", nil, nil, "BANKREF-4", "BANKREF-5"])
        #expect(statement.lines.map(\.amountMinor) == [-1_000, 2_000, -500, -150, 300])
        #expect(statement.closingBooked?.amountMinor == 48_195 && statement.balanceCheck == .agrees)
        #expect(statement.warningKinds == [.transactionType, .transactionType, .transactionType, .transactionType])
        #expect(statement.warningLocations == ["line 5", "line 6", "line 7", "line 8"])
    }

    @Test func impossibleDates_becomeTheMonthsLastDay_keepingTheText() throws {
        let statement = try #require(try StatementFixtures.parse("mt940/impossible-dates.sta").first)
        let first = statement.lines[0]
        #expect(first.valueDate == StatementFixtures.date("2026-02-28"))
        #expect(first.valueDateAsWritten == "260230")
        #expect(first.bookingDate == StatementFixtures.date("2026-03-02") && first.bookingDateAsWritten == nil)
        let second = statement.lines[1]
        #expect(second.bookingDate == StatementFixtures.date("2026-02-28") && second.bookingDateAsWritten == "0230")
        #expect(statement.warningKinds == [.impossibleDate, .impossibleDate])
        #expect(statement.warnings[0].description == "mt940/impossible-dates.sta: line 5: value date '260230' names no calendar day; 2026-02-28, the last day of that month, is used")
        #expect(statement.closingBooked?.amountMinor == 8_500)
    }

    @Test func unbalancedStatement_isKeptWithItsDiscrepancyAndAStrictRefusal() throws {
        let statement = try #require(try StatementFixtures.parse("mt940/unbalanced.sta").first)
        #expect(statement.balanceCheck == .discrepancy(differenceMinor: -1))
        #expect(statement.closingBooked?.amountMinor == 94_999)
        #expect(statement.warningKinds == [.discrepancy])
        #expect(statement.warningLocations == ["line 7"])
        #expect(statement.warnings[0].reason.contains("the difference -0.01 EUR is recorded as the statement's discrepancy"))
        let refusal = try #require(statement.strictRefusal)
        #expect(refusal.location == "line 7")
        #expect(refusal.reason == "statement 'UNBALANCED-1': opening balance 1000.00 plus 2 line(s) totalling -50.00 gives 950.00, but the closing balance is 949.99 EUR")
    }

    @Test func latin1German_isDecodedWithAWarning() throws {
        let statement = try #require(try StatementFixtures.parse("mt940/latin1-german.sta").first)
        #expect(statement.account == "37040044/0532013000" && !statement.accountIsIBAN)
        #expect(statement.lines.map(\.amountMinor) == [-4_590, 12_000])
        #expect(statement.lines[0].counterpartyName == "MÜLLER BÜROBEDARF GMBH")
        #expect(statement.lines[0].counterpartyAccount == "DE12500105170648489890")
        // ?20…?29 are one remittance text cut into pieces, so they join without a space.
        #expect(statement.lines[0].narrative == "LASTSCHRIFT Müller BürobedarfRechnung 2026-31")
        #expect(statement.lines[0].transactionTypeCode == "NDDT" && !statement.lines[0].isReversal)
        #expect(statement.lines[1].counterpartyName == "Großhandel Süd")
        #expect(statement.warningKinds == [.encoding])
        #expect(statement.warningLocations == ["file"])
    }

    @Test func bankConventions_reversalFundsCodeIntermediateAndForwardBalances() throws {
        let statements = try StatementFixtures.parse("mt940/bank-conventions.sta")
        #expect(statements.map(\.statementID) == ["CONV-1", "CONV-2"])
        #expect(statements.map(\.currency) == ["PLN", "PLN"])
        #expect(statements.map(\.sequence) == ["00084/001", "00084/002"])
        let first = statements[0]
        #expect(first.lines.map(\.amountMinor) == [200_000, -10_000])
        #expect(first.lines.map(\.isReversal) == [false, true])
        #expect(first.lines[0].bookingDate == StatementFixtures.date("2026-03-12"))
        #expect(first.lines[1].bookingDate == nil)
        #expect(first.lines[0].narrative.hasPrefix("Card transaction Wyplata-(dysp/przel)"))
        #expect(first.lines[0].counterpartyName?.hasPrefix("HUTA SZKLA TOPIC") == true)
        #expect(first.lines[0].counterpartyAccount == "PL08106000760000777777777777")
        #expect(first.lines[0].bankReference == "8327000090031789" && first.lines[0].transactionTypeCode == "FMSC")
        #expect(first.closingBooked?.amountMinor == 590_000)
        #expect(first.forwardAvailable.map(\.amountMinor) == [590_000])
        #expect(first.information == "End of page 1")
        let second = statements[1]
        #expect(second.account == "BPHKPLPK/320000546101")
        #expect(second.openingBooked?.amountMinor == 590_000 && second.closingBooked?.amountMinor == 500_000)
        #expect(second.lines[0].customerReference == "REF 25611247")
        #expect(statements.allSatisfy { $0.warnings.isEmpty })
    }

    @Test func brokenFiles_areRejectedWithLineAndReason() throws {
        let cases: [(String, String, String)] = [
            ("mt940/field-out-of-place.sta", "line 6", "field :25: (account) is out of place"),
            ("mt940/truncated.sta", "line 5", "statement 'TRUNCATED-1' opened at line 1 ends without a closing balance"),
            ("mt940/not-a-statement.sta", "line 1", "text 'row 1,2026-03-02,10.00,EUR' is outside any field"),
            ("mt940/other-message-type.sta", "line 1", "the message is an MT900"),
        ]
        for (file, location, reason) in cases {
            let error = try #require(try StatementFixtures.rejection(file), "\(file)")
            #expect(error.fileName == file)
            #expect(error.location == location, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}

@Suite struct MT942FixtureTests {
    @Test func interimReports_declaredByEnvelopeOrKnownByTheirFields() throws {
        let reports = try StatementFixtures.parse("mt942/interim-report.sta")
        #expect(reports.map(\.statementID) == ["INTRADAY-0305-1", "INTRADAY-0305-2"])
        #expect(reports.allSatisfy { $0.format == .mt942 && $0.kind == .intradayReport })
        #expect(reports.map(\.currency) == ["EUR", "EUR"])
        #expect(reports.allSatisfy { $0.openingBooked == nil && $0.closingBooked == nil && $0.balanceCheck == .agrees })
        #expect(reports.map(\.periodEnd) == [StatementFixtures.date("2026-03-05"), StatementFixtures.date("2026-03-05")])
        let first = reports[0]
        #expect(first.lines.map(\.amountMinor) == [-4_000, 30_000, 2_500])
        #expect(first.lines[0].counterpartyName == "SUPPLIER GMBH")
        #expect(first.information == "Intraday report 12:00")
        #expect(first.warnings.isEmpty)
        let second = reports[1]
        #expect(second.account == "DE89370400440532013000")
        #expect(second.lines.map(\.amountMinor) == [-1_200])
        #expect(second.warningKinds == [.entrySummary])
        #expect(second.warnings[0].description == "mt942/interim-report.sta: line 22: :90D: states 2 debit entries totalling 20.00 EUR, but report 'INTRADAY-0305-2' holds 1 totalling 12.00 EUR")
    }

    @Test func interimReports_becomeIntradayReportPostings() throws {
        let reports = try StatementFixtures.parse("mt942/interim-report.sta")
        let postings = try StatementImporter.postings(reports, fileName: "interim-report.sta")
        guard case .intradayReport(let first) = try #require(postings.first) else {
            Issue.record("expected an intraday report")
            return
        }
        #expect(first.reportID == "INTRADAY-0305-1" && first.currency == "EUR")
        #expect(first.reportDate == StatementFixtures.date("2026-03-05"))
        #expect(first.balances.isEmpty)
        #expect(first.lines.map(\.amountMinor) == [-4_000, 30_000, 2_500])
        #expect(first.lines.map(\.lineID) == ["1", "2", "3"])
    }

    @Test func expectedMarks_andAReportWithoutCurrency() throws {
        let text = ":20:R1\n:25:DE89370400440532013000\n:28C:1\n:34F:EUR0,\n:13D:2603051200+0100\n:61:260305EC10,00NTRFX//B1\n:61:260305ED4,00NTRFY//B2\n:90D:1EUR4,00\n:90C:1EUR10,00\n"
        let report = try #require(try parseText(text).first)
        #expect(report.kind == .intradayReport)
        #expect(report.lines.map(\.amountMinor) == [1_000, -400])
        #expect(report.warnings.isEmpty)
        let withoutCurrency = ":20:R2\n:25:DE89370400440532013000\n:13D:2603051200+0100\n:61:260305C10,00NTRFX//B1\n"
        let error = rejectionOf(withoutCurrency)
        #expect(error?.location == "line 1")
        #expect(error?.reason.contains("names no currency") == true)
    }
}

@Suite struct CamtFixtureTests {
    @Test func twoStatements_readBalancesEntriesAndParties() throws {
        let statements = try StatementFixtures.parse("camt/camt053-two-statements.xml")
        #expect(statements.map(\.statementID) == ["CNST-20260114-EUR", "CNST-20260115-EUR"])
        #expect(statements.allSatisfy { $0.account == "NL72CNST0123456789" && $0.accountIsIBAN && $0.format == .camt053 })
        #expect(statements.map { $0.openingBooked?.amountMinor } == [1_815, 2_700])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [2_700, 2_000])
        #expect(statements.map { $0.lines.map(\.amountMinor) } == [[885], [-700]])
        #expect(statements.map(\.sequence) == ["14", "15"])
        let line = statements[0].lines[0]
        #expect(line.customerReference == "ORDER-1" && line.bankReference == "CNST-14-001")
        #expect(line.counterpartyName == "Customer One" && line.counterpartyAccount == "DE89370400440532013000")
        #expect(line.transactionTypeCode == "PMNT/RCDT/ESCT")
        #expect(line.narrative == "Payment for order 1")
        #expect(line.location == "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]")
        #expect(statements[1].lines[0].counterpartyName == "Consort Bank")
        #expect(statements.allSatisfy { $0.warnings.isEmpty && $0.balanceCheck == .agrees })
    }

    @Test func previouslyClosedBalance_besideOrInsteadOfOpening() throws {
        let statements = try StatementFixtures.parse("camt/camt053-prcd.xml")
        let instead = statements[0]
        #expect(instead.openingBooked?.amountMinor == 10_000 && instead.closingBooked?.amountMinor == 15_000)
        #expect(instead.warningKinds == [.previousClosingBalance])
        #expect(instead.warningLocations == ["Document/BkToCstmrStmt/Stmt[1]/Bal[1]/Amt"])
        let beside = statements[1]
        #expect(beside.openingBooked?.amountMinor == 15_000 && beside.closingBooked?.amountMinor == 13_000)
        #expect(beside.additionalBalances.map(\.code) == ["PRCD"])
        #expect(beside.additionalBalances.map(\.balance.amountMinor) == [14_900])
        #expect(beside.warningKinds == [.previousClosingBalance])
        #expect(beside.warnings[0].reason.contains("PRCD balance 149.00 differs from the OPBD balance 150.00 EUR"))
        #expect(statements.allSatisfy { $0.balanceCheck == .agrees && $0.strictRefusal == nil })
    }

    @Test func foreignCurrencyBalances_areKeptAside_andTheClosingBalanceDerived() throws {
        let statement = try #require(try StatementFixtures.parse("camt/camt053-foreign-currency-balances.xml").first)
        #expect(statement.currency == "EUR")
        #expect(statement.openingBooked?.amountMinor == 20_000)
        #expect(statement.closingBooked == ParsedBalance(amountMinor: 21_250, currency: "EUR", date: try #require(StatementFixtures.date("2026-02-03"))))
        #expect(statement.closingAvailable == nil)
        #expect(statement.foreignCurrencyBalances.map(\.code) == ["CLBD", "CLAV"])
        #expect(statement.foreignCurrencyBalances.map(\.balance.currency) == ["SEK", "JPY"])
        #expect(statement.foreignCurrencyBalances.map(\.balance.amountMinor) == [230_000, 21_500])
        #expect(statement.balanceCheck == .closingDerived)
        #expect(statement.warningKinds == [.foreignCurrencyBalance, .foreignCurrencyBalance, .closingDerived])
        #expect(statement.warningLocations == ["Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt", "Document/BkToCstmrStmt/Stmt[1]/Bal[3]/Amt",
                                               "Document/BkToCstmrStmt/Stmt[1]/Bal[1]/Amt"])
        let refusal = try #require(statement.strictRefusal)
        #expect(refusal.location == "Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt")
        #expect(refusal.reason == "statement 'FX-1': closing booked balance is in SEK but the statement's currency is EUR")
    }

    @Test func openingWithoutClosing_getsOpeningPlusLinesAsClosing() throws {
        let statement = try #require(try StatementFixtures.parse("camt/camt053-opening-only.xml").first)
        #expect(statement.closingBooked?.amountMinor == 26_500)
        #expect(statement.closingBooked?.date == StatementFixtures.date("2026-02-05"))
        #expect(statement.balanceCheck == .closingDerived)
        #expect(statement.warningKinds == [.closingDerived])
        #expect(statement.warnings[0].reason.contains("opening balance 300.00 plus 2 line(s) gives 265.00, taken as its closing balance"))
        #expect(statement.strictRefusal?.reason.contains("has an opening booked balance but no closing one") == true)
        let posting = try StatementImporter.postStatementArguments(statement, fileName: "opening-only.xml")
        #expect(posting.balanceCheck == .closingDerived && posting.closingBooked.amountMinor == 26_500)
    }

    @Test func unbalancedCamt_isKeptWithItsDiscrepancy() throws {
        let statement = try #require(try StatementFixtures.parse("camt/camt053-unbalanced.xml").first)
        #expect(statement.balanceCheck == .discrepancy(differenceMinor: -900))
        #expect(statement.warningLocations == ["Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt"])
        #expect(statement.strictRefusal?.reason.contains("but the closing balance is 401.00 EUR") == true)
    }

    @Test func camt052_isAnIntradayReportWithItsBalances() throws {
        let report = try #require(try StatementFixtures.parse("camt/camt052-intraday.xml").first)
        #expect(report.format == .camt052 && report.kind == .intradayReport)
        #expect(report.statementID == "RPT-20260210-1200")
        #expect(report.openingBooked?.amountMinor == 100_000 && report.closingBooked == nil)
        #expect(report.additionalBalances.map(\.code) == ["ITBD", "ITAV"])
        #expect(report.additionalBalances.map(\.balance.amountMinor) == [118_000, 118_000])
        #expect(report.lines.map(\.amountMinor) == [20_000, -2_000])
        #expect(report.warningKinds == [.unbookedEntry])
        #expect(report.warningLocations == ["Document/BkToCstmrAcctRpt/Rpt[1]/Ntry[3]"])
        #expect(report.strictRefusal == nil && report.balanceCheck == .agrees)
        #expect(report.information == "Intraday report 12:00")
        guard case .intradayReport(let posting) = try #require(try StatementImporter.postings([report], fileName: "camt052.xml").first) else {
            Issue.record("expected an intraday report")
            return
        }
        #expect(posting.balances.map(\.code) == ["OPBD", "ITBD", "ITAV"])
        #expect(posting.balances.map(\.amountMinor) == [100_000, 118_000, 118_000])
        #expect(posting.reportDate == StatementFixtures.date("2026-02-10"))
        #expect(StatementImporter.reportBalanceCode("XPCD-intraday/2") == "XPCDintr")
        #expect(StatementImporter.reportBalanceCode("//") == "PRTRY")
    }

    @Test func camt054_isShownButNotPosted() throws {
        let notifications = try StatementFixtures.parse("camt/camt054-notification.xml")
        #expect(notifications.map(\.kind) == [.notification])
        #expect(notifications[0].lines.map(\.amountMinor) == [20_000])
        #expect(try StatementImporter.postings(notifications, fileName: "camt054.xml") == [nil])
        #expect(StatementImporter.notPostable(notifications[0], fileName: "camt054.xml").reason.contains("can be shown but not posted"))
    }

    @Test func messageWithoutStatement_isRejectedAtTheMessage() throws {
        let error = try #require(try StatementFixtures.rejection("camt/camt053-no-statement.xml"))
        #expect(error.location == "Document/BkToCstmrStmt")
        #expect(error.reason.contains("holds no <Stmt> element"))
    }
}

@Suite struct StatementPostingTests {
    @Test func strict_refusesWhatTheFileDoesNotStateInFull() throws {
        for file in ["mt940/unbalanced.sta", "camt/camt053-foreign-currency-balances.xml", "camt/camt053-opening-only.xml", "camt/camt053-unbalanced.xml"] {
            let statements = try StatementFixtures.parse(file)
            let refusal = try #require(statements.first?.strictRefusal)
            let error = #expect(throws: StatementImportError.self) {
                try StatementImporter.postings(statements, fileName: file, strict: true)
            }
            #expect(error == refusal, "\(file)")
            #expect(try StatementImporter.postings(statements, fileName: file).count == 1, "\(file)")
        }
        #expect(try StatementImporter.postings(try StatementFixtures.parse("mt940/plain.sta"), fileName: "plain.sta", strict: true).count == 1)
    }

    @Test func discrepancy_isCarriedIntoThePosting() throws {
        let statements = try StatementFixtures.parse("mt940/unbalanced.sta")
        guard case .statement(let posting) = try #require(try StatementImporter.postings(statements, fileName: "unbalanced.sta").first) else {
            Issue.record("expected a statement")
            return
        }
        #expect(posting.balanceCheck == .discrepancy(differenceMinor: -1))
        #expect(posting.closingBooked.amountMinor == 94_999)
        #expect(posting.lines.map(\.lineID) == ["1", "2"])
    }

    @Test func corrects_needsExactlyOneStatement() throws {
        let two = try StatementFixtures.parse("camt/camt053-two-statements.xml")
        let error = #expect(throws: StatementImportError.self) {
            try StatementImporter.postings(two, fileName: "two.xml", corrects: "S0")
        }
        #expect(error?.reason.contains("--corrects applies to one statement") == true)
        let one = try StatementFixtures.parse("mt940/plain.sta")
        guard case .statement(let posting) = try #require(try StatementImporter.postings(one, fileName: "plain.sta", account: "ACC", corrects: "S0").first) else {
            Issue.record("expected a statement")
            return
        }
        #expect(posting.corrects == "S0" && posting.account == "ACC")
    }

    @Test func dryRunJSON_showsWarningsBalanceCheckAndWhatIsPosted() throws {
        let statements = try StatementFixtures.parse("camt/camt053-foreign-currency-balances.xml")
            + (try StatementFixtures.parse("camt/camt052-intraday.xml"))
        let json = try #require(StatementImporter.json(statements).arrayValue)
        #expect(json[0]["postAs"]?.stringValue == "statement")
        #expect(json[0]["balanceCheck"]?["result"]?.stringValue == "closing_derived")
        #expect(json[0]["closingBooked"]?["amount"]?.stringValue == "212.50")
        #expect(json[0]["foreignCurrencyBalances"]?.arrayValue?.map { $0["currency"]?.stringValue } == ["SEK", "JPY"])
        #expect(json[0]["foreignCurrencyBalances"]?.arrayValue?.last?["amount"]?.stringValue == "21500")
        #expect(json[0]["warnings"]?.arrayValue?.map { $0["kind"]?.stringValue } == ["foreign_currency_balance", "foreign_currency_balance", "closing_derived"])
        #expect(json[0]["strictRefusal"]?.stringValue?.contains("closing booked balance is in SEK") == true)
        #expect(json[1]["postAs"]?.stringValue == "intradayReport")
        #expect(json[1]["additionalBalances"]?.arrayValue?.map { $0["code"]?.stringValue } == ["ITBD", "ITAV"])
        #expect(json[1]["warnings"]?.arrayValue?.first?["location"]?.stringValue == "Document/BkToCstmrAcctRpt/Rpt[1]/Ntry[3]")
        let dates = try #require(StatementImporter.json(try StatementFixtures.parse("mt940/impossible-dates.sta")).arrayValue?.first)
        #expect(dates["lines"]?.arrayValue?.first?["valueDateAsWritten"]?.stringValue == "260230")
        #expect(dates["lines"]?.arrayValue?.first?["valueDate"]?.stringValue == "2026-02-28")
        let unbalanced = try #require(StatementImporter.json(try StatementFixtures.parse("mt940/unbalanced.sta")).arrayValue?.first)
        #expect(unbalanced["balanceCheck"]?["differenceMinor"]?.intValue == -1)
        #expect(unbalanced["balanceCheck"]?["difference"]?.stringValue == "-0.01")
    }

    @Test func manyWarningsOfOneKind_areCappedAndCounted() throws {
        var text = ":20:MANY\n:25:DE89370400440532013000\n:28C:1\n:60F:C260101EUR0,00\n"
        for _ in 0..<25 { text += ":61:2601020102C1NTRFX//B\n" }
        text += ":62F:C260102EUR25,00\n"
        let statement = try #require(try parseText(text).first)
        #expect(statement.lines.count == 25)
        #expect(statement.warnings.count == StatementsLimits.importWarningsPerKindMax + 1)
        #expect(statement.warnings.last?.kind == .more)
        #expect(statement.warnings.last?.reason == "5 more warning(s) of kind amount_spelling are not listed")
    }
}

@Suite struct StatementsFragmentTests {
    static func fields(_ text: String) throws -> [MT940Parser.Field] {
        try MT940Parser.fields(fileContents: Array(text.utf8), fileName: "fragment.sta").map(\.field)
    }

    static func balance(_ minor: Int64, _ currency: String, _ date: String) -> ParsedBalance? {
        StatementFixtures.date(date).map { ParsedBalance(amountMinor: minor, currency: currency, date: $0) }
    }

    @Test func amountFormats_allReadAsMinorUnits() throws {
        let text = [":60F:C260318EUR380115,12", ":60F:C260318EUR380115,1", ":60F:C260318EUR380115,", ":60F:C260318EUR0,12",
                    ":60F:C260318EUR00,12", ":60F:C260318EUR001,12", ":60F:C260318EUR42", ":60F:C260318EUR42.5"].joined(separator: "\n")
        let amounts = try Self.fields(text).compactMap { field -> Int64? in
            if case .openingBalance(let balance, _) = field { balance.amountMinor } else { nil }
        }
        #expect(amounts == [38_011_512, 38_011_510, 38_011_500, 12, 12, 112, 4_200, 4_250])
        #expect(rejectionOf(":60F:C260318EUR1,2,3")?.reason.contains("must have one decimal comma") == true)
    }

    @Test func balances_creditDebitAvailableClosing() throws {
        #expect(try Self.fields(":60F:C260829EUR000000000147,64") == [.openingBalance(try #require(Self.balance(14_764, "EUR", "2026-08-29")), intermediate: false)])
        #expect(try Self.fields(":60M:D260829EUR000000000147,64") == [.openingBalance(try #require(Self.balance(-14_764, "EUR", "2026-08-29")), intermediate: true)])
        #expect(try Self.fields(":64:D260901EUR3,66") == [.closingAvailable(try #require(Self.balance(-366, "EUR", "2026-09-01")))])
        #expect(try Self.fields(":62F:C260323EUR42570,04\n-") == [.closingBalance(try #require(Self.balance(4_257_004, "EUR", "2026-03-23")), intermediate: false), .messageEnd])
    }

    @Test func accountIdentification_ibanLegacyAndCurrencySuffix() throws {
        #expect(try Self.fields(":25:PL25106000760000888888888888") == [.account(identifier: "PL25106000760000888888888888", currency: nil)])
        #expect(try Self.fields(":25:70011110/4005287001EUR") == [.account(identifier: "70011110/4005287001", currency: "EUR")])
        #expect(IBAN.isValid("NL72CNST0123456789"))
        #expect(!IBAN.isValid("NL73CNST0123456789"))
    }

    @Test func referenceNumberAndLeadingBlankLine() throws {
        #expect(try Self.fields(":20:D260902049") == [.transactionReference("D260902049")])
        #expect(try Self.fields(":28C:00035/001") == [.statementNumber(number: "00035", sequence: "001")])
        #expect(try Self.fields("\n:20:TELEREPORTING") == [.transactionReference("TELEREPORTING")])
        #expect(rejectionOf("\n:20:TELEREPORTING")?.location == "line 2")
    }

    @Test func statementLine_withEntryDateFundsCodeAndReferences() throws {
        guard case .line(let line) = try #require(try Self.fields(":61:2609010902DR000000000001,62NTRF0000549855700010//025498557/000001").first) else {
            Issue.record("expected a :61: line")
            return
        }
        #expect(line.valueDate == StatementFixtures.date("2026-09-01"))
        #expect(line.bookingDate == StatementFixtures.date("2026-09-02"))
        #expect(line.amountMinor == -1_620)
        #expect(line.transactionTypeCode == "NTRF")
        #expect(line.customerReference == "0000549855700010")
        #expect(line.bankReference == "025498557/000001")
    }

    @Test func details_emptyStructuredAndEnvelopeMarkers() throws {
        guard case .details(let empty) = try #require(try Self.fields(":86:091\n-").first) else {
            Issue.record("expected :86:")
            return
        }
        #expect(empty.code == "091" && empty.narrative == "")
        let located = try MT940Parser.fields(fileContents: Array("{1:F01X}{2:O942Y}{4:\n:20:R\n-}{5:}".utf8), fileName: "f.sta")
        #expect(located.map(\.field) == [.messageType("942"), .transactionReference("R"), .messageEnd])
        #expect(located.map(\.line) == [1, 2, 3])
    }

    @Test func textAfterABalanceField_isSkippedWithAWarning() throws {
        let located = try MT940Parser.fields(fileContents: Array(":62F:C260323EUR1,00\nTRAILER 1\n:20:X".utf8), fileName: "f.sta")
        #expect(located.map(\.field) == [.closingBalance(try #require(Self.balance(100, "EUR", "2026-03-23")), intermediate: false), .transactionReference("X")])
        #expect(located[1].warnings.map(\.reason) == ["'TRAILER 1' follows the one-line field :62F: and is not part of it; skipped"])
        #expect(located[1].warnings.map(\.location) == ["line 2"])
    }
}

@Suite struct StatementsParserRejectionTests {
    static let valid = ":20:REF1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C260101EUR100,00\n:61:2601020102D25,50NTRFINV-1//B1\n:86:Payment\n:62F:C260102EUR74,50\n"

    @Test func validSynthetic_isAcceptedWithIBAN() throws {
        let statements = try parseText(Self.valid)
        #expect(statements.count == 1)
        #expect(statements[0].accountIsIBAN)
        #expect(statements[0].lines[0].amountMinor == -2_550)
        #expect(statements[0].warnings.isEmpty)
    }

    @Test func unbalancedStatement_pointsAtTheClosingLine() throws {
        let statement = try #require(try parseText(Self.valid.replacingOccurrences(of: "C260102EUR74,50", with: "C260102EUR74,51")).first)
        #expect(statement.balanceCheck == .discrepancy(differenceMinor: 1))
        #expect(statement.strictRefusal?.location == "line 7")
        #expect(statement.strictRefusal?.reason.contains("closing balance is 74.51 EUR") == true)
    }

    @Test func tooManyDecimals_isRejected() {
        #expect(rejectionOf(Self.valid.replacingOccurrences(of: "D25,50", with: "D25,505"))?.location == "line 5")
    }

    @Test func unknownCurrency_isRejected() {
        let error = rejectionOf(Self.valid.replacingOccurrences(of: "C260101EUR", with: "C260101XXQ"))
        #expect(error?.location == "line 4")
        #expect(error?.reason.contains("not an ISO 4217") == true)
    }

    @Test func controlCharacter_isRejectedWithLine() {
        #expect(rejectionOf(Self.valid.replacingOccurrences(of: "Payment", with: "Pay\u{0}ment"))?.location == "line 6")
    }

    @Test func impossibleMonthOrDay_isStillNoDate() {
        #expect(rejectionOf(Self.valid.replacingOccurrences(of: "2601020102D", with: "2613020102D"))?.reason.contains("is not a date YYMMDD") == true)
        #expect(rejectionOf(Self.valid.replacingOccurrences(of: "2601020102D", with: "2601320102D"))?.reason.contains("is not a date YYMMDD") == true)
    }

    @Test func malformedXML_isRejectedWithPosition() {
        let error = rejectionOf("<Document><BkToCstmrStmt></Document>", "bad.xml")
        #expect(error?.fileName == "bad.xml")
        #expect(error?.location.hasPrefix("line ") == true || error?.location.hasPrefix("Document") == true)
        #expect(error?.reason.contains("Stmt") == false)
    }

    @Test func finEnvelope_isAccepted() throws {
        let text = "{1:F01BANKDEFFAXXX0000000000}{2:O9400000000000BANKDEFFXXXX00000000000000000000N}{4:\n" + Self.valid + "-}{5:{CHK:123}}\n"
        #expect(try parseText(text, "fin.sta").map(\.statementID) == ["REF1"])
    }

    @Test func braceTextInDetails_isNotAnEnvelope() throws {
        let statement = try #require(try parseText(Self.valid.replacingOccurrences(of: ":86:Payment", with: ":86:Payment\n{ref 12}")).first)
        #expect(statement.lines[0].narrative == "Payment {ref 12}")
        #expect(statement.warnings.isEmpty)
    }

    @Test func trailingTextAfterTheLastMessage_isAWarningOfTheLastStatement() throws {
        let statement = try #require(try parseText(Self.valid + "-\nEND OF FILE 0001\n").first)
        #expect(statement.warningKinds == [.skippedLine])
        #expect(statement.warningLocations == ["line 9"])
    }

    @Test func latin1File_isDecoded() throws {
        var bytes = Array(Self.valid.replacingOccurrences(of: ":86:Payment", with: ":86:Zahlung M").utf8)
        let position = try #require(bytes.firstIndex(of: UInt8(ascii: "M")))
        bytes[position] = 0xDC
        let statements = try StatementImporter.parse(fileContents: bytes, fileName: "latin1.sta")
        #expect(statements[0].lines[0].narrative == "Zahlung Ü")
        #expect(statements[0].warningKinds == [.encoding])
    }

    static let camt = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt><Stmt><Id>S-9</Id>
        <Acct><Id><Othr><Id>12345678</Id></Othr></Id><Ccy>JPY</Ccy></Acct>
        <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="JPY">1000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-01</Dt></Dt></Bal>
        <Bal><Tp><CdOrPrtry><Cd>ITBD</Cd></CdOrPrtry></Tp><Amt Ccy="JPY">5</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-01</Dt></Dt></Bal>
        <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="JPY">700</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-31</Dt></Dt></Bal>
        <Ntry><Amt Ccy="JPY">300</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-01-02</Dt></BookgDt>
        <ValDt><Dt>2026-01-03</Dt></ValDt><AcctSvcrRef>BR-1</AcctSvcrRef></Ntry>
        <Ntry><Amt Ccy="JPY">50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts><BookgDt><Dt>2026-01-04</Dt></BookgDt></Ntry>
        </Stmt></BkToCstmrStmt></Document>
        """

    @Test func camt_pendingLeftOutWithAWarning_reversalKept_zeroExponentCurrency() throws {
        let statement = try #require(try parseText(Self.camt, "synthetic.xml").first)
        #expect(statement.account == "12345678")
        #expect(!statement.accountIsIBAN)
        #expect(statement.lines.count == 1)
        #expect(statement.lines[0].amountMinor == -300)
        #expect(statement.lines[0].isReversal)
        #expect(statement.lines[0].bankReference == "BR-1")
        #expect(statement.closingBooked?.amountMinor == 700)
        #expect(statement.additionalBalances.map(\.code) == ["ITBD"])
        #expect(statement.warningKinds == [.unbookedEntry])
        #expect(statement.warningLocations == ["Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"])
    }

    @Test func camt_secondOpeningBalance_isRejected() {
        let text = Self.camt.replacingOccurrences(of: "<Cd>ITBD</Cd>", with: "<Cd>OPBD</Cd>")
        let error = rejectionOf(text, "twice.xml")
        #expect(error?.location == "Document/BkToCstmrStmt/Stmt[1]/Bal[2]")
        #expect(error?.reason.contains("a second opening booked balance (OPBD)") == true)
    }

    @Test func camt_fractionalYen_isRejectedAtAmount() {
        let text = Self.camt.replacingOccurrences(of: "<Amt Ccy=\"JPY\">300</Amt>", with: "<Amt Ccy=\"JPY\">300.5</Amt>")
        #expect(rejectionOf(text, "yen.xml")?.location == "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt")
    }

    @Test func camt_documentTypeDeclaration_isRejected() {
        let error = rejectionOf("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<Document/>", "dtd.xml")
        #expect(error?.location == "line 2")
        #expect(error?.reason.contains("document type declarations") == true)
    }

    @Test func calendarDate_acceptsZonedDatesAndRejectsImpossibleOnes() {
        #expect(CalendarDate(iso: "2014-12-31+01:00") == CalendarDate(year: 2014, month: 12, day: 31))
        #expect(CalendarDate(iso: "2024-02-29") != nil)
        #expect(CalendarDate(iso: "2023-02-29") == nil)
        #expect(CalendarDate(iso: "2023-1-09") == nil)
        let date = CalendarDate(year: 2026, month: 3, day: 1)
        #expect(date.map { CalendarDate(dayNumber: $0.dayNumber) } == date)
        #expect(CalendarDate(timestampMs: 1_767_225_600_000) == CalendarDate(year: 2026, month: 1, day: 1))
        #expect(MT940Parser.readDate("240230")?.date == CalendarDate(year: 2024, month: 2, day: 29))
        #expect(MT940Parser.readDate("260431")?.clamped == true)
    }

    @Test func booksCSV_readsDocumentedColumns() throws {
        let csv = "entry_id,date,amount,currency,reference,counterparty,memo\nB1,2026-01-02,-25.50,EUR,INV-1,\"ACME, Inc\",\"rent \"\"Jan\"\"\"\nB2,2026-01-03,100,EUR,,,\n"
        let entries = try BooksCSVReader.parse(fileContents: Array(csv.utf8), fileName: "books.csv")
        #expect(entries.map(\.amountMinor) == [-2_550, 10_000])
        #expect(entries[0].counterparty == "ACME, Inc")
        #expect(entries[0].memo == "rent \"Jan\"")
        #expect(entries[1].reference == nil)
    }

    @Test func booksCSV_duplicateEntryOrMissingColumn_isRejected() {
        for (csv, location) in [("entry_id,date,amount,currency\nB1,2026-01-02,1.00,EUR\nB1,2026-01-03,2.00,EUR\n", "line 3"),
                                ("entry_id,date,amount\nB1,2026-01-02,1.00\n", "line 1")] {
            do {
                _ = try BooksCSVReader.parse(fileContents: Array(csv.utf8), fileName: "books.csv")
                Issue.record("accepted: \(csv)")
            } catch {
                #expect(error.location == location)
            }
        }
    }

    @Test func booksCSV_batches_carryOpeningBalanceOnlyFirst() throws {
        let entries = (1...5).map { BookEntryInput(entryID: "E\($0)", date: CalendarDate(dayNumber: 45_000), amountMinor: 100, currency: "EUR") }
        let batches = BooksCSVReader.batches(entries, account: "A", batchID: "jan", openingBalanceMinor: 7, entriesPerBatch: 2)
        #expect(batches.map { $0.batchID.split(separator: "-").dropLast().joined(separator: "-") } == ["jan-1", "jan-2", "jan-3"])
        #expect(batches.map { $0.batchID.split(separator: "-").last?.count } == [8, 8, 8])
        #expect(BooksCSVReader.batches(entries, account: "A", batchID: "jan", entriesPerBatch: 2).map(\.batchID) == batches.map(\.batchID),
                "the same entries give the same batch ids, so a re-import is recognised")
        var grown = entries
        grown.append(BookEntryInput(entryID: "E6", date: CalendarDate(dayNumber: 45_000), amountMinor: 100, currency: "EUR"))
        let regrouped = BooksCSVReader.batches(grown, account: "A", batchID: "jan", entriesPerBatch: 2).map(\.batchID)
        #expect(Array(regrouped.prefix(2)) == Array(batches.map(\.batchID).prefix(2)) && regrouped[2] != batches[2].batchID,
                "a grown last batch gets a new id")
        #expect(batches.map(\.entries.count) == [2, 2, 1])
        #expect(batches.map(\.openingBalanceMinor) == [7, nil, nil])
    }

    @Test func booksCSV_badAmount_namesLine() {
        let csv = "entry_id,date,amount,currency\nB1,2026-01-02,12.345,EUR\n"
        do {
            _ = try BooksCSVReader.parse(fileContents: Array(csv.utf8), fileName: "books.csv")
            Issue.record("bad amount was accepted")
        } catch {
            #expect(error.location == "line 2")
        }
    }
}

/// Runs over the sample statement files when their folder exists, and is
/// skipped when it does not (see ``StatementSamples``).
@Suite(.enabled(if: StatementSamples.available, "the statement samples folder is not there"))
struct StatementsSampleFileTests {
    /// Files that hold whole statements, reports or notifications: how many items each, and its warning kinds.
    static let accepted: [String: (items: Int, warnings: Set<StatementImportWarning.Kind>)] = [
        "mt940/cmxl/mt940.sta": (3, []),
        "mt940/betterplace/sepa_mt9401.sta": (26, []),
        "mt940/betterplace/sepa_snippet.sta": (2, [.discrepancy]),
        "mt940/betterplace/with_binary_character.sta": (2, []),
        "camt/genkgo/camt052.v2.xml": (1, []),
        "camt/genkgo/camt053.v2.minimal.xml": (1, [.foreignCurrencyBalance, .closingDerived]),
        "camt/genkgo/camt053.v2.multi.statement.xml": (2, []),
        "camt/genkgo/camt053.v2.with-party-ids.xml": (1, [.foreignCurrencyBalance, .closingDerived]),
        "camt/genkgo/camt053.v4.xml": (1, [.foreignCurrencyBalance, .closingDerived]),
        "camt/genkgo/camt053.v8.xml": (1, [.foreignCurrencyBalance, .closingDerived]),
        "camt/genkgo/camt054.v2.xml": (1, []),
        "camt/genkgo/camt054.v8.xml": (1, []),
    ]

    @Test func everyFile_isAcceptedOrRejectedWithFileLocationAndReason() throws {
        let files = StatementSamples.allFiles()
        #expect(!files.isEmpty)
        for file in files {
            let rejection = try StatementSamples.rejection(file)
            if let expected = Self.accepted[file] {
                #expect(rejection == nil, "\(file): \(String(describing: rejection))")
                let items = try StatementSamples.parse(file)
                #expect(items.count == expected.items, "\(file)")
                #expect(Set(items.flatMap(\.warningKinds)) == expected.warnings, "\(file): \(items.flatMap(\.warnings))")
                for item in items where item.balanceCheck == .agrees {
                    if let opening = item.openingBooked, let closing = item.closingBooked {
                        #expect(opening.amountMinor + item.linesTotalMinor == closing.amountMinor, "\(file) \(item.statementID)")
                    }
                }
            } else {
                let error = try #require(rejection, "\(file) should be rejected")
                #expect(error.fileName == file)
                #expect(error.description.hasPrefix("\(file): \(error.location): "), "\(error)")
                #expect(!error.reason.isEmpty)
            }
        }
    }

    @Test func cmxlMT940_keepsItsStatedBalances() throws {
        let statements = try StatementSamples.parse("mt940/cmxl/mt940.sta")
        #expect(statements.map(\.statementID) == ["131110", "1234567", "TELEWIZORY S.A."])
        #expect(statements.map(\.lines.count) == [11, 2, 3])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [8_443_704, 438_795, 5_004_000])
        #expect(statements.map(\.linesTotalMinor) == [8_730, 220_000, 1_004_000])
    }

    @Test func sepaMT9401_keepsItsTotals() throws {
        let statements = try StatementSamples.parse("mt940/betterplace/sepa_mt9401.sta")
        #expect(statements.reduce(0) { $0 + $1.lines.count } == 97)
        #expect(statements.reduce(Int64(0)) { $0 + ($1.closingBooked?.amountMinor ?? 0) } == -4_602_305_015)
    }

    @Test func sepaSnippet_postsWithItsDiscrepancy_andStrictRefusesItAsBefore() throws {
        let statements = try StatementSamples.parse("mt940/betterplace/sepa_snippet.sta")
        let unbalanced = try #require(statements.first { $0.balanceCheck != .agrees })
        #expect(unbalanced.strictRefusal?.location == "line 55")
        #expect(unbalanced.strictRefusal?.reason.contains("but the closing balance is -4472049.09 EUR") == true)
    }
}
