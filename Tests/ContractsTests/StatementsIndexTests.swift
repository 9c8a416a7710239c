import Testing
@testable import Contracts
import Ledger
import LedgerCore
import ConsortTesting

/// A seeded mix of arrivals crowding few amounts on few days: references
/// (some shared), counterparties that contain one another, reversals, fees
/// and splits, in random order.
enum CrowdedArrivals {
    static let names = ["", "ACME", "ACMEGMBH", "GLOBEX", "INITECH", "GLOBEXAG"]
    static let amounts: [Int64] = [4_900, 4_900, 4_900, 12_000, 12_000, -4_900, 2_450, 99_900]

    static func items(seed: UInt64, count: Int) -> [MatchItem] {
        var random = SplitMix64(seed: seed)
        var items: [MatchItem] = []
        for index in 0..<count {
            let side: MatchSide = random.next(below: 2) == 0 ? .bank : .book
            var amount = amounts[Int(random.next(below: UInt64(amounts.count)))]
            let day = Int32(20_000 + Int(random.next(below: 3)))
            var references: [String] = []
            switch random.next(below: 6) {
            case 0: references = ["INV\(random.next(below: 40))"]
            case 1: references = ["BATCH\(random.next(below: 3))"]
            default: break
            }
            let isReversal = random.next(below: 12) == 0
            if side == .bank, !references.isEmpty, random.next(below: 4) == 0 { amount -= Int64(random.next(below: 150)) }
            let id = side == .bank ? "S\(random.next(below: 3))/\(index)" : "E\(index)"
            items.append(MatchItem(side: side, id: id, amountMinor: amount, currency: "EUR", day: day, references: references,
                                   counterparty: names[Int(random.next(below: UInt64(names.count)))], isReversal: isReversal))
        }
        return items
    }

    /// The decisions of `arrive` over the items, one line each.
    static func decisions(rules: MatchingRules, items: [MatchItem]) throws -> [String] {
        let matcher = Matcher(rules: rules)
        var index = MemoryMatchingIndex()
        var lines: [String] = []
        for item in items {
            guard let decision = try matcher.arrive(item, index: &index) else { continue }
            lines.append("\(decision.rule.rawValue) \(decision.bankItems.map(\.id)) \(decision.bookItems.map(\.id)) \(decision.differenceMinor)")
        }
        return lines
    }
}

@Suite struct StatementsIndexTests {
    /// The matcher makes exactly the decisions recorded on a crowded mixed
    /// case (digests recorded when amount matching began to rank candidates
    /// by counterparty agreement after their distance in days).
    @Test func crowdedEqualAmounts_matchExactlyAsBefore() throws {
        let cases: [(MatchingRules, String)] = [
            (MatchingRules(dateToleranceDays: 2, allowSplit: true, splitGroupMax: 4, feeToleranceMinor: 100), "692 940eafa4a160f5d01b8c39bd9672ac8ef4bc226c536d16a03e2409227398e68a"),
            (MatchingRules(dateToleranceDays: 0), "661 34a832f3e08e7745595d35c240b09da812fdb56ea960e6083f409042807a4271"),
        ]
        for (rules, expected) in cases {
            let lines = try CrowdedArrivals.decisions(rules: rules, items: CrowdedArrivals.items(seed: 42, count: 1_500))
            let digest = Hash.sha256(Array(lines.joined(separator: "\n").utf8)).hex
            #expect("\(lines.count) \(digest)" == expected)
        }
    }
}

/// A store that counts the reads of the statements index's keys (`ix/`).
final class IndexReadCountingStore: KeyValueStore, @unchecked Sendable {
    private let inner = MemoryStore()
    private let prefix = Array("s/statements/ix/".utf8)
    private(set) var reads = 0
    private(set) var bytesRead = 0

    func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        let value = try inner.get(key)
        if key.starts(with: prefix) {
            reads += 1
            bytesRead += value?.count ?? 0
        }
        return value
    }

    func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) { try inner.write(batch, sync: sync) }

    func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        try inner.scan(prefix: prefix, start: start, limit: limit)
    }

    /// Index reads and bytes read while `work` runs.
    func traffic(_ work: () throws -> Void) rethrows -> (reads: Int, bytes: Int) {
        let (reads, bytes) = (self.reads, bytesRead)
        try work()
        return (self.reads - reads, bytesRead - bytes)
    }
}

@Suite struct StatementsIndexCostTests {
    /// Opens `open` equal book entries (same amount, day and counterparty),
    /// then measures the index reads of single arrivals in their own blocks:
    /// three entries that stay open, then three bank lines that match.
    static func arrivalTraffic(open: Int) throws -> (opening: (reads: Int, bytes: Int), matching: (reads: Int, bytes: Int)) {
        let store = IndexReadCountingStore()
        let chain = try LocalConsortium(
            organizations: [("bankA", .bank), ("acme", .enterprise)], contracts: ["statements": .object([:])],
            registry: ContractRegistry(contracts: [GovernanceContract(), StatementsContract()], directory: GovernanceContract()), store: store)
        let account = StatementsFixture.account
        func submit(_ member: String, _ operation: StatementsContract.Operation, _ arguments: some CanonicalEncodable) throws {
            let receipt = try chain.submit(member, StatementsContract.call(operation, arguments))
            #expect(receipt.isSuccess, "\(String(describing: receipt.rejection))")
        }
        try submit("bankA", .registerAccount, RegisterAccount(account: account, enterpriseID: "acme", currency: "EUR"))
        try submit("acme", .acceptAccount, AcceptAccount(account: account, bank: "bankA"))
        func entry(_ serial: Int) -> BookEntryInput {
            StatementsFixture.entry("E\(String(100_000 + serial))", 4_900, "2026-01-05", counterparty: "Stripe Payments")
        }
        try submit("acme", .postBookEntries, StatementsFixture.books("B0", (0..<open).map(entry)))
        var opening = (reads: 0, bytes: 0)
        for arrival in 0..<3 {
            let traffic = try store.traffic {
                try submit("acme", .postBookEntries, StatementsFixture.books("B\(arrival + 1)", [entry(open + arrival)]))
            }
            opening = (max(opening.reads, traffic.reads), max(opening.bytes, traffic.bytes))
        }
        var matching = (reads: 0, bytes: 0)
        var closing: Int64 = 0
        for arrival in 0..<3 {
            let line = StatementsFixture.line("1", 4_900, "2026-01-05", counterparty: "STRIPE PAYMENTS")
            var statement = StatementsFixture.statement("S\(arrival)", opening: closing, lines: [line])
            statement.openingBooked.amountMinor = closing
            closing += 4_900
            statement.closingBooked.amountMinor = closing
            let traffic = try store.traffic { try submit("bankA", .postStatement, statement) }
            matching = (max(matching.reads, traffic.reads), max(matching.bytes, traffic.bytes))
        }
        #expect(try chain.ledger.query(contract: "statements", "matches", parameters: ["account": account]).arrayValue?.count == 3)
        return (opening, matching)
    }

    /// With 2,000 equal open items an arrival reads no more of the index than
    /// with 10, beyond the heap's logarithmic depth (the bucket-list layout
    /// read every open item of the amount and day on each arrival).
    @Test func arrivalCost_doesNotGrowWithOpenItemsOfTheSameAmountAndDay() throws {
        let few = try Self.arrivalTraffic(open: 10)
        let many = try Self.arrivalTraffic(open: 2_000)
        #expect(many.opening.reads <= few.opening.reads)
        #expect(many.opening.bytes <= few.opening.bytes + 16)
        // Taking the lowest id sifts down at most log2(2003) ≈ 11 levels, two slot reads each.
        #expect(many.matching.reads <= few.matching.reads + 2 * 11)
        #expect(many.matching.bytes <= few.matching.bytes + 2 * 11 * 16)
    }
}

@Suite struct StatementsIndexLimitTests {
    /// More open items with one reference than the index holds reject the
    /// batch with a reason naming the limit; the node keeps executing.
    @Test func referenceBucketOverLimit_rejectsNamingTheLimit() throws {
        let fixture = try StatementsFixture()
        let limit = StatementsLimits.openItemsPerReferenceMax
        let entries = (0...limit).map { StatementsFixture.entry("E\($0)", Int64(1_000 + $0), "2026-01-05", reference: "SAME-REF") }
        let receipt = try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", entries))
        #expect(rejectionCode(receipt) == "reference_bucket_full")
        #expect(receipt.rejection?.message.contains("openItemsPerReferenceMax") == true)
        #expect(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B2", Array(entries.prefix(limit)))).isSuccess)
        #expect(rejectionCode(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B3", [entries[limit]]))) == "reference_bucket_full")
    }

    /// Open items of one amount and day from more counterparties than the
    /// index groups reject the batch with a reason naming the limit.
    @Test func amountDayOverCounterpartyLimit_rejectsNamingTheLimit() throws {
        let fixture = try StatementsFixture()
        let limit = StatementsLimits.groupsPerAmountDayMax
        let entries = (0...limit).map { StatementsFixture.entry("E\($0)", 4_900, "2026-01-05", counterparty: "Customer \($0) Ltd") }
        let receipt = try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B1", entries))
        #expect(rejectionCode(receipt) == "amount_day_full")
        #expect(receipt.rejection?.message.contains("groupsPerAmountDayMax") == true)
        #expect(try fixture.submit("acme", .postBookEntries, StatementsFixture.books("B2", Array(entries.prefix(limit)))).isSuccess)
    }
}
