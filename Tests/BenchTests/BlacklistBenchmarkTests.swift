import Foundation
@testable import Bench
import Testing
@testable import Contracts
import Ledger
import LedgerCore
import ConsortTesting

@Suite struct BlacklistBenchmarkTests {
    @Test func benchmark_smallList_findsEveryListedSubjectWithKeyedReadsOnly() throws {
        let result = try BlacklistBenchmark(entryCount: 2000, subjectCount: 1500, listedSubjectCount: 300, seed: 7).run()
        #expect(result.entries == 2000)
        #expect(result.subjectsChecked == 1500)
        #expect(result.batches == 2)
        #expect(result.matchedSubjects == 300)
        #expect(result.matchedEntries == 300)
        // One read of the checker's contribution per batch, one subject record per
        // subject, one entry per match: the list itself is never scanned.
        #expect(result.stateReads == result.batches + result.subjectsChecked + result.matchedEntries)
    }

    @Test func benchmark_readsPerSubject_doNotGrowWithTheList() throws {
        let small = try BlacklistBenchmark(entryCount: 500, subjectCount: 200, listedSubjectCount: 50, seed: 3).run()
        let large = try BlacklistBenchmark(entryCount: 5000, subjectCount: 200, listedSubjectCount: 50, seed: 3).run()
        #expect(small.stateReads == large.stateReads)
    }

    /// The full-size figure (10,000 subjects against 1,000,000 entries); set
    /// BLACKLIST_BENCHMARK_FULL=1 to run it. It prints the figures.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BLACKLIST_BENCHMARK_FULL"] != nil))
    func benchmark_fullSize_printsFigures() throws {
        let result = try BlacklistBenchmark().run()
        print(result)
        #expect(result.matchedSubjects == 1000)
        #expect(result.stateReads == result.batches + result.subjectsChecked + result.matchedEntries)
    }
}
