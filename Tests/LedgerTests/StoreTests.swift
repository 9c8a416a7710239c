import Foundation
import Testing
@testable import Ledger
import LedgerCore

/// A temporary folder removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "consort-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The behaviour every KeyValueStore must have, run against both implementations.
@Suite struct KeyValueStoreContractTests {
    enum Kind: String, CaseIterable, Sendable { case memory, leveldb }

    private func withStore(_ kind: Kind, _ body: (any KeyValueStore) throws -> Void) throws {
        switch kind {
        case .memory:
            try body(MemoryStore())
        case .leveldb:
            let directory = try TemporaryDirectory()
            try body(try LevelDBStore(path: directory.path + "/db"))
        }
    }

    @Test(arguments: Kind.allCases)
    func putGetDelete_behaveAsAMap(kind: Kind) throws {
        try withStore(kind) { store in
            var batch = WriteBatch()
            batch.put([1], [10])
            batch.put([2], [20])
            try store.write(batch, sync: true)
            #expect(try store.get([1]) == [10])
            #expect(try store.get([3]) == nil)
            var removal = WriteBatch()
            removal.delete([1])
            removal.put([2], [21])
            try store.write(removal, sync: false)
            #expect(try store.get([1]) == nil)
            #expect(try store.get([2]) == [21])
        }
    }

    @Test(arguments: Kind.allCases)
    func scan_returnsPrefixInKeyOrder_fromStart_withLimit(kind: Kind) throws {
        try withStore(kind) { store in
            var batch = WriteBatch()
            for key in [[0x61, 3], [0x61, 1], [0x62, 0], [0x61, 2], [0x60, 9]] as [[UInt8]] { batch.put(key, key) }
            try store.write(batch, sync: false)
            #expect(try store.scan(prefix: [0x61], start: nil, limit: 10).map(\.key) == [[0x61, 1], [0x61, 2], [0x61, 3]])
            #expect(try store.scan(prefix: [0x61], start: [0x61, 2], limit: 10).map(\.key) == [[0x61, 2], [0x61, 3]])
            #expect(try store.scan(prefix: [0x61], start: nil, limit: 2).map(\.key) == [[0x61, 1], [0x61, 2]])
            #expect(try store.scan(prefix: [0x61], start: [0x00], limit: 1).map(\.key) == [[0x61, 1]])
            #expect(try store.scan(prefix: [], start: nil, limit: 100).count == 5)
        }
    }

    @Test func leveldb_survivesReopen() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try LevelDBStore(path: directory.path + "/db")
            var batch = WriteBatch()
            batch.put(Array("k".utf8), Array("v".utf8))
            try store.write(batch, sync: true)
        }
        let reopened = try LevelDBStore(path: directory.path + "/db")
        #expect(try reopened.get(Array("k".utf8)) == Array("v".utf8))
    }

    @Test func leveldb_damagedFiles_failToOpenWithAClearError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        do {
            let store = try LevelDBStore(path: path)
            var batch = WriteBatch()
            for index in 0..<100 { batch.put(Array("key\(index)".utf8), [UInt8](repeating: UInt8(index), count: 100)) }
            try store.write(batch, sync: true)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: path)
        let manifest = try #require(files.first { $0.hasPrefix("MANIFEST-") })
        try Data(repeating: 0xAB, count: 512).write(to: URL(fileURLWithPath: path + "/" + manifest))
        #expect(throws: StorageError.self) { try LevelDBStore(path: path) }
        do {
            _ = try LevelDBStore(path: path)
        } catch {
            #expect(error.description.contains("corrupt") || error.description.contains("cannot open"))
        }
    }

    @Test func leveldb_missingDatabaseWithoutCreate_isReported() throws {
        let directory = try TemporaryDirectory()
        var options = LevelDBOptions()
        options.createIfMissing = false
        #expect(throws: StorageError.self) { try LevelDBStore(path: directory.path + "/absent", options: options) }
    }

    /// LevelDB keeps at most `openFilesMax` files open (it raises values below
    /// 74 to 74, and caches 10 fewer tables), however many tables the data spans.
    @Test func leveldb_keepsOpenFileDescriptorsBounded() throws {
        let directory = try TemporaryDirectory()
        var options = LevelDBOptions()
        options.openFilesMax = 74
        options.writeBufferBytes = 1024 * 1024
        options.tableFileBytesMax = 1024 * 1024
        options.blockCacheBytes = 256 * 1024
        let store = try LevelDBStore(path: directory.path + "/db", options: options)
        func openDescriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0 }
        let before = openDescriptors()
        for round in 0..<200 {
            var batch = WriteBatch()
            for index in 0..<100 {
                batch.put(Array("k\(String(format: "%05d", index * 200 + round))".utf8), try SecureRandom.bytes(4000))
            }
            try store.write(batch, sync: false)
        }
        var found = 0
        for entry in try store.scan(prefix: Array("k".utf8), start: nil, limit: 100_000) where entry.value.count == 4000 { found += 1 }
        for index in stride(from: 0, to: 20_000, by: 97) {
            _ = try store.get(Array("k\(String(format: "%05d", index))".utf8))
        }
        let tables = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/db").filter { $0.hasSuffix(".ldb") }
        #expect(found == 20_000)
        #expect(tables.count > 64, "the data should span more table files than may be open")
        #expect(openDescriptors() - before <= 74 + 4)
    }
}
