import Testing
@testable import Bench

@Suite struct ReceivablesBenchmarkTests {
    @Test func benchmark_smallRun_buildsTheRequestedTreeAndTracesIt() throws {
        let figures = try ReceivablesBenchmark.run(pieces: 60, tiers: 5, transactionsPerBlock: 25, repetitions: 1)
        #expect(figures.pieceRecords == 2 * 60 - 1)
        #expect(figures.traceRootDescendants == 2 * 60 - 2)
        // A leaf at tier 4 descends through one received piece per tier, plus the
        // retained remainders it was cut from (at most fanOut − 1 = 2 per tier).
        #expect(figures.traceLeafAncestors >= 4 && figures.traceLeafAncestors <= 4 * 3)
        #expect(figures.dictionary["receivables.traceLeafMs"] != nil)
    }

    @Test func benchmark_reach_coversRequestedSplits() {
        #expect(ReceivablesBenchmark.reach(fanOut: 3, tiers: 10) >= 9_999)
        #expect(ReceivablesBenchmark.reach(fanOut: 2, tiers: 10) < 9_999)
    }
}
