import LedgerCore
/// Storage key layout of the ledger. One-letter prefixes keep the families apart.
enum StoreKey {
    static let format = Array("m/format".utf8)
    static let genesis = Array("m/genesis".utf8)
    static let head = Array("m/head".utf8)
    static let statePrefix = Array("s/".utf8)
    static let nodePrefix = Array("n/".utf8)
    static let indexPrefix = Array("i/".utf8)

    static func block(_ height: UInt64) -> [UInt8] { Array("b/".utf8) + bigEndian(height) }
    static func blockHeight(_ hash: Hash) -> [UInt8] { Array("h/".utf8) + hash.bytes }
    static func certificate(_ height: UInt64) -> [UInt8] { Array("c/".utf8) + bigEndian(height) }
    static func blockReceipts(_ height: UInt64) -> [UInt8] { Array("R/".utf8) + bigEndian(height) }
    static func transaction(_ id: Hash) -> [UInt8] { Array("t/".utf8) + id.bytes }
    static func stateRoot(_ height: UInt64) -> [UInt8] { Array("x/".utf8) + bigEndian(height) }
    static func state(_ key: [UInt8]) -> [UInt8] { statePrefix + key }
    static func node(_ hash: Hash) -> [UInt8] { nodePrefix + hash.bytes }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }
}

/// Committed state read straight from the store.
struct CommittedState: StateReader {
    let store: any KeyValueStore

    func value(forFullKey key: [UInt8]) throws(StorageError) -> [UInt8]? {
        try store.get(StoreKey.state(key))
    }

    func entries(fullPrefix prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        let raw = try store.scan(prefix: StoreKey.state(prefix), start: start.map { StoreKey.state($0) }, limit: limit)
        return raw.map { (Array($0.key.dropFirst(StoreKey.statePrefix.count)), $0.value) }
    }
}

/// Uncommitted writes layered over committed state: the block's writes so
/// far, and the current transaction's on top. A rejected transaction's layer
/// is simply dropped.
struct StateOverlay: StateReader {
    let base: CommittedState
    var blockWrites: [[UInt8]: [UInt8]?]
    var transactionWrites: [[UInt8]: [UInt8]?] = [:]

    init(base: CommittedState, blockWrites: [[UInt8]: [UInt8]?]) {
        self.base = base
        self.blockWrites = blockWrites
    }

    func value(forFullKey key: [UInt8]) throws(StorageError) -> [UInt8]? {
        if let pending = transactionWrites[key] { return pending }
        if let pending = blockWrites[key] { return pending }
        return try base.value(forFullKey: key)
    }

    mutating func set(_ key: [UInt8], _ value: [UInt8]?) {
        transactionWrites[key] = .some(value)
    }

    func entries(fullPrefix prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        let from = start ?? prefix
        func inRange(_ key: [UInt8]) -> Bool { key.starts(with: prefix) && !key.lexicographicallyPrecedes(from) }
        var pending: [[UInt8]: [UInt8]?] = [:]
        for (key, value) in blockWrites where inRange(key) { pending[key] = value }
        for (key, value) in transactionWrites where inRange(key) { pending[key] = value }
        let deletions = pending.values.filter { $0 == nil }.count
        let committedLimit = limit == Int.max ? Int.max : limit + deletions + pending.count
        var merged: [[UInt8]: [UInt8]] = [:]
        for entry in try base.entries(fullPrefix: prefix, start: start, limit: committedLimit) { merged[entry.key] = entry.value }
        for (key, value) in pending {
            if let value { merged[key] = value } else { merged.removeValue(forKey: key) }
        }
        let sorted = merged.keys.sorted { $0.lexicographicallyPrecedes($1) }
        return sorted.prefix(limit).compactMap { key in merged[key].map { (key, $0) } }
    }
}
