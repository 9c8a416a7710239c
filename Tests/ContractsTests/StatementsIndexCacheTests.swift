import Testing
@testable import Contracts
import ConsortTesting
import Ledger
import LedgerCore

/// The open-item index's cache of amount groups and heap tops changes no
/// result: however small it is, the same arrivals make the same decisions
/// and leave the same state.
@Suite struct StatementsIndexCacheTests {
    /// Decisions and final state of `items` through an index with the given cache limits.
    static func run(_ items: [MatchItem], rules: MatchingRules, days: Int, bytes: Int) throws -> (decisions: [String], digest: String) {
        let matcher = Matcher(rules: rules)
        var index = OpenItemIndex(state: MemoryStatementsState(), account: "memory", cachedAmountDaysMax: days, cachedGroupBytesMax: bytes)
        var decisions: [String] = []
        for item in items {
            guard let decision = try matcher.arrive(item, index: &index) else { continue }
            decisions.append("\(decision.rule.rawValue) \(decision.bankItems.map(\.id)) \(decision.bookItems.map(\.id)) \(decision.differenceMinor)")
        }
        index.flush()
        return (decisions, index.state.contentDigest.hex)
    }

    @Test func tinyCaches_decideAndStoreAsTheFullOne() throws {
        let items = CrowdedArrivals.items(seed: 17, count: 1_200)
        for rules in [MatchingRules(dateToleranceDays: 2, allowSplit: true, splitGroupMax: 4, feeToleranceMinor: 100), MatchingRules(dateToleranceDays: 0)] {
            let full = try Self.run(items, rules: rules, days: StatementsLimits.cachedAmountDaysMax, bytes: StatementsLimits.cachedAmountGroupBytesMax)
            #expect(full.decisions.count > 100)
            for (days, bytes) in [(0, 0), (1, 1_000_000), (3, 400), (1_000, 700)] {
                let small = try Self.run(items, rules: rules, days: days, bytes: bytes)
                #expect(small.decisions == full.decisions, "cache of \(days) days, \(bytes) bytes")
                #expect(small.digest == full.digest, "cache of \(days) days, \(bytes) bytes")
            }
        }
    }

    /// A heap's known top is always the id in its slot 0, through pushes and
    /// pops in any order, and pops give the ids in increasing order.
    @Test func heapKnownTop_isSlotZero() throws {
        var random = SplitMix64(seed: 5)
        var state = MemoryStatementsState()
        var heap = IdHeap(prefix: Array("h/".utf8), count: 0, top: nil)
        var shadow: [String] = []
        for _ in 0..<3_000 {
            if shadow.isEmpty || random.next(below: 3) != 0 {
                let id = "I\(random.next(below: 500))"
                try heap.push(id, in: &state)
                shadow.append(id)
            } else {
                try heap.popTop(in: &state)
                shadow.remove(at: try #require(shadow.indices.min { shadow[$0] < shadow[$1] }))
            }
            #expect(heap.count == shadow.count)
            if let known = heap.knownTop {
                #expect(known == shadow.min())
                #expect(try state.record(HeapSlot.self, Array("h/0".utf8))?.id == known)
            }
            var reread = IdHeap(prefix: heap.prefix, count: heap.count, top: nil)
            #expect(try reread.readTop(in: state) == shadow.min())
        }
    }
}
