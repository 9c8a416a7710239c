import Ledger
import LedgerCore

/// The parameters of reconciliation. They live in the clearing contract's
/// genesis section (query `config`), so every job finds the same breaks at
/// the same heights.
public struct ReconciliationConfiguration: Equatable, Sendable, CanonicalCodable {
    /// How long, in block time, a record may wait for its counterpart before a
    /// missing side (long, short) or a status disagreement is a break; keeps
    /// records that are merely in flight from being flagged. Default 5 000 ms.
    public var graceMs: UInt64
    /// How long the clearing side may hold a payment as sent or received
    /// before it is in transit too long (在途). Default 300 000 ms.
    public var inTransitThresholdMs: UInt64
    /// Two records of the same side with the same payer, payee, accounts,
    /// amount, currency and channel under different payment ids are
    /// duplicates when their participant timestamps are at most this far
    /// apart. Default 600 000 ms.
    public var duplicateWindowMs: UInt64
    /// How long the engine keeps a payment whose three sides are all present
    /// and agree, counted from its last status change; after that it stops
    /// tracking the payment, and later updates of it are not reconciled.
    /// Bounds the engine's memory. Default 7 days.
    public var retentionMs: UInt64

    /// The default retention: 7 days.
    public static let retentionMsDefault: UInt64 = 7 * 24 * 3600 * 1000

    /// Grace 5 s, in-transit threshold 5 min, duplicate window 10 min, retention 7 days.
    public static let defaults = ReconciliationConfiguration(graceMs: 5000, inTransitThresholdMs: 300_000, duplicateWindowMs: 600_000)

    /// Creates a configuration; jobs should read it from the `config` query with ``init(configAnswer:)``.
    public init(graceMs: UInt64, inTransitThresholdMs: UInt64, duplicateWindowMs: UInt64, retentionMs: UInt64 = retentionMsDefault) {
        self.graceMs = graceMs
        self.inTransitThresholdMs = inTransitThresholdMs
        self.duplicateWindowMs = duplicateWindowMs
        self.retentionMs = retentionMs
    }

    /// Reads the `reconciliation` member of the clearing contract's `config` query answer.
    public init(configAnswer: ClearingConfigAnswer) throws(QueryError) {
        func value(_ number: Int64, _ name: String) throws(QueryError) -> UInt64 {
            guard number >= 0 else { throw QueryError(.badParameter, "reconciliation.\(name) is negative") }
            return UInt64(number)
        }
        let section = configAnswer.reconciliation
        self.init(graceMs: try value(section.graceMs, "graceMs"),
                  inTransitThresholdMs: try value(section.inTransitThresholdMs, "inTransitThresholdMs"),
                  duplicateWindowMs: try value(section.duplicateWindowMs, "duplicateWindowMs"),
                  retentionMs: try value(section.retentionMs, "retentionMs"))
    }

    /// Reads the `config` query answer from its JSON, as a ``ClearingConfigAnswer``.
    public init(configAnswer: JSONValue) throws(QueryError) {
        let answer: ClearingConfigAnswer
        do {
            answer = try configAnswer.decode(ClearingConfigAnswer.self)
        } catch {
            throw QueryError(.badParameter, "the config answer is not the clearing contract's config: \(error)")
        }
        try self.init(configAnswer: answer)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(graceMs)
        encoder.write(inTransitThresholdMs)
        encoder.write(duplicateWindowMs)
        encoder.write(retentionMs)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        graceMs = try decoder.readUInt64("grace")
        inTransitThresholdMs = try decoder.readUInt64("in-transit threshold")
        duplicateWindowMs = try decoder.readUInt64("duplicate window")
        retentionMs = try decoder.readUInt64("retention")
    }
}

/// A break the engine found, to post with `clearing.postFinding`.
public struct ReconciliationFinding: Equatable, Sendable {
    /// The break, with the height of the block that exposed it.
    public var key: FindingKey
    /// The reason and the payment's sides, for people.
    public var details: String
    /// Block time of the block that exposed the break (``FindingKey/detectedAtHeight``);
    /// the job's detection delay is its clock when posting minus this.
    public var exposedAtMs: UInt64
    /// When the break became reportable: the exposing block's time, or for a
    /// break that waits out a grace period or threshold, the moment it ran out.
    public var dueAtMs: UInt64

    /// The arguments of `clearing.postFinding`.
    public var postArguments: PostFinding { PostFinding(key: key, details: details) }
}

/// A break that a later record cleared, to post with `clearing.resolveFinding`.
public struct ReconciliationResolution: Equatable, Sendable {
    /// The finding being resolved.
    public var key: FindingKey
    /// Height of the block whose processing showed the break cleared.
    public var resolvedAtHeight: UInt64
    /// Block time of the block at `resolvedAtHeight`.
    public var exposedAtMs: UInt64
    /// The payment's sides now, for people.
    public var details: String

    /// The arguments of `clearing.resolveFinding`.
    public var resolveArguments: ResolveFinding { ResolveFinding(key: key, resolvedAtHeight: resolvedAtHeight, details: details) }
}

/// What processing one block produced: resolutions first, then findings,
/// each in payment id order.
public struct ReconciliationOutput: Equatable, Sendable {
    /// The processed block's height.
    public var height: UInt64
    /// The processed block's time.
    public var blockTimeMs: UInt64
    /// Breaks to post with `clearing.postFinding`.
    public var findings: [ReconciliationFinding]
    /// Resolutions to post with `clearing.resolveFinding`, before the findings.
    public var resolutions: [ReconciliationResolution]

    /// True when there is nothing to post.
    public var isEmpty: Bool { findings.isEmpty && resolutions.isEmpty }

    /// The calls to post, in the order they must be committed: resolutions, then findings.
    public var calls: [ContractCall] {
        resolutions.map { ClearingContract.call(.resolveFinding, $0.resolveArguments) }
            + findings.map { ClearingContract.call(.postFinding, $0.postArguments) }
    }
}

/// The T+0 reconciliation engine: a pure, deterministic state machine that
/// follows committed clearing records block by block and says which breaks
/// to post and which to resolve. No I/O, no clock: time is block time.
///
/// Driving it from a block stream with a durable cursor:
/// 1. Load the saved engine (``init(canonicalBytes:)``) or start a new one
///    with the configuration from the contract's `config` query
///    (``ReconciliationConfiguration/init(configAnswer:)``); a saved engine
///    whose ``configuration`` differs from that answer must not be used, as
///    its findings would differ from every other job's.
/// 2. For each committed height above ``cursor``, in order: call
///    ``process(block:receipts:)`` with the block and its receipts (or
///    ``process(_:)`` with a ``ClearingBlock``), then post its resolutions
///    and then its findings, in that order and from one key (a break
///    resolved at one height may be found again at a later one, and the
///    contract accepts a new finding only once the earlier one is resolved);
///    a repeated post succeeds and is ignored by the contract (event
///    `finding_ignored` / `resolution_ignored`).
/// 3. Only once those posts are committed, save ``canonicalBytes``, which
///    holds the cursor. Saving after every block is simplest; saving every
///    few blocks is also correct, because re-processed blocks re-post only
///    what the contract ignores.
///
/// A job killed anywhere restarts from its last save and re-processes the
/// blocks after it; it produces exactly the outputs it would have produced
/// without stopping, and the contract ignores the ones already posted. A
/// block at or below the cursor is ignored, so re-feeding one never counts
/// it twice.
///
/// Classification, for each payment with no duplicate side (the clearing
/// side is the reference; "after grace" means the condition has held for
/// ``ReconciliationConfiguration/graceMs`` of block time):
/// - `short` on a bank side: it records success (sent, received, settled),
///   the clearing side has no record, and the bank record is older than grace;
/// - `long` on a bank side: the clearing side is settled, the bank side has no
///   record, and the settlement is older than grace;
/// - `currency_mismatch` / `amount_mismatch` on a bank side: its currency /
///   amount differs from the clearing side's (at once);
/// - `status_mismatch` on a bank side: one of it and the clearing side records
///   success and the other failure (returned, rejected, timed out), after grace
///   counted from the later of the two statuses;
/// - `in_transit` on the clearing side: it has been sent or received, and not
///   settled or failed, for ``ReconciliationConfiguration/inTransitThresholdMs``;
/// - `duplicate` on a side whose first record repeats an earlier payment's
///   record of that side while that earlier record still records success
///   (see ``ReconciliationConfiguration/duplicateWindowMs``; a payment sent
///   again after the first attempt failed is no duplicate);
///   while a payment has a duplicate side, only duplicates are reported for
///   it, and a duplicate clears when that side records failure.
/// A break is resolved as soon as its condition no longer holds.
///
/// Memory is bounded by dropping payments: a payment with no open break and
/// no pending deadline is forgotten ``ReconciliationConfiguration/retentionMs``
/// after its last status change. Later updates of a forgotten payment's sides
/// are ignored, a side posted for the first time after that starts a new
/// view of the payment, and duplicates of a forgotten payment are not
/// detected.
public struct ReconciliationEngine: Equatable, Sendable, CanonicalCodable {
    /// The parameters the engine classifies with; saved with its state.
    public let configuration: ReconciliationConfiguration
    /// The last height processed.
    public private(set) var cursor: UInt64
    /// The time of the block at ``cursor``.
    public private(set) var lastBlockTimeMs: UInt64
    private var payments: [String: PaymentView]
    private var fingerprints: [Hash: FingerprintEntry]
    /// Payments' deadlines (``PaymentView/nextDueMs``); derived from ``payments``.
    private var deadlines = DeadlineQueue()

    /// A new engine that will take block `cursor + 1` next (1 for a new chain).
    public init(configuration: ReconciliationConfiguration, cursor: UInt64 = 0) {
        self.configuration = configuration
        self.cursor = cursor
        lastBlockTimeMs = 0
        payments = [:]
        fingerprints = [:]
    }

    /// Number of payments tracked (see the retention rule above).
    public var trackedPayments: Int { payments.count }

    /// The breaks currently open, sorted.
    public var openBreaks: [FindingKey] {
        payments.keys.sorted().flatMap { id in
            (payments[id]?.open ?? []).map { FindingKey(paymentID: id, kind: $0.kind, side: $0.side, detectedAtHeight: $0.detectedAtHeight) }
        }
    }

    /// Processes the next committed block. A block at or below ``cursor`` was
    /// already processed and yields an empty output; a block that skips a
    /// height is refused, and so is one whose time goes backwards, leaving
    /// the engine unchanged.
    public mutating func process(_ block: ClearingBlock) throws(ReconciliationError) -> ReconciliationOutput {
        var output = ReconciliationOutput(height: block.height, blockTimeMs: block.timeMs, findings: [], resolutions: [])
        guard block.height > cursor else { return output }
        guard block.height == cursor + 1 else { throw .gap(expected: cursor + 1, got: block.height) }
        guard block.timeMs >= lastBlockTimeMs else { throw .timeWentBackwards(height: block.height, timeMs: block.timeMs, previousMs: lastBlockTimeMs) }
        let newPayments = Set(block.changes.map(\.paymentID)).filter { payments[$0] == nil }.count
        guard payments.count + newPayments <= ClearingLimits.trackedPaymentsMax else { throw .capacity(payments: payments.count) }

        var touched = Set<String>()
        for change in block.changes {
            apply(change, at: block.timeMs)
            touched.insert(change.paymentID)
        }
        var due = Set<String>()
        for entry in deadlines.popDue(atOrBefore: block.timeMs) where payments[entry.id]?.nextDueMs == entry.dueMs {
            due.insert(entry.id)
        }
        for id in touched.union(due).sorted() {
            reevaluate(id, height: block.height, timeMs: block.timeMs, into: &output)
        }
        cursor = block.height
        lastBlockTimeMs = block.timeMs
        if deadlines.count > 4 * payments.count + 1024 { rebuildDeadlines() }
        return output
    }

    /// Rebuilds the deadline queue from the payments, shedding entries left behind by moved deadlines.
    private mutating func rebuildDeadlines() {
        deadlines = DeadlineQueue()
        for (id, payment) in payments {
            if let due = payment.nextDueMs { deadlines.push(due, id) }
        }
    }

    /// Processes a committed block read from the ledger: ``ClearingBlock/extract(block:receipts:)`` then ``process(_:)``.
    public mutating func process(block: Block, receipts: [Receipt]) throws(ReconciliationError) -> ReconciliationOutput {
        try process(ClearingBlock.extract(block: block, receipts: receipts))
    }

    private mutating func apply(_ change: ClearingRecordChange, at timeMs: UInt64) {
        var payment = payments[change.paymentID] ?? PaymentView()
        if let existing = payment.sides[change.side] {
            guard change.version > existing.record.version else { return }
            let statusAt = change.status == existing.record.status ? existing.statusAtMs : timeMs
            payment.sides[change.side] = SideView(record: change, postedAtMs: existing.postedAtMs, statusAtMs: statusAt, fingerprint: existing.fingerprint)
        } else {
            // An update of a side whose first record the engine never saw: its payment was dropped after retention.
            guard change.version == 1 else { return }
            let fingerprint = Self.fingerprint(change)
            payment.sides[change.side] = SideView(record: change, postedAtMs: timeMs, statusAtMs: timeMs, fingerprint: fingerprint)
            if let earlier = fingerprints[fingerprint], earlier.paymentID != change.paymentID,
               Self.distance(earlier.participantTimestampMs, change.participantTimestampMs) <= configuration.duplicateWindowMs,
               payments[earlier.paymentID]?.sides[change.side]?.record.status.isSuccess == true {
                payment.duplicateOf[change.side] = earlier.paymentID
            }
            fingerprints[fingerprint] = FingerprintEntry(paymentID: change.paymentID, participantTimestampMs: change.participantTimestampMs)
        }
        payments[change.paymentID] = payment
    }

    private mutating func reevaluate(_ id: String, height: UInt64, timeMs: UInt64, into output: inout ReconciliationOutput) {
        guard var payment = payments[id] else { return }
        let (current, nextDue) = evaluate(payment, at: timeMs)
        var stillOpen: [OpenBreak] = []
        for open in payment.open {
            if current[open.id] != nil {
                stillOpen.append(open)
            } else {
                output.resolutions.append(ReconciliationResolution(
                    key: FindingKey(paymentID: id, kind: open.kind, side: open.side, detectedAtHeight: open.detectedAtHeight),
                    resolvedAtHeight: height, exposedAtMs: timeMs, details: Self.clipped("cleared; now \(payment.summary)")))
            }
        }
        let openIDs = Set(payment.open.map(\.id))
        for breakID in current.keys.sorted() where !openIDs.contains(breakID) {
            guard let found = current[breakID] else { continue }
            stillOpen.append(OpenBreak(kind: breakID.kind, side: breakID.side, detectedAtHeight: height))
            output.findings.append(ReconciliationFinding(
                key: FindingKey(paymentID: id, kind: breakID.kind, side: breakID.side, detectedAtHeight: height),
                details: Self.clipped("\(found.reason); \(payment.summary)"), exposedAtMs: timeMs, dueAtMs: found.dueAtMs))
        }
        payment.open = stillOpen.sorted { $0.id < $1.id }
        var due = nextDue
        if stillOpen.isEmpty && nextDue == nil {
            let lastChangeMs = payment.sides.values.map(\.statusAtMs).max() ?? timeMs
            let dropAtMs = Self.later(lastChangeMs, by: configuration.retentionMs)
            if timeMs >= dropAtMs {
                drop(id, payment)
                return
            }
            due = dropAtMs
        }
        if let due, due != payment.nextDueMs { deadlines.push(due, id) }
        payment.nextDueMs = due
        payments[id] = payment
    }

    /// Stops tracking a payment with nothing open or pending, and forgets its fingerprints.
    private mutating func drop(_ id: String, _ payment: PaymentView) {
        payments[id] = nil
        for view in payment.sides.values where fingerprints[view.fingerprint]?.paymentID == id {
            fingerprints[view.fingerprint] = nil
        }
    }

    /// The breaks of `payment` at block time `now`, with the earliest future
    /// moment at which another condition that already holds falls due.
    private func evaluate(_ payment: PaymentView, at now: UInt64) -> (breaks: [BreakID: (dueAtMs: UInt64, reason: String)], nextDueMs: UInt64?) {
        var breaks: [BreakID: (dueAtMs: UInt64, reason: String)] = [:]
        var nextDue: UInt64?
        func timed(_ due: UInt64, _ id: BreakID, _ reason: String) {
            if now >= due {
                breaks[id] = (due, reason)
            } else {
                nextDue = min(nextDue ?? .max, due)
            }
        }
        if !payment.duplicateOf.isEmpty {
            for (side, earlier) in payment.duplicateOf.sorted(by: { $0.key < $1.key }) {
                guard let view = payment.sides[side], view.record.status.isSuccess else { continue }
                breaks[BreakID(kind: .duplicate, side: side)] = (now, "\(side.rawValue) record repeats payment '\(earlier)'")
            }
            return (breaks, nil)
        }
        let grace = configuration.graceMs
        let clearing = payment.sides[.clearing]
        for side in [ClearingSide.payer, .payee] {
            guard let bank = payment.sides[side] else {
                if let clearing, clearing.record.status == .settled {
                    timed(Self.later(clearing.statusAtMs, by: grace), BreakID(kind: .long, side: side), "clearing settled, \(side.rawValue) has no record")
                }
                continue
            }
            guard let clearing else {
                if bank.record.status.isSuccess {
                    timed(Self.later(bank.postedAtMs, by: grace), BreakID(kind: .short, side: side), "\(side.rawValue) records \(bank.record.status.rawValue), clearing has no record")
                }
                continue
            }
            if bank.record.currency != clearing.record.currency {
                breaks[BreakID(kind: .currencyMismatch, side: side)] = (now, "\(side.rawValue) currency \(bank.record.currency), clearing \(clearing.record.currency)")
            } else if bank.record.amountMinor != clearing.record.amountMinor {
                breaks[BreakID(kind: .amountMismatch, side: side)] = (now, "\(side.rawValue) amount \(bank.record.amountMinor), clearing \(clearing.record.amountMinor)")
            }
            if bank.record.status.isSuccess != clearing.record.status.isSuccess {
                timed(Self.later(max(bank.statusAtMs, clearing.statusAtMs), by: grace), BreakID(kind: .statusMismatch, side: side),
                      "\(side.rawValue) records \(bank.record.status.rawValue), clearing \(clearing.record.status.rawValue)")
            }
        }
        if let clearing, clearing.record.status == .sent || clearing.record.status == .received {
            timed(Self.later(clearing.statusAtMs, by: configuration.inTransitThresholdMs), BreakID(kind: .inTransit, side: .clearing),
                  "clearing has held the payment as \(clearing.record.status.rawValue) since \(clearing.statusAtMs) ms")
        }
        return (breaks, nextDue)
    }

    static func fingerprint(_ change: ClearingRecordChange) -> Hash {
        var encoder = CanonicalEncoder()
        encoder.write(change.side)
        encoder.write(change.payer)
        encoder.write(change.payee)
        encoder.write(change.amountMinor)
        encoder.write(change.currency)
        encoder.write(change.channel)
        return Hash.tagged("consort/clearing-fingerprint", encoder.bytes)
    }

    static func distance(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }

    /// `timeMs + durationMs`, saturating at the largest time instead of wrapping.
    static func later(_ timeMs: UInt64, by durationMs: UInt64) -> UInt64 {
        let (sum, overflow) = timeMs.addingReportingOverflow(durationMs)
        return overflow ? .max : sum
    }

    /// `text` cut to at most ``ClearingLimits/detailsBytesMax`` UTF-8 bytes, on a character boundary.
    static func clipped(_ text: String) -> String {
        guard text.utf8.count > ClearingLimits.detailsBytesMax else { return text }
        var result = ""
        for character in text {
            guard result.utf8.count + character.utf8.count <= ClearingLimits.detailsBytesMax else { break }
            result.append(character)
        }
        return result
    }

    // MARK: Canonical form

    /// Payments in id order, fingerprints in hash order; the deadline queue is rebuilt on decode.
    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(configuration)
        encoder.write(cursor)
        encoder.write(lastBlockTimeMs)
        encoder.write(UInt64(payments.count))
        for id in payments.keys.sorted() {
            encoder.write(id)
            payments[id]?.encode(to: &encoder)
        }
        encoder.write(UInt64(fingerprints.count))
        for fingerprint in fingerprints.keys.sorted() {
            encoder.write(fingerprint)
            fingerprints[fingerprint]?.encode(to: &encoder)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        configuration = try decoder.read(ReconciliationConfiguration.self, "configuration")
        cursor = try decoder.readUInt64("cursor")
        lastBlockTimeMs = try decoder.readUInt64("last block time")
        let paymentCount = try decoder.readLength("payments", limit: ClearingLimits.trackedPaymentsMax)
        payments = [:]
        var previousID: String?
        for _ in 0..<paymentCount {
            let id = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
            if let previousID, !(previousID < id) { throw .invalidValue(field: "payments", reason: "ids not in strictly increasing order") }
            previousID = id
            let payment = try decoder.read(PaymentView.self, "payment")
            payments[id] = payment
        }
        let fingerprintCount = try decoder.readLength("fingerprints", limit: ClearingLimits.trackedPaymentsMax * 3)
        fingerprints = [:]
        var previousFingerprint: Hash?
        for _ in 0..<fingerprintCount {
            let fingerprint = try decoder.read(Hash.self, "fingerprint")
            if let previousFingerprint, !(previousFingerprint < fingerprint) {
                throw .invalidValue(field: "fingerprints", reason: "not in strictly increasing order")
            }
            previousFingerprint = fingerprint
            fingerprints[fingerprint] = try decoder.read(FingerprintEntry.self, "fingerprint entry")
        }
        rebuildDeadlines()
    }
}

extension ReconciliationEngine {
    /// Engines are equal when their saved forms are: the deadline queue is derived.
    public static func == (lhs: ReconciliationEngine, rhs: ReconciliationEngine) -> Bool {
        lhs.configuration == rhs.configuration && lhs.cursor == rhs.cursor && lhs.lastBlockTimeMs == rhs.lastBlockTimeMs
            && lhs.payments == rhs.payments && lhs.fingerprints == rhs.fingerprints
    }
}

/// A binary min-heap of (deadline, payment id). A payment that moves its
/// deadline leaves its old entry behind; the engine skips entries that no
/// longer match the payment when they are popped.
struct DeadlineQueue: Sendable {
    private var heap: [(dueMs: UInt64, id: String)] = []

    var count: Int { heap.count }

    mutating func push(_ dueMs: UInt64, _ id: String) {
        heap.append((dueMs, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every entry due at or before `timeMs`.
    mutating func popDue(atOrBefore timeMs: UInt64) -> [(dueMs: UInt64, id: String)] {
        var due: [(dueMs: UInt64, id: String)] = []
        while let top = heap.first, top.dueMs <= timeMs {
            due.append(top)
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && Self.less(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count && Self.less(heap[right], heap[smallest]) { smallest = right }
                guard smallest != parent else { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return due
    }

    private static func less(_ a: (dueMs: UInt64, id: String), _ b: (dueMs: UInt64, id: String)) -> Bool {
        (a.dueMs, a.id) < (b.dueMs, b.id)
    }
}

/// A break's identity within one payment.
struct BreakID: Hashable, Comparable, Sendable {
    var kind: BreakKind
    var side: ClearingSide

    static func < (lhs: BreakID, rhs: BreakID) -> Bool { (lhs.kind.tag, lhs.side.tag) < (rhs.kind.tag, rhs.side.tag) }
}

/// A break the engine has reported and not yet resolved.
struct OpenBreak: Equatable, Sendable, CanonicalCodable {
    var kind: BreakKind
    var side: ClearingSide
    var detectedAtHeight: UInt64

    var id: BreakID { BreakID(kind: kind, side: side) }

    init(kind: BreakKind, side: ClearingSide, detectedAtHeight: UInt64) {
        self.kind = kind
        self.side = side
        self.detectedAtHeight = detectedAtHeight
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(kind)
        encoder.write(side)
        encoder.write(detectedAtHeight)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        kind = try decoder.read(BreakKind.self, "break kind")
        side = try decoder.read(ClearingSide.self, "side")
        detectedAtHeight = try decoder.readUInt64("detected at height")
    }
}

/// One side as the engine last saw it.
struct SideView: Equatable, Sendable, CanonicalCodable {
    var record: ClearingRecordChange
    /// Block time of the side's first record.
    var postedAtMs: UInt64
    /// Block time at which the side's current status was recorded.
    var statusAtMs: UInt64
    /// The fingerprint of the side's first record (see `ReconciliationEngine.fingerprint`).
    var fingerprint: Hash

    init(record: ClearingRecordChange, postedAtMs: UInt64, statusAtMs: UInt64, fingerprint: Hash) {
        self.record = record
        self.postedAtMs = postedAtMs
        self.statusAtMs = statusAtMs
        self.fingerprint = fingerprint
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(record)
        encoder.write(postedAtMs)
        encoder.write(statusAtMs)
        encoder.write(fingerprint)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        record = try decoder.read(ClearingRecordChange.self, "record")
        postedAtMs = try decoder.readUInt64("posted at")
        statusAtMs = try decoder.readUInt64("status at")
        fingerprint = try decoder.read(Hash.self, "fingerprint")
    }
}

/// The engine's matching state for one payment.
struct PaymentView: Equatable, Sendable, CanonicalCodable {
    var sides: [ClearingSide: SideView] = [:]
    /// Sides whose first record repeats an earlier payment's, with that payment's id.
    var duplicateOf: [ClearingSide: String] = [:]
    /// Sorted by kind, then side.
    var open: [OpenBreak] = []
    /// The next block time at which a condition of this payment falls due.
    var nextDueMs: UInt64?

    init() {}

    /// The sides in a sentence, for finding details.
    var summary: String {
        ClearingSide.allCases.map { side in
            guard let view = sides[side] else { return "\(side.rawValue): no record" }
            return "\(side.rawValue): \(view.record.status.rawValue) \(view.record.amountMinor) \(view.record.currency)"
        }.joined(separator: "; ")
    }

    func encode(to encoder: inout CanonicalEncoder) {
        for side in ClearingSide.allCases { encoder.write(sides[side]) }
        for side in ClearingSide.allCases { encoder.write(optional: duplicateOf[side]) }
        encoder.write(open)
        encoder.write(optional: nextDueMs)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        for side in ClearingSide.allCases {
            if let view = try decoder.readOptional(SideView.self, "side") {
                guard view.record.side == side else { throw .invalidValue(field: "side", reason: "a \(view.record.side.rawValue) record is stored as \(side.rawValue)") }
                sides[side] = view
            }
        }
        for side in ClearingSide.allCases {
            if let earlier = try decoder.readOptionalString("duplicate of", limit: ClearingLimits.paymentIDBytesMax) { duplicateOf[side] = earlier }
        }
        open = try decoder.readArray(OpenBreak.self, "open breaks", limit: BreakKind.allCases.count * ClearingSide.allCases.count)
        nextDueMs = try decoder.readOptionalUInt64("next due")
    }
}

/// The latest record seen with a given fingerprint.
struct FingerprintEntry: Equatable, Sendable, CanonicalCodable {
    var paymentID: String
    var participantTimestampMs: UInt64

    init(paymentID: String, participantTimestampMs: UInt64) {
        self.paymentID = paymentID
        self.participantTimestampMs = participantTimestampMs
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(paymentID)
        encoder.write(participantTimestampMs)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        participantTimestampMs = try decoder.readUInt64("participant timestamp")
    }
}
