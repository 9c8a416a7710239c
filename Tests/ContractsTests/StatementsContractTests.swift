import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// A consortium with one bank, one enterprise and a registered EUR account.
struct StatementsFixture {
    let chain: LocalConsortium
    static let account = "DE89370400440532013000"

    init(rules: MatchingRules? = nil, parameters: JSONValue = .object([:]), register: Bool = true) throws {
        chain = try LocalConsortium(
            organizations: [("bankA", .bank), ("bankB", .bank), ("acme", .enterprise), ("globex", .enterprise), ("audit", .auditor)],
            contracts: ["statements": parameters],
            registry: ContractRegistry(contracts: [GovernanceContract(), StatementsContract()], directory: GovernanceContract()))
        if register {
            let receipt = try submit("bankA", .registerAccount, RegisterAccount(account: Self.account, enterpriseID: "acme", currency: "EUR", rules: rules))
            precondition(receipt.isSuccess, "\(String(describing: receipt.rejection))")
            let accepted = try submit("acme", .acceptAccount, AcceptAccount(account: Self.account, bank: "bankA"))
            precondition(accepted.isSuccess, "\(String(describing: accepted.rejection))")
        }
    }

    @discardableResult
    func submit(_ member: String, _ operation: StatementsContract.Operation, _ arguments: some CanonicalEncodable) throws -> Receipt {
        try chain.submit(member, StatementsContract.call(operation, arguments))
    }

    func query(_ name: StatementsContract.Query, _ parameters: [String: String]) throws -> JSONValue {
        var all = parameters
        if all["account"] == nil { all["account"] = Self.account }
        return try chain.ledger.query(contract: "statements", name.rawValue, parameters: all)
    }

    static func date(_ text: String) -> CalendarDate {
        CalendarDate(iso: Substring(text)) ?? CalendarDate(dayNumber: 0)
    }

    static func line(_ id: String, _ amount: Int64, _ day: String, reference: String? = nil, counterparty: String? = nil,
                     reversal: Bool = false) -> StatementLineInput {
        StatementLineInput(lineID: id, bookingDate: date(day), valueDate: date(day), amountMinor: amount, isReversal: reversal,
                           customerReference: reference, counterpartyName: counterparty)
    }

    static func statement(_ id: String, opening: Int64, lines: [StatementLineInput], from: String = "2026-01-01", to: String = "2026-01-31",
                          corrects: String? = nil) -> PostStatement {
        let closing = lines.reduce(opening) { $0 + $1.amountMinor }
        return PostStatement(account: account, statementID: id, currency: "EUR", openingBooked: StatementBalance(amountMinor: opening, date: date(from)),
                             closingBooked: StatementBalance(amountMinor: closing, date: date(to)), corrects: corrects, lines: lines)
    }

    static func entry(_ id: String, _ amount: Int64, _ day: String, reference: String? = nil, counterparty: String? = nil,
                      reversal: Bool = false) -> BookEntryInput {
        BookEntryInput(entryID: id, date: date(day), amountMinor: amount, currency: "EUR", reference: reference, counterparty: counterparty,
                       isReversal: reversal)
    }

    static func books(_ batch: String, _ entries: [BookEntryInput], opening: Int64? = nil) -> PostBookEntries {
        PostBookEntries(account: account, batchID: batch, openingBalanceMinor: opening, entries: entries)
    }

    func matches() throws -> [JSONValue] { try query(.matches, [:]).arrayValue ?? [] }
    func rules() throws -> [String] { try matches().filter { $0["dissolved"]?.boolValue == false }.compactMap { $0["rule"]?.stringValue } }
}

func rejectionCode(_ receipt: Receipt) -> String? { receipt.rejection?.code }

@Suite struct StatementsAccountTests {
    @Test func registerAccount_byBankForEnterprise_isQueryable() throws {
        let fixture = try StatementsFixture()
        let account = try fixture.query(.account, [:])
        #expect(account["bank"]?.stringValue == "bankA")
        #expect(account["enterprise"]?.stringValue == "acme")
        #expect(account["rules"]?["dateToleranceDays"]?.intValue == 3)
    }

    @Test func registerAccount_twiceByOneBank_isRejected() throws {
        let fixture = try StatementsFixture()
        let receipt = try fixture.submit("bankA", .registerAccount, RegisterAccount(account: StatementsFixture.account, enterpriseID: "globex", currency: "EUR"))
        #expect(rejectionCode(receipt) == "account_exists")
    }

    /// Accounts are keyed by number and bank, and an enterprise reaches only
    /// the registrations it accepted: a bank that registers another bank's
    /// account number first, even for that bank's customer, takes nothing.
    @Test func anotherBanksRegistrationOfTheNumber_cannotTakeTheAccount() throws {
        let fixture = try StatementsFixture(register: false)
        let number = StatementsFixture.account
        #expect(try fixture.submit("bankB", .registerAccount, RegisterAccount(account: number, enterpriseID: "acme", currency: "USD")).isSuccess,
                "bankB registers bankA's number first, for bankA's customer")
        let books = StatementsFixture.books("B1", [StatementsFixture.entry("E1", 900, "2026-01-05")])
        let early = try fixture.submit("acme", .postBookEntries, books)
        #expect(rejectionCode(early) == "account_not_accepted", "acme's books do not land on the squatter's registration")
        #expect(early.rejection?.message.contains("'bankB'") == true)

        #expect(try fixture.submit("bankA", .registerAccount, RegisterAccount(account: number, enterpriseID: "acme", currency: "EUR")).isSuccess)
        #expect(try fixture.submit("acme", .acceptAccount, AcceptAccount(account: number, bank: "bankA")).isSuccess)
        #expect(try fixture.submit("acme", .acceptAccount, AcceptAccount(account: number, bank: "bankA")).events.map(\.name) == ["account_already_accepted"])
        #expect(try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 900, "2026-01-05")])).isSuccess,
                "bankA posts to its own account, in its currency")
        #expect(try fixture.submit("acme", .postBookEntries, books).isSuccess, "acme reaches the account it accepted without naming the bank")
        #expect(try fixture.query(.status, [:])["matched"]?.intValue == 1, "queries, too, find the accepted registration")
        #expect(try fixture.query(.account, [:])["bank"]?.stringValue == "bankA")
        #expect(try fixture.query(.statements, ["bank": "bankB"]).arrayValue?.isEmpty == true)
        #expect(try fixture.query(.bookEntries, ["bank": "bankB"]).arrayValue?.isEmpty == true)

        #expect(rejectionCode(try fixture.submit("globex", .acceptAccount, AcceptAccount(account: number, bank: "bankB"))) == "not_account_enterprise")
        #expect(rejectionCode(try fixture.submit("acme", .acceptAccount, AcceptAccount(account: number, bank: "bankC"))) == "unknown_account")
        #expect(rejectionCode(try fixture.submit("globex", .postBookEntries, StatementsFixture.books("B2", [StatementsFixture.entry("E2", 1, "2026-01-05")]))) == "not_account_enterprise")
        #expect(rejectionCode(try fixture.submit("bankB", .unmatch, Unmatch(account: number, matchID: 1, reason: "mine"))) == "unknown_match",
                "bankB acts only on its own registration, which has no match")

        #expect(try fixture.submit("acme", .acceptAccount, AcceptAccount(account: number, bank: "bankB")).isSuccess)
        var again = StatementsFixture.books("B3", [StatementsFixture.entry("E3", 5, "2026-01-06")])
        let ambiguous = try fixture.submit("acme", .postBookEntries, again)
        #expect(rejectionCode(ambiguous) == "ambiguous_account", "having accepted both, acme names the bank")
        #expect(ambiguous.rejection?.message.contains("--bank") == true)
        again.bank = "bankA"
        #expect(try fixture.submit("acme", .postBookEntries, again).isSuccess)
        #expect(throws: QueryError.self) { try fixture.query(.account, [:]) }
        #expect(try fixture.query(.bookEntries, ["bank": "bankA"]).arrayValue?.count == 2)
    }

    @Test func registerAccount_forNonEnterprise_isRejected() throws {
        let fixture = try StatementsFixture(register: false)
        let receipt = try fixture.submit("bankA", .registerAccount, RegisterAccount(account: "X1", enterpriseID: "audit", currency: "EUR"))
        #expect(rejectionCode(receipt) == "not_an_enterprise")
    }

    @Test func registerAccount_unknownCurrencyOrOrganization_isRejected() throws {
        let fixture = try StatementsFixture(register: false)
        #expect(rejectionCode(try fixture.submit("bankA", .registerAccount, RegisterAccount(account: "X1", enterpriseID: "acme", currency: "EUX"))) == "unknown_currency")
        #expect(rejectionCode(try fixture.submit("bankA", .registerAccount, RegisterAccount(account: "X1", enterpriseID: "nobody", currency: "EUR"))) == "unknown_organization")
        #expect(rejectionCode(try fixture.submit("bankA", .registerAccount, RegisterAccount(account: "X1", enterpriseID: "acme", currency: "EUR",
                                                                                            rules: MatchingRules(dateToleranceDays: 40)))) == "bad_rules")
    }

    @Test func registerAccount_byEnterprise_isNotPermitted() throws {
        let fixture = try StatementsFixture(register: false)
        let receipt = try fixture.submit("acme", .registerAccount, RegisterAccount(account: "X1", enterpriseID: "acme", currency: "EUR"))
        #expect(rejectionCode(receipt) == "not_permitted")
    }

    @Test func genesis_badParameter_isRejectedNamingField() {
        #expect(throws: GenesisError.self) {
            _ = try StatementsContract.Parameters(json: .object(["dateToleranceDays": .integer(99)]))
        }
        #expect(throws: GenesisError.self) {
            _ = try StatementsContract.Parameters(json: .object(["unknownThing": .integer(1)]))
        }
        #expect((try? StatementsContract.Parameters(json: .object(["riskAgeDays": .integer(30)])))?.riskAgeDays == 30)
    }
}

@Suite struct StatementsPostingTests {
    @Test func postStatement_balanced_isStoredWithLines() throws {
        let fixture = try StatementsFixture()
        let receipt = try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 10_000, lines: [
            StatementsFixture.line("1", 2_500, "2026-01-05", reference: "INV-1"), StatementsFixture.line("2", -700, "2026-01-06"),
        ]))
        #expect(receipt.isSuccess)
        let statement = try fixture.query(.statement, ["statementId": "S1"])
        #expect(statement["closingBooked"]?["amountMinor"]?.intValue == 11_800)
        #expect(statement["lines"]?.arrayValue?.count == 2)
        #expect(statement["posted"]?["organization"]?.stringValue == "bankA")
    }

    @Test func postStatement_unbalanced_isRejected() throws {
        let fixture = try StatementsFixture()
        var statement = StatementsFixture.statement("S1", opening: 10_000, lines: [StatementsFixture.line("1", 2_500, "2026-01-05")])
        statement.closingBooked.amountMinor += 1
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, statement)) == "balance_mismatch")
    }

    @Test func postStatement_sameStatementAgain_isRecognised_andAnotherUnderItsID_isRejected() throws {
        let fixture = try StatementsFixture()
        let statement = StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 100, "2026-01-05")])
        #expect(try fixture.submit("bankA", .postStatement, statement).isSuccess)
        let before = try fixture.query(.statement, ["statementId": "S1"])
        let again = try fixture.submit("bankA", .postStatement, statement)
        #expect(again.isSuccess)
        #expect(again.events.map(\.name) == ["statement_already_posted"])
        #expect(try fixture.query(.statement, ["statementId": "S1"]) == before)
        #expect(before["digest"]?.stringValue == statement.digest.hex)
        let other = StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 101, "2026-01-05")])
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, other)) == "duplicate_statement")
    }

    @Test func postStatement_byOtherBank_isRejected() throws {
        let fixture = try StatementsFixture()
        let statement = StatementsFixture.statement("S1", opening: 0, lines: [])
        #expect(rejectionCode(try fixture.submit("bankB", .postStatement, statement)) == "not_account_bank")
    }

    @Test func postStatement_unregisteredAccount_isRejected() throws {
        let fixture = try StatementsFixture(register: false)
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: []))) == "unknown_account")
    }

    @Test func postStatement_wrongCurrencyOrDuplicateLine_isRejected() throws {
        let fixture = try StatementsFixture()
        var statement = StatementsFixture.statement("S1", opening: 0, lines: [])
        statement.currency = "USD"
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, statement)) == "currency_mismatch")
        let twice = StatementsFixture.statement("S2", opening: 0, lines: [StatementsFixture.line("1", 1, "2026-01-02"), StatementsFixture.line("1", 2, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, twice)) == "duplicate_line")
    }

    @Test func postBookEntries_byOtherEnterpriseOrTwice_isRejected() throws {
        let fixture = try StatementsFixture()
        let batch = StatementsFixture.books("B1", [StatementsFixture.entry("E1", 100, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("globex", .postBookEntries, batch)) == "not_account_enterprise")
        #expect(try fixture.submit("acme", .postBookEntries, batch).isSuccess)
        let same = try fixture.submit("acme", .postBookEntries, batch)
        #expect(same.isSuccess && same.events.map(\.name) == ["book_entries_already_posted"])
        let otherUnderSameID = StatementsFixture.books("B1", [StatementsFixture.entry("E9", 100, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("acme", .postBookEntries, otherUnderSameID)) == "duplicate_batch")
        let grown = StatementsFixture.books("B2", [StatementsFixture.entry("E1", 100, "2026-01-02"), StatementsFixture.entry("E2", 50, "2026-01-03")])
        let receipt = try fixture.submit("acme", .postBookEntries, grown)
        #expect(receipt.isSuccess)
        #expect(receipt.events.first?.attributes.contains { $0.key == "entries" && $0.value == "1" } == true)
        #expect(receipt.events.first?.attributes.contains { $0.key == "alreadyPosted" && $0.value == "1" } == true)
        #expect(try fixture.query(.bookEntries, [:]).arrayValue?.map { $0["batch"]?.stringValue } == ["B1", "B2"])
        let changed = StatementsFixture.books("B3", [StatementsFixture.entry("E1", 101, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("acme", .postBookEntries, changed)) == "entry_conflict")
        let twice = StatementsFixture.books("B4", [StatementsFixture.entry("E5", 1, "2026-01-02"), StatementsFixture.entry("E5", 1, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("acme", .postBookEntries, twice)) == "duplicate_entry")
    }

    @Test func postBookEntries_lateOpeningBalanceOrZero_isRejected() throws {
        let fixture = try StatementsFixture()
        #expect(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 100, "2026-01-02")], opening: 5)).isSuccess)
        #expect(rejectionCode(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B2", [StatementsFixture.entry("E2", 100, "2026-01-02")], opening: 6))) == "opening_balance_late")
        #expect(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B2", [StatementsFixture.entry("E2", 100, "2026-01-02")], opening: 5)).isSuccess,
                "the opening balance already recorded may be given again, as a re-import of the first batch does")
        #expect(rejectionCode(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B3", [StatementsFixture.entry("E3", 0, "2026-01-02")]))) == "zero_amount")
    }

    @Test func postStatement_amountBeyondLimitOrBadLineID_isRejected() throws {
        let fixture = try StatementsFixture()
        let huge = StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", StatementsLimits.amountMinorMax + 1, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, huge)) == "amount_out_of_range")
        let badID = StatementsFixture.statement("S2", opening: 0, lines: [StatementsFixture.line("a\u{1}", 1, "2026-01-02")])
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, badID)) == "bad_identifier")
    }

    @Test func bookEntries_queryListsEntriesWithMatchingState() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E/1", 100, "2026-01-02", reference: "Q")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 100, "2026-01-02", reference: "Q")]))
        let entries = try fixture.query(.bookEntries, [:]).arrayValue ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["entryId"]?.stringValue == "E/1")
        #expect(entries.first?["matching"]?["state"]?.stringValue == "matched")
        #expect(entries.first?["posted"]?["organization"]?.stringValue == "acme")
    }

    @Test func importedFixture_mapsToPostableStatement() throws {
        let fixture = try StatementsFixture()
        let parsed = try StatementFixtures.parse("camt/camt053-two-statements.xml")
        for statement in parsed {
            let arguments = try StatementImporter.postStatementArguments(statement, fileName: "multi", account: StatementsFixture.account)
            #expect(try fixture.submit("bankA", .postStatement, arguments).isSuccess)
        }
        let list = try fixture.query(.statements, [:]).arrayValue ?? []
        #expect(list.count == 2)
    }
}

@Suite struct StatementsMatchingRuleTests {
    @Test func reference_matchesSameAmountWhateverTheDate() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 2_500, "2026-01-01", reference: "inv 1")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 2_500, "2026-01-20", reference: "INV1")]))
        #expect(try fixture.rules() == ["reference"])
    }

    @Test func amountDateCounterparty_matchesWithinWindowOnly() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [
            StatementsFixture.entry("E1", -700, "2026-01-04", counterparty: "Stadtwerke GmbH"),
            StatementsFixture.entry("E2", -900, "2026-01-01", counterparty: "Far Away"),
        ]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [
            StatementsFixture.line("1", -700, "2026-01-06", counterparty: "STADTWERKE GMBH"),
            StatementsFixture.line("2", -900, "2026-01-10", counterparty: "Far Away"),
        ]))
        #expect(try fixture.rules() == ["amount_date_counterparty"])
    }

    @Test func amountDate_differentCounterparty_doesNotMatch() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", -700, "2026-01-04", counterparty: "Alpha")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", -700, "2026-01-04", counterparty: "Beta")]))
        #expect(try fixture.rules().isEmpty)
    }

    @Test func amountDate_missingCounterparty_recordsAmountDateRule() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", -700, "2026-01-04")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", -700, "2026-01-05", counterparty: "Beta")]))
        #expect(try fixture.rules() == ["amount_date"])
    }

    @Test func split_oneLineManyEntries_onlyWhenRuleAllows() throws {
        for allow in [false, true] {
            let fixture = try StatementsFixture(rules: MatchingRules(allowSplit: allow))
            try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [
                StatementsFixture.entry("E1", 1_000, "2026-01-02", reference: "BATCH7"), StatementsFixture.entry("E2", 1_500, "2026-01-02", reference: "BATCH7"),
            ]))
            try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 2_500, "2026-01-03", reference: "BATCH7")]))
            #expect(try fixture.rules() == (allow ? ["reference_split"] : []))
        }
    }

    @Test func split_manyLinesOneEntry_matchesWhenLastLineArrives() throws {
        let fixture = try StatementsFixture(rules: MatchingRules(allowSplit: true))
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", -3_000, "2026-01-02", reference: "PAY9")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [
            StatementsFixture.line("1", -1_000, "2026-01-03", reference: "PAY9"), StatementsFixture.line("2", -2_000, "2026-01-03", reference: "PAY9"),
        ]))
        let match = try #require(try fixture.matches().first)
        #expect(match["rule"]?.stringValue == "reference_split")
        #expect(match["bankItems"]?.arrayValue?.count == 2)
    }

    @Test func fee_receiptLessFee_matchesOnlyWithinTolerance() throws {
        for tolerance: Int64 in [0, 500] {
            let fixture = try StatementsFixture(rules: MatchingRules(feeToleranceMinor: tolerance))
            try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 100_000, "2026-01-02", reference: "INV5")]))
            try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 99_650, "2026-01-03", reference: "INV5")]))
            #expect(try fixture.rules() == (tolerance > 0 ? ["reference_fee"] : []))
            if tolerance > 0 {
                let report = try fixture.query(.report, ["date": "2026-01-31"])
                #expect(report["agrees"]?.boolValue == true)
                #expect(report["outstanding"]?["bank_debited_not_booked"]?["total"]?["minor"]?.intValue == -350)
            }
        }
    }

    @Test func reversal_lineAndItsReversalCancel() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [
            StatementsFixture.line("1", 5_000, "2026-01-03", reference: "X1"), StatementsFixture.line("2", -5_000, "2026-01-04", reference: "X1", reversal: true),
        ]))
        #expect(try fixture.rules() == ["reversal"])
        let status = try fixture.query(.status, ["date": "2026-01-31"])
        #expect(status["outstanding"]?["bank_credited_not_booked"]?["count"]?.intValue == 0)
    }

    @Test func reversal_bookEntryAndItsReversalCancel() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [
            StatementsFixture.entry("E1", -4_000, "2026-01-03", reference: "PO-7"),
            StatementsFixture.entry("E2", 4_000, "2026-01-05", reference: "PO-7", reversal: true),
        ]))
        #expect(try fixture.rules() == ["reversal"])
        let report = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(report["outstanding"]?["booked_payment_not_at_bank"]?["count"]?.intValue == 0)
        #expect(report["agrees"]?.boolValue == true)
    }

    @Test func matching_neverPairsDifferentCurrencyOrAmount() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 2_501, "2026-01-05", reference: "R1")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [StatementsFixture.line("1", 2_500, "2026-01-05", reference: "R1")]))
        #expect(try fixture.rules().isEmpty)
    }

    @Test func matching_oneToOne_secondEqualLineStaysOutstanding() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 800, "2026-01-05")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 0, lines: [
            StatementsFixture.line("1", 800, "2026-01-05"), StatementsFixture.line("2", 800, "2026-01-05"),
        ]))
        #expect(try fixture.rules() == ["amount_date"])
        let status = try fixture.query(.status, ["date": "2026-01-31"])
        #expect(status["outstanding"]?["bank_credited_not_booked"]?["count"]?.intValue == 1)
    }
}

@Suite struct StatementsReconciliationTests {
    @Test func report_fourClassesAdjustBothSidesAndAgree() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [
            StatementsFixture.entry("E1", 2_000, "2026-01-05", reference: "A"),
            StatementsFixture.entry("E2", 3_000, "2026-01-30", reference: "RECEIPT-LATE"),
            StatementsFixture.entry("E3", -1_200, "2026-01-30", reference: "CHEQUE-9"),
        ], opening: 10_000))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 10_000, lines: [
            StatementsFixture.line("1", 2_000, "2026-01-05", reference: "A"),
            StatementsFixture.line("2", 450, "2026-01-31", reference: "INTEREST"),
            StatementsFixture.line("3", -35, "2026-01-31", reference: "FEE"),
        ]))
        let report = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(report["bank"]?["balance"]?["minor"]?.intValue == 12_415)
        #expect(report["book"]?["balance"]?["minor"]?.intValue == 13_800)
        #expect(report["bank"]?["adjustedBalance"]?["minor"]?.intValue == 14_215)
        #expect(report["book"]?["adjustedBalance"]?["minor"]?.intValue == 14_215)
        #expect(report["agrees"]?.boolValue == true)
        for itemClass in OutstandingClass.allCases {
            #expect(report["outstanding"]?[itemClass.rawValue]?["count"]?.intValue == 1, "\(itemClass)")
        }
    }

    @Test func status_flagsItemsOlderThan90Days() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", -500, "2026-01-02", reference: "OLD")]))
        let early = try fixture.query(.status, ["date": "2026-03-01"])
        #expect(early["outstanding"]?["booked_payment_not_at_bank"]?["risk"]?.intValue == 0)
        let late = try fixture.query(.status, ["date": "2026-05-01"])
        #expect(late["outstanding"]?["booked_payment_not_at_bank"]?["risk"]?.intValue == 1)
        #expect(late["outstanding"]?["booked_payment_not_at_bank"]?["oldestAgeDays"]?.intValue == 119)
    }

    @Test func report_badDate_isABadParameter() throws {
        let fixture = try StatementsFixture()
        #expect(throws: QueryError.self) { try fixture.query(.report, ["date": "2026-13-01"]) }
        #expect(throws: QueryError.self) { try fixture.query(.report, [:]) }
    }
}

@Suite struct StatementsConfirmationTests {
    static func posted() throws -> StatementsFixture {
        let fixture = try StatementsFixture()
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 1_000, lines: [StatementsFixture.line("1", 250, "2026-01-05")]))
        return fixture
    }

    @Test func confirm_matchingBalance_isShownAsLastConfirmation() throws {
        let fixture = try Self.posted()
        #expect(try fixture.submit("acme", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_250)).isSuccess)
        let status = try fixture.query(.status, [:])
        #expect(status["lastConfirmation"]?["statementId"]?.stringValue == "S1")
        #expect(status["lastConfirmation"]?["step"]?["by"]?["organization"]?.stringValue == "acme")
    }

    @Test func confirm_wrongBalanceOrTwiceOrByBank_isRejected() throws {
        let fixture = try Self.posted()
        #expect(rejectionCode(try fixture.submit("acme", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_249))) == "balance_mismatch")
        #expect(rejectionCode(try fixture.submit("bankA", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_250))) == "not_permitted")
        #expect(try fixture.submit("acme", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_250)).isSuccess)
        #expect(rejectionCode(try fixture.submit("acme", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_250))) == "already_confirmed")
    }

    @Test func dispute_staysOpenUntilSignedResolution() throws {
        let fixture = try Self.posted()
        #expect(rejectionCode(try fixture.submit("acme", .disputeBalance, DisputeBalance(account: StatementsFixture.account, statementID: "S1", reason: " "))) == "empty_reason")
        #expect(try fixture.submit("acme", .disputeBalance, DisputeBalance(account: StatementsFixture.account, statementID: "S1", reason: "missing receipt", claimedBalanceMinor: 1_500)).isSuccess)
        #expect(try fixture.query(.status, [:])["openDisputes"]?.arrayValue?.count == 1)
        #expect(rejectionCode(try fixture.submit("acme", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_250))) == "dispute_open")
        #expect(rejectionCode(try fixture.submit("globex", .resolveDispute, ResolveDispute(account: StatementsFixture.account, statementID: "S1", resolution: "x"))) == "not_account_party")
        #expect(try fixture.submit("bankA", .resolveDispute, ResolveDispute(account: StatementsFixture.account, statementID: "S1", resolution: "receipt arrives next period")).isSuccess)
        #expect(try fixture.query(.status, [:])["openDisputes"]?.arrayValue?.count == 0)
        #expect(rejectionCode(try fixture.submit("bankA", .resolveDispute, ResolveDispute(account: StatementsFixture.account, statementID: "S1", resolution: "again"))) == "no_open_dispute")
    }

    @Test func correction_resolvesDisputeAndRematchesBooks() throws {
        let fixture = try StatementsFixture()
        try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 250, "2026-01-05", reference: "R1")]))
        try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1", opening: 1_000, lines: [StatementsFixture.line("1", 250, "2026-01-05", reference: "R1")]))
        try fixture.submit("acme", .disputeBalance, DisputeBalance(account: StatementsFixture.account, statementID: "S1", reason: "fee missing"))
        let correction = StatementsFixture.statement("S1-C", opening: 1_000, lines: [
            StatementsFixture.line("1", 250, "2026-01-05", reference: "R1"), StatementsFixture.line("2", -10, "2026-01-31", reference: "FEE"),
        ], corrects: "S1")
        #expect(try fixture.submit("bankA", .postStatement, correction).isSuccess)
        #expect(try fixture.query(.statement, ["statementId": "S1"])["supersededBy"]?.stringValue == "S1-C")
        #expect(try fixture.query(.statement, ["statementId": "S1"])["confirmationStatus"]?.stringValue == "resolved")
        #expect(try fixture.rules() == ["reference"])
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, StatementsFixture.statement("S1-D", opening: 1_000, lines: [], corrects: "S1"))) == "already_corrected")
        #expect(rejectionCode(try fixture.submit("acme", .confirmBalance, ConfirmBalance(account: StatementsFixture.account, statementID: "S1", closingBalanceMinor: 1_250))) == "statement_superseded")
        let report = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(report["bank"]?["balance"]?["minor"]?.intValue == 1_240)
    }
}

@Suite struct StatementsImportScenarioTests {
    /// The devnet story in one process: an MT940 statement and the enterprise's CSV books
    /// go in, the outstanding items show, and the enterprise confirms the balance.
    @Test func statementFileAndCSVBooks_matchShowOutstandingAndConfirm() throws {
        let fixture = try StatementsFixture(register: false)
        let statement = try #require(try StatementFixtures.parse("mt940/plain.sta").first)
        #expect(try fixture.submit("bankA", .registerAccount, RegisterAccount(account: statement.account, enterpriseID: "acme", currency: statement.currency)).isSuccess)
        #expect(try fixture.submit("acme", .acceptAccount, AcceptAccount(account: statement.account, bank: "bankA")).isSuccess)
        let arguments = try StatementImporter.postStatementArguments(statement, fileName: "plain.sta")
        #expect(try fixture.submit("bankA", .postStatement, arguments).isSuccess)

        let csv = """
            entry_id,date,amount,currency,reference,counterparty,memo
            K-1,2026-01-04,-250.00,EUR,INV-2026-17,Acme Properties,office rent January
            K-2,2026-01-29,-120.00,EUR,CHQ-77,Printer Ltd,cheque not yet presented
            """
        let entries = try BooksCSVReader.parse(fileContents: Array(csv.utf8), fileName: "books.csv")
        let books = PostBookEntries(account: statement.account, batchID: "2026-01", openingBalanceMinor: 100_000, entries: entries)
        #expect(try fixture.submit("acme", .postBookEntries, books).isSuccess)

        let parameters = ["account": statement.account, "date": "2026-01-31"]
        let status = try fixture.chain.ledger.query(contract: "statements", "status", parameters: parameters)
        #expect(status["matched"]?.intValue == 1)
        #expect(status["outstanding"]?["bank_credited_not_booked"]?["totalMinor"]?.intValue == 120_050)
        #expect(status["outstanding"]?["booked_payment_not_at_bank"]?["totalMinor"]?.intValue == -12_000)
        let report = try fixture.chain.ledger.query(contract: "statements", "report", parameters: parameters)
        #expect(report["bank"]?["balance"]?["minor"]?.intValue == 195_050)
        #expect(report["book"]?["balance"]?["minor"]?.intValue == 63_000)
        #expect(report["agrees"]?.boolValue == true)
        #expect(report["statementDiscrepancies"]?["count"]?.intValue == 0)

        let confirm = ConfirmBalance(account: statement.account, statementID: "STMT-2026-001", closingBalanceMinor: 195_050)
        #expect(try fixture.submit("acme", .confirmBalance, confirm).isSuccess)
        let after = try fixture.chain.ledger.query(contract: "statements", "status", parameters: parameters)
        #expect(after["lastConfirmation"]?["statementId"]?.stringValue == "STMT-2026-001")
    }

    /// A bank file whose closing balance its lines do not give is posted with its
    /// discrepancy, which the records and the reconciliation statement show.
    @Test func unbalancedStatementFile_postsWithItsDiscrepancy_andTheReportShowsIt() throws {
        let fixture = try StatementsFixture()
        let statement = try #require(try StatementFixtures.parse("mt940/unbalanced.sta").first)
        let arguments = try StatementImporter.postStatementArguments(statement, fileName: "unbalanced.sta")
        let receipt = try fixture.submit("bankA", .postStatement, arguments)
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        #expect(receipt.events.first?.attributes.contains { $0.key == "discrepancyMinor" && $0.value == "-1" } == true)
        let stored = try fixture.query(.statement, ["statementId": "UNBALANCED-1"])
        #expect(stored["balanceCheck"]?["result"]?.stringValue == "discrepancy")
        #expect(stored["balanceCheck"]?["differenceMinor"]?.intValue == -1)

        let entries = [StatementsFixture.entry("E1", -10_000, "2026-03-06", reference: "RENT-MARCH"), StatementsFixture.entry("E2", 5_000, "2026-03-06")]
        #expect(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", entries, opening: 100_000)).isSuccess)
        let report = try fixture.query(.report, ["date": "2026-03-31"])
        #expect(report["bank"]?["balance"]?["minor"]?.intValue == 94_999)
        #expect(report["book"]?["balance"]?["minor"]?.intValue == 95_000)
        #expect(report["agrees"]?.boolValue == false)
        #expect(report["differenceMinor"]?.intValue == -1)
        #expect(report["statementDiscrepancies"]?["count"]?.intValue == 1)
        #expect(report["statementDiscrepancies"]?["total"]?["minor"]?.intValue == -1)
        #expect(report["statementDiscrepancies"]?["items"]?.arrayValue?.first?["statementId"]?.stringValue == "UNBALANCED-1")
        #expect(report["differenceBeyondDiscrepanciesMinor"]?.intValue == 0)
        let before = try fixture.query(.report, ["date": "2026-03-05"])
        #expect(before["statementDiscrepancies"]?["count"]?.intValue == 0)
    }
}

@Suite struct StatementsBalanceCheckTests {
    static func unbalanced(_ check: StatementBalanceCheck) -> PostStatement {
        var statement = StatementsFixture.statement("S1", opening: 10_000, lines: [StatementsFixture.line("1", 2_500, "2026-01-05")])
        statement.closingBooked.amountMinor += 7
        statement.balanceCheck = check
        return statement
    }

    @Test func declaredDiscrepancy_mustBeTheActualDifference() throws {
        let fixture = try StatementsFixture()
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, Self.unbalanced(.agrees))) == "balance_mismatch")
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, Self.unbalanced(.closingDerived))) == "balance_mismatch")
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, Self.unbalanced(.discrepancy(differenceMinor: 6)))) == "discrepancy_mismatch")
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, Self.unbalanced(.discrepancy(differenceMinor: StatementsLimits.amountMinorMax + 1)))) == "amount_out_of_range")
        var balanced = StatementsFixture.statement("S2", opening: 0, lines: [])
        balanced.balanceCheck = .discrepancy(differenceMinor: 0)
        #expect(rejectionCode(try fixture.submit("bankA", .postStatement, balanced)) == "bad_discrepancy")
        #expect(try fixture.submit("bankA", .postStatement, Self.unbalanced(.discrepancy(differenceMinor: 7))).isSuccess)
        #expect(try fixture.query(.statements, [:]).arrayValue?.first?["balanceCheck"]?["differenceMinor"]?.intValue == 7)
    }

    @Test func derivedClosing_isRecorded() throws {
        let fixture = try StatementsFixture()
        var statement = StatementsFixture.statement("S1", opening: 1_000, lines: [StatementsFixture.line("1", 500, "2026-01-05")])
        statement.balanceCheck = .closingDerived
        let receipt = try fixture.submit("bankA", .postStatement, statement)
        #expect(receipt.isSuccess)
        #expect(receipt.events.first?.attributes.contains { $0.key == "closingDerived" } == true)
        #expect(try fixture.query(.statement, ["statementId": "S1"])["balanceCheck"]?["result"]?.stringValue == "closing_derived")
    }

    @Test func balanceCheck_roundTripsThroughTheCodec() throws {
        for check in [StatementBalanceCheck.agrees, .discrepancy(differenceMinor: -42), .closingDerived] {
            var statement = StatementsFixture.statement("S1", opening: 0, lines: [])
            statement.balanceCheck = check
            #expect(try PostStatement(canonicalBytes: statement.canonicalBytes) == statement)
        }
        #expect(throws: CodecError.self) { try StatementBalanceCheck(canonicalBytes: [3]) }
    }
}

@Suite struct StatementsIntradayReportTests {
    static func report(_ id: String, lines: [StatementLineInput]) -> PostIntradayReport {
        PostIntradayReport(account: StatementsFixture.account, reportID: id, sequence: "7", currency: "EUR", reportDate: StatementsFixture.date("2026-02-10"),
                           balances: [ReportBalance(code: "ITBD", amountMinor: 118_000, date: StatementsFixture.date("2026-02-10"))], lines: lines)
    }

    @Test func report_isStoredAndQueried_butItsLinesAreNotMatched() throws {
        let fixture = try StatementsFixture()
        #expect(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", [StatementsFixture.entry("E1", 20_000, "2026-02-10", reference: "INV-21")])).isSuccess)
        let receipt = try fixture.submit("bankA", .postIntradayReport, Self.report("R1", lines: [StatementsFixture.line("1", 20_000, "2026-02-10", reference: "INV-21")]))
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        #expect(receipt.events.first?.name == "intraday_report_posted")
        let stored = try fixture.query(.intradayReport, ["reportId": "R1"])
        #expect(stored["balances"]?.arrayValue?.first?["code"]?.stringValue == "ITBD")
        #expect(stored["lines"]?.arrayValue?.first?["customerReference"]?.stringValue == "INV-21")
        #expect(stored["reportDate"]?.stringValue == "2026-02-10")
        #expect(try fixture.query(.intradayReports, [:]).arrayValue?.map { $0["reportId"]?.stringValue } == ["R1"])
        #expect(try fixture.query(.intradayReports, [:]).arrayValue?.first?["lines"] == nil)
        #expect(try fixture.matches().isEmpty)
        #expect(try fixture.query(.statements, [:]).arrayValue?.isEmpty == true)
        let report = try fixture.query(.report, ["date": "2026-02-10"])
        #expect(report["bank"]?["balance"]?["minor"]?.intValue == 0)
    }

    @Test func report_rules() throws {
        let fixture = try StatementsFixture()
        #expect(try fixture.submit("bankA", .postIntradayReport, Self.report("R1", lines: [])).isSuccess)
        #expect(try fixture.submit("bankA", .postIntradayReport, Self.report("R1", lines: [])).events.map(\.name) == ["intraday_report_already_posted"])
        #expect(rejectionCode(try fixture.submit("bankA", .postIntradayReport, Self.report("R1", lines: [StatementsFixture.line("1", 5, "2026-02-10")]))) == "duplicate_report")
        #expect(rejectionCode(try fixture.submit("bankB", .postIntradayReport, Self.report("R2", lines: []))) == "not_account_bank")
        #expect(rejectionCode(try fixture.submit("acme", .postIntradayReport, Self.report("R3", lines: []))) == "not_permitted")
        var wrongCurrency = Self.report("R4", lines: [])
        wrongCurrency.currency = "USD"
        #expect(rejectionCode(try fixture.submit("bankA", .postIntradayReport, wrongCurrency)) == "currency_mismatch")
        let twice = Self.report("R5", lines: [StatementsFixture.line("1", 1, "2026-02-10"), StatementsFixture.line("1", 2, "2026-02-10")])
        #expect(rejectionCode(try fixture.submit("bankA", .postIntradayReport, twice)) == "duplicate_line")
        var badCode = Self.report("R6", lines: [])
        badCode.balances = [ReportBalance(code: "IT/BD", amountMinor: 1, date: StatementsFixture.date("2026-02-10"))]
        #expect(rejectionCode(try fixture.submit("bankA", .postIntradayReport, badCode)) == "bad_balance_code")
        #expect(throws: QueryError.self) { try fixture.query(.intradayReport, ["reportId": "R9"]) }
    }

    @Test func importedCamt052AndMT942_postAsIntradayReports() throws {
        let fixture = try StatementsFixture()
        let files = ["camt/camt052-intraday.xml", "mt942/interim-report.sta"]
        for file in files {
            let parsed = try StatementFixtures.parse(file)
            for posting in try StatementImporter.postings(parsed, fileName: file, account: StatementsFixture.account) {
                guard case .intradayReport(let arguments) = posting else {
                    Issue.record("\(file): expected an intraday report")
                    continue
                }
                let receipt = try fixture.submit("bankA", .postIntradayReport, arguments)
                #expect(receipt.isSuccess, "\(file): \(String(describing: receipt.rejection))")
            }
        }
        #expect(try fixture.query(.intradayReports, [:]).arrayValue?.count == 3)
    }
}
