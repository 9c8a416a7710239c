import ConsortTesting
import Foundation
import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// Seeds for the property tests; `STATEMENTS_SEED=n` replays one seed.
enum PropertySeeds {
    static func seeds(count: Int) -> [UInt64] {
        if let text = ProcessInfo.processInfo.environment["STATEMENTS_SEED"], let seed = UInt64(text) { return [seed] }
        return (0..<UInt64(count)).map { $0 &* 7_919 &+ 17 }
    }
}

/// One payment seen by both sides, with the noise a real pair of records has.
struct GeneratedPayment {
    var amountMinor: Int64
    var bankDay: Int
    var bookDay: Int
    var bankReference: String?
    var bookReference: String?
    var counterparty: String?
    var onBank: Bool
    var onBook: Bool
}

enum PaymentGenerator {
    static let amounts: [Int64] = [1_000, 2_500, 2_500, 9_999, 12_000, 40_000, 75_050, 100_000]
    static let names = ["ACME GmbH", "Globex", "Initech", "Umbrella"]

    /// Payments in January 2026 (days 0…27 after Jan 1), books up to five days early or late,
    /// references sometimes garbled or missing, and about one in eight missing on each side.
    static func payments(_ random: inout SplitMix64, count: Int) -> [GeneratedPayment] {
        (0..<count).map { index in
            let magnitude = amounts[Int(random.next(below: UInt64(amounts.count)))]
            let amount = random.next(below: 2) == 0 ? magnitude : -magnitude
            let bankDay = Int(random.next(below: 28))
            let bookDay = min(30, max(0, bankDay + Int(random.next(below: 9)) - 4))
            var bankReference: String? = "P\(index)-\(random.next(below: 1000))"
            var bookReference = bankReference
            switch random.next(below: 5) {
            case 0: bookReference = bankReference.map { $0 + "X" }
            case 1: bookReference = nil
            case 2: bankReference = nil
            default: break
            }
            let counterparty = random.next(below: 3) == 0 ? nil : names[Int(random.next(below: UInt64(names.count)))]
            let omission = random.next(below: 8)
            return GeneratedPayment(amountMinor: amount, bankDay: bankDay, bookDay: bookDay, bankReference: bankReference,
                                    bookReference: bookReference, counterparty: counterparty, onBank: omission != 0, onBook: omission != 1)
        }
    }
}

@Suite struct StatementsPropertyTests {
    static let january = CalendarDate(year: 2026, month: 1, day: 1)?.dayNumber ?? 0

    static func day(_ offset: Int) -> CalendarDate { CalendarDate(dayNumber: january + offset) }

    /// Posts two statements (Jan 1–15, Jan 16–31) and books in three batches in a seeded order,
    /// then checks the matches and the reconciliation statement on several dates.
    @Test func contract_sameSourcePayments_matchSoundlyAndReconcile() throws {
        for seed in PropertySeeds.seeds(count: 12) {
            var random = SplitMix64(seed: seed)
            let allowSplit = random.next(below: 2) == 0
            let fee = Int64(random.next(below: 2) == 0 ? 0 : 500)
            let fixture = try StatementsFixture(rules: MatchingRules(dateToleranceDays: 3, allowSplit: allowSplit, feeToleranceMinor: fee))
            let payments = PaymentGenerator.payments(&random, count: 30)
            let opening: Int64 = 500_000
            var bankLines: [[StatementLineInput]] = [[], []]
            var entries: [BookEntryInput] = []
            for (index, payment) in payments.enumerated() {
                if payment.onBank {
                    let line = StatementLineInput(lineID: "L\(index)", bookingDate: Self.day(payment.bankDay), valueDate: Self.day(payment.bankDay),
                                                  amountMinor: payment.amountMinor, customerReference: payment.bankReference,
                                                  counterpartyName: payment.counterparty)
                    bankLines[payment.bankDay < 15 ? 0 : 1].append(line)
                }
                if payment.onBook {
                    entries.append(BookEntryInput(entryID: "E\(index)", date: Self.day(payment.bookDay), amountMinor: payment.amountMinor,
                                                  currency: "EUR", reference: payment.bookReference, counterparty: payment.counterparty))
                }
            }
            let firstClosing = bankLines[0].reduce(opening) { $0 + $1.amountMinor }
            let statements = [
                PostStatement(account: StatementsFixture.account, statementID: "S1", currency: "EUR",
                              openingBooked: StatementBalance(amountMinor: opening, date: Self.day(0)),
                              closingBooked: StatementBalance(amountMinor: firstClosing, date: Self.day(14)), lines: bankLines[0]),
                PostStatement(account: StatementsFixture.account, statementID: "S2", currency: "EUR",
                              openingBooked: StatementBalance(amountMinor: firstClosing, date: Self.day(15)),
                              closingBooked: StatementBalance(amountMinor: bankLines[1].reduce(firstClosing) { $0 + $1.amountMinor }, date: Self.day(30)),
                              lines: bankLines[1]),
            ]
            let third = entries.count / 3
            var batches = [Array(entries[..<third]), Array(entries[third..<(2 * third)]), Array(entries[(2 * third)...])].filter { !$0.isEmpty }
            var submissions: [(String, StatementsContract.Operation, any CanonicalEncodable)] = statements.map { ("bankA", .postStatement, $0) }
            for (index, batch) in batches.enumerated() {
                submissions.append(("acme", .postBookEntries, PostBookEntries(account: StatementsFixture.account, batchID: "B\(index)",
                                                                              openingBalanceMinor: nil, entries: batch)))
            }
            batches.removeAll()
            for index in stride(from: submissions.count - 1, to: 0, by: -1) {
                submissions.swapAt(index, Int(random.next(below: UInt64(index + 1))))
            }
            var first = true
            for (member, operation, arguments) in submissions {
                var bytes = arguments.canonicalBytes
                if operation == .postBookEntries, first {
                    var batch = try PostBookEntries(canonicalBytes: bytes)
                    batch.openingBalanceMinor = opening
                    bytes = batch.canonicalBytes
                    first = false
                }
                let receipt = try fixture.chain.submit(member, StatementsContract.call(operation, encodedArguments: bytes))
                #expect(receipt.isSuccess, "seed \(seed): \(String(describing: receipt.rejection))")
            }

            let lineAmounts = Dictionary(uniqueKeysWithValues: bankLines.flatMap { $0 }.map { ("S\($0.lineID)", $0.amountMinor) })
            let entryAmounts = Dictionary(uniqueKeysWithValues: entries.map { ($0.entryID, $0.amountMinor) })
            var used: Set<String> = []
            for match in try fixture.matches() where match["dissolved"]?.boolValue == false {
                let bank = (match["bankItems"]?.arrayValue ?? []).compactMap(\.stringValue)
                let book = (match["bookItems"]?.arrayValue ?? []).compactMap(\.stringValue)
                for id in bank + book { #expect(used.insert(id).inserted, "seed \(seed): item \(id) used twice") }
                let bankSum = bank.reduce(Int64(0)) { $0 + (lineAmounts[Self.lineKey($1)] ?? 0) }
                let bookSum = book.reduce(Int64(0)) { $0 + (entryAmounts[$1] ?? 0) }
                switch match["rule"]?.stringValue {
                case "reversal":
                    #expect(bankSum + bookSum == 0, "seed \(seed): reversal does not cancel")
                case "reference_fee":
                    #expect(bankSum < bookSum && bookSum - bankSum <= fee, "seed \(seed): fee outside tolerance")
                case "reference_split":
                    #expect(allowSplit && bankSum == bookSum, "seed \(seed): split does not sum")
                default:
                    #expect(bank.count == 1 && book.count == 1 && bankSum == bookSum, "seed \(seed): \(match) pairs different amounts")
                }
            }
            for date in ["2026-01-10", "2026-01-15", "2026-01-20", "2026-01-31", "2026-02-28"] {
                let report = try fixture.query(.report, ["date": date])
                #expect(report["agrees"]?.boolValue == true, "seed \(seed) date \(date): \(report["differenceMinor"] ?? .null)")
            }
        }
    }

    /// Statement line item ids are `S1/L3`; the map is keyed `SL3`.
    static func lineKey(_ itemID: String) -> String {
        "S" + (itemID.split(separator: "/").last.map(String.init) ?? itemID)
    }

    /// The matcher alone, over many seeds, two currencies and random arrival order.
    @Test func matcher_neverPairsDifferentAmountsOrCurrenciesOrReusesAnItem() throws {
        for seed in PropertySeeds.seeds(count: 200) {
            var random = SplitMix64(seed: seed)
            let rules = MatchingRules(dateToleranceDays: UInt32(random.next(below: 5)), allowSplit: random.next(below: 2) == 0,
                                      splitGroupMax: 4, feeToleranceMinor: Int64(random.next(below: 3)) * 100)
            let matcher = Matcher(rules: rules)
            var index = MemoryMatchingIndex()
            var items: [MatchItem] = []
            for payment in PaymentGenerator.payments(&random, count: 60) {
                let currency = random.next(below: 4) == 0 ? "USD" : "EUR"
                let id = items.count
                if payment.onBank {
                    items.append(MatchItem(side: .bank, id: "b\(id)", amountMinor: payment.amountMinor, currency: currency, day: Int32(payment.bankDay),
                                           references: [payment.bankReference].compactMap(MatchItem.normalizedReference),
                                           counterparty: MatchItem.normalizedName(payment.counterparty), isReversal: random.next(below: 15) == 0))
                }
                if payment.onBook {
                    let bookCurrency = random.next(below: 10) == 0 ? (currency == "EUR" ? "USD" : "EUR") : currency
                    items.append(MatchItem(side: .book, id: "k\(id)", amountMinor: payment.amountMinor, currency: bookCurrency, day: Int32(payment.bookDay),
                                           references: [payment.bookReference].compactMap(MatchItem.normalizedReference),
                                           counterparty: MatchItem.normalizedName(payment.counterparty), isReversal: false))
                }
            }
            for position in stride(from: items.count - 1, to: 0, by: -1) {
                items.swapAt(position, Int(random.next(below: UInt64(position + 1))))
            }
            var used: Set<String> = []
            for item in items {
                guard let decision = try matcher.arrive(item, index: &index) else { continue }
                let members = decision.bankItems + decision.bookItems
                #expect(Set(members.map(\.currency)).count == 1, "seed \(seed): currencies differ in \(decision)")
                for member in members { #expect(used.insert(member.id).inserted, "seed \(seed): \(member.id) used twice") }
                let bankSum = decision.bankItems.reduce(Int64(0)) { $0 + $1.amountMinor }
                let bookSum = decision.bookItems.reduce(Int64(0)) { $0 + $1.amountMinor }
                switch decision.rule {
                case .reversal:
                    #expect(members.count == 2 && bankSum + bookSum == 0 && Set(members.map(\.side)).count == 1, "seed \(seed)")
                case .referenceWithFee:
                    #expect(bankSum > 0 && bookSum > bankSum && bookSum - bankSum <= rules.feeToleranceMinor, "seed \(seed)")
                    #expect(decision.differenceMinor == bankSum - bookSum)
                case .referenceSplit:
                    #expect(rules.allowSplit && bankSum == bookSum && members.count >= 3, "seed \(seed)")
                case .reference, .amountDate, .amountDateCounterparty:
                    #expect(decision.bankItems.count == 1 && decision.bookItems.count == 1 && bankSum == bookSum, "seed \(seed)")
                case .manual, .correction:
                    Issue.record("seed \(seed): the matcher made a \(decision.rule) match, which only people and corrections make")
                }
                for alternative in decision.alternatives {
                    #expect(!members.contains { $0.id == alternative.id && $0.side == alternative.side }, "seed \(seed): a member is its own alternative")
                }
                if decision.rule == .amountDate || decision.rule == .amountDateCounterparty {
                    let days = members.map(\.day)
                    #expect(abs(Int(days[0]) - Int(days[1])) <= Int(rules.dateToleranceDays), "seed \(seed): outside the date window")
                }
            }
        }
    }
}
