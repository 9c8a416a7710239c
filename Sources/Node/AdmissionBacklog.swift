import LedgerCore

/// Back-pressure at the API, by the work the pool holds. The node counts
/// the transactions it sees commit over the last
/// ``AdmissionBacklogLimits/windowMs``; the pool may hold
/// ``AdmissionBacklogLimits/poolWorkMsMax`` of commits at that rate (never
/// less than ``AdmissionBacklogLimits/floorTransactions``, so that an idle or
/// slow cluster still takes work). By Little's law a transaction then waits
/// in the pool about that long at most, however fast clients send; beyond
/// the bound clients hear `busy`, with a hint of how long the excess takes to
/// drain, and a batch gets only the room left (``admissible(pending:nowMs:)``).
/// When nothing has committed in the window, a pool at the floor is stalled.
/// The waits themselves are kept too (``averageSojournMs(nowMs:)``), for the
/// node's metrics.
///
/// Only the API is gated: gossiped and relayed transactions were admitted by
/// another validator already, and the pool's byte cap bounds them.
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

    /// The room a pool of `pending` transactions has for clients' submissions.
    public func admissible(pending: Int, nowMs: UInt64) -> Room {
        lock.withLock {
            advance(to: nowMs)
            let rate = ratePerMsLocked()
            let bound = max(limits.floorTransactions, Int(rate * Double(limits.poolWorkMsMax)))
            if pending < bound { return .admit(bound - pending) }
            // A pool at the floor and nothing committing: the cluster is stalled.
            guard rate > 0 else { return .busy(retryAfterMs: limits.stalledRetryAfterMs) }
            // What stands above the bound drains in about this long.
            return .busy(retryAfterMs: hint(Double(pending - bound + 1) / rate))
        }
    }

    private func hint(_ milliseconds: Double) -> Int {
        Int(min(Double(limits.retryAfterMsMax), max(Double(limits.retryAfterMsMin), milliseconds.rounded(.up))))
    }

    /// Commits per millisecond over the window.
    private func ratePerMsLocked() -> Double {
        Double(slots.reduce(0) { $0 + $1.count }) / Double(slots.count * max(1, limits.slotMs))
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
