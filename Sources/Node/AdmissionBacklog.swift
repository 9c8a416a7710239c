import LedgerCore

/// Back-pressure at the API. The node watches how long the transactions it
/// sees commit waited in its pool (their sojourn, from arrival by any path
/// to commit). While those of the last ``AdmissionBacklogLimits/windowMs``
/// waited no more than ``AdmissionBacklogLimits/sojournMsMax`` on average,
/// the cluster keeps up and every submission is admitted; once they waited
/// longer, a queue is standing and clients hear `busy` until it drains. When
/// nothing has committed in the window, only a pool below
/// ``AdmissionBacklogLimits/floorTransactions`` takes more.
///
/// Judging by waits rather than by a rate or a count keeps latency bounded at
/// saturation without capping throughput: the pool may hold as much as the
/// pipeline needs, as long as it drains in time. Only the API is gated:
/// gossiped and relayed transactions were admitted by another validator
/// already, and the pool's byte cap bounds them.
///
/// Thread-safe; time is passed in, in monotonic milliseconds.
public final class AdmissionBacklog: @unchecked Sendable {
    /// What the gate says about one more submission.
    public enum Verdict: Equatable, Sendable {
        case admit
        /// Refuse; a client should wait about this long before trying again.
        case busy(retryAfterMs: Int)
    }

    public let limits: AdmissionBacklogLimits
    private let lock = Lock()
    /// Commits per slot of the window, oldest first: how many, and their waits summed.
    private var slots: [(count: Int, sojournMs: Double)]
    private var lastSlot: UInt64?

    public init(limits: AdmissionBacklogLimits = AdmissionBacklogLimits()) {
        self.limits = limits
        let slotMs = max(1, limits.slotMs)
        slots = Array(repeating: (count: 0, sojournMs: 0.0), count: max(1, (limits.windowMs + slotMs - 1) / slotMs))
    }

    /// Notes the waits of transactions committed at `nowMs`.
    public func recordCommit(sojournsMs: [Double], nowMs: UInt64) {
        guard !sojournsMs.isEmpty else { return }
        lock.withLock {
            advance(to: nowMs)
            slots[slots.count - 1].count += sojournsMs.count
            slots[slots.count - 1].sojournMs += sojournsMs.reduce(0, +)
        }
    }

    /// The average wait of the transactions committed in the window; nil when none did.
    public func averageSojournMs(nowMs: UInt64) -> Double? {
        lock.withLock {
            advance(to: nowMs)
            return averageLocked()
        }
    }

    /// Whether a client's submission may join a pool of `pending` transactions.
    public func verdict(pending: Int, nowMs: UInt64) -> Verdict {
        lock.withLock {
            advance(to: nowMs)
            guard pending >= limits.floorTransactions else { return .admit }
            guard let average = averageLocked() else {
                // A pool beyond the floor and nothing committing: the cluster is stalled.
                return .busy(retryAfterMs: limits.retryAfterMsMax)
            }
            guard average > Double(limits.sojournMsMax) else { return .admit }
            // The queue stands this much above the target; about that long drains it.
            let hint = (average - Double(limits.sojournMsMax)).rounded(.up)
            return .busy(retryAfterMs: Int(min(Double(limits.retryAfterMsMax), max(Double(limits.retryAfterMsMin), hint))))
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

    private func averageLocked() -> Double? {
        let count = slots.reduce(0) { $0 + $1.count }
        guard count > 0 else { return nil }
        return slots.reduce(0) { $0 + $1.sojournMs } / Double(count)
    }

    /// Moves the window so that its last slot holds `nowMs`; a clock that steps back is held at the last slot seen.
    private func advance(to nowMs: UInt64) {
        let slot = nowMs / UInt64(max(1, limits.slotMs))
        guard let last = lastSlot else {
            lastSlot = slot
            return
        }
        guard slot > last else { return }
        let shift = Int(min(UInt64(slots.count), slot - last))
        slots.removeFirst(shift)
        slots.append(contentsOf: Array(repeating: (count: 0, sojournMs: 0.0), count: shift))
        lastSlot = slot
    }
}
