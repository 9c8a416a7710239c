import Contracts
import Foundation
import Ledger
import LedgerCore
import NodeAPI
import NodeClient

/// Why a run that loads a consortium (`bench network`, `clearing burst`) could not run.
public enum LoadRunError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An option is out of range or malformed.
    case badSetting(String)
    /// A node could not be reached or refused a request.
    case node(NodeClientError)
    /// The consortium is not in a state the run can use.
    case setupFailed(String)

    public var description: String {
        switch self {
        case .badSetting(let message): message
        case .node(let error): error.description
        case .setupFailed(let message): message
        }
    }
}

/// Runs `body`, giving any error it throws as a ``LoadRunError``.
func asLoadRunError<T>(_ body: () async throws -> T) async throws(LoadRunError) -> T {
    do {
        return try await body()
    } catch let error as LoadRunError {
        throw error
    } catch let error as NodeClientError {
        throw .node(error)
    } catch {
        throw .setupFailed("\(error)")
    }
}

/// Checks that there is at least one `--node` URL and that each is one a client can use.
func checkNodeURLs(_ nodes: [String]) throws(LoadRunError) {
    guard !nodes.isEmpty else { throw .badSetting("give at least one --node URL") }
    for url in nodes {
        do { _ = try NodeClient(baseURL: url) } catch { throw .badSetting("--node: \(error.description)") }
    }
}

/// Runs `body` once per sender, on every core, and returns the results in sender order.
func perSenderConcurrently<Value: Sendable>(_ senders: Int, _ body: @escaping @Sendable (Int) -> Value) -> [Value] {
    let results = PerSenderResults<Value>(senders: senders)
    DispatchQueue.concurrentPerform(iterations: senders) { sender in results.set(sender, body(sender)) }
    return results.all
}

/// Per-sender results, filled from several threads.
private final class PerSenderResults<Value: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var values: [Value?]

    init(senders: Int) { values = Array(repeating: nil, count: senders) }

    func set(_ sender: Int, _ value: Value) { lock.withLock { values[sender] = value } }

    var all: [Value] { lock.withLock { values.compactMap { $0 } } }
}

/// One signed transaction, encoded ahead of time for `POST /v1/transactions/batch`.
struct SignedSubmission: Sendable {
    let id: Hash
    /// The transaction's canonical bytes, as a batch carries them.
    let encoded: [UInt8]

    init(_ transaction: Transaction) {
        id = transaction.id
        encoded = transaction.canonicalBytes
    }
}

/// Posts one sender's signed transactions to a node in nonce order, in
/// batches of what is due (``NetworkBenchLimits/batchTransactionsMax`` at
/// most), backing off and sending again what was `busy`, beyond the nonce
/// window, or lost to a transport error; used by the benchmarks that load a
/// running consortium.
struct LoadSender: Sendable {
    let client: NodeClient
    let tracker: BenchTracker

    /// Sends `submissions` in order, each no earlier than `start` plus
    /// `dueSeconds(position)` (nil: at once), and nothing at or after `sendEnd`.
    func send(_ submissions: [SignedSubmission], start: ContinuousClock.Instant, sendEnd: ContinuousClock.Instant,
              dueSeconds: @Sendable (Int) -> Double?) async {
        var next = 0
        var retry: [SignedSubmission] = []
        var backoff = RetryBackoff(minimumMs: NetworkBenchLimits.backoffMsMin, maximumMs: NetworkBenchLimits.backoffMsMax)
        while next < submissions.count || !retry.isEmpty {
            if retry.isEmpty, let offset = dueSeconds(next) {
                let due = start + .nanoseconds(Int64(offset * 1e9))
                if due >= sendEnd { break }
                try? await Task.sleep(until: due, clock: .continuous)
            }
            let now = ContinuousClock.now
            if now >= sendEnd || Task.isCancelled { break }
            var batch = retry
            var bytes = batch.reduce(0) { $0 + $1.encoded.count }
            while next < submissions.count, batch.count < NetworkBenchLimits.batchTransactionsMax,
                  bytes + submissions[next].encoded.count <= NetworkBenchLimits.batchBytesMax || batch.isEmpty {
                if let offset = dueSeconds(next), start + .nanoseconds(Int64(offset * 1e9)) > now { break }
                tracker.submitting(submissions[next].id, at: now)
                bytes += submissions[next].encoded.count
                batch.append(submissions[next])
                next += 1
            }
            let retryAfterMs: Int?
            (retry, retryAfterMs) = await post(batch)
            if retry.isEmpty {
                backoff.succeeded()
                continue
            }
            // As a client should: no sooner than the node asks.
            let waitMs = max(backoff.currentMs, UInt64(max(0, retryAfterMs ?? 0)))
            if ContinuousClock.now + .milliseconds(waitMs) >= sendEnd { break }
            try? await Task.sleep(for: .milliseconds(waitMs))
            backoff.failed()
        }
        for submission in retry { tracker.abandoned(submission.id) }
    }

    /// Posts one batch and records each answer; returns what should be sent
    /// again, in order, and how long the node asked to wait.
    private func post(_ batch: [SignedSubmission]) async -> ([SignedSubmission], Int?) {
        let answer: BatchSubmissionAnswer
        do {
            answer = try await client.submit(batch: TransactionBatchRequest(encoded: batch.map(\.encoded)))
        } catch {
            tracker.retrying(.transportError, count: batch.count)
            return (batch, nil)
        }
        guard answer.results.count == batch.count else {
            tracker.retrying(.transportError, count: batch.count)
            return (batch, nil)
        }
        var again: [SignedSubmission] = []
        for (submission, result) in zip(batch, answer.results) {
            switch SubmitOutcome(result) {
            case .accepted: tracker.accepted(submission.id)
            case .refused(let code): tracker.refused(submission.id, code: code)
            case let outcome:
                tracker.retrying(outcome)
                again.append(submission)
            }
        }
        return (again, answer.retryAfterMs)
    }
}

/// How one submission ended.
enum SubmitOutcome {
    case accepted
    case busy
    case windowFull
    case transportError
    case refused(String)

    init(_ result: BatchSubmissionResult) {
        switch result.status {
        case .pending: self = .accepted
        case .busy: self = .busy
        case .refused:
            switch result.error?.code {
            case "nonce_too_far_ahead": self = .windowFull
            // A retry after a lost answer finds the transaction already committed.
            case "already_committed": self = .accepted
            case let code: self = .refused(code ?? "unknown")
            }
        }
    }
}

/// Submission and commit bookkeeping shared by the senders and the event stream.
final class BenchTracker: @unchecked Sendable {
    struct Snapshot {
        var submitted = 0
        var accepted = 0
        var busy = 0
        var windowFull = 0
        var transport = 0
        var refused: [String: Int] = [:]
        var committed = 0
        var committedRejected: [String: Int] = [:]
        var outstanding = 0
        var blocks = 0
        var largestBlock = 0
        var lastCommit: ContinuousClock.Instant?
        /// The longest wait between two blocks carrying this run's transactions.
        var longestCommitPause: Duration = .zero
        /// From admission (the node's 202) to the commit seen on the stream.
        var latenciesMs: [Double] = []
        /// From the first attempt to admission: time spent backing off on `busy` and full nonce windows.
        var admissionWaitsMs: [Double] = []
    }

    private let lock = Lock()
    private let ours: Set<Hash>
    private var submittedAt: [Hash: ContinuousClock.Instant] = [:]
    private var acceptedAt: [Hash: ContinuousClock.Instant] = [:]
    private var admitted = Set<Hash>()
    private var figures = Snapshot()
    private var latencySeen = 0
    private var waitSeen = 0
    private var random = SplitMix64(seed: 0x5eed_be9c)
    private var stopped = false
    private var streaming = true

    init(ids: [Hash]) { ours = Set(ids) }

    var isStopped: Bool { lock.withLock { stopped } }
    var outstanding: Int { lock.withLock { admitted.count } }

    func stop() { lock.withLock { stopped = true } }

    /// False once the event stream has ended, for whatever reason.
    var isStreaming: Bool { lock.withLock { streaming } }

    func streamEnded() { lock.withLock { streaming = false } }

    func snapshot() -> Snapshot {
        lock.withLock {
            var copy = figures
            copy.outstanding = admitted.count
            return copy
        }
    }

    func submitting(_ id: Hash, at time: ContinuousClock.Instant) {
        lock.withLock {
            if submittedAt[id] == nil {
                submittedAt[id] = time
                figures.submitted += 1
            }
        }
    }

    func accepted(_ id: Hash) {
        let now = ContinuousClock.now
        lock.withLock {
            figures.accepted += 1
            // The commit may already have streamed past; only wait for it if not.
            guard let sent = submittedAt[id] else { return }
            admitted.insert(id)
            acceptedAt[id] = now
            record((now - sent).inMilliseconds, in: &figures.admissionWaitsMs, seen: &waitSeen)
        }
    }

    func refused(_ id: Hash, code: String) {
        lock.withLock {
            figures.refused[code, default: 0] += 1
            submittedAt[id] = nil
        }
    }

    func abandoned(_ id: Hash) {
        lock.withLock { submittedAt[id] = nil }
    }

    func retrying(_ outcome: SubmitOutcome, count: Int = 1) {
        lock.withLock {
            switch outcome {
            case .busy: figures.busy += count
            case .windowFull: figures.windowFull += count
            case .transportError: figures.transport += count
            case .accepted, .refused: break
            }
        }
    }

    /// Records the receipts of this run's transactions in one block of the event stream.
    func block(_ block: EncodedBlockEvent, at arrival: ContinuousClock.Instant) {
        let receipts = block.receipts
        var found: [(Hash, Bool, String?)] = []
        for receipt in receipts where ours.contains(receipt.transactionID) {
            found.append((receipt.transactionID, receipt.isSuccess, receipt.rejection?.code))
        }
        lock.withLock {
            figures.blocks += 1
            figures.largestBlock = max(figures.largestBlock, receipts.count)
            if !found.isEmpty, let previous = figures.lastCommit {
                figures.longestCommitPause = max(figures.longestCommitPause, arrival - previous)
            }
            for (id, success, code) in found {
                admitted.remove(id)
                guard let sent = submittedAt.removeValue(forKey: id) else { continue }
                // A commit seen before the admission's answer arrived counts from the first attempt.
                let admittedAt = acceptedAt.removeValue(forKey: id) ?? sent
                if success {
                    figures.committed += 1
                } else {
                    figures.committedRejected[code ?? "unknown", default: 0] += 1
                }
                figures.lastCommit = arrival
                record((arrival - admittedAt).inMilliseconds, in: &figures.latenciesMs, seen: &latencySeen)
            }
        }
    }

    /// Keeps every sample up to the limit, then a uniform reservoir sample.
    private func record(_ milliseconds: Double, in samples: inout [Double], seen: inout Int) {
        seen += 1
        if samples.count < NetworkBenchLimits.latencySamplesMax {
            samples.append(milliseconds)
        } else {
            let slot = Int(random.next() % UInt64(seen))
            if slot < NetworkBenchLimits.latencySamplesMax { samples[slot] = milliseconds }
        }
    }
}

/// The value below which `fraction` of the sorted samples lie (nearest rank); 0 for none.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    SampleWindow.nearestRank(sorted, percent: fraction * 100) ?? 0
}

extension BenchTracker {
    /// Follows `client`'s committed-block stream (in the binary encoding) from `height` until ``stop()``,
    /// recording this run's commits; returns once the stream had time to connect.
    func follow(_ client: NodeClient, from height: UInt64) async throws -> Task<Void, any Error> {
        let stream = Task {
            defer { streamEnded() }
            try await client.encodedEvents(from: height) { event in
                self.block(event, at: ContinuousClock.now)
                return !self.isStopped
            }
        }
        try await Task.sleep(for: .milliseconds(NetworkBenchLimits.streamConnectMs))
        return stream
    }
}

/// The few reads the load benchmarks make before they start.
extension NodeClient {
    /// Waits until transaction `id` has committed and returns its receipt, or nil if `deadline` passes first.
    func receipt(of id: Hash, until deadline: ContinuousClock.Instant) async throws(NodeClientError) -> APIReceipt? {
        let left = max(.zero, deadline - ContinuousClock.now)
        return try await waitForCommit(id, timeoutMs: left.wholeMilliseconds)?.receipt
    }

    /// The consortium's organizations as governance lists them.
    func organizations() async throws(NodeClientError) -> [OrganizationAnswer] {
        try await query(contract: GovernanceContract.name, GovernanceContract.Query.organizations.rawValue, as: [OrganizationAnswer].self)
    }
}

/// Why a receipt was rejected, or nil when it succeeded.
func rejectionMessage(_ receipt: APIReceipt) -> String? {
    guard !receipt.isSuccess else { return nil }
    return receipt.error?.message ?? "no reason given"
}
