import Foundation
import LedgerCore
import TestSupport
import Testing

@Suite struct ComputeThreadTests {
    @Test func body_returnsItsResult() async {
        let sum = await onComputeThread { (1...100).reduce(0, +) }
        #expect(sum == 5050)
    }

    @Test func errors_reachTheCaller() async {
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await onComputeThread { () throws -> Int in throw Refused() }
        }
    }

    @Test func expectationsInTheBody_reportToTheRunningTest() async {
        await withKnownIssue("the body's failed expectation belongs to this test") {
            await onComputeThread { #expect(Bool(false)) }
        }
    }

    /// Bodies given at the same time run one after the other, never two at once.
    @Test func bodies_runOneAtATime() async {
        let counter = Concurrency()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    await onComputeThread {
                        counter.enter()
                        Thread.sleep(forTimeInterval: 0.05)
                        counter.leave()
                    }
                }
            }
        }
        #expect(counter.highest == 1)
    }

    /// More bodies than the shared pool has threads (one per core) compute
    /// without suspending; the test's own task still wakes meanwhile and
    /// stops them. Run on the pool, the bodies would hold every thread of it
    /// and spin until their deadline.
    @Test func busyBodies_leaveTheSharedPoolFree() async throws {
        let stop = Flag()
        let bodies = ProcessInfo.processInfo.activeProcessorCount + 1
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<bodies {
                group.addTask { await onComputeThread { stop.spinUntilSet(atMost: .seconds(10)) } }
            }
            try await Task.sleep(for: .milliseconds(200))
            stop.set()
            for try await stoppedByTheTest in group {
                #expect(stoppedByTheTest, "a body spun until its deadline: the test's task could not run")
            }
        }
    }
}

/// Counts the bodies running at once and the most there ever were.
private final class Concurrency: @unchecked Sendable {
    private let lock = Lock()
    private var running = 0
    private var most = 0

    var highest: Int { lock.withLock { most } }

    func enter() {
        lock.withLock {
            running += 1
            most = max(most, running)
        }
    }

    func leave() {
        lock.withLock { running -= 1 }
    }
}

/// A flag that one thread sets and others spin on.
private final class Flag: @unchecked Sendable {
    private let lock = Lock()
    private var isSet = false

    func set() {
        lock.withLock { isSet = true }
    }

    /// Spins until the flag is set (true) or the time is up (false).
    func spinUntilSet(atMost limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if lock.withLock({ isSet }) { return true }
        }
        return false
    }
}
