import LedgerCore

/// Bounds of the API's back-pressure (``AdmissionBacklog``).
public struct AdmissionBacklogLimits: Sendable, Equatable {
    /// Work the pool may hold, in milliseconds of the commit rate the cluster
    /// has shown, before a client's submission is answered `busy`.
    public var backlogMs: Int
    /// Transactions always admitted, whatever the rate: an idle cluster has
    /// shown none, and must still take the first blocks' worth.
    public var floorTransactions: Int
    /// Seconds of commits remembered when judging what the cluster can do.
    public var windowSeconds: Int
    /// Seconds averaged over for one rate figure, so one large block in one
    /// second does not count as the cluster's pace.
    public var smoothingSeconds: Int
    /// The retry hint's bounds.
    public var retryAfterMsMin: Int
    public var retryAfterMsMax: Int

    public init(backlogMs: Int = 1_500, floorTransactions: Int = 500, windowSeconds: Int = 30, smoothingSeconds: Int = 3,
                retryAfterMsMin: Int = 1_000, retryAfterMsMax: Int = 10_000) {
        self.backlogMs = backlogMs
        self.floorTransactions = floorTransactions
        self.windowSeconds = windowSeconds
        self.smoothingSeconds = smoothingSeconds
        self.retryAfterMsMin = retryAfterMsMin
        self.retryAfterMsMax = retryAfterMsMax
    }
}

/// Back-pressure at the API. A node admits a client's transaction only while
/// its pool holds no more than ``AdmissionBacklogLimits/backlogMs`` of the
/// work the cluster has been seen to commit (the best smoothed rate of the
/// last ``AdmissionBacklogLimits/windowSeconds``), so commit latency stays
/// bounded at saturation instead of growing with the queue, and every
/// admitted transaction commits soon after sending stops.
///
/// Only the API is gated: gossiped and relayed transactions were admitted by
/// another validator already, and the pool's byte cap bounds them. The pool
/// counts every pending transaction of the cluster, since all of it is
/// gossiped to every validator, so each node judges the same backlog.
///
/// The rate is the best seen in the window, not the latest, so that a quiet
/// moment does not shrink the gate and a shrunken gate cannot shrink the rate
/// it is judged by. Thread-safe; time is passed in, in monotonic milliseconds.
public final class AdmissionBacklog: @unchecked Sendable {
    /// What the gate says about one more submission.
    public enum Verdict: Equatable, Sendable {
        case admit
        /// Refuse; a client should wait about this long before trying again.
        case busy(retryAfterMs: Int)
    }

    public let limits: AdmissionBacklogLimits
    private let lock = Lock()
    /// Transactions committed in each second of the window, oldest first; the last is the current second.
    private var perSecond: [Int]
    private var lastSecond: UInt64?

    public init(limits: AdmissionBacklogLimits = AdmissionBacklogLimits()) {
        self.limits = limits
        perSecond = Array(repeating: 0, count: max(1, limits.windowSeconds))
    }

    /// Notes `transactions` committed at `nowMs`.
    public func recordCommit(transactions: Int, nowMs: UInt64) {
        lock.withLock {
            advance(to: nowMs / 1_000)
            perSecond[perSecond.count - 1] += transactions
        }
    }

    /// The best smoothed commit rate of the window, in transactions a second.
    public func ratePerSecond(nowMs: UInt64) -> Double {
        lock.withLock {
            advance(to: nowMs / 1_000)
            return bestRateLocked()
        }
    }

    /// The most transactions the pool may hold before clients hear `busy`.
    public func backlogLimit(nowMs: UInt64) -> Int {
        lock.withLock {
            advance(to: nowMs / 1_000)
            return limitLocked(rate: bestRateLocked())
        }
    }

    /// Whether a client's submission may join a pool of `pending` transactions.
    public func verdict(pending: Int, nowMs: UInt64) -> Verdict {
        lock.withLock {
            advance(to: nowMs / 1_000)
            let rate = bestRateLocked()
            let limit = limitLocked(rate: rate)
            guard pending >= limit else { return .admit }
            // The time the cluster needs to bring the pool back under the limit, at the rate it has shown.
            let excess = Double(pending - limit + 1)
            let drainMs = rate > 0 ? excess / rate * 1_000 : Double(limits.retryAfterMsMax)
            return .busy(retryAfterMs: Int(min(Double(limits.retryAfterMsMax), max(Double(limits.retryAfterMsMin), drainMs.rounded(.up)))))
        }
    }

    /// Throws `busy` when a client's transaction `id` may not join `pool` now;
    /// one already pending passes, since admitting it again adds nothing.
    public func check(_ id: Hash, joining pool: Mempool, nowMs: UInt64) throws(AdmissionError) {
        guard !pool.contains(id) else { return }
        let pending = pool.count
        if case .busy(let retryAfterMs) = verdict(pending: pending, nowMs: nowMs) {
            throw .busy(pending: pending, retryAfterMs: retryAfterMs)
        }
    }

    private func limitLocked(rate: Double) -> Int {
        max(limits.floorTransactions, Int((rate * Double(limits.backlogMs) / 1_000).rounded(.down)))
    }

    private func bestRateLocked() -> Double {
        let span = max(1, min(limits.smoothingSeconds, perSecond.count))
        var sum = perSecond.prefix(span).reduce(0, +)
        var best = sum
        for index in span..<perSecond.count {
            sum += perSecond[index] - perSecond[index - span]
            best = max(best, sum)
        }
        return Double(best) / Double(span)
    }

    /// Moves the window so that its last slot is `second`; a clock that steps back is held at the last second seen.
    private func advance(to second: UInt64) {
        guard let last = lastSecond else {
            lastSecond = second
            return
        }
        guard second > last else { return }
        let shift = Int(min(UInt64(perSecond.count), second - last))
        if shift == perSecond.count {
            for index in perSecond.indices { perSecond[index] = 0 }
        } else {
            perSecond.removeFirst(shift)
            perSecond.append(contentsOf: repeatElement(0, count: shift))
        }
        lastSecond = second
    }
}
