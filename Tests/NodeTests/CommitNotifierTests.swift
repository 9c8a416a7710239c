import Foundation
import Testing
@testable import Node

@Suite struct CommitNotifierTests {
    @Test func wait_endsAtACommitAbove() async {
        let commits = CommitNotifier(height: 3)
        let started = ContinuousClock.now
        async let waited: Void = commits.wait(above: 3, timeoutMs: 60_000)
        try? await Task.sleep(nanoseconds: 50_000_000)
        commits.committed(height: 4)
        await waited
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func wait_forAHeightAlreadyPassed_returnsAtOnce() async {
        let commits = CommitNotifier(height: 5)
        let started = ContinuousClock.now
        await commits.wait(above: 4, timeoutMs: 60_000)
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    /// A cancelled waiter (an event stream of a stopping server) does not sit out its timeout.
    @Test func wait_endsWhenItsTaskIsCancelled() async {
        let commits = CommitNotifier(height: 1)
        let started = ContinuousClock.now
        let waiter = Task { await commits.wait(above: 1, timeoutMs: 60_000) }
        try? await Task.sleep(nanoseconds: 50_000_000)
        waiter.cancel()
        await waiter.value
        #expect(ContinuousClock.now - started < .seconds(30))
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await commits.wait(above: 1, timeoutMs: 60_000)
        }
        await cancelledFirst.value
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func wait_withoutACommit_endsAtTheTimeout() async {
        let commits = CommitNotifier(height: 1)
        let started = ContinuousClock.now
        await commits.wait(above: 1, timeoutMs: 100)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
    }
}
