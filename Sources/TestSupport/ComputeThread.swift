import Foundation

/// Runs `body` on the suite's compute thread instead of a thread of Swift's
/// shared (cooperative) pool, and returns what it returned.
///
/// The shared pool has one thread per core. A test that computes for minutes
/// without suspending (a long simulator run, a 100,000-transaction ledger)
/// holds one of them for all that time; on a 2-core machine two such tests
/// starve every in-process server and client of the suite, whose timeouts then
/// fire. Bodies given here run one at a time on one thread of their own, so
/// the long computations of the whole suite take at most one core between
/// them and the pool keeps the other. The calling task stays the same, so
/// `#expect` and `Issue.record` inside `body` report to the running test.
public func onComputeThread<Result, Failure: Error>(
    _ body: () throws(Failure) -> Result
) async throws(Failure) -> Result {
    try await withTaskExecutorPreference(ComputeThreadExecutor.shared) { () async throws(Failure) -> Result in
        // Suspend once, so that the body starts on the compute thread even
        // where setting the preference does not move the task at once.
        await Task.yield()
        return try body()
    }
}

/// A task executor with one thread, which runs the jobs given to it in the
/// order they came, for as long as the process lives.
final class ComputeThreadExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = ComputeThreadExecutor()

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [self] in runJobs() }
        thread.name = "consort-compute"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty {
                condition.wait()
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
