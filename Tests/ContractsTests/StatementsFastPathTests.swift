import Foundation
import Testing
@testable import Contracts
import ConsortTesting
import Ledger
import LedgerCore

/// The byte-level paths for ASCII text give what the Unicode-aware ones give.
@Suite struct StatementsFastPathTests {
    static let names = ["", "A", "ACME", "ACMEGMBH", "GMBH", "CUSTOMER1LTD", "CUSTOMER10LTD", "CUSTOMER", "LTD", "MÜLLER", "MULLER",
                        "MÜLLERAG", "E\u{301}", "É", "ÉCOLE", "AA", "AAA", "ABAB", "BA"]

    @Test func counterpartiesAgree_matchesUnicodeContainment() {
        for a in Self.names {
            for b in Self.names {
                let expected = a.isEmpty || b.isEmpty || a.contains(b) || b.contains(a)
                #expect(Matcher.counterpartiesAgree(a, b) == expected, "\(a) / \(b)")
            }
        }
    }

    @Test func normalization_asciiAgreesWithUnicodeFilter() {
        let texts = ["Customer 7 Ltd", "acme gmbh", "INV-2026/01.5", "nonref", "NOTPROVIDED", " x\ty\n", "Müller & Söhne",
                     "ref: #42_a", String(repeating: "ab1 ", count: 100), "", "~`!@$%^*()[]{}|\\;:'\",<>?"]
        for text in texts {
            let name = String(text.uppercased().unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) })
            #expect(MatchItem.normalizedName(text) == String(decoding: name.utf8.prefix(StatementsLimits.nameBytesMax), as: UTF8.self))
            let kept = String(text.uppercased().unicodeScalars.filter {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "/" || $0 == "."
            })
            let reference = kept.isEmpty || kept == "NONREF" || kept == "NOTPROVIDED"
                ? nil : String(decoding: kept.utf8.prefix(StatementsLimits.referenceBytesMax), as: UTF8.self)
            #expect(MatchItem.normalizedReference(text) == reference, "\(text)")
        }
    }

    @Test func recordKeys_areTheirPartsJoinedBySlashes() {
        func joined(_ parts: String...) -> [UInt8] { Array(parts.joined(separator: "/").utf8) }
        for account in ["DE89370400440532013000", "a/b%c", ""] {
            for id in ["S1/7", "E12", "", "x%2Fy"] {
                #expect(StatementsContract.lineKey(account, id) == joined("line", StatementsContract.part(account), id))
                #expect(StatementsContract.bookKey(account, id) == joined("book", StatementsContract.part(account), id))
            }
            for id: UInt64 in [0, 1, 42, UInt64.max] {
                #expect(StatementsContract.matchKey(account, id) == joined("match", StatementsContract.part(account), StatementsContract.padded(id)))
            }
        }
        #expect(stateKey() == [] && stateKey("only") == Array("only".utf8))
    }

    /// The index builds the record keys from prefixes it made once; they are the contract's keys.
    @Test func indexRecordKeys_areTheContractsKeys() {
        for account in ["bank/DE89370400440532013000", "a/b%c", ""] {
            let index = MemoryMatchingIndex(account: account)
            for id in ["S1/7", "E12", "", "x%2Fy"] {
                #expect(index.lineKey(id) == StatementsContract.lineKey(account, id))
                #expect(index.bookKey(id) == StatementsContract.bookKey(account, id))
            }
            for id: UInt64 in [0, 1, 42, 9_999_999_999_999_999, 10_000_000_000_000_000, UInt64.max] {
                #expect(index.matchKey(id) == StatementsContract.matchKey(account, id))
            }
        }
    }

    /// Escaping works on whole characters, as existing chains' keys need: a
    /// `/` or `%` that a combining mark joins into one character stays as it is.
    @Test func keyParts_escapeSlashAndPercentCharacters() {
        #expect(StatementsContract.part("a/b%c") == "a%2Fb%25c")
        #expect(StatementsContract.part("plain") == "plain")
        #expect(StatementsContract.part("/\u{301}x%\u{301}") == "/\u{301}x%\u{301}")
        #expect(StatementsContract.part("Müller/AG") == "Müller%2FAG")
    }

    /// An item's references in lookup order: sorted, each once.
    @Test func distinctReferences_sortedEachOnce() {
        func item(_ references: [String]) -> MatchItem {
            MatchItem(side: .bank, id: "x", amountMinor: 1, currency: "EUR", day: 0, references: references, counterparty: "", isReversal: false)
        }
        for references in [[], ["A"], ["B", "A"], ["A", "A"], ["C", "A", "C", "B"], ["X", "X", "X", "X"]] {
            #expect(item(references).distinctReferences == Set(references).sorted(), "\(references)")
        }
    }

    /// Posting a seeded mix of lines and entries (references, fees, splits,
    /// reversals, crowded amounts) leaves exactly the recorded state (digest
    /// recorded when matches began to keep their reason, alternatives,
    /// review and dissolution, amount matching to rank by counterparty
    /// agreement, and keys to name the account's bank).
    @Test func postingState_isAsRecorded() throws {
        let rules = MatchingRules(dateToleranceDays: 2, allowSplit: true, splitGroupMax: 4, feeToleranceMinor: 100)
        let signer = try PrivateKey(bytes: [UInt8](repeating: 7, count: 32)).publicKey
        let made = Provenance(transactionID: Hash.sha256([1]), signer: signer, organizationID: "bank", height: 1, timestampMs: 0)
        var account = AccountRecord(account: "memory", bankID: "bank", enterpriseID: "enterprise", currency: "EUR", rules: rules, registered: made)
        var index = MemoryMatchingIndex(account: account.scope)
        let matcher = Matcher(rules: rules)
        var random = SplitMix64(seed: 11)
        var matched = 0
        for serial in 0..<3_000 {
            var amount = Int64(1 + random.next(below: 4)) * 1_000 * (random.next(below: 5) == 0 ? -1 : 1)
            let date = CalendarDate(dayNumber: 20_000 + Int(random.next(below: 4)))
            let reference = random.next(below: 3) == 0 ? "INV\(random.next(below: 30))" : nil
            let counterparty = ["Acme", "Acme GmbH", "Globex", "Müller AG", nil][Int(random.next(below: 5))]
            let isReversal = random.next(below: 15) == 0
            if random.next(below: 2) == 0 {
                if reference != nil, random.next(below: 4) == 0 { amount -= Int64(random.next(below: 150)) }
                let line = StatementLineInput(lineID: String(serial), bookingDate: date, valueDate: date, amountMinor: amount,
                                              isReversal: isReversal, customerReference: reference, counterpartyName: counterparty)
                if try StatementsContract.postLine(line, statementID: "S\(serial / 500)", currency: "EUR", account: &account,
                                                   matcher: matcher, made: made, index: &index) != nil { matched += 1 }
            } else {
                let entry = BookEntryInput(entryID: "E\(serial)", date: date, amountMinor: amount, currency: "EUR", reference: reference,
                                           counterparty: counterparty, isReversal: isReversal)
                if try StatementsContract.postEntry(entry, batchID: "B\(serial / 500)", posted: made, account: &account, matcher: matcher,
                                                    index: &index) != nil { matched += 1 }
            }
        }
        index.flush()
        #expect("\(matched) \(account.nextMatchID) \(index.state.count) \(index.state.contentDigest.hex)" == "1425 1426 5003 00e793641dd3316e23c2decca90810be9fb541d0f026a0320c54a351fa8d7838")
    }

    /// Posting writes each arriving item's record once; the records end as
    /// they would if written open and then marked: every matched item's
    /// record names a match that lists it, every other item's record is open.
    @Test func postedRecords_nameTheirMatches() throws {
        let rules = MatchingRules(dateToleranceDays: 2, allowSplit: true, splitGroupMax: 4, feeToleranceMinor: 100)
        let signer = try PrivateKey.generate().publicKey
        let made = Provenance(transactionID: Hash.sha256([1]), signer: signer, organizationID: "bank", height: 1, timestampMs: 0)
        var account = AccountRecord(account: "memory", bankID: "bank", enterpriseID: "enterprise", currency: "EUR", rules: rules, registered: made)
        var index = MemoryMatchingIndex(account: account.scope)
        let matcher = Matcher(rules: rules)
        var random = SplitMix64(seed: 7)
        var posted: [(key: [UInt8], matched: Bool)] = []
        for serial in 0..<600 {
            let amount = Int64(1 + random.next(below: 4)) * 1_000 * (random.next(below: 5) == 0 ? -1 : 1)
            let date = CalendarDate(dayNumber: 20_000 + Int(random.next(below: 3)))
            let reference = random.next(below: 3) == 0 ? "INV\(random.next(below: 20))" : nil
            let counterparty = ["Acme", "Acme GmbH", "Globex", nil][Int(random.next(below: 4))]
            if random.next(below: 2) == 0 {
                let line = StatementLineInput(lineID: String(serial), bookingDate: date, valueDate: date, amountMinor: amount,
                                              customerReference: reference, counterpartyName: counterparty)
                let matched = try StatementsContract.postLine(line, statementID: "S", currency: "EUR", account: &account, matcher: matcher,
                                                              made: made, index: &index) != nil
                posted.append((StatementsContract.lineKey(account.scope, StatementsContract.lineItemID("S", String(serial))), matched))
            } else {
                let entry = BookEntryInput(entryID: "E\(serial)", date: date, amountMinor: amount, currency: "EUR", reference: reference,
                                           counterparty: counterparty)
                let matched = try StatementsContract.postEntry(entry, batchID: "B", posted: made, account: &account, matcher: matcher,
                                                               index: &index) != nil
                posted.append((StatementsContract.bookKey(account.scope, "E\(serial)"), matched))
            }
        }
        var members: [UInt64: Set<String>] = [:]
        for id in 1..<account.nextMatchID {
            let match = try #require(try index.state.record(MatchRecord.self, StatementsContract.matchKey(account.scope, id)))
            let part = StatementsContract.part(account.scope)
            members[id] = Set(match.bankItems.map { "line/\(part)/" + $0 } + match.bookItems.map { "book/\(part)/" + $0 })
        }
        #expect(members.count > 100)
        for (key, matched) in posted {
            let state: ItemState
            if key.starts(with: Array("line/".utf8)) {
                state = try #require(try index.state.record(LineRecord.self, key)).state
            } else {
                state = try #require(try index.state.record(BookRecord.self, key)).state
            }
            switch state {
            case .matched(let id): #expect(members[id]?.contains(String(decoding: key, as: UTF8.self)) == true)
            case .open: #expect(!matched)
            case .withdrawn: Issue.record("no statement was corrected")
            }
        }
    }
}
