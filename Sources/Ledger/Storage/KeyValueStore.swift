import LedgerCore
/// What went wrong in the storage layer.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database could not be opened (missing, locked, unreadable).
    case openFailed(path: String, reason: String)
    /// The database is damaged; its contents cannot be trusted.
    case corrupted(reason: String)
    /// The database belongs to another chain or another program.
    case foreign(reason: String)
    case readFailed(reason: String)
    case writeFailed(reason: String)

    public var description: String {
        switch self {
        case .openFailed(let path, let reason): "cannot open the database at \(path): \(reason)"
        case .corrupted(let reason): "the database is corrupted: \(reason)"
        case .foreign(let reason): "the database is not this chain's: \(reason)"
        case .readFailed(let reason): "database read failed: \(reason)"
        case .writeFailed(let reason): "database write failed: \(reason)"
        }
    }
}

/// A set of puts and deletes applied all together or not at all.
public struct WriteBatch: Sendable {
    public enum Operation: Sendable {
        case put(key: [UInt8], value: [UInt8])
        case delete(key: [UInt8])
    }

    public private(set) var operations: [Operation] = []

    public init() {}

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        operations.append(.put(key: key, value: value))
    }

    public mutating func delete(_ key: [UInt8]) {
        operations.append(.delete(key: key))
    }

    public var isEmpty: Bool { operations.isEmpty }
    public var count: Int { operations.count }
}

/// An ordered key/value store with atomic batches: LevelDB on disk, or memory
/// for tests and simulation. One shared test suite runs against both.
public protocol KeyValueStore: AnyObject {
    func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]?
    /// Applies every operation of `batch` atomically; with `sync`, returns only
    /// once the batch is durable.
    func write(_ batch: WriteBatch, sync: Bool) throws(StorageError)
    /// Entries whose key starts with `prefix`, in key order, starting at
    /// `start` (inclusive) when given, at most `limit` of them.
    func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])]
}

/// A store held in memory, with the same ordering and atomicity as LevelDB:
/// for tests, simulation, dry runs and benchmarks. Keys written since the
/// last scan are sorted on their own and merged into the sorted key list, so
/// a scan after a few writes costs a merge, not a sort of every key.
public final class MemoryStore: KeyValueStore, @unchecked Sendable {
    private var entries: [[UInt8]: [UInt8]] = [:]
    /// Sorted; may still hold keys deleted since the last merge.
    private var sortedKeys: [[UInt8]] = []
    /// Keys added since the last merge, unsorted.
    private var addedKeys: [[UInt8]] = []
    private var hasDeletions = false
    private let lock = Lock()

    public init() {}

    public var count: Int { lock.withLock { entries.count } }

    public func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        lock.withLock { entries[key] }
    }

    public func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) {
        lock.withLock {
            for operation in batch.operations {
                switch operation {
                case .put(let key, let value):
                    if entries.updateValue(value, forKey: key) == nil { addedKeys.append(key) }
                case .delete(let key):
                    if entries.removeValue(forKey: key) != nil { hasDeletions = true }
                }
            }
        }
    }

    public func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        lock.withLock {
            mergeWrites()
            let from = start.map { Self.precedes($0, prefix) ? prefix : $0 } ?? prefix
            var result: [(key: [UInt8], value: [UInt8])] = []
            var index = position(of: from)
            while index < sortedKeys.count, result.count < limit, sortedKeys[index].starts(with: prefix) {
                if let value = entries[sortedKeys[index]] { result.append((sortedKeys[index], value)) }
                index += 1
            }
            return result
        }
    }

    /// A deep copy, to simulate reopening a store after a crash.
    public func snapshot() -> MemoryStore {
        let copy = MemoryStore()
        lock.withLock {
            mergeWrites()
            copy.entries = entries
            copy.sortedKeys = sortedKeys
        }
        return copy
    }

    /// Brings `sortedKeys` up to date with the writes since the last scan.
    private func mergeWrites() {
        guard !addedKeys.isEmpty || hasDeletions else { return }
        let added = addedKeys.sorted(by: Self.precedes)
        var merged: [[UInt8]] = []
        merged.reserveCapacity(sortedKeys.count + added.count)
        var old = 0
        var new = 0
        func take(_ key: [UInt8]) {
            guard entries[key] != nil, merged.last != key else { return }
            merged.append(key)
        }
        while old < sortedKeys.count || new < added.count {
            if new == added.count || (old < sortedKeys.count && Self.precedes(sortedKeys[old], added[new])) {
                take(sortedKeys[old])
                old += 1
            } else {
                take(added[new])
                new += 1
            }
        }
        sortedKeys = merged
        addedKeys = []
        hasDeletions = false
    }

    /// The first index in `sortedKeys` whose key is not below `key`.
    private func position(of key: [UInt8]) -> Int {
        var low = 0
        var high = sortedKeys.count
        while low < high {
            let middle = (low + high) / 2
            if Self.precedes(sortedKeys[middle], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Byte-wise order, as LevelDB's default comparator (memcmp, then length).
    static func precedes(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        let common = min(left.count, right.count)
        let order = left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in
                guard let lBase = l.baseAddress, let rBase = r.baseAddress, common > 0 else { return Int32(0) }
                return memcmp(lBase, rBase, common)
            }
        }
        return order != 0 ? order < 0 : left.count < right.count
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
