import Testing
@testable import Bench

@Suite struct LedgerBenchmarkTests {
    @Test func stateRootBenchmark_smallRun_checksBothRootsAndReportsEachFigure() throws {
        let figures = try LedgerBenchmark.stateRoot(blocks: 2, blockSize: 20)
        #expect(figures.count == 5)
        #expect(figures.allSatisfy { $0.value >= 0 })
        #expect(figures[0].unit == "writes" && figures[0].value >= 1, "every transaction changes state")
        #expect(figures.dropFirst().allSatisfy { $0.unit == "µs/tx" })
    }
}
