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
/// Judging by waits rather than by a count keeps latency bounded at
/// saturation without capping throughput: the pool may hold as much as the
/// pipeline needs, as long as it drains in time. Waits show a queue only
/// once it has stood, so the pool's work is bounded too: it may hold at
/// most ``AdmissionBacklogLimits/poolWorkMsMax`` of commits at the window's
/// rate (never less than the floor), and a batch gets only that room
/// (``admissible(pending:nowMs:)``). Only the API is gated:
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
        switch admissible(pending: pending, nowMs: nowMs) {
        case .admit: .admit
        case .busy(let retryAfterMs): .busy(retryAfterMs: retryAfterMs)
        }
    }

    /// How many more transactions a pool of `pending` may take from clients now.
    public enum Room: Equatable, Sendable {
        /// Up to this many, at least one.
        case admit(Int)
        case busy(retryAfterMs: Int)
    }

    /// The room a pool of `pending` transactions has for clients' submissions:
    /// up to the floor always; beyond it, none while the waits stand above
    /// their target or nothing commits, and otherwise up to the pool's work bound.
    public func admissible(pending: Int, nowMs: UInt64) -> Room {
        lock.withLock {
            advance(to: nowMs)
            let belowFloor = max(0, limits.floorTransactions - pending)
            guard pending >= limits.floorTransactions else { return .admit(max(belowFloor, workRoomLocked(pending: pending))) }
            guard let average = averageLocked() else {
                // A pool beyond the floor and nothing committing: the cluster is stalled.
                return .busy(retryAfterMs: limits.retryAfterMsMax)
            }
            if average > Double(limits.sojournMsMax) {
                // The queue stands this much above the target; about that long drains it.
                return .busy(retryAfterMs: hint(average - Double(limits.sojournMsMax)))
            }
            let room = workRoomLocked(pending: pending)
            guard room > 0 else {
                // The pool holds more than its work bound: the excess, at the rate, drains in about this long.
                let rate = ratePerMsLocked()
                return .busy(retryAfterMs: hint(rate > 0 ? Double(pending) / rate - Double(limits.poolWorkMsMax) : Double(limits.retryAfterMsMax)))
            }
            return .admit(room)
        }
    }

    private func hint(_ milliseconds: Double) -> Int {
        Int(min(Double(limits.retryAfterMsMax), max(Double(limits.retryAfterMsMin), milliseconds.rounded(.up))))
    }

    /// Commits per millisecond over the window.
    private func ratePerMsLocked() -> Double {
        Double(slots.reduce(0) { $0 + $1.count }) / Double(slots.count * max(1, limits.slotMs))
    }

    /// What the pool may still take before it holds ``AdmissionBacklogLimits/poolWorkMsMax`` of commits.
    private func workRoomLocked(pending: Int) -> Int {
        let bound = max(limits.floorTransactions, Int(ratePerMsLocked() * Double(limits.poolWorkMsMax)))
        return max(0, bound - pending)
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
