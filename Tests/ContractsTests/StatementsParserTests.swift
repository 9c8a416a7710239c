import Foundation
import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// The shared sample files live beside the project checkout: ../shared/samples.
enum Samples {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/samples")

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relative)))
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

    /// Every statement file under samples, relative to it.
    static func allFiles() throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".sta") || path.hasSuffix(".xml") { files.append(path) }
        }
        return files.sorted()
    }
}

@Suite struct StatementsSampleFileTests {
    /// Files that hold whole statements and must be accepted.
    static let accepted: Set<String> = [
        "mt940/cmxl/mt940.sta", "mt940/betterplace/sepa_mt9401.sta", "mt940/betterplace/with_binary_character.sta",
        "camt/genkgo/camt052.v2.xml", "camt/genkgo/camt053.v2.multi.statement.xml", "camt/genkgo/camt054.v2.xml",
        "camt/genkgo/camt054.v8.xml",
    ]
    /// Files that are rejected as a whole, with the location and a phrase of the reason.
    static let rejected: [String: (location: String, reason: String)] = [
        "mt940/betterplace/sepa_snippet.sta": ("line 55", "but the closing balance is -4472049.09 EUR"),
        "mt940/betterplace/sepa_snippet_broken.sta": ("line 6", "field :25: (account) is out of place"),
        "camt/genkgo/camt053.v2.wrong.xml": ("Document/BkToCstmrStmt", "holds no <Stmt> element"),
        "camt/genkgo/camt053.v2.minimal.xml": ("Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt", "closing booked balance is in SEK but the statement's currency is EUR"),
        "camt/genkgo/camt053.v2.with-party-ids.xml": ("Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt", "closing booked balance is in SEK"),
        "camt/genkgo/camt053.v4.xml": ("Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt", "closing booked balance is in SEK"),
        "camt/genkgo/camt053.v8.xml": ("Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt", "closing booked balance is in SEK"),
        // Single-field fragments from parser test suites: their fields parse, but they hold no complete statement.
        "mt940/cmxl/account_balance_credit.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/account_balance_debit.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/account_identification_iban.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/account_identification_legacy.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/available_balance.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/closing_balance.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/reference.sta": ("line 1", "ends without a closing balance"),
        "mt940/cmxl/statement_details.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/statement_line.sta": ("line 1", "comes before any :20: field"),
        "mt940/cmxl/statement_number.sta": ("line 1", "comes before any :20: field"),
        "mt940/betterplace/amount_formats.sta": ("line 1", "comes before any :20: field"),
        "mt940/betterplace/currency_in_25.sta": ("line 1", "comes before any :20: field"),
        "mt940/betterplace/empty_86.sta": ("line 1", "comes before any :20: field"),
        "mt940/betterplace/empty_entry_date.sta": ("line 1", "comes before any :20: field"),
        "mt940/betterplace/empty_line.sta": ("line 2", "ends without a closing balance"),
        "mt940/betterplace/missing_crlf_at_end.sta": ("line 1", "comes before any :20: field"),
    ]

    @Test func everySampleFile_isClassifiedAsAcceptedOrRejected() throws {
        let files = try Samples.allFiles()
        #expect(files.count == 30)
        for file in files {
            #expect(Self.accepted.contains(file) != (Self.rejected[file] != nil), "\(file) must be either accepted or rejected")
        }
    }

    @Test func everyAcceptedFile_parsesAndBalances() throws {
        for file in Self.accepted.sorted() {
            let statements = try Samples.parse(file)
            #expect(!statements.isEmpty, "\(file)")
            for statement in statements {
                if let opening = statement.openingBooked, let closing = statement.closingBooked {
                    #expect(opening.amountMinor + statement.linesTotalMinor == closing.amountMinor, "\(file) \(statement.statementID)")
                }
                #expect(statement.lines.allSatisfy { $0.currency == statement.currency })
            }
        }
    }

    @Test func everyRejectedFile_failsWithFileLocationAndReason() throws {
        for (file, expected) in Self.rejected.sorted(by: { $0.key < $1.key }) {
            let error = try Samples.rejection(file)
            let rejection = try #require(error, "\(file) should be rejected")
            #expect(rejection.fileName == file)
            #expect(rejection.location == expected.location, "\(file): \(rejection)")
            #expect(rejection.reason.contains(expected.reason), "\(file): \(rejection)")
            #expect(rejection.description.hasPrefix("\(file): \(expected.location): "))
        }
    }

    /// The four rejected camt.053 samples fail only on their balances: with the closing and
    /// available balances put into the account's currency and sign, each parses and balances.
    @Test func rejectedCamt053Samples_withBalancesRepaired_parseFully() throws {
        for file in ["camt/genkgo/camt053.v2.minimal.xml", "camt/genkgo/camt053.v2.with-party-ids.xml",
                     "camt/genkgo/camt053.v4.xml", "camt/genkgo/camt053.v8.xml"] {
            var text = String(decoding: try Samples.bytes(file), as: UTF8.self)
            text = text.replacingOccurrences(of: "<Amt Ccy=\"SEK\">27.00</Amt>\n                <CdtDbtInd>DBIT</CdtDbtInd>",
                                             with: "<Amt Ccy=\"EUR\">27.00</Amt>\n                <CdtDbtInd>CRDT</CdtDbtInd>")
            text = text.replacingOccurrences(of: "<Amt Ccy=\"CHF\">35.00</Amt>", with: "<Amt Ccy=\"EUR\">35.00</Amt>")
            text = text.replacingOccurrences(of: "<Amt Ccy=\"JPY\">2700</Amt>", with: "<Amt Ccy=\"EUR\">27.00</Amt>")
            let statements = try StatementImporter.parse(fileContents: Array(text.utf8), fileName: file)
            #expect(statements.count == 1, "\(file)")
            let statement = try #require(statements.first)
            #expect(statement.account == "NL26VAYB8060476890" && statement.accountIsIBAN, "\(file)")
            #expect(statement.openingBooked?.amountMinor == 1_815 && statement.closingBooked?.amountMinor == 2_700, "\(file)")
            #expect(statement.openingAvailable?.amountMinor == 3_500 && statement.closingAvailable?.amountMinor == -2_700, "\(file)")
            #expect(statement.lines.map(\.amountMinor) == [885], "\(file)")
            #expect(statement.lines.first?.bookingDate == Samples.date("2014-12-31"), "\(file)")
            #expect(statement.lines.first?.valueDate == Samples.date("2015-01-02"), "\(file)")
            #expect(statement.lines.first?.counterpartyName == "NAME NAME", "\(file)")
        }
        let v8 = String(decoding: try Samples.bytes("camt/genkgo/camt053.v8.xml"), as: UTF8.self)
            .replacingOccurrences(of: "<Amt Ccy=\"SEK\">27.00</Amt>\n                <CdtDbtInd>DBIT</CdtDbtInd>",
                                  with: "<Amt Ccy=\"EUR\">27.00</Amt>\n                <CdtDbtInd>CRDT</CdtDbtInd>")
            .replacingOccurrences(of: "<Amt Ccy=\"CHF\">35.00</Amt>", with: "<Amt Ccy=\"EUR\">35.00</Amt>")
            .replacingOccurrences(of: "<Amt Ccy=\"JPY\">2700</Amt>", with: "<Amt Ccy=\"EUR\">27.00</Amt>")
        let line = try #require(try StatementImporter.parse(fileContents: Array(v8.utf8), fileName: "v8").first?.lines.first)
        #expect(line.customerReference == "MUELL/FINP/RA12345")
        #expect(line.bankReference == "AAAASESS-FP-CN_98765/01")
        #expect(line.transactionTypeCode == "PMNT/RCDT/BOOK")
    }

    @Test func cmxlMT940_yieldsThreeStatementsWithStatedBalances() throws {
        let statements = try Samples.parse("mt940/cmxl/mt940.sta")
        #expect(statements.map(\.statementID) == ["131110", "1234567", "TELEWIZORY S.A."])
        #expect(statements.map(\.lines.count) == [11, 2, 3])
        #expect(statements.map(\.currency) == ["DEM", "EUR", "PLN"])
        #expect(statements.map { $0.openingBooked?.amountMinor } == [8_434_974, 218_795, 4_000_000])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [8_443_704, 438_795, 5_004_000])
        #expect(statements.map(\.linesTotalMinor) == [8_730, 220_000, 1_004_000])
        #expect(statements.map(\.account) == ["45050050/76198810", "10020030/1234567", "BPHKPLPK/320000546101"])
        #expect(statements.map(\.sequence) == ["27/01", "5/1", "00084/001"])
    }

    @Test func cmxlMT940_lineWithoutEntryDate_usesValueDateOnly() throws {
        let line = try Samples.parse("mt940/cmxl/mt940.sta")[0].lines[0]
        #expect(line.valueDate == Samples.date("2013-10-17"))
        #expect(line.bookingDate == nil)
        #expect(line.amountMinor == -680_000)
        #expect(line.transactionTypeCode == "NCHK")
        #expect(line.customerReference == "16703074")
        #expect(line.narrative == "999PN5477SCHECK-NR. 0000016703074")
        #expect(line.location == "line 5")
    }

    @Test func cmxlMT940_structuredDetails_giveNarrativeAndCounterparty() throws {
        let line = try Samples.parse("mt940/cmxl/mt940.sta")[1].lines[0]
        #expect(line.bookingDate == Samples.date("2002-11-02"))
        #expect(line.amountMinor == -80_000)
        #expect(line.customerReference == nil)
        #expect(line.bankReference == "55555")
        #expect(line.narrative == "DAUERAUFTRAG Miete November")
        #expect(line.counterpartyName == "MUELLER")
        #expect(line.counterpartyAccount == "234567")
    }

    @Test func cmxlMT940_supplementaryDetailsAndPolishIBAN_areRead() throws {
        let line = try Samples.parse("mt940/cmxl/mt940.sta")[2].lines[0]
        #expect(line.amountMinor == 2_000_000)
        #expect(line.transactionTypeCode == "FMSC")
        #expect(line.bankReference == "8327000090031789")
        #expect(line.narrative.hasPrefix("Card transaction Wyplata-(dysp/przel)"))
        #expect(line.counterpartyAccount == "PL08106000760000777777777777")
    }

    @Test func sepaMT9401_yields26StatementsIncludingIntermediateBalances() throws {
        let statements = try Samples.parse("mt940/betterplace/sepa_mt9401.sta")
        #expect(statements.count == 26)
        #expect(statements.reduce(0) { $0 + $1.lines.count } == 97)
        #expect(statements.reduce(Int64(0)) { $0 + ($1.openingBooked?.amountMinor ?? 0) } == -3_675_391_425)
        #expect(statements.reduce(Int64(0)) { $0 + ($1.closingBooked?.amountMinor ?? 0) } == -4_602_305_015)
        #expect(statements[0].statementID == "T089413946000001")
        #expect(statements[0].openingBooked?.amountMinor == -123_471_836)
        #expect(statements[0].closingBooked?.amountMinor == -123_762_823)
        #expect(statements[0].closingAvailable?.amountMinor == -123_762_823)
        #expect(statements.last?.closingBooked?.amountMinor == 5_005)
    }

    @Test func sepaMT9401_reversalOfCredit_isANegativeReversalLine() throws {
        let line = try Samples.parse("mt940/betterplace/sepa_mt9401.sta")[0].lines[5]
        #expect(line.isReversal)
        #expect(line.amountMinor == -20_488)
        #expect(line.transactionTypeCode == "NRTI")
    }

    @Test func binaryCharacterFile_keepsUTF8StatementIDsAndBalances() throws {
        let statements = try Samples.parse("mt940/betterplace/with_binary_character.sta")
        #expect(statements.map(\.statementID) == ["STAR1ÜTßUMS", "STAR1ÜTUMS"])
        #expect(statements.map(\.lines.count) == [3, 1])
        #expect(statements.map { $0.openingBooked?.amountMinor } == [38_011_577, 13_007_319])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [19_992_902, 13_119_319])
        #expect(statements[0].lines[0].customerReference == "100323-03-100323")
        #expect(statements[0].lines[0].bankReference == "32-P1-TCS49518")
    }

    @Test func camtMultiStatement_yieldsTwoStatementsWithIBAN() throws {
        let statements = try Samples.parse("camt/genkgo/camt053.v2.multi.statement.xml")
        #expect(statements.map(\.statementID) == ["253EURNL26VAYB8060476890", "254EURNL26VAYB8060476890"])
        #expect(statements.allSatisfy { $0.account == "NL26VAYB8060476890" && $0.accountIsIBAN && $0.format == .camt053 })
        #expect(statements.map { $0.openingBooked?.amountMinor } == [1_815, 2_700])
        #expect(statements.map { $0.closingBooked?.amountMinor } == [2_700, 2_000])
        #expect(statements.map { $0.lines.map(\.amountMinor) } == [[885], [-700]])
        let line = statements[0].lines[0]
        #expect(line.bookingDate == Samples.date("2014-12-31"))
        #expect(line.valueDate == Samples.date("2015-01-02"))
        #expect(line.location == "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]")
    }

    @Test func camt052Report_yieldsEntryWithoutBalances() throws {
        let statements = try Samples.parse("camt/genkgo/camt052.v2.xml")
        #expect(statements.count == 1)
        let report = statements[0]
        #expect(report.format == .camt052)
        #expect(report.statementID == "AAAASESS-FP-ACCR001")
        #expect(report.account == "CH2801234000123456789")
        #expect(report.currency == "SEK")
        #expect(report.openingBooked == nil && report.closingBooked == nil)
        #expect(report.lines.map(\.amountMinor) == [-20_000_000])
        #expect(report.lines[0].bookingDate == Samples.date("2007-10-18"))
        #expect(report.lines[0].bankReference == "AAAASESS-FP-ACCR-01")
        #expect(report.lines[0].transactionTypeCode == "PAYM/0001/0003")
        #expect(report.lines[0].counterpartyName == "Company Name")
    }

    @Test func camt054Notifications_v2AndV8_yieldOneDebitEntry() throws {
        for file in ["camt/genkgo/camt054.v2.xml", "camt/genkgo/camt054.v8.xml"] {
            let statements = try Samples.parse(file)
            #expect(statements.count == 1, "\(file)")
            #expect(statements[0].format == .camt054)
            #expect(statements[0].account == "CH2801234000123456789")
            #expect(statements[0].lines.map(\.amountMinor) == [-20_000_000], "\(file)")
        }
        let v8 = try Samples.parse("camt/genkgo/camt054.v8.xml")[0]
        #expect(v8.lines[0].transactionTypeCode == "PMNT/ICDT/DMCT")
        #expect(v8.lines[0].customerReference == "UXC06170000006PI00001EE00001")
    }

    @Test func camt052_cannotBePostedAsAStatement() throws {
        let report = try Samples.parse("camt/genkgo/camt052.v2.xml")[0]
        #expect(throws: StatementImportError.self) {
            try StatementImporter.postStatementArguments(report, fileName: "camt052.v2.xml")
        }
    }

    @Test func dryRunJSON_listsBalancesAndEveryLine() throws {
        let statements = try Samples.parse("camt/genkgo/camt053.v2.multi.statement.xml")
        let json = StatementImporter.json(statements)
        let first = try #require(json.arrayValue?.first)
        #expect(first["statementId"]?.stringValue == "253EURNL26VAYB8060476890")
        #expect(first["openingBooked"]?["amountMinor"]?.intValue == 1_815)
        #expect(first["closingBooked"]?["amount"]?.stringValue == "27.00")
        #expect(first["lines"]?.arrayValue?.count == 1)
        #expect(first["lines"]?.arrayValue?.first?["amount"]?.stringValue == "8.85")
        let text = StatementImporter.renderJSON(statements)
        #expect(text.contains("\"statementId\" : \"254EURNL26VAYB8060476890\""))
    }
}

@Suite struct StatementsFragmentTests {
    static func fields(_ file: String) throws -> [MT940Parser.Field] {
        try MT940Parser.fields(fileContents: Samples.bytes(file), fileName: file).map(\.field)
    }

    static func balance(_ minor: Int64, _ currency: String, _ date: String) -> ParsedBalance? {
        Samples.date(date).map { ParsedBalance(amountMinor: minor, currency: currency, date: $0) }
    }

    @Test func amountFormats_allReadAsMinorUnits() throws {
        let amounts = try Self.fields("mt940/betterplace/amount_formats.sta").compactMap { field -> Int64? in
            if case .openingBalance(let balance, _) = field { balance.amountMinor } else { nil }
        }
        #expect(amounts == [38_011_512, 38_011_510, 38_011_500, 12, 12, 112])
    }

    @Test func balances_creditDebitAvailableClosing() throws {
        #expect(try Self.fields("mt940/cmxl/account_balance_credit.sta") == [.openingBalance(try #require(Self.balance(14_764, "EUR", "2014-08-29")), intermediate: false)])
        #expect(try Self.fields("mt940/cmxl/account_balance_debit.sta") == [.openingBalance(try #require(Self.balance(-14_764, "EUR", "2014-08-29")), intermediate: false)])
        #expect(try Self.fields("mt940/cmxl/available_balance.sta") == [.closingAvailable(try #require(Self.balance(-366, "EUR", "2014-09-01")))])
        #expect(try Self.fields("mt940/cmxl/closing_balance.sta") == [.closingBalance(try #require(Self.balance(13_700, "EUR", "2014-09-01")), intermediate: false)])
        #expect(try Self.fields("mt940/betterplace/missing_crlf_at_end.sta") == [.closingBalance(try #require(Self.balance(4_257_004, "EUR", "2010-03-23")), intermediate: false), .other(tag: "-", value: "")])
    }

    @Test func accountIdentification_ibanLegacyAndCurrencySuffix() throws {
        #expect(try Self.fields("mt940/cmxl/account_identification_iban.sta") == [.account(identifier: "PL25106000760000888888888888", currency: nil)])
        #expect(try Self.fields("mt940/cmxl/account_identification_legacy.sta") == [.account(identifier: "70011110/4005287001", currency: "EUR")])
        #expect(try Self.fields("mt940/betterplace/currency_in_25.sta") == [.account(identifier: "51210600/9223382012", currency: "EUR")])
        #expect(IBAN.isValid("NL26VAYB8060476890"))
        #expect(!IBAN.isValid("NL27VAYB8060476890"))
    }

    @Test func referenceNumberAndEmptyLine_fields() throws {
        #expect(try Self.fields("mt940/cmxl/reference.sta") == [.transactionReference("D140902049")])
        #expect(try Self.fields("mt940/cmxl/statement_number.sta") == [.statementNumber(number: "00035", sequence: "001")])
        #expect(try Self.fields("mt940/betterplace/empty_line.sta") == [.transactionReference("TELEREPORTING")])
    }

    @Test func statementLine_withEntryDateFundsCodeAndReferences() throws {
        let fields = try Self.fields("mt940/cmxl/statement_line.sta")
        guard case .line(let line) = try #require(fields.first) else {
            Issue.record("expected a :61: line")
            return
        }
        #expect(line.valueDate == Samples.date("2014-09-01"))
        #expect(line.bookingDate == Samples.date("2014-09-02"))
        #expect(line.amountMinor == -1_620)
        #expect(line.transactionTypeCode == "NTRF")
        #expect(line.customerReference == "0000549855700010")
        #expect(line.bankReference == "025498557/000001")
    }

    @Test func emptyEntryDate_lineWithFundsCode() throws {
        let fields = try Self.fields("mt940/betterplace/empty_entry_date.sta")
        guard case .line(let line) = try #require(fields.first) else {
            Issue.record("expected a :61: line")
            return
        }
        #expect(line.bookingDate == nil)
        #expect(line.valueDate == Samples.date("2011-07-01"))
        #expect(line.amountMinor == 50_000)
        #expect(line.transactionTypeCode == "NZ10")
        #expect(line.customerReference == nil)
    }

    @Test func details_emptyAndStructured() throws {
        guard case .details(let empty) = try #require(try Self.fields("mt940/betterplace/empty_86.sta").first) else {
            Issue.record("expected :86:")
            return
        }
        #expect(empty.code == "091")
        #expect(empty.narrative == "")
        let structured = try Self.fields("mt940/cmxl/statement_details.sta")
        guard structured.count == 2, case .details(let details) = structured[1] else {
            Issue.record("expected :61: then :86:")
            return
        }
        #expect(details.code == "171")
        #expect(details.counterpartyName == "Peter Pan")
        #expect(details.counterpartyAccount == "HUkkbbbsssskcccccccccccccccx")
        #expect(details.narrative.hasPrefix("SEPA LASTSCHRIFT KUNDE EREF+TRX-0A4A47C3-F846-4729-8A1B-5DF620F"))
    }
}

@Suite struct StatementsParserRejectionTests {
    static func reject(_ text: String) -> StatementImportError? {
        do {
            _ = try StatementImporter.parse(fileContents: Array(text.utf8), fileName: "test.sta")
            return nil
        } catch {
            return error
        }
    }

    static let valid = ":20:REF1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C260101EUR100,00\n:61:2601020102D25,50NTRFINV-1//B1\n:86:Payment\n:62F:C260102EUR74,50\n"

    @Test func validSynthetic_isAcceptedWithIBAN() throws {
        let statements = try StatementImporter.parse(fileContents: Array(Self.valid.utf8), fileName: "test.sta")
        #expect(statements.count == 1)
        #expect(statements[0].accountIsIBAN)
        #expect(statements[0].lines[0].amountMinor == -2_550)
    }

    @Test func unbalancedStatement_isRejectedAtClosingLine() {
        let error = Self.reject(Self.valid.replacingOccurrences(of: "C260102EUR74,50", with: "C260102EUR74,51"))
        #expect(error?.location == "line 7")
        #expect(error?.reason.contains("closing balance is 74.51 EUR") == true)
    }

    @Test func tooManyDecimals_isRejected() {
        let error = Self.reject(Self.valid.replacingOccurrences(of: "D25,50", with: "D25,505"))
        #expect(error?.location == "line 5")
    }

    @Test func unknownCurrency_isRejected() {
        let error = Self.reject(Self.valid.replacingOccurrences(of: "C260101EUR", with: "C260101XXQ"))
        #expect(error?.location == "line 4")
        #expect(error?.reason.contains("not an ISO 4217") == true)
    }

    @Test func controlCharacter_isRejectedWithLine() {
        let error = Self.reject(Self.valid.replacingOccurrences(of: "Payment", with: "Pay\u{0}ment"))
        #expect(error?.location == "line 6")
    }

    @Test func malformedXML_isRejectedWithPosition() {
        do {
            _ = try StatementImporter.parse(fileContents: Array("<Document><BkToCstmrStmt></Document>".utf8), fileName: "bad.xml")
            Issue.record("malformed XML was accepted")
        } catch {
            #expect(error.fileName == "bad.xml")
            #expect(error.location.hasPrefix("line ") || error.location.hasPrefix("Document"))
            #expect(!error.reason.contains("Stmt"), "\(error)")
        }
    }

    @Test func finEnvelope_isAccepted() throws {
        let text = "{1:F01BANKDEFFAXXX0000000000}{2:O9400000000000BANKDEFFXXXX00000000000000000000N}{4:\n" + Self.valid + "-}{5:{CHK:123}}\n"
        let statements = try StatementImporter.parse(fileContents: Array(text.utf8), fileName: "fin.sta")
        #expect(statements.map(\.statementID) == ["REF1"])
    }

    @Test func latin1File_isDecoded() throws {
        var bytes = Array(Self.valid.replacingOccurrences(of: ":86:Payment", with: ":86:Zahlung M").utf8)
        let position = try #require(bytes.firstIndex(of: UInt8(ascii: "M")))
        bytes[position] = 0xDC
        let statements = try StatementImporter.parse(fileContents: bytes, fileName: "latin1.sta")
        #expect(statements[0].lines[0].narrative == "Zahlung Ü")
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

    @Test func camt_pendingSkipped_reversalKept_zeroExponentCurrency() throws {
        let statements = try StatementImporter.parse(fileContents: Array(Self.camt.utf8), fileName: "synthetic.xml")
        let statement = try #require(statements.first)
        #expect(statement.account == "12345678")
        #expect(!statement.accountIsIBAN)
        #expect(statement.lines.count == 1)
        #expect(statement.lines[0].amountMinor == -300)
        #expect(statement.lines[0].isReversal)
        #expect(statement.lines[0].bankReference == "BR-1")
        #expect(statement.closingBooked?.amountMinor == 700)
    }

    @Test func camt_fractionalYen_isRejectedAtAmount() {
        let text = Self.camt.replacingOccurrences(of: "<Amt Ccy=\"JPY\">300</Amt>", with: "<Amt Ccy=\"JPY\">300.5</Amt>")
        do {
            _ = try StatementImporter.parse(fileContents: Array(text.utf8), fileName: "yen.xml")
            Issue.record("fractional yen was accepted")
        } catch {
            #expect(error.location == "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt")
        }
    }

    @Test func camt_documentTypeDeclaration_isRejected() {
        let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<Document/>"
        do {
            _ = try StatementImporter.parse(fileContents: Array(text.utf8), fileName: "dtd.xml")
            Issue.record("a DTD was accepted")
        } catch {
            #expect(error.location == "line 2")
            #expect(error.reason.contains("document type declarations"))
        }
    }

    @Test func calendarDate_acceptsZonedDatesAndRejectsImpossibleOnes() {
        #expect(CalendarDate(iso: "2014-12-31+01:00") == CalendarDate(year: 2014, month: 12, day: 31))
        #expect(CalendarDate(iso: "2024-02-29") != nil)
        #expect(CalendarDate(iso: "2023-02-29") == nil)
        #expect(CalendarDate(iso: "2023-1-09") == nil)
        let date = CalendarDate(year: 2026, month: 3, day: 1)
        #expect(date.map { CalendarDate(dayNumber: $0.dayNumber) } == date)
        #expect(CalendarDate(timestampMs: 1_767_225_600_000) == CalendarDate(year: 2026, month: 1, day: 1))
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
        #expect(batches.map(\.batchID) == ["jan-1", "jan-2", "jan-3"])
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
