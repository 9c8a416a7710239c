import Testing
@testable import Bench
import ConsortTesting
import LedgerCore

@Suite struct StatementsBenchmarkTests {
    @Test func benchmark_smallRun_matchesEveryLine() throws {
        var heard: [String] = []
        let result = try StatementsBenchmark.run(linesPerSide: 2_000, seed: 3) { heard.append($0) }
        #expect(result.linesPerSide == 2_000)
        #expect(result.matched == 2_000)
        // One report for the books' batch (half the items), one for the statement.
        #expect(heard.count == 2 && heard[0].hasPrefix("2000 of 4000 items posted, 0 matched"), "\(heard)")
        #expect(heard.last?.hasPrefix("4000 of 4000 items posted, 2000 matched") == true, "\(heard)")
        #expect(result.matchesByRule["reference", default: 0] >= 600)
    }

    /// The benchmark's crowded amounts, posted with a fixed signer, leave
    /// exactly the recorded state: same matches, same records, same index
    /// (recorded when accounts were keyed by their bank and matches began to
    /// keep their alternatives; the matching speed-ups left it unchanged).
    @Test func benchmarkPosting_leavesTheRecordedState() throws {
        let signer = try PrivateKey(bytes: [UInt8](repeating: 9, count: 32)).publicKey
        let posting = try StatementsBenchmark.post(StatementsBenchmark.payments(linesPerSide: 30_000, seed: 5), signer: signer)
        let state = posting.index.state
        #expect("\(posting.matched) \(state.count) \(state.contentDigest.hex)" == "29643 133731 9adc689fc00609d2bce42eafd9e54064e2fbdcf0513ea549075b631bc7c80e0b")
    }
}
