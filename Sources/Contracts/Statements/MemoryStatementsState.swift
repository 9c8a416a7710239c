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
    /// A key with its bytes' hash computed once. The dictionary rehashes
    /// every key it moves (when it grows, and when a deletion closes the gap
    /// in a run of neighbouring buckets), and compares every key it probes;
    /// with the hash stored beside the bytes both read only the bucket array,
    /// and the bytes are compared only when the hashes agree.
    private struct Key: Hashable {
        let bytes: [UInt8]
        let hash: UInt64

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            hash = Self.hash(bytes)
        }

        /// Eight bytes at a time, each word multiplied in (the dictionary
        /// mixes the result through its own seeded hasher); the length is
        /// mixed in too, so zero bytes at the end still count.
        private static func hash(_ bytes: [UInt8]) -> UInt64 {
            bytes.withUnsafeBytes { raw -> UInt64 in
                var hash = UInt64(raw.count) &* 0x9E37_79B9_7F4A_7C15
                var offset = 0
                while offset + 8 <= raw.count {
                    let mixed = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                    hash = mixed << 29 | mixed >> 35
                    offset += 8
                }
                var tail: UInt64 = 0
                while offset < raw.count {
                    tail = tail << 8 | UInt64(raw[offset])
                    offset += 1
                }
                return (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
            }
        }

        static func == (lhs: Key, rhs: Key) -> Bool { lhs.hash == rhs.hash && lhs.bytes == rhs.bytes }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    private var values: [Key: [UInt8]] = [:]
    /// What was read and written so far.
    public let traffic = StateTraffic()

    public init() {}

    public func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        let value = values[Key(key)]
        traffic.reads += 1
        traffic.bytesRead += value?.count ?? 0
        return value
    }

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        traffic.writes += 1
        traffic.bytesWritten += key.count + value.count
        values[Key(key)] = value
    }

    public mutating func delete(_ key: [UInt8]) {
        traffic.writes += 1
        values[Key(key)] = nil
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

    /// ``StatementsContract/postEntry(_:batchID:posted:account:matcher:index:)``
    /// over memory. Called from this module, the contract's generic posting
    /// code is compiled for this state as it is for a transaction's, so that
    /// the benchmark measures the code execution runs rather than calls
    /// through the protocol's witness table.
    package mutating func post(_ entry: BookEntryInput, batchID: String, posted: Provenance, account: inout AccountRecord,
                               matcher: Matcher) throws -> MatchDecision? {
        try StatementsContract.postEntry(entry, batchID: batchID, posted: posted, account: &account, matcher: matcher, index: &self)
    }

    /// ``StatementsContract/postLine(_:statementID:currency:account:matcher:made:index:)``
    /// over memory, compiled for this state as ``post(_:batchID:posted:account:matcher:)`` is.
    package mutating func post(_ line: StatementLineInput, statementID: String, currency: String, account: inout AccountRecord,
                               matcher: Matcher, made: Provenance) throws -> MatchDecision? {
        try StatementsContract.postLine(line, statementID: statementID, currency: currency, account: &account, matcher: matcher,
                                        made: made, index: &self)
    }
}
