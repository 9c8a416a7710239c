import Foundation
import Testing
import LedgerCore
@testable import NodeCLI

/// Query answers read as text: names and values, nesting by indent, flat
/// lists as tables, times in ISO 8601 and minor units as decimals of the
/// record's currency.
@Suite struct AnswerTextTests {
    @Test func nestedRecordsListsAndTables() throws {
        let answer = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"payment": "PAY-1", "currency": "CNY", "amountMinor": 1250050, "open": false, "resolvedAtHeight": null,
             "postedAtMs": 1767225600000, "retryAfterMs": 1500, "participants": ["bankA", "bankB"], "notes": [],
             "resolution": {"postedBy": "cch", "details": "cleared"},
             "sides": [{"side": "payer", "status": "sent", "amountMinor": 1250050}, {"side": "payee", "status": "received", "amountMinor": 990000, "late": true}],
             "history": [{"step": "posted", "by": {"organization": "bankA"}}]}
            """.utf8))
        let text = AnswerText.render(answer)
        #expect(text == """
            amount: 12500.50 CNY
            currency: CNY
            history (1):
              - by:
                  organization: bankA
                step: posted
            notes: none
            open: no
            participants: bankA, bankB
            payment: PAY-1
            postedAtMs: 2026-01-01T00:00:00Z
            resolution:
              details: cleared
              postedBy: cch
            resolvedAtHeight: -
            retryAfterMs: 1500
            sides (2):
              amount        side   status    late
              12500.50 CNY  payer  sent
              9900.00 CNY   payee  received  yes
            """, "\(text)")
    }

    @Test func plainValuesAndLongCells() throws {
        #expect(AnswerText.render(.array([])) == "none")
        #expect(AnswerText.render(.object([:])) == "(empty)")
        #expect(AnswerText.render(.integer(7)) == "7")
        let long = String(repeating: "x", count: 100)
        let table = AnswerText.render(.array([.object(["id": .string(long)])]))
        #expect(table.split(separator: "\n").last?.count == AnswerText.cellCharactersMax)
        #expect(table.hasSuffix("…"))
        // Without a currency, minor units stay numbers.
        #expect(AnswerText.render(.object(["feeMinor": .integer(250)])) == "feeMinor: 250")
        // A total filed under its currency reads in it; a yen amount has no decimals.
        let totals = JSONValue.object(["totals": .object(["JPY": .object(["active": .object(["amount": .integer(350000), "count": .integer(1)])])])])
        #expect(AnswerText.render(totals) == "totals:\n  JPY:\n    active:\n      amount: 350000 JPY\n      count: 1")
    }
}
