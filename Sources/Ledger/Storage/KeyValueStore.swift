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

/// A store held in memory, with the same ordering and atomicity as LevelDB.
public final class MemoryStore: KeyValueStore, @unchecked Sendable {
    private var entries: [[UInt8]: [UInt8]] = [:]
    private var sortedKeys: [[UInt8]] = []
    private var sortedKeysValid = true
    private let lock = NSLockLike()

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
                    if entries.updateValue(value, forKey: key) == nil { sortedKeysValid = false }
                case .delete(let key):
                    if entries.removeValue(forKey: key) != nil { sortedKeysValid = false }
                }
            }
        }
    }

    public func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        lock.withLock {
            if !sortedKeysValid {
                sortedKeys = entries.keys.sorted { $0.lexicographicallyPrecedes($1) }
                sortedKeysValid = true
            }
            let from = (start.map { $0.lexicographicallyPrecedes(prefix) ? prefix : $0 }) ?? prefix
            var low = 0
            var high = sortedKeys.count
            while low < high {
                let middle = (low + high) / 2
                if sortedKeys[middle].lexicographicallyPrecedes(from) { low = middle + 1 } else { high = middle }
            }
            var result: [(key: [UInt8], value: [UInt8])] = []
            var index = low
            while index < sortedKeys.count, result.count < limit {
                let key = sortedKeys[index]
                guard key.starts(with: prefix) else { break }
                if let value = entries[key] { result.append((key, value)) }
                index += 1
            }
            return result
        }
    }

    /// A deep copy, to simulate reopening a store after a crash.
    public func snapshot() -> MemoryStore {
        let copy = MemoryStore()
        lock.withLock {
            copy.entries = entries
            copy.sortedKeysValid = false
        }
        return copy
    }
}

/// A tiny mutex that does not need Foundation.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
