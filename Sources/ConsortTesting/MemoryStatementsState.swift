import Contracts
import Ledger
import LedgerCore

/// Reads and writes made on a ``MemoryStatementsState``.
public final class StateTraffic {
    public fileprivate(set) var reads = 0
    public fileprivate(set) var bytesRead = 0
    /// Writes and deletions.
    public fileprivate(set) var writes = 0
    public fileprivate(set) var bytesWritten = 0

    public init() {}
}

/// State held in memory, counting its traffic: for tests and the benchmark.
public struct MemoryStatementsState: StatementsState {
    /// A key hashed as one block of bytes rather than byte by byte.
    private struct Key: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private var values: [Key: [UInt8]] = [:]
    /// What was read and written so far.
    public let traffic = StateTraffic()

    public init() {}

    public func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        let value = values[Key(bytes: key)]
        traffic.reads += 1
        traffic.bytesRead += value?.count ?? 0
        return value
    }

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        traffic.writes += 1
        traffic.bytesWritten += key.count + value.count
        values[Key(bytes: key)] = value
    }

    public mutating func delete(_ key: [UInt8]) {
        traffic.writes += 1
        values[Key(bytes: key)] = nil
    }

    /// Keys held.
    public var count: Int { values.count }

    /// SHA-256 over every key and value in key order: equal digests, equal states.
    public var contentDigest: Hash {
        var encoder = CanonicalEncoder()
        for (key, value) in values.map({ ($0.key.bytes, $0.value) }).sorted(by: { $0.0.lexicographicallyPrecedes($1.0) }) {
            encoder.write(bytes: key)
            encoder.write(bytes: value)
        }
        return Hash.sha256(encoder.bytes)
    }
}

/// An in-memory ``OpenItemIndex``: the contract's index code over memory.
public typealias MemoryMatchingIndex = OpenItemIndex<MemoryStatementsState>

extension OpenItemIndex where State == MemoryStatementsState {
    /// An empty index over memory, for one account.
    public init(account: String = "memory") {
        self.init(state: MemoryStatementsState(), account: account)
    }
}
