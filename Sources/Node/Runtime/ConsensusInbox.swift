import Consensus
import LedgerCore

/// Where an input for the consensus loop came from: one queue each, so that
/// one peer cannot crowd out the others or the node's own API.
enum InboxSource: Hashable, Sendable {
    case peer(PublicKey)
    case local
}

/// The inputs waiting for the consensus loop, without ever losing a tick.
///
/// Each source has its own queue, bounded in bytes
/// (``NodeTiming/inboxBytesPerSourceMax``); a full queue drops that source's
/// new input and no other's. The loop takes from the sources in turn, so a
/// flooding peer gets its share and no more. A tick is a flag, not a queued
/// event: it is taken first whenever it is set, and setting it again before
/// it is taken changes nothing, so the replica's clock can neither stop nor pile up.
/// Thread-safe.
final class ConsensusInbox<Event: Sendable>: @unchecked Sendable {
    private struct Queue {
        var events: [(event: Event, bytes: Int)] = []
        var head = 0
        var bytes = 0

        var isEmpty: Bool { head == events.count }

        mutating func pop() -> (event: Event, bytes: Int)? {
            guard !isEmpty else { return nil }
            let first = events[head]
            head += 1
            bytes -= first.bytes
            if head > 64 && head * 2 > events.count {
                events.removeFirst(head)
                head = 0
            }
            return first
        }
    }

    private let lock = Lock()
    private let bytesPerSourceMax: Int
    private var queues: [InboxSource: Queue] = [:]
    /// Sources with queued input, in the order they are served.
    private var turn: [InboxSource] = []
    private var tickPending = false
    private var finished = false
    private var waiter: CheckedContinuation<Void, Never>?

    init(bytesPerSourceMax: Int = NodeTiming.inboxBytesPerSourceMax) {
        self.bytesPerSourceMax = bytesPerSourceMax
    }

    /// Queues `event` of about `bytes` from `source`; false (dropped) when that source's queue is full.
    func put(_ event: Event, bytes: Int, from source: InboxSource) -> Bool {
        let accepted = lock.withLock { () -> Bool in
            guard !finished else { return false }
            var queue = queues[source] ?? Queue()
            guard queue.bytes + bytes <= bytesPerSourceMax || queue.isEmpty else { return false }
            if queue.isEmpty { turn.append(source) }
            queue.events.append((event, bytes))
            queue.bytes += bytes
            queues[source] = queue
            return true
        }
        if accepted { wake() }
        return accepted
    }

    /// Asks for a tick; never dropped, and at most one is ever waiting.
    func requestTick() {
        lock.withLock { tickPending = true }
        wake()
    }

    /// The next input: a pending tick first, then the next source's oldest
    /// event; nil once the inbox is finished.
    func next() async -> InboxItem<Event>? {
        while true {
            if let item = lock.withLock({ () -> InboxItem<Event>?? in
                if tickPending {
                    tickPending = false
                    return .some(.tick)
                }
                if let source = turn.first, var queue = queues[source], let popped = queue.pop() {
                    turn.removeFirst()
                    if queue.isEmpty { queues[source] = nil } else {
                        queues[source] = queue
                        turn.append(source)
                    }
                    return .some(.event(popped.event))
                }
                return finished ? .some(nil) : nil
            }) {
                return item
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock { () -> Bool in
                    if tickPending || !turn.isEmpty || finished { return true }
                    waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Ends the inbox: ``next()`` returns nil once it is empty of ticks, and input is refused.
    func finish() {
        lock.withLock { finished = true }
        wake()
    }

    /// Bytes queued by `source`.
    func queuedBytes(from source: InboxSource) -> Int {
        lock.withLock { queues[source]?.bytes ?? 0 }
    }

    private func wake() {
        let continuation = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { waiter = nil }
            return waiter
        }
        continuation?.resume()
    }
}

/// What the consensus loop takes from its inbox.
enum InboxItem<Event: Sendable>: Sendable {
    case tick
    case event(Event)
}
