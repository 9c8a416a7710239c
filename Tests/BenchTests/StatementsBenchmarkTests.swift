import Testing
@testable import Bench

@Suite struct StatementsBenchmarkTests {
    @Test func benchmark_smallRun_matchesEveryLine() throws {
        let result = try StatementsBenchmark.run(linesPerSide: 2_000, seed: 3)
        #expect(result.linesPerSide == 2_000)
        #expect(result.matched == 2_000)
        #expect(result.matchesByRule["reference", default: 0] >= 600)
    }
}
