import Testing
@testable import Contracts
import Ledger
import LedgerCore
import ConsortTesting

/// The accountant's daily work: manual match and unmatch, review of
/// ambiguous matches, and correction of book entries by reversing entries.
@Suite struct StatementsAccountantTests {
    typealias F = StatementsFixture

    func match(_ fixture: F, _ id: Int) throws -> JSONValue? {
        try fixture.matches().first { $0["id"]?.intValue == Int64(id) }
    }

    func matching(_ fixture: F, entry: String) throws -> JSONValue? {
        try fixture.query(.bookEntries, [:]).arrayValue?.first { $0["entryId"]?.stringValue == entry }?["matching"]
    }

    func matching(_ fixture: F, line itemID: String) throws -> JSONValue? {
        let statement = itemID.split(separator: "/").first.map(String.init) ?? ""
        return try fixture.query(.statement, ["statementId": statement])["lines"]?.arrayValue?
            .first { $0["itemId"]?.stringValue == itemID }?["matching"]
    }

    func outstandingIDs(_ fixture: F, date: String = "2026-01-31") throws -> Set<String> {
        let report = try fixture.query(.report, ["date": date])
        var ids: Set<String> = []
        for group in report["outstanding"]?.objectValue?.values ?? [:].values {
            for item in group["items"]?.arrayValue ?? [] { if let id = item["id"]?.stringValue { ids.insert(id) } }
        }
        return ids
    }

    // MARK: Manual match

    @Test func manualMatch_keepsWhoAndWhy_andTheDifferenceIsOutstanding() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 10_000, "2026-01-05", counterparty: "Acme Trading")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 9_950, "2026-01-20", counterparty: "ACME T.")]))
        #expect(try fixture.matches().isEmpty, "amounts differ, so nothing matched by itself")

        let receipt = try fixture.submit("acme", .matchItems, ManualMatch(account: F.account, bankItems: ["S1/1"], bookEntries: ["E1"],
                                                                          reason: "receipt less the bank's 0.50 charge, see advice 77"))
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        #expect(receipt.events.first?.name == "items_matched")
        let made = try #require(try match(fixture, 1))
        #expect(made["rule"]?.stringValue == "manual")
        #expect(made["reason"]?.stringValue == "receipt less the bank's 0.50 charge, see advice 77")
        #expect(made["made"]?["organization"]?.stringValue == "acme")
        #expect(made["differenceMinor"]?.intValue == -50)
        #expect(try matching(fixture, entry: "E1")?["match"]?.intValue == 1)
        #expect(try matching(fixture, line: "S1/1")?["match"]?.intValue == 1)

        let report = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(report["matchedGroups"]?.intValue == 1)
        #expect(report["agrees"]?.boolValue == true)
        let debits = report["outstanding"]?["bank_debited_not_booked"]?["items"]?.arrayValue ?? []
        #expect(debits.map { $0["text"]?.stringValue } == ["difference of manual match 1: receipt less the bank's 0.50 charge, see advice 77"])
    }

    @Test func manualMatch_refusesWhatIsNotOpenOrNotTheirs_andSaysWhy() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [
            F.entry("E1", 500, "2026-01-05", reference: "INV-1"), F.entry("E2", 700, "2026-01-06"), F.entry("E3", -700, "2026-01-07"),
            F.entry("E4", 300, "2026-01-08"),
        ]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 500, "2026-01-05", reference: "INV-1")]))
        func attempt(_ member: String, _ bank: [String], _ book: [String], reason: String = "checked") throws -> String? {
            rejectionCode(try fixture.submit(member, .matchItems, ManualMatch(account: F.account, bankItems: bank, bookEntries: book, reason: reason)))
        }
        #expect(try attempt("acme", ["S1/1"], ["E2"]) == "item_not_open")
        let notOpen = try fixture.submit("acme", .matchItems, ManualMatch(account: F.account, bankItems: [], bookEntries: ["E1", "E3"], reason: "x"))
        #expect(notOpen.rejection?.message.contains("already in match 1; unmatch it first") == true)
        #expect(try attempt("acme", [], ["E2", "E4"]) == "unbalanced_match")
        #expect(try attempt("acme", [], ["E2"]) == "too_few_items")
        #expect(try attempt("acme", [], ["E2", "E2"]) == "duplicate_item")
        #expect(try attempt("acme", ["S1/9"], ["E2"]) == "unknown_item")
        #expect(try attempt("acme", [], ["E2", "E99"]) == "unknown_entry")
        #expect(try attempt("acme", [], ["E2", "E3"], reason: "  ") == "empty_reason")
        #expect(try attempt("globex", [], ["E2", "E3"]) == "not_account_party")
        #expect(try attempt("bankB", [], ["E2", "E3"]) == "not_account_party")
        #expect(try attempt("audit", [], ["E2", "E3"]) == "not_permitted")
        #expect(try attempt("bankA", [], ["E2", "E3"]) == "not_side_owner", "only the books' owner pairs book entries with one another")
        #expect(try fixture.matches().count == 1, "no refused attempt changed anything")
        #expect(try attempt("acme", [], ["E2", "E3"]) == nil, "items of one side that cancel out match")
        #expect(try match(fixture, 2)?["made"]?["organization"]?.stringValue == "acme")
        #expect(rejectionCode(try fixture.submit("bankA", .unmatch, Unmatch(account: F.account, matchID: 2, reason: "no"))) == "not_match_owner",
                "a match made by hand is undone only by whoever made it")
    }

    // MARK: Unmatch

    @Test func unmatch_reopensTheItems_keepsTheDissolution_andTheyAreNotRematchedByThemselves() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 2_000, "2026-01-05", counterparty: "Globex")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 2_000, "2026-01-05", counterparty: "Globex")]))
        #expect(try fixture.rules() == ["amount_date_counterparty"])

        let receipt = try fixture.submit("acme", .unmatch, Unmatch(account: F.account, matchID: 1, reason: "two different invoices of the same amount"))
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        let dissolved = try #require(try match(fixture, 1))
        #expect(dissolved["dissolved"]?.boolValue == true)
        #expect(dissolved["dissolution"]?["reason"]?.stringValue == "two different invoices of the same amount")
        #expect(dissolved["dissolution"]?["by"]?["organization"]?.stringValue == "acme")
        #expect(try matching(fixture, entry: "E1")?["state"]?.stringValue == "open")
        #expect(try matching(fixture, line: "S1/1")?["state"]?.stringValue == "open")
        #expect(try outstandingIDs(fixture) == ["E1", "S1/1"])

        #expect(rejectionCode(try fixture.submit("acme", .unmatch, Unmatch(account: F.account, matchID: 1, reason: "again"))) == "match_dissolved")
        #expect(rejectionCode(try fixture.submit("acme", .unmatch, Unmatch(account: F.account, matchID: 7, reason: "none"))) == "unknown_match")
        #expect(rejectionCode(try fixture.submit("globex", .unmatch, Unmatch(account: F.account, matchID: 1, reason: "not mine"))) == "not_account_party")

        // The items stay in the open-item index: a later arrival or a person matches them.
        try fixture.submit("acme", .postBookEntries, F.books("B2", [F.entry("E2", 2_000, "2026-01-06", counterparty: "Globex")]))
        #expect(try fixture.rules() == ["amount_date_counterparty"], "the new entry matched the reopened line")
        #expect(try matching(fixture, entry: "E2")?["match"]?.intValue == 2)
        #expect(try outstandingIDs(fixture) == ["E1"])
    }

    // MARK: Ambiguity

    @Test func tiedCandidates_makeTheMatchAmbiguous_untilItIsReviewed() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [
            F.entry("E1", 4_900, "2026-01-04", counterparty: "Initech"), F.entry("E2", 4_900, "2026-01-06", counterparty: "Initech"),
        ]))
        let receipt = try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 4_900, "2026-01-05", counterparty: "Initech")]))
        #expect(receipt.events.first?.attributes.contains { $0.key == "ambiguousMatches" && $0.value == "1" } == true)
        let ambiguous = try #require(try match(fixture, 1))
        #expect(ambiguous["bookItems"]?.arrayValue?.map(\.stringValue) == ["E1"], "the earlier day wins among equals")
        #expect(ambiguous["alternatives"]?.arrayValue?.map { $0["itemId"]?.stringValue } == ["E2"])
        #expect(ambiguous["awaitsReview"]?.boolValue == true)
        let status = try fixture.query(.status, ["date": "2026-01-31"])
        #expect(status["ambiguousMatches"]?["count"]?.intValue == 1)
        #expect(status["ambiguousMatches"]?["items"]?.arrayValue?.first?["id"]?.intValue == 1)
        #expect(try fixture.query(.report, ["date": "2026-01-31"])["ambiguousMatches"]?.intValue == 1)

        let review = try fixture.submit("bankA", .reviewMatch, ReviewMatch(account: F.account, matchID: 1, reason: "E1 is invoice 4711, the customer's advice says so"))
        #expect(review.isSuccess, "\(String(describing: review.rejection))")
        let reviewed = try #require(try match(fixture, 1))
        #expect(reviewed["awaitsReview"]?.boolValue == false)
        #expect(reviewed["reviewed"]?["by"]?["organization"]?.stringValue == "bankA")
        #expect(try fixture.query(.status, ["date": "2026-01-31"])["ambiguousMatches"]?["count"]?.intValue == 0)
        #expect(rejectionCode(try fixture.submit("acme", .reviewMatch, ReviewMatch(account: F.account, matchID: 1, reason: "again"))) == "already_reviewed")
    }

    @Test func candidates_rankByCounterpartyAgreement_andInterchangeableOnesAreNoAlternatives() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [
            F.entry("E1", 700, "2026-01-05"),
            F.entry("E2", 700, "2026-01-05", counterparty: "Globex AG"),
            F.entry("E3", 700, "2026-01-05", counterparty: "Globex AG"),
            F.entry("E4", 700, "2026-01-05", counterparty: "Globex"),
        ]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 700, "2026-01-05", counterparty: "GLOBEX AG")]))
        let first = try #require(try match(fixture, 1))
        #expect(first["bookItems"]?.arrayValue?.map(\.stringValue) == ["E2"], "the same name beats a contained name and a missing one")
        #expect(first["alternatives"]?.arrayValue?.isEmpty == true, "E3 has the same name and day as E2: interchangeable")
        #expect(rejectionCode(try fixture.submit("acme", .reviewMatch, ReviewMatch(account: F.account, matchID: 1, reason: "fine"))) == "not_ambiguous")

        try fixture.submit("bankA", .postStatement, F.statement("S2", opening: 700, lines: [F.line("1", 700, "2026-01-05")]))
        let unnamed = try #require(try match(fixture, 2))
        #expect(unnamed["rule"]?.stringValue == "amount_date")
        #expect(unnamed["bookItems"]?.arrayValue?.map(\.stringValue) == ["E1"])
        #expect(unnamed["alternatives"]?.arrayValue?.map { $0["itemId"]?.stringValue } == ["E3", "E4"],
                "a line without a name agrees with every candidate alike")
    }

    // MARK: Correction of a book entry

    @Test func correction_reversesTheEntry_neverOverwritesIt_andTheReplacementMatches() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 12_000, "2026-01-05", reference: "INV-9")], opening: 1_000))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 1_000, lines: [F.line("1", 10_000, "2026-01-06", reference: "INV-9")]))
        #expect(try fixture.matches().isEmpty)

        let correction = CorrectBookEntry(account: F.account, correctionID: "C1", entryID: "E1", reason: "typed 120.00 for 100.00",
                                          replacement: F.entry("E1b", 10_000, "2026-01-05", reference: "INV-9"))
        let receipt = try fixture.submit("acme", .correctBookEntry, correction)
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        #expect(receipt.events.first?.name == "book_entry_corrected")

        let entries = try fixture.query(.bookEntries, [:]).arrayValue ?? []
        #expect(entries.map { $0["entryId"]?.stringValue } == ["C1", "E1", "E1b"])
        let original = try #require(entries.first { $0["entryId"]?.stringValue == "E1" })
        #expect(original["amountMinor"]?.intValue == 12_000, "the corrected entry stays as it was posted")
        let reversal = try #require(entries.first { $0["entryId"]?.stringValue == "C1" })
        #expect(reversal["amountMinor"]?.intValue == -12_000)
        #expect(reversal["reversal"]?.boolValue == true)
        #expect(reversal["memo"]?.stringValue == "typed 120.00 for 100.00")
        #expect(reversal["date"]?.stringValue == "2026-01-05")
        let pair = try #require(try match(fixture, 1))
        #expect(pair["rule"]?.stringValue == "correction")
        #expect(pair["bookItems"]?.arrayValue?.map(\.stringValue) == ["C1", "E1"])
        #expect(try match(fixture, 2)?["rule"]?.stringValue == "reference")

        let report = try fixture.query(.report, ["date": "2026-01-31"])
        #expect(report["book"]?["balance"]?["minor"]?.intValue == 11_000)
        #expect(report["agrees"]?.boolValue == true)
        #expect(try outstandingIDs(fixture).isEmpty)

        let again = try fixture.submit("acme", .correctBookEntry, correction)
        #expect(again.isSuccess && again.events.map(\.name) == ["book_entry_already_corrected"])
        func attempt(_ member: String, _ arguments: CorrectBookEntry) throws -> String? {
            rejectionCode(try fixture.submit(member, .correctBookEntry, arguments))
        }
        #expect(try attempt("acme", CorrectBookEntry(account: F.account, correctionID: "C2", entryID: "E1", reason: "twice")) == "already_corrected")
        #expect(try attempt("acme", CorrectBookEntry(account: F.account, correctionID: "C2", entryID: "C1", reason: "the reversal")) == "already_corrected")
        #expect(try attempt("acme", CorrectBookEntry(account: F.account, correctionID: "C1", entryID: "E1b", reason: "same id")) == "duplicate_batch")
        #expect(try attempt("acme", CorrectBookEntry(account: F.account, correctionID: "E1b", entryID: "E1b", reason: "taken")) == "duplicate_entry")
        #expect(try attempt("acme", CorrectBookEntry(account: F.account, correctionID: "C3", entryID: "E7", reason: "none")) == "unknown_entry")
        #expect(try attempt("acme", CorrectBookEntry(account: F.account, correctionID: "C3", entryID: "E1b", reason: "")) == "empty_reason")
        #expect(try attempt("bankA", CorrectBookEntry(account: F.account, correctionID: "C3", entryID: "E1b", reason: "bank")) == "not_permitted")
        #expect(try attempt("globex", CorrectBookEntry(account: F.account, correctionID: "C3", entryID: "E1b", reason: "other")) == "not_account_enterprise")
        #expect(rejectionCode(try fixture.submit("acme", .unmatch, Unmatch(account: F.account, matchID: 1, reason: "undo"))) == "correction_match")
    }

    @Test func correctingAMatchedEntry_dissolvesItsMatch_andItsPartnerMatchesTheReplacement() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 3_300, "2026-01-10", counterparty: "Hooli")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 3_300, "2026-01-10", counterparty: "Hooli")],
                                                                to: "2026-01-12"))
        #expect(try fixture.rules() == ["amount_date_counterparty"])

        let receipt = try fixture.submit("acme", .correctBookEntry, CorrectBookEntry(
            account: F.account, correctionID: "C1", entryID: "E1", reason: "booked on the wrong cost centre", date: F.date("2026-01-20"),
            replacement: F.entry("E1-fixed", 3_300, "2026-01-10", counterparty: "Hooli")))
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        let first = try #require(try match(fixture, 1))
        #expect(first["dissolved"]?.boolValue == true)
        #expect(first["dissolution"]?["reason"]?.stringValue == "book entry 'E1' corrected by 'C1'")
        #expect(try fixture.rules().sorted() == ["amount_date_counterparty", "correction"])
        #expect(try matching(fixture, line: "S1/1")?["match"]?.intValue == 3, "the line matched the replacement")
        #expect(try matching(fixture, entry: "E1-fixed")?["match"]?.intValue == 3)

        // Before the reversing entry's date the books still show the entry corrected later.
        #expect(try outstandingIDs(fixture, date: "2026-01-15") == ["E1"])
        #expect(try outstandingIDs(fixture, date: "2026-01-31").isEmpty)
    }

    @Test func correctingAStatement_recordsWhyItsMatchesWereDissolved() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 900, "2026-01-05", reference: "R-1")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 900, "2026-01-05", reference: "R-1")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1b", opening: 0, lines: [F.line("1", 900, "2026-01-05", reference: "R-1")], corrects: "S1"))
        let first = try #require(try match(fixture, 1))
        #expect(first["dissolution"]?["reason"]?.stringValue == "statement 'S1' corrected by statement 'S1b'")
        #expect(first["dissolution"]?["by"]?["organization"]?.stringValue == "bankA")
        #expect(try match(fixture, 2)?["bankItems"]?.arrayValue?.map(\.stringValue) == ["S1b/1"])
    }

    @Test func aCorrectionWithTheLongestReason_leavesRecordsThatStillRead() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 3_300, "2026-01-10", counterparty: "Hooli")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 3_300, "2026-01-10", counterparty: "Hooli")]))
        let longest = String(repeating: "r", count: StatementsLimits.reasonBytesMax)
        let id = String(repeating: "c", count: StatementsLimits.identifierBytesMax)
        let receipt = try fixture.submit("acme", .correctBookEntry, CorrectBookEntry(account: F.account, correctionID: id, entryID: "E1", reason: longest))
        #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        #expect(try fixture.matches().count == 2, "the dissolved match and the correction both decode")
        #expect(rejectionCode(try fixture.submit("acme", .unmatch, Unmatch(account: F.account, matchID: 1, reason: "again"))) == "match_dissolved")
        #expect(try fixture.query(.status, [:])["corrections"]?.intValue == 1)
        #expect(try fixture.query(.report, ["date": "2026-01-31"])["matchedGroups"]?.intValue == 0, "a correction is not a matched group")
    }

    @Test func postingAgainWithTheBankNamed_isStillRecognised() throws {
        let fixture = try F()
        let batch = F.books("B1", [F.entry("E1", 10, "2026-01-02")])
        #expect(try fixture.submit("acme", .postBookEntries, batch).isSuccess)
        var named = batch
        named.bank = "bankA"
        #expect(try fixture.submit("acme", .postBookEntries, named).events.map(\.name) == ["book_entries_already_posted"])
        let correction = CorrectBookEntry(account: F.account, correctionID: "C1", entryID: "E1", reason: "wrong")
        #expect(try fixture.submit("acme", .correctBookEntry, correction).isSuccess)
        var namedCorrection = correction
        namedCorrection.bank = "bankA"
        #expect(try fixture.submit("acme", .correctBookEntry, namedCorrection).events.map(\.name) == ["book_entry_already_corrected"])
    }

    @Test func aReversingEntry_cannotPrecedeTheEntryItCorrects() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 10, "2026-01-10")]))
        let early = CorrectBookEntry(account: F.account, correctionID: "C1", entryID: "E1", reason: "wrong", date: F.date("2026-01-09"))
        #expect(rejectionCode(try fixture.submit("acme", .correctBookEntry, early)) == "reversal_before_entry")
    }

    @Test func correctingAnEntryOfAManualMatch_leavesItsPartnerForAPerson() throws {
        let fixture = try F()
        try fixture.submit("acme", .postBookEntries, F.books("B1", [F.entry("E1", 1_000, "2026-01-05")]))
        try fixture.submit("bankA", .postStatement, F.statement("S1", opening: 0, lines: [F.line("1", 990, "2026-01-05")]))
        #expect(try fixture.submit("acme", .matchItems, ManualMatch(account: F.account, bankItems: ["S1/1"], bookEntries: ["E1"], reason: "fee")).isSuccess)
        let correction = CorrectBookEntry(account: F.account, correctionID: "C1", entryID: "E1", reason: "booked gross, the bank paid net",
                                          replacement: F.entry("E2", 990, "2026-01-05"))
        #expect(try fixture.submit("acme", .correctBookEntry, correction).isSuccess)
        #expect(try matching(fixture, line: "S1/1")?["state"]?.stringValue == "open", "a person matched the line; the matcher does not rematch it")
        #expect(try matching(fixture, entry: "E2")?["state"]?.stringValue == "open")
        #expect(try fixture.submit("acme", .matchItems, ManualMatch(account: F.account, bankItems: ["S1/1"], bookEntries: ["E2"], reason: "net")).isSuccess)
    }
}

/// Seeded runs of the accountant's operations mixed with arrivals: whatever
/// succeeds or is refused, every item is open exactly when the open-item
/// index holds it, and every live match and its members name each other.
@Suite struct StatementsAccountantPropertyTests {
    typealias F = StatementsFixture

    @Test(arguments: [UInt64(3), 17, 29])
    func mixedWork_keepsItemsMatchesAndTheIndexInStep(seed: UInt64) throws {
        let fixture = try F(rules: MatchingRules(dateToleranceDays: 2, allowSplit: true, splitGroupMax: 3, feeToleranceMinor: 50))
        var random = SplitMix64(seed: seed)
        var entries: [String] = []
        var lines: [String] = []
        var statements: [String] = []
        func pick(_ ids: [String]) -> String? { ids.isEmpty ? nil : ids[Int(random.next(below: UInt64(ids.count)))] }
        for step in 0..<70 {
            let amount = Int64(1 + random.next(below: 3)) * 500 * (random.next(below: 4) == 0 ? -1 : 1)
            let day = "2026-01-0\(1 + random.next(below: 5))"
            let counterparty = ["Acme", "Acme GmbH", nil][Int(random.next(below: 3))]
            let reference = random.next(below: 3) == 0 ? "R\(random.next(below: 4))" : nil
            switch random.next(below: 7) {
            case 0, 1:
                let id = "E\(step)"
                if try fixture.submit("acme", .postBookEntries, F.books("B\(step)", [F.entry(id, amount, day, reference: reference, counterparty: counterparty)])).isSuccess {
                    entries.append(id)
                }
            case 2, 3:
                let id = "S\(step)"
                let corrects = random.next(below: 5) == 0 ? pick(statements) : nil
                if try fixture.submit("bankA", .postStatement, F.statement(id, opening: 0, lines: [F.line("1", amount, day, reference: reference, counterparty: counterparty)],
                                                                           corrects: corrects)).isSuccess {
                    statements.append(id)
                    lines.append("\(id)/1")
                    if let corrects { statements.removeAll { $0 == corrects } }
                }
            case 4:
                let bank = random.next(below: 2) == 0 ? pick(lines).map { [$0] } ?? [] : []
                let book = [pick(entries), pick(entries)].compactMap { $0 }
                try fixture.submit("acme", .matchItems, ManualMatch(account: F.account, bankItems: bank, bookEntries: Array(Set(book)).sorted(), reason: "step \(step)"))
            case 5:
                try fixture.submit(random.next(below: 2) == 0 ? "acme" : "bankA", .unmatch,
                                   Unmatch(account: F.account, matchID: 1 + random.next(below: UInt64(step + 1)), reason: "step \(step)"))
            default:
                guard let entry = pick(entries) else { continue }
                let replacement = random.next(below: 2) == 0 ? F.entry("X\(step)", amount, day, counterparty: counterparty) : nil
                if try fixture.submit("acme", .correctBookEntry, CorrectBookEntry(account: F.account, correctionID: "C\(step)", entryID: entry,
                                                                                  reason: "step \(step)", replacement: replacement)).isSuccess {
                    entries.append(contentsOf: ["C\(step)"] + (replacement.map { [$0.entryID] } ?? []))
                }
            }
        }
        let scope = "bankA/" + F.account
        let index = OpenItemIndex(state: MemoryStatementsState(), account: scope)
        let matches = try fixture.matches()
        var live: [Int64: Set<String>] = [:]
        for match in matches where match["dissolved"]?.boolValue == false {
            let members = (match["bankItems"]?.arrayValue ?? []).compactMap(\.stringValue).map { "bank:" + $0 }
                + (match["bookItems"]?.arrayValue ?? []).compactMap(\.stringValue).map { "book:" + $0 }
            live[match["id"]?.intValue ?? 0] = Set(members)
        }
        var items: [(ref: String, side: MatchSide, id: String, matching: JSONValue?)] = []
        for entry in try fixture.query(.bookEntries, ["limit": "100000"]).arrayValue ?? [] {
            let id = StatementsContract.part(entry["entryId"]?.stringValue ?? "")
            items.append(("book:" + id, .book, id, entry["matching"]))
        }
        for statement in try fixture.query(.statements, [:]).arrayValue ?? [] {
            for line in try fixture.query(.statement, ["statementId": statement["statementId"]?.stringValue ?? ""])["lines"]?.arrayValue ?? [] {
                let id = line["itemId"]?.stringValue ?? ""
                items.append(("bank:" + id, .bank, id, line["matching"]))
            }
        }
        #expect(items.count > 20)
        for item in items {
            let state = item.matching?["state"]?.stringValue
            let indexed = try fixture.chain.ledger.stateValue(contract: StatementsContract.name, key: index.openKey(item.side, item.id)) != nil
            #expect(indexed == (state == "open"), "seed \(seed): \(item.ref) is \(state ?? "?") but \(indexed ? "is" : "is not") in the open-item index")
            if state == "matched" {
                let id = item.matching?["match"]?.intValue ?? 0
                #expect(live[id]?.contains(item.ref) == true, "seed \(seed): \(item.ref) names match \(id), which does not list it or is dissolved")
            }
        }
        let marked = Dictionary(items.map { ($0.ref, $0.matching?["match"]?.intValue) }, uniquingKeysWith: { first, _ in first })
        for (id, members) in live {
            for member in members { #expect(marked[member] == id, "seed \(seed): match \(id) lists \(member), which names \(String(describing: marked[member] ?? nil))") }
        }
    }
}
