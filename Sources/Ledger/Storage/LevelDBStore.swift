import Foundation
import LedgerCore
import CLevelDB

/// Options bounding LevelDB's use of file descriptors and memory.
public struct LevelDBOptions: Sendable {
    /// Most table files LevelDB keeps open at once.
    public var openFilesMax: Int32 = 256
    /// Size of the shared block cache.
    public var blockCacheBytes: Int = 16 * 1024 * 1024
    /// Size of the in-memory write buffer before it is flushed to a table.
    public var writeBufferBytes: Int = 32 * 1024 * 1024
    /// Size at which LevelDB starts a new table file.
    public var tableFileBytesMax: Int = 8 * 1024 * 1024
    /// Whether tables are compressed with Snappy. Off: most of what the
    /// ledger stores is hashes and signatures, which do not compress, and
    /// compressing them cost the node more than anything but verification.
    /// Tables written compressed stay readable either way.
    public var compressTables = false
    /// Bloom filter bits per key in each table, so that a read of an absent
    /// key (is this transaction committed?) skips the tables without it
    /// instead of reading a block of each.
    public var bloomBitsPerKey: Int32 = 10
    /// Create the database when its folder is new: absent, or holding no
    /// LevelDB files. A folder that holds a store is always opened as it is,
    /// never created afresh or repaired, so that a damaged store is refused
    /// with its files untouched.
    public var createIfMissing = true

    public init() {}
}

/// A ``KeyValueStore`` on LevelDB through its C API. The only file that touches
/// LevelDB; its pointers and error strings stay here. When LevelDB reports
/// corruption, the error names the damaged files (``LevelDBFiles``).
public final class LevelDBStore: KeyValueStore, @unchecked Sendable {
    private let database: OpaquePointer
    private let options: OpaquePointer
    private let cache: OpaquePointer
    private let filterPolicy: OpaquePointer
    private let readOptions: OpaquePointer
    private let syncWrite: OpaquePointer
    private let asyncWrite: OpaquePointer
    public let path: String
    /// What opening noticed that LevelDB passes over in silence: write-ahead
    /// logs cut short, whose lost writes it does not report. The caller
    /// decides whether that is acceptable (a node compares its height with
    /// what it knows it had committed).
    public let openWarnings: [String]

    /// Opens the database at `path` with paranoid checks on, so that damaged
    /// files are reported instead of silently read; creates it only when the
    /// folder is new (see ``LevelDBOptions/createIfMissing``).
    public init(path: String, options settings: LevelDBOptions = LevelDBOptions()) throws(StorageError) {
        let existing = LevelDBFiles.holdData(in: path)
        if !existing && !settings.createIfMissing {
            throw .openFailed(path: path, reason: "there is no database here, and creating one was not asked for")
        }
        if existing && !FileManager.default.fileExists(atPath: path + "/CURRENT") {
            throw .corrupted(reason: """
                \(path)/CURRENT is missing, so LevelDB cannot tell which MANIFEST lists the store's tables; the files were left as they are. \
                Restore the folder from a backup (if it never held data, as after an interrupted first start, delete it)
                """)
        }
        let warnings = existing ? LevelDBFiles.logsCutShort(in: path) : []
        guard let options = leveldb_options_create(), let cache = leveldb_cache_create_lru(settings.blockCacheBytes),
              let filterPolicy = leveldb_filterpolicy_create_bloom(settings.bloomBitsPerKey) else {
            throw .openFailed(path: path, reason: "out of memory")
        }
        leveldb_options_set_filter_policy(options, filterPolicy)
        leveldb_options_set_create_if_missing(options, existing ? 0 : 1)
        leveldb_options_set_paranoid_checks(options, 1)
        leveldb_options_set_max_open_files(options, settings.openFilesMax)
        leveldb_options_set_cache(options, cache)
        leveldb_options_set_write_buffer_size(options, settings.writeBufferBytes)
        leveldb_options_set_max_file_size(options, settings.tableFileBytesMax)
        leveldb_options_set_compression(options, Int32(settings.compressTables ? leveldb_snappy_compression : leveldb_no_compression))
        var error: UnsafeMutablePointer<CChar>?
        let database = leveldb_open(options, path, &error)
        if let message = LevelDBStore.take(&error) {
            leveldb_options_destroy(options)
            leveldb_cache_destroy(cache)
            leveldb_filterpolicy_destroy(filterPolicy)
            if message.contains("Corruption") { throw .corrupted(reason: Self.naming(message, damageIn: path)) }
            throw .openFailed(path: path, reason: message)
        }
        guard let database else {
            leveldb_options_destroy(options)
            leveldb_cache_destroy(cache)
            leveldb_filterpolicy_destroy(filterPolicy)
            throw .openFailed(path: path, reason: "unknown error")
        }
        self.database = database
        self.options = options
        self.cache = cache
        self.filterPolicy = filterPolicy
        self.path = path
        self.openWarnings = warnings
        self.readOptions = leveldb_readoptions_create()
        leveldb_readoptions_set_verify_checksums(readOptions, 1)
        self.syncWrite = leveldb_writeoptions_create()
        leveldb_writeoptions_set_sync(syncWrite, 1)
        self.asyncWrite = leveldb_writeoptions_create()
    }

    deinit {
        leveldb_close(database)
        leveldb_options_destroy(options)
        leveldb_cache_destroy(cache)
        leveldb_filterpolicy_destroy(filterPolicy)
        leveldb_readoptions_destroy(readOptions)
        leveldb_writeoptions_destroy(syncWrite)
        leveldb_writeoptions_destroy(asyncWrite)
    }

    private static func take(_ error: inout UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer = error else { return nil }
        let message = String(cString: pointer)
        leveldb_free(pointer)
        error = nil
        return message
    }

    private func classify(_ message: String, read: Bool) -> StorageError {
        if message.contains("Corruption") { return .corrupted(reason: Self.naming(message, damageIn: path)) }
        return read ? .readFailed(reason: message) : .writeFailed(reason: message)
    }

    /// LevelDB's corruption message with the files of `directory` that fail their checks.
    private static func naming(_ message: String, damageIn directory: String) -> String {
        let damaged = LevelDBFiles.damage(in: directory)
        guard !damaged.isEmpty else { return "\(message) (in \(directory); each of its files passes its own checksums)" }
        return "\(message); damaged: \(damaged.joined(separator: "; "))"
    }

    public func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        let value = key.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                leveldb_get(database, readOptions, chars.baseAddress, chars.count, &length, &error)
            }
        }
        if let message = LevelDBStore.take(&error) { throw classify(message, read: true) }
        guard let value else { return nil }
        defer { leveldb_free(value) }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    public func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) {
        guard let native = leveldb_writebatch_create() else { throw .writeFailed(reason: "out of memory") }
        defer { leveldb_writebatch_destroy(native) }
        for operation in batch.operations {
            switch operation {
            case .put(let key, let value):
                key.withUnsafeBufferPointer { keyBuffer in
                    value.withUnsafeBufferPointer { valueBuffer in
                        keyBuffer.withMemoryRebound(to: CChar.self) { k in
                            valueBuffer.withMemoryRebound(to: CChar.self) { v in
                                leveldb_writebatch_put(native, k.baseAddress, k.count, v.baseAddress, v.count)
                            }
                        }
                    }
                }
            case .delete(let key):
                key.withUnsafeBufferPointer { keyBuffer in
                    keyBuffer.withMemoryRebound(to: CChar.self) { k in
                        leveldb_writebatch_delete(native, k.baseAddress, k.count)
                    }
                }
            }
        }
        var error: UnsafeMutablePointer<CChar>?
        leveldb_write(database, sync ? syncWrite : asyncWrite, native, &error)
        if let message = LevelDBStore.take(&error) { throw classify(message, read: false) }
    }

    public func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        guard let iterator = leveldb_create_iterator(database, readOptions) else { throw .readFailed(reason: "out of memory") }
        defer { leveldb_iter_destroy(iterator) }
        let from = (start.map { $0.lexicographicallyPrecedes(prefix) ? prefix : $0 }) ?? prefix
        from.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { leveldb_iter_seek(iterator, $0.baseAddress, $0.count) }
        }
        var result: [(key: [UInt8], value: [UInt8])] = []
        while leveldb_iter_valid(iterator) != 0, result.count < limit {
            var keyLength = 0
            var valueLength = 0
            guard let keyPointer = leveldb_iter_key(iterator, &keyLength) else { break }
            let key = keyPointer.withMemoryRebound(to: UInt8.self, capacity: keyLength) { Array(UnsafeBufferPointer(start: $0, count: keyLength)) }
            guard key.starts(with: prefix) else { break }
            let valuePointer = leveldb_iter_value(iterator, &valueLength)
            let value = valuePointer.map { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: valueLength) { Array(UnsafeBufferPointer(start: $0, count: valueLength)) }
            } ?? []
            result.append((key, value))
            leveldb_iter_next(iterator)
        }
        var error: UnsafeMutablePointer<CChar>?
        leveldb_iter_get_error(iterator, &error)
        if let message = LevelDBStore.take(&error) { throw classify(message, read: true) }
        return result
    }
}
