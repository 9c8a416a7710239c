import Foundation
import Ledger

/// An in-memory store that keeps its keys sorted as they are written, so a
/// prefix scan costs a binary search plus the entries it returns. The
/// ledger's `MemoryStore` re-sorts every key for the first scan after a
/// write, which dominates short randomized runs that scan after every block.
final class OrderedMemoryStore: KeyValueStore, @unchecked Sendable {
    private var entries: [[UInt8]: [UInt8]] = [:]
    private var keys: [[UInt8]] = []

    func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? { entries[key] }

    func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) {
        for operation in batch.operations {
            switch operation {
            case .put(let key, let value):
                if entries.updateValue(value, forKey: key) == nil { keys.insert(key, at: position(of: key)) }
            case .delete(let key):
                if entries.removeValue(forKey: key) != nil { keys.remove(at: position(of: key)) }
            }
        }
    }

    func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        let from = start.map { Self.less($0, prefix) ? prefix : $0 } ?? prefix
        var result: [(key: [UInt8], value: [UInt8])] = []
        var index = position(of: from)
        while index < keys.count, result.count < limit, keys[index].starts(with: prefix) {
            if let value = entries[keys[index]] { result.append((keys[index], value)) }
            index += 1
        }
        return result
    }

    /// The first index whose key is not below `key`.
    private func position(of key: [UInt8]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if Self.less(keys[middle], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Byte-wise order, as LevelDB's default comparator (memcmp, then length).
    static func less(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        let common = min(left.count, right.count)
        let order = left.withUnsafeBytes { l in right.withUnsafeBytes { r in
            guard let lBase = l.baseAddress, let rBase = r.baseAddress, common > 0 else { return Int32(0) }
            return memcmp(lBase, rBase, common)
        } }
        return order != 0 ? order < 0 : left.count < right.count
    }
}
