import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// Decodes a query's JSON into its typed answer and expects the answer to
/// encode back to the same JSON: the struct reads every key the contract
/// writes, and a key renamed on one side fails here.
func roundTrip<Answer: Codable & Equatable>(_ json: JSONValue, as type: Answer.Type,
                                            sourceLocation: SourceLocation = #_sourceLocation) throws -> Answer {
    let answer = try json.decode(type)
    #expect(try JSONValue(encoding: answer) == json, sourceLocation: sourceLocation)
    return answer
}

/// The keys of a JSON object, sorted; none for anything else.
func keys(_ json: JSONValue?) -> [String] {
    json?.objectValue?.keys.sorted() ?? []
}

@Suite struct ClearingQueryAnswerTests {
    private static let findingKeys = ["details", "detectedAtHeight", "kind", "open", "participants", "paymentId", "postedAtHeight", "postedBy",
                                      "resolution", "side"]

    @Test func breaks_decodeIntoFindingAnswers_withResolutionNullWhileOpen() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1")))
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P2")))
        let resolved = FindingKey(paymentID: "P1", kind: .short, side: .payer, detectedAtHeight: 1)
        let open = FindingKey(paymentID: "P2", kind: .amountMismatch, side: .payer, detectedAtHeight: 2)
        expectSuccess(try chain.clearing("cch", .postFinding, PostFinding(key: resolved, details: "no clearing record")))
        expectSuccess(try chain.clearing("cch", .postFinding, PostFinding(key: open, details: "amounts differ")))
        expectSuccess(try chain.clearing("cch", .resolveFinding, ResolveFinding(key: resolved, resolvedAtHeight: 3, details: "arrived")))

        let json = try chain.clearingQuery(.breaks)
        for item in json.arrayValue ?? [] { #expect(keys(item) == Self.findingKeys) }
        #expect(json.arrayValue?[1]["resolution"] == .null, "an open finding's resolution is null, not absent")
        let findings = try roundTrip(json, as: [ClearingFindingAnswer].self)
        #expect(findings.map(\.paymentID) == ["P1", "P2"])
        #expect(findings[0].kind == .short)
        #expect(findings[0].side == .payer)
        #expect(findings[0].detectedAtHeight == 1)
        #expect(findings[0].open == false)
        #expect(findings[0].resolution?.resolvedAtHeight == 3)
        #expect(findings[0].resolution?.details == "arrived")
        #expect(findings[0].resolution?.postedBy == "cch")
        #expect(keys(json.arrayValue?[0]["resolution"]) == ["details", "postedAtHeight", "postedBy", "resolvedAtHeight"])
        #expect(findings[1].kind == .amountMismatch)
        #expect(findings[1].open)
        #expect(findings[1].resolution == nil)
        #expect(findings[1].participants == ["bankA", "bankB"])

        let payment = try chain.clearingQuery(.payment, ["id": "P1"])
        #expect(try roundTrip(payment["findings"] ?? .null, as: [ClearingFindingAnswer].self) == [findings[0]])
    }

    @Test func position_decodesIntoPositionAnswer_withTheSignedHash() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P1", payer: "bankA", payee: "bankB", amount: 500, status: .settled)))

        let json = try chain.clearingQuery(.position, ["cycle": "C1"])
        #expect(keys(json) == ["cycle", "positions", "positionsHash", "status", "totals"])
        #expect(keys(json["positions"]?.arrayValue?.first) == ["currency", "institution", "netMinor"])
        let position = try roundTrip(json, as: ClearingPositionAnswer.self)
        #expect(position.cycle == "C1")
        #expect(position.status == .open)
        #expect(position.positions == [NetPosition(institution: "bankA", currency: "CNY", netMinor: -500),
                                       NetPosition(institution: "bankB", currency: "CNY", netMinor: 500)])
        #expect(position.positionsHash == position.positions.positionsHash)
        #expect(json["positionsHash"] == .string(position.positionsHash.hex))
        #expect(position.totals == ["CNY": 0])

        let cycle = try chain.clearingQuery(.cycle, ["id": "C1"])
        #expect(try roundTrip(cycle["positions"] ?? .null, as: [NetPosition].self) == position.positions)
    }

    @Test func openCycle_decodesIntoOpenCycleAnswer() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C7")))
        let json = try chain.clearingQuery(.openCycle, ["clearingHouse": "cch"])
        #expect(keys(json) == ["cycle"])
        #expect(try roundTrip(json, as: ClearingOpenCycleAnswer.self) == ClearingOpenCycleAnswer(cycle: "C7"))
    }

    @Test func config_decodesIntoConfigAnswer_andGivesTheJobsConfiguration() throws {
        let chain = try ClearingFixture.chain(.object([
            "graceMs": .integer(1000), "inTransitThresholdMs": .integer(9000), "duplicateWindowMs": .integer(0),
            "reconcilers": .array([.string("cch"), .string("bankA")]),
        ]))
        let json = try chain.clearingQuery(.config)
        #expect(keys(json) == ["amountMinorMax", "reconcilers", "reconciliation"])
        #expect(keys(json["reconciliation"]) == ["duplicateWindowMs", "graceMs", "inTransitThresholdMs", "retentionMs"])
        let config = try roundTrip(json, as: ClearingConfigAnswer.self)
        #expect(config.reconcilers == ["bankA", "cch"])
        #expect(config.amountMinorMax == Int64(ClearingLimits.amountMinorCeiling))
        #expect(try ReconciliationConfiguration(configAnswer: config)
                == ReconciliationConfiguration(graceMs: 1000, inTransitThresholdMs: 9000, duplicateWindowMs: 0))
    }

    @Test func configAnswer_negativeOrMissingMember_isRefusedNamingIt() {
        let negative = ClearingConfigAnswer(reconcilers: [], amountMinorMax: 1,
                                            reconciliation: .init(graceMs: -1, inTransitThresholdMs: 0, duplicateWindowMs: 0, retentionMs: 0))
        let refused = #expect(throws: QueryError.self) { try ReconciliationConfiguration(configAnswer: negative) }
        #expect(refused?.message.contains("graceMs") == true)
        let missing: JSONValue = .object(["reconcilers": .array([]), "amountMinorMax": .integer(1), "reconciliation": .object(["graceMs": .integer(1)])])
        let unread = #expect(throws: QueryError.self) { try ReconciliationConfiguration(configAnswer: missing) }
        #expect(unread?.message.contains("inTransitThresholdMs") == true)
    }
}

@Suite struct StatementsQueryAnswerTests {
    @Test func report_decodesIntoReportAnswer_withEveryClassAndItem() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [
            StatementsFixture.entry("E1", 2_000, "2026-01-05", reference: "A"),
            StatementsFixture.entry("E2", 3_000, "2026-01-30", reference: "RECEIPT-LATE"),
            StatementsFixture.entry("E3", -1_200, "2026-01-30", reference: "CHEQUE-9", counterparty: "Landlord"),
        ], opening: 10_000))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 10_000, lines: [
            StatementsFixture.line("1", 2_000, "2026-01-05", reference: "A"),
            StatementsFixture.line("2", 450, "2026-01-31", reference: "INTEREST"),
            StatementsFixture.line("3", -35, "2026-01-31"),
        ]))

        let json = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(keys(json) == ["account", "agrees", "ambiguousMatches", "bank", "bankBalanceStatement", "book", "currency", "date", "differenceBeyondDiscrepanciesMinor",
                               "differenceMinor", "matchedGroups", "outstanding", "riskItems", "statementDiscrepancies"])
        #expect(keys(json["bank"]) == ["adjustedBalance", "balance", "lessBookedPaymentsNotAtBank", "plusBookedReceiptsNotAtBank"])
        #expect(keys(json["book"]) == ["adjustedBalance", "balance", "lessBankDebitsNotBooked", "plusBankCreditsNotBooked"])
        #expect(keys(json["bank"]?["balance"]) == ["amount", "minor"])
        let report = try roundTrip(json, as: ReconciliationReportAnswer.self)
        #expect(report.account == StatementsFixture.account)
        #expect(report.date == "2026-01-31")
        #expect(report.currency == "EUR")
        #expect(report.bankBalanceStatement == "S1")
        #expect(report.bank.balance == MoneyAnswer(minor: 12_415, amount: "124.15"))
        #expect(report.book.balance.minor == 13_800)
        #expect(report.bank.adjustedBalance == report.book.adjustedBalance)
        #expect(report.agrees)
        #expect(report.differenceMinor == 0)
        #expect(report.statementDiscrepancies.count == 0)
        #expect(report.outstanding.keys.sorted() == OutstandingClass.allCases.map(\.rawValue).sorted())
        for itemClass in OutstandingClass.allCases { #expect(report.outstanding[itemClass.rawValue]?.count == 1, "\(itemClass)") }

        let cheque = try #require(report.outstanding[OutstandingClass.bookedPaymentNotAtBank.rawValue]?.items.first)
        #expect(cheque.id == "E3")
        #expect(cheque.itemClass == OutstandingClass.bookedPaymentNotAtBank.rawValue)
        #expect(cheque.side == "book")
        #expect(cheque.amount == "-12.00")
        #expect(cheque.reference == "CHEQUE-9")
        #expect(cheque.counterparty == "Landlord")
        let fee = try #require(report.outstanding[OutstandingClass.bankDebitedNotBooked.rawValue]?.items.first)
        #expect(fee.reference == nil)
        let feeJSON = json["outstanding"]?[OutstandingClass.bankDebitedNotBooked.rawValue]?["items"]?.arrayValue?.first
        #expect(keys(feeJSON) == ["ageDays", "amount", "amountMinor", "class", "date", "feeDifference", "id", "risk", "side", "text"],
                "an item without a reference or counterparty has neither key")
    }

    @Test func report_withoutStatement_hasNoBankBalanceStatement_andListsDiscrepancies() throws {
        let fixture = try StatementsFixture()
        let before = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(before["bankBalanceStatement"] == nil, "absent, not null, before any statement")
        #expect(try roundTrip(before, as: ReconciliationReportAnswer.self).bankBalanceStatement == nil)

        let statement = try #require(try StatementFixtures.parse("mt940/unbalanced.sta").first)
        #expect(try fixture.submit("bankA", .postStatement, try StatementImporter.postStatementArguments(statement, fileName: "unbalanced.sta")).isSuccess)
        let json = try fixture.query(.report, ["date": "2026-03-31"])
        #expect(keys(json["statementDiscrepancies"]?["items"]?.arrayValue?.first) == ["closingDate", "difference", "statementId"])
        let report = try roundTrip(json, as: ReconciliationReportAnswer.self)
        #expect(report.statementDiscrepancies.count == 1)
        #expect(report.statementDiscrepancies.items.first?.statementID == "UNBALANCED-1")
        #expect(report.statementDiscrepancies.total.minor == -1)
    }

    @Test func status_listsItemsInTheReportsItemShape() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 2_000, "2026-01-05")], opening: 10_000))
        let status = try fixture.query(.status, ["date": "2026-01-31"])
        let items = status["outstanding"]?[OutstandingClass.bookedReceiptNotAtBank.rawValue]?["items"] ?? .null
        let decoded = try roundTrip(items, as: [OutstandingItemAnswer].self)
        #expect(decoded.map(\.id) == ["E1"])
        #expect(decoded.first?.amountMinor == 2_000)
    }
}
