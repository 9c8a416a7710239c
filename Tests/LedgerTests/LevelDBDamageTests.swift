import Foundation
import Testing
@testable import Ledger
import LedgerCore

/// Damaged LevelDB files, made by hand in a temporary folder: the store must
/// refuse them without touching them, or say what was lost, and name the file.
@Suite struct LevelDBDamageTests {
    private func key(_ index: Int) -> [UInt8] { Array(String(format: "key%05d", index).utf8) }

    /// Writes `count` synced batches of one key each (as the ledger writes one block per batch).
    private func fill(_ path: String, count: Int) throws {
        let store = try LevelDBStore(path: path)
        for index in 0..<count {
            var batch = WriteBatch()
            batch.put(key(index), [UInt8](repeating: UInt8(index % 251), count: 200))
            try store.write(batch, sync: true)
        }
    }

    private func files(_ path: String, endingWith suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(suffix) }.sorted()
    }

    /// Opening once more turns the write-ahead log into a table file.
    private func tableStore(_ directory: TemporaryDirectory) throws -> (path: String, table: String) {
        let path = directory.path + "/db"
        try fill(path, count: 2000)
        _ = try LevelDBStore(path: path)
        let table = try #require(try files(path, endingWith: ".ldb").first)
        return (path, table)
    }

    private func overwrite(_ file: String, at offset: UInt64, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test func missingCurrentFile_isRefused_andTheTablesStay() throws {
        let directory = try TemporaryDirectory()
        let (path, table) = try tableStore(directory)
        try FileManager.default.removeItem(atPath: path + "/CURRENT")
        let error = #expect(throws: StorageError.self) { try LevelDBStore(path: path) }
        #expect(error?.description.contains("CURRENT is missing") == true)
        #expect(try files(path, endingWith: ".ldb") == [table], "opening must not delete the table files")
        #expect(!FileManager.default.fileExists(atPath: path + "/CURRENT"), "nor create a new store in their place")
    }

    @Test func logCutShort_isReportedWhenOpening() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        try fill(path, count: 1000)
        let log = try #require(try files(path, endingWith: ".log").first)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path + "/" + log)[.size] as? Int)
        try FileHandle(forWritingTo: URL(fileURLWithPath: path + "/" + log)).truncate(atOffset: UInt64(size / 2 + 100))
        let store = try LevelDBStore(path: path)
        #expect(try store.get(key(999)) == nil, "LevelDB itself reads the log up to its last whole record")
        #expect(store.openWarnings.count == 1)
        #expect(store.openWarnings.first?.contains(log) == true)
        #expect(store.openWarnings.first?.contains("cut short") == true)
    }

    @Test func anUndamagedStore_opensWithoutWarnings() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        try fill(path, count: 100)
        let store = try LevelDBStore(path: path)
        #expect(store.openWarnings.isEmpty)
        #expect(try store.get(key(99)) != nil)
        #expect(LevelDBFiles.damage(in: path).isEmpty)
    }

    @Test func damagedTable_isNamedWhenRead() throws {
        let directory = try TemporaryDirectory()
        let (path, table) = try tableStore(directory)
        try overwrite(path + "/" + table, at: 20_000, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let store = try LevelDBStore(path: path)
        var failure: StorageError?
        for index in 0..<2000 where failure == nil {
            do { _ = try store.get(key(index)) } catch { failure = error }
        }
        let error = try #require(failure)
        guard case .corrupted(let reason) = error else { Issue.record("expected corruption, got \(error)"); return }
        #expect(reason.contains("block checksum mismatch"))
        #expect(reason.contains(path + "/" + table))
        #expect(reason.contains("data block"))
    }

    @Test func damagedLog_isNamedWhenOpening() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        try fill(path, count: 1000)
        let log = try #require(try files(path, endingWith: ".log").first)
        try overwrite(path + "/" + log, at: 100_000, with: [UInt8](repeating: 0xFF, count: 8))
        let error = #expect(throws: StorageError.self) { try LevelDBStore(path: path) }
        #expect(error?.description.contains(path + "/" + log) == true)
        #expect(error?.description.contains("fails its checksum") == true)
    }
}
