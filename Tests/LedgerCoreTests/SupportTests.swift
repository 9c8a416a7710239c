import LedgerCore
import Testing

@Suite struct SampleWindowTests {
    @Test func percentiles_areNearestRank() {
        var window = SampleWindow(capacity: 1_000)
        #expect(window.percentile(50) == nil)
        for sample in (1...100).reversed() { window.record(UInt64(sample)) }
        #expect(window.percentile(50) == 50)
        #expect(window.percentile(99) == 99)
        #expect(window.percentile(100) == 100)
        #expect(window.percentile(1) == 1)
        #expect(window.count == 100)
        #expect(SampleWindow.nearestRank([1.5, 2.5, 3.5], percent: 50) == 2.5)
        #expect(SampleWindow.nearestRank([Double](), percent: 50) == nil)
    }

    @Test func aFullWindow_dropsTheOldestSamples_andKeepsCounting() {
        var window = SampleWindow(capacity: 3)
        for sample: UInt64 in [10, 20, 30, 40, 50] { window.record(sample) }
        #expect(window.samples == [30, 40, 50])
        #expect(window.count == 5)
        #expect(window.percentile(100) == 50 && window.percentile(1) == 30)
    }
}

@Suite struct RetryBackoffTests {
    @Test func waits_doubleUpToTheMaximum_andStartOverAfterASuccess() {
        var backoff = RetryBackoff(minimumMs: 100, maximumMs: 500)
        var waits: [UInt64] = []
        for _ in 0..<5 {
            waits.append(backoff.currentMs)
            backoff.failed()
        }
        #expect(waits == [100, 200, 400, 500, 500])
        backoff.succeeded()
        #expect(backoff.currentMs == 100)
        var huge = RetryBackoff(minimumMs: UInt64.max / 2 + 1, maximumMs: .max)
        huge.failed()
        #expect(huge.currentMs == .max, "doubling never overflows")
        #expect(RetryBackoff(minimumMs: 0, maximumMs: 0).currentMs == 1, "a zero wait would spin")
    }
}
