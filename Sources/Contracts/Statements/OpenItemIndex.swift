import Ledger
import LedgerCore

/// Point reads and writes of the statements contract's state, keys relative
/// to its namespace. Execution runs on a transaction's context; tests and the
/// benchmark run the same code on an in-memory state (``MemoryStatementsState``).
public protocol StatementsState {
    func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]?
    mutating func put(_ key: [UInt8], _ value: [UInt8])
    mutating func delete(_ key: [UInt8])
}

extension StatementsState {
    /// Reads and decodes a record; one that does not decode means the state is damaged.
    func record<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(StorageError) -> T? {
        guard let raw = try get(key) else { return nil }
        do {
            return try T(canonicalBytes: raw)
        } catch {
            throw .corrupted(reason: "statements record \(String(decoding: key, as: UTF8.self)) does not decode: \(error)")
        }
    }

    mutating func putRecord<T: CanonicalEncodable>(_ key: [UInt8], _ value: T) {
        put(key, value.canonicalBytes)
    }
}

extension TransactionContext: StatementsState {}

/// How the amount index groups open items besides their counterparty: the
/// reversal rule looks only at non-reversals, and at items without
/// references when the reversal carries one.
public struct OpenItemKind: Equatable, Hashable, Sendable, Comparable {
    public var isReversal: Bool
    public var hasReferences: Bool

    init(_ item: MatchItem) {
        isReversal = item.isReversal
        hasReferences = !item.references.isEmpty
    }

    init(tag: UInt8) {
        isReversal = tag & 2 != 0
        hasReferences = tag & 1 != 0
    }

    var tag: UInt8 { (isReversal ? 2 : 0) | (hasReferences ? 1 : 0) }

    public static func < (lhs: OpenItemKind, rhs: OpenItemKind) -> Bool { lhs.tag < rhs.tag }
}

/// The open items of one account, kept in state so that every arrival reads
/// and writes a bounded amount of it:
///
/// (`<account>` is the account's key scope, its bank and number.)
///
/// - `ix/<account>/<side>/o/<item>`: the open item itself; present exactly
///   while the item is open.
/// - `ix/<account>/<side>/r/<reference>`: the open items carrying a
///   reference, at most ``StatementsLimits/openItemsPerReferenceMax``.
/// - `ix/<account>/<side>/a/<currency>/<amount>/<day>`: the groups of open
///   items of that amount and day, one per counterparty and ``OpenItemKind``
///   (at most ``StatementsLimits/groupsPerAmountDayMax``), each with its size.
/// - `ix/<account>/<side>/h/<currency>/<amount>/<day>/<kind>/<counterparty>/<slot>`:
///   each group is a binary min-heap of item ids, one key per slot, so the
///   lowest id is slot 0; adding costs O(log n) slot reads and writes (O(1)
///   when ids arrive in increasing order) and taking the lowest O(log n).
///
/// Items leave the heaps lazily: removing an item deletes its open record,
/// and an id whose record is gone is dropped when it reaches a heap's top.
public struct OpenItemIndex<State: StatementsState> {
    /// The state the index reads and writes. Its groups keys
    /// (`ix/<account>/<side>/a/…`) lag behind the index until ``flush()``;
    /// every other key is written as it changes.
    public var state: State
    /// The account's key scope: its bank and number (`AccountRecord.scope`), which rejections name too.
    public let account: String

    /// `ix/<account>/bank/` and `ix/<account>/book/`, built once.
    private let bankPrefix: [UInt8]
    private let bookPrefix: [UInt8]
    /// The prefixes of the account's line, book entry and match records,
    /// built once: posting writes one or more of them for every item.
    private let lineRecordPrefix: [UInt8]
    private let bookRecordPrefix: [UInt8]
    private let matchRecordPrefix: [UInt8]

    /// Amount groups already read or written through this index (nil:
    /// none in state), so that arrivals of the same amount and days decode
    /// them once, with the heap tops the index has seen. Changed groups are
    /// written to state when the cache is emptied or ``flush()`` is called,
    /// so that a day taking many arrivals is encoded once rather than once
    /// per arrival. Every write of a groups or heap key goes through the
    /// index, which keeps this in step; it is emptied (after writing what
    /// changed) when it would exceed ``StatementsLimits/cachedAmountDaysMax``
    /// keys or ``StatementsLimits/cachedAmountGroupBytesMax`` bytes.
    private var groupsCache: [AmountDay: CachedGroups] = [:]
    /// Bytes held by ``groupsCache``, as ``CachedGroups/bytes`` counts them.
    private var cachedBytes = 0
    /// The cache's limits; the ``StatementsLimits`` ones unless a test asks for smaller.
    private let cachedAmountDaysMax: Int
    private let cachedGroupBytesMax: Int

    public init(state: State, account: String) {
        self.init(state: state, account: account, cachedAmountDaysMax: StatementsLimits.cachedAmountDaysMax,
                  cachedGroupBytesMax: StatementsLimits.cachedAmountGroupBytesMax)
    }

    /// An index whose cache holds at most `cachedAmountDaysMax` amount days
    /// and `cachedGroupBytesMax` bytes: tests make them small to check that
    /// results do not depend on them.
    init(state: State, account: String, cachedAmountDaysMax: Int, cachedGroupBytesMax: Int) {
        self.state = state
        self.account = account
        self.cachedAmountDaysMax = cachedAmountDaysMax
        self.cachedGroupBytesMax = cachedGroupBytesMax
        let scope = StatementsContract.part(account)
        bankPrefix = stateKey("ix", scope, "bank", "")
        bookPrefix = stateKey("ix", scope, "book", "")
        lineRecordPrefix = StatementsContract.linePrefix(account)
        bookRecordPrefix = StatementsContract.bookPrefix(account)
        matchRecordPrefix = StatementsContract.matchPrefix(account)
    }

    /// ``StatementsContract/lineKey(_:_:)`` of this account.
    func lineKey(_ itemID: String) -> [UInt8] { lineRecordPrefix + itemID.utf8 }
    /// ``StatementsContract/bookKey(_:_:)`` of this account.
    func bookKey(_ itemID: String) -> [UInt8] { bookRecordPrefix + itemID.utf8 }
    /// ``StatementsContract/matchKey(_:_:)`` of this account.
    func matchKey(_ id: UInt64) -> [UInt8] { matchRecordPrefix + StatementsContract.padded(id).utf8 }

    // MARK: Keys

    /// `<side prefix><tag>/`, with room for what follows.
    private func sideKey(_ side: MatchSide, _ tag: UInt8) -> [UInt8] {
        var key = side == .bank ? bankPrefix : bookPrefix
        key.reserveCapacity(key.count + 64)
        key.append(tag)
        key.append(UInt8(ascii: "/"))
        return key
    }

    func openKey(_ side: MatchSide, _ id: String) -> [UInt8] {
        var key = sideKey(side, UInt8(ascii: "o"))
        key.append(contentsOf: id.utf8)
        return key
    }

    func referenceKey(_ side: MatchSide, _ reference: String) -> [UInt8] {
        var key = sideKey(side, UInt8(ascii: "r"))
        key.append(contentsOf: StatementsContract.part(reference).utf8)
        return key
    }

    func groupsKey(_ side: MatchSide, _ currency: String, _ amount: Int64, _ day: Int32) -> [UInt8] {
        var key = sideKey(side, UInt8(ascii: "a"))
        Self.appendAmountDay(&key, currency, amount, day)
        return key
    }

    func heapPrefix(_ side: MatchSide, _ currency: String, _ amount: Int64, _ day: Int32, _ group: AmountGroups.Group) -> [UInt8] {
        var key = sideKey(side, UInt8(ascii: "h"))
        Self.appendAmountDay(&key, currency, amount, day)
        key.append(UInt8(ascii: "/"))
        key.append(contentsOf: String(group.kind.tag).utf8)
        key.append(UInt8(ascii: "/"))
        key.append(contentsOf: StatementsContract.part(group.counterparty).utf8)
        key.append(UInt8(ascii: "/"))
        return key
    }

    /// `<currency>/<amount>/<day>`.
    private static func appendAmountDay(_ key: inout [UInt8], _ currency: String, _ amount: Int64, _ day: Int32) {
        key.append(contentsOf: StatementsContract.part(currency).utf8)
        key.append(UInt8(ascii: "/"))
        key.append(contentsOf: String(amount).utf8)
        key.append(UInt8(ascii: "/"))
        key.append(contentsOf: String(day).utf8)
    }

    // MARK: Lookups

    /// The open items of `side` carrying `reference`, in the order they were added.
    public func referenceItems(_ side: MatchSide, _ reference: String) throws -> [MatchItem] {
        try state.record(ReferenceBucket.self, referenceKey(side, reference))?.items ?? []
    }

    /// The open item with the lowest id among those of `side` with this
    /// currency, amount and day whose group `accepts` (counterparty, kind).
    /// Mutating because ids of items no longer open are dropped on the way.
    public mutating func lowestOpenItem(_ side: MatchSide, currency: String, amountMinor: Int64, day: Int32,
                                        accepts: (String, OpenItemKind) -> Bool) throws -> MatchItem? {
        try groupTops(side, currency: currency, amountMinor: amountMinor, day: day, accepts: accepts)
            .min { $0.id < $1.id }
    }

    /// The open item with the lowest id of each group of `side` with this
    /// currency, amount and day that `accepts` (counterparty, kind), in
    /// (counterparty, kind) order. Mutating because ids of items no longer
    /// open are dropped on the way.
    public mutating func groupTops(_ side: MatchSide, currency: String, amountMinor: Int64, day: Int32,
                                   accepts: (String, OpenItemKind) -> Bool) throws -> [MatchItem] {
        let amountDay = AmountDay(side: side, currency: currency, amountMinor: amountMinor, day: day)
        guard var groups = try loadGroups(amountDay) else { return [] }
        var tops: [MatchItem] = []
        var changed = false
        var learned = false
        var position = 0
        while position < groups.groups.count {
            let group = groups.groups[position]
            guard accepts(group.counterparty, group.kind) else {
                position += 1
                continue
            }
            var heap = IdHeap(prefix: heapPrefix(side, currency, amountMinor, day, group), count: Int(group.count), top: group.top)
            let top = try openTop(of: &heap, side: side)
            if heap.count != Int(group.count) {
                changed = true
                if heap.count == 0 {
                    groups.groups.remove(at: position)
                    continue
                }
                groups.groups[position].count = UInt32(heap.count)
            }
            if heap.knownTop != group.top {
                learned = true
                groups.groups[position].top = heap.knownTop
            }
            if let top { tops.append(top) }
            position += 1
        }
        if changed {
            storeGroups(groups, at: amountDay)
        } else if learned {
            remember(groups, at: amountDay)
        }
        return tops
    }

    /// The open item at the top of `heap`, dropping ids that are no longer open.
    private mutating func openTop(of heap: inout IdHeap, side: MatchSide) throws -> MatchItem? {
        while let id = try heap.readTop(in: state) {
            if let item = try state.record(MatchItem.self, openKey(side, id)) { return item }
            try heap.popTop(in: &state)
        }
        return nil
    }

    /// Keeps changed groups in the cache, to be written by ``flush()``.
    private mutating func storeGroups(_ groups: AmountGroups, at amountDay: AmountDay) {
        remember(groups.groups.isEmpty ? nil : groups, at: amountDay, changed: true)
    }

    /// Writes the amount groups changed since they were last written; the
    /// state then holds everything the index holds. Whoever hands the state
    /// on (a transaction's execution, the benchmark) calls this first.
    /// Writes go out in key order, so that nothing downstream can depend on
    /// the dictionary's order, which differs from process to process.
    public mutating func flush() {
        var changed: [(key: [UInt8], amountDay: AmountDay)] = []
        var position = groupsCache.startIndex
        while position != groupsCache.endIndex {
            if groupsCache.values[position].changed {
                let amountDay = groupsCache.keys[position]
                changed.append((groupsKey(amountDay.side, amountDay.currency, amountDay.amountMinor, amountDay.day), amountDay))
                groupsCache.values[position].changed = false
            }
            groupsCache.formIndex(after: &position)
        }
        changed.sort { $0.key.lexicographicallyPrecedes($1.key) }
        for entry in changed { write(groupsCache[entry.amountDay]?.groups, at: entry.amountDay) }
    }

    /// The state with everything the index holds written to it (``flush()``
    /// first): what execution hands on when the transaction's work is done.
    public mutating func finishedState() -> State {
        flush()
        return state
    }

    private mutating func write(_ groups: AmountGroups?, at amountDay: AmountDay) {
        let key = groupsKey(amountDay.side, amountDay.currency, amountDay.amountMinor, amountDay.day)
        if let groups { state.putRecord(key, groups) } else { state.delete(key) }
    }

    /// The amount groups of `amountDay`, from the cache when they were read or written before.
    private mutating func loadGroups(_ amountDay: AmountDay) throws(StorageError) -> AmountGroups? {
        if let cached = groupsCache[amountDay] { return cached.groups }
        let groups = try state.record(AmountGroups.self, groupsKey(amountDay.side, amountDay.currency, amountDay.amountMinor, amountDay.day))
        remember(groups, at: amountDay)
        return groups
    }

    /// Caches `groups` for `amountDay`; `changed`: they differ from what state holds.
    private mutating func remember(_ groups: AmountGroups?, at amountDay: AmountDay, changed: Bool = false) {
        let previous = groupsCache[amountDay]
        let entry = CachedGroups(groups: groups, changed: changed || previous?.changed == true)
        let tooManyDays = previous == nil && groupsCache.count >= cachedAmountDaysMax
        if tooManyDays || cachedBytes - (previous?.bytes ?? 0) + entry.bytes > cachedGroupBytesMax {
            flush()
            groupsCache.removeAll(keepingCapacity: true)
            cachedBytes = 0
        } else {
            cachedBytes -= previous?.bytes ?? 0
        }
        groupsCache[amountDay] = entry
        cachedBytes += entry.bytes
    }

    // MARK: Changes

    /// Opens an item: records it, adds it to its reference buckets and to its
    /// amount group. An item already open is left as it is, unless the
    /// caller knows it `isNew` (never posted), which spares reading whether
    /// it is. Rejects, before writing anything, when a reference bucket or
    /// the amount day is full.
    public mutating func add(_ item: MatchItem, isNew: Bool = false) throws {
        let open = openKey(item.side, item.id)
        if !isNew { guard try state.get(open) == nil else { return } }
        let references = item.distinctReferences
        var buckets: [(key: [UInt8], bucket: ReferenceBucket)] = []
        for reference in references {
            let key = referenceKey(item.side, reference)
            let bucket = try state.record(ReferenceBucket.self, key) ?? ReferenceBucket(items: [])
            guard bucket.items.count < StatementsLimits.openItemsPerReferenceMax else {
                throw Rejection(code: "reference_bucket_full", message: "\(item.side == .bank ? "bank lines" : "book entries") of account '\(account)' already have \(StatementsLimits.openItemsPerReferenceMax) open items with reference '\(reference)' (StatementsLimits.openItemsPerReferenceMax); match or withdraw some first")
            }
            buckets.append((key, bucket))
        }
        let amountDay = AmountDay(side: item.side, currency: item.currency, amountMinor: item.amountMinor, day: item.day)
        var groups = try loadGroups(amountDay) ?? AmountGroups(groups: [])
        let wanted = AmountGroups.Group(counterparty: item.counterparty, kind: OpenItemKind(item), count: 0)
        let position = groups.groups.firstIndex { !$0.precedes(wanted) } ?? groups.groups.count
        if position == groups.groups.count || !groups.groups[position].sameGroup(as: wanted) {
            guard groups.groups.count < StatementsLimits.groupsPerAmountDayMax else {
                throw Rejection(code: "amount_day_full", message: "\(item.side == .bank ? "bank lines" : "book entries") of account '\(account)' already have open items of \(item.amountMinor) \(item.currency) on \(CalendarDate(dayNumber: Int(item.day))) from \(StatementsLimits.groupsPerAmountDayMax) different counterparties (StatementsLimits.groupsPerAmountDayMax); match some first")
            }
            groups.groups.insert(wanted, at: position)
        }
        guard Int(groups.groups[position].count) < StatementsLimits.openItemsPerGroupMax else {
            throw Rejection(code: "amount_group_full", message: "\(item.side == .bank ? "bank lines" : "book entries") of account '\(account)' already have \(StatementsLimits.openItemsPerGroupMax) open items of \(item.amountMinor) \(item.currency) on \(CalendarDate(dayNumber: Int(item.day))) from one counterparty (StatementsLimits.openItemsPerGroupMax); match some first")
        }
        state.putRecord(open, item)
        for (key, bucket) in buckets {
            var bucket = bucket
            bucket.items.append(item)
            state.putRecord(key, bucket)
        }
        var heap = IdHeap(prefix: heapPrefix(item.side, item.currency, item.amountMinor, item.day, groups.groups[position]),
                          count: Int(groups.groups[position].count), top: groups.groups[position].top)
        try heap.push(item.id, in: &state)
        groups.groups[position].count = UInt32(heap.count)
        groups.groups[position].top = heap.knownTop
        storeGroups(groups, at: amountDay)
    }

    /// Closes an item: deletes its record and takes it out of its reference
    /// buckets; its amount heap drops it when it reaches the top.
    public mutating func remove(_ item: MatchItem) throws {
        state.delete(openKey(item.side, item.id))
        for reference in item.distinctReferences {
            let key = referenceKey(item.side, reference)
            guard var bucket = try state.record(ReferenceBucket.self, key) else { continue }
            bucket.items.removeAll { $0.id == item.id }
            if bucket.items.isEmpty { state.delete(key) } else { state.putRecord(key, bucket) }
        }
    }
}

/// One side's items of one currency, amount and day: what a groups key names.
struct AmountDay: Hashable {
    var side: MatchSide
    var currency: String
    var amountMinor: Int64
    var day: Int32

    /// Hashes the numbers only: an account's items share one currency, so
    /// hashing its text would only cost time; equality still compares it.
    func hash(into hasher: inout Hasher) {
        hasher.combine(amountMinor)
        hasher.combine(day)
        hasher.combine(side)
    }
}

/// Amount groups as the index last read or changed them; nil when there are none.
struct CachedGroups {
    var groups: AmountGroups?
    /// The groups differ from what the state's groups key holds, until the index writes them.
    var changed: Bool
    /// What the entry costs the cache: a fixed share for the day, and for
    /// each group its counterparty, its known top id and a fixed share.
    let bytes: Int

    init(groups: AmountGroups?, changed: Bool) {
        self.groups = groups
        self.changed = changed
        bytes = (groups?.groups ?? []).reduce(Self.dayBytes) { $0 + Self.groupBytes + $1.counterparty.utf8.count + ($1.top?.utf8.count ?? 0) }
    }

    /// The dictionary entry of an amount day, and a group's numbers and string headers, rounded up.
    static let dayBytes = 128
    static let groupBytes = 64
}

/// A binary min-heap of item ids in state, one key per slot (`prefix` + slot
/// number); the caller keeps its size and, when it knows it, the id in slot 0.
struct IdHeap {
    let prefix: [UInt8]
    private(set) var count: Int
    /// The id in slot 0 when known without reading it: what the caller last
    /// saw there, or what this heap's own changes put there.
    private(set) var knownTop: String?

    init(prefix: [UInt8], count: Int, top: String?) {
        self.prefix = prefix
        self.count = count
        knownTop = count == 0 ? nil : top
    }

    private func slotKey(_ slot: Int) -> [UInt8] {
        var key = prefix
        key.append(contentsOf: String(slot).utf8)
        return key
    }

    private func id<State: StatementsState>(at slot: Int, in state: State) throws(StorageError) -> String {
        if slot == 0, let knownTop { return knownTop }
        guard let record = try state.record(HeapSlot.self, slotKey(slot)) else {
            throw .corrupted(reason: "open-item heap \(String(decoding: prefix, as: UTF8.self)) has no slot \(slot) of \(count)")
        }
        return record.id
    }

    /// The lowest id, or nil when empty; read from slot 0 only when not known.
    mutating func readTop<State: StatementsState>(in state: State) throws(StorageError) -> String? {
        guard count > 0 else { return nil }
        if let knownTop { return knownTop }
        let top = try id(at: 0, in: state)
        knownTop = top
        return top
    }

    mutating func push<State: StatementsState>(_ id: String, in state: inout State) throws(StorageError) {
        var slot = count
        count += 1
        while slot > 0 {
            let parent = (slot - 1) / 2
            let parentID = try self.id(at: parent, in: state)
            guard id < parentID else { break }
            state.putRecord(slotKey(slot), HeapSlot(id: parentID))
            slot = parent
        }
        state.putRecord(slotKey(slot), HeapSlot(id: id))
        if slot == 0 { knownTop = id }
    }

    mutating func popTop<State: StatementsState>(in state: inout State) throws(StorageError) {
        guard count > 0 else { return }
        count -= 1
        let last = try id(at: count, in: state)
        knownTop = nil
        state.delete(slotKey(count))
        guard count > 0 else { return }
        var slot = 0
        while true {
            let left = 2 * slot + 1
            guard left < count else { break }
            var child = left
            var childID = try id(at: left, in: state)
            if left + 1 < count {
                let rightID = try id(at: left + 1, in: state)
                if rightID < childID {
                    child = left + 1
                    childID = rightID
                }
            }
            guard childID < last else { break }
            state.putRecord(slotKey(slot), HeapSlot(id: childID))
            if slot == 0 { knownTop = childID }
            slot = child
        }
        state.putRecord(slotKey(slot), HeapSlot(id: last))
        if slot == 0 { knownTop = last }
    }
}

/// One slot of an ``IdHeap``.
struct HeapSlot: CanonicalCodable {
    var id: String

    init(id: String) { self.id = id }

    func encode(to encoder: inout CanonicalEncoder) { encoder.write(id) }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.readString("heap slot", limit: StatementsLimits.matchItemIDBytesMax)
    }
}

/// The open items of one side carrying one reference.
struct ReferenceBucket: CanonicalCodable {
    var items: [MatchItem]

    init(items: [MatchItem]) { self.items = items }

    func encode(to encoder: inout CanonicalEncoder) { encoder.write(items) }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        items = try decoder.readArray(MatchItem.self, "reference bucket", limit: StatementsLimits.openItemsPerReferenceMax)
    }
}

/// The groups of open items of one side, currency, amount and day, in
/// (counterparty, kind) order.
struct AmountGroups: CanonicalCodable {
    struct Group: Equatable, CanonicalCodable {
        var counterparty: String
        var kind: OpenItemKind
        /// Slots in the group's heap (ids not yet dropped included).
        var count: UInt32
        /// The id in slot 0 of the group's heap when the index knows it; not
        /// stored (decoding leaves it nil) and not compared.
        var top: String?

        init(counterparty: String, kind: OpenItemKind, count: UInt32) {
            self.counterparty = counterparty
            self.kind = kind
            self.count = count
        }

        static func == (lhs: Group, rhs: Group) -> Bool {
            lhs.counterparty == rhs.counterparty && lhs.kind == rhs.kind && lhs.count == rhs.count
        }

        func precedes(_ other: Group) -> Bool {
            counterparty != other.counterparty ? counterparty < other.counterparty : kind < other.kind
        }

        func sameGroup(as other: Group) -> Bool { counterparty == other.counterparty && kind == other.kind }

        func encode(to encoder: inout CanonicalEncoder) {
            encoder.write(counterparty)
            encoder.write(kind.tag)
            encoder.write(count)
        }

        init(from decoder: inout CanonicalDecoder) throws(CodecError) {
            counterparty = try decoder.readString("group counterparty", limit: StatementsLimits.nameBytesMax)
            let tag = try decoder.readUInt8("group kind")
            guard tag <= 3 else { throw .unknownTag(field: "group kind", tag: UInt64(tag)) }
            kind = OpenItemKind(tag: tag)
            count = try decoder.readUInt32("group size")
            guard count > 0, Int(count) <= StatementsLimits.openItemsPerGroupMax else {
                throw .invalidValue(field: "group size", reason: "\(count) is outside 1…\(StatementsLimits.openItemsPerGroupMax)")
            }
        }
    }

    var groups: [Group]

    init(groups: [Group]) { self.groups = groups }

    func encode(to encoder: inout CanonicalEncoder) { encoder.write(groups) }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        groups = try decoder.readArray(Group.self, "amount groups", limit: StatementsLimits.groupsPerAmountDayMax)
        for (earlier, later) in zip(groups, groups.dropFirst()) where !earlier.precedes(later) {
            throw .invalidValue(field: "amount groups", reason: "groups are not in strictly increasing (counterparty, kind) order")
        }
    }
}
