import Foundation

/// Checks the files of a LevelDB store one by one, so that a damaged store is
/// reported with the file that is damaged: LevelDB's own corruption messages
/// ("block checksum mismatch") name none. It reads the formats LevelDB
/// writes — the write-ahead logs and MANIFEST (records in 32 KiB blocks, each
/// with a masked CRC-32C) and the tables (blocks with a CRC-32C trailer, found
/// through the index block of the footer) — and verifies every checksum. It
/// only reads.
enum LevelDBFiles {
    /// What is wrong with each damaged file of the store in `directory`, one
    /// sentence per file naming it; empty when every file verifies.
    static func damage(in directory: String) -> [String] {
        var problems: [String] = []
        let names: [String]
        switch listing(directory) {
        case .success(let found): names = found
        case .failure(let problem): return [problem.description]
        }
        if let problem = currentFileProblem(directory, names: names) { problems.append(problem) }
        for name in names {
            let path = directory + "/" + name
            let problem: String?
            if name.hasSuffix(".log") || name.hasPrefix("MANIFEST-") {
                problem = read(path).flatMap { logProblem($0, isManifest: name.hasPrefix("MANIFEST-")) }
            } else if name.hasSuffix(".ldb") || name.hasSuffix(".sst") {
                problem = read(path).flatMap(tableProblem)
            } else {
                problem = nil
            }
            if let problem { problems.append("\(path): \(problem)") }
        }
        return problems
    }

    /// Write-ahead logs of the store in `directory` that end inside a record.
    /// LevelDB reads such a log up to the last whole record without a word
    /// (it takes the tail for a write cut short by a crash), so whatever the
    /// file held after that point is lost silently; read before opening,
    /// since opening replays the log into a table and deletes it.
    static func logsCutShort(in directory: String) -> [String] {
        let names: [String]
        switch listing(directory) {
        case .success(let found): names = found
        case .failure(let problem): return [problem.description]
        }
        return names.filter { $0.hasSuffix(".log") }.compactMap { name in
            let path = directory + "/" + name
            guard let bytes = read(path), case .cutShort(let offset)? = scanLog(bytes) else { return nil }
            return "\(path) ends inside a record that starts at byte \(offset): the file was cut short, and the writes it held from there on are lost"
        }
    }

    /// Whether the files hold a store at all: anything besides LevelDB's lock
    /// and info logs. A folder that exists but cannot be listed counts as
    /// holding data, so nothing is started afresh over it.
    static func holdData(in directory: String) -> Bool {
        guard FileManager.default.fileExists(atPath: directory) else { return false }
        switch listing(directory) {
        case .success(let names): return names.contains { !["LOCK", "LOG", "LOG.old"].contains($0) }
        case .failure: return true
        }
    }

    /// The sorted file names in `directory`, or a sentence saying why they cannot be listed.
    private static func listing(_ directory: String) -> Result<[String], ListingError> {
        do {
            return .success(try FileManager.default.contentsOfDirectory(atPath: directory).sorted())
        } catch {
            return .failure(ListingError(description: "\(directory) cannot be listed: \(error.localizedDescription)"))
        }
    }

    private struct ListingError: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: CURRENT

    private static func currentFileProblem(_ directory: String, names: [String]) -> String? {
        let path = directory + "/CURRENT"
        guard let bytes = read(path) else { return "\(path) is missing or unreadable" }
        guard bytes.last == 0x0A, let manifest = String(validating: bytes.dropLast(), as: UTF8.self), manifest.hasPrefix("MANIFEST-") else {
            return "\(path) does not name a MANIFEST file"
        }
        guard names.contains(manifest) else { return "\(path) names \(manifest), which is missing" }
        return nil
    }

    // MARK: Logs and MANIFEST

    private static let logBlockBytes = 32_768
    private static let logHeaderBytes = 7

    private enum LogProblem: Equatable {
        case cutShort(offset: Int)
        case badLength(offset: Int)
        case checksum(offset: Int)
        case unknownType(offset: Int, type: UInt8)
    }

    private static func logProblem(_ bytes: [UInt8], isManifest: Bool) -> String? {
        switch scanLog(bytes) {
        case nil: return nil
        case .cutShort(let offset): return "ends inside a record that starts at byte \(offset) (the file was cut short)"
        case .badLength(let offset): return "the record at byte \(offset) has a length that runs past its block"
        case .checksum(let offset): return "the record at byte \(offset) fails its checksum"
        case .unknownType(let offset, let type): return "the record at byte \(offset) has unknown type \(type)"
        }
    }

    /// The first problem of a file in LevelDB's log format, or nil.
    private static func scanLog(_ bytes: [UInt8]) -> LogProblem? {
        var offset = 0
        var fragmentStart: Int?
        while offset < bytes.count {
            let leftInBlock = logBlockBytes - offset % logBlockBytes
            if leftInBlock < logHeaderBytes {
                offset += leftInBlock
                continue
            }
            if bytes.count - offset < logHeaderBytes {
                if bytes[offset...].allSatisfy({ $0 == 0 }) { break }
                return .cutShort(offset: offset)
            }
            let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8
            let type = bytes[offset + 6]
            if type == 0 && length == 0 {
                // Zero-filled space the writer left; the block's rest holds nothing.
                offset += leftInBlock
                continue
            }
            let end = offset + logHeaderBytes + length
            if end > bytes.count { return .cutShort(offset: fragmentStart ?? offset) }
            if logHeaderBytes + length > leftInBlock { return .badLength(offset: offset) }
            let stored = littleEndian32(bytes, at: offset)
            guard stored == CRC32C.masked(CRC32C.checksum(bytes[(offset + 6)..<end])) else { return .checksum(offset: offset) }
            switch type {
            case 1: fragmentStart = nil
            case 2: fragmentStart = offset
            case 3: break
            case 4: fragmentStart = nil
            default: return .unknownType(offset: offset, type: type)
            }
            offset = end
        }
        if let fragmentStart { return .cutShort(offset: fragmentStart) }
        return nil
    }

    // MARK: Tables

    private static let footerBytes = 48
    private static let tableMagic: UInt64 = 0xdb47_7524_8b80_fb57
    private static let blockTrailerBytes = 5

    private struct BlockHandle {
        var offset: Int
        var size: Int
    }

    private static func tableProblem(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= footerBytes else { return "is too short (\(bytes.count) bytes) to be a table" }
        let footer = bytes.count - footerBytes
        guard littleEndian64(bytes, at: bytes.count - 8) == tableMagic else { return "does not end with the table magic number" }
        var cursor = footer
        guard let metaindex = blockHandle(bytes, &cursor), let index = blockHandle(bytes, &cursor) else {
            return "its footer does not decode"
        }
        if let problem = blockProblem(bytes, metaindex, limit: footer, what: "metaindex block") { return problem }
        if let problem = blockProblem(bytes, index, limit: footer, what: "index block") { return problem }
        let raw = Array(bytes[index.offset..<(index.offset + index.size)])
        let contents: [UInt8]
        switch bytes[index.offset + index.size] {
        case 0: contents = raw
        case 1:
            guard let inflated = Snappy.decompress(raw, limit: LedgerLimits.storageIndexBlockBytesMax) else { return "its index block does not decompress" }
            contents = inflated
        case let type: return "its index block has unknown compression type \(type)"
        }
        guard let handles = blockValues(contents) else { return "its index block does not decode" }
        for value in handles {
            var position = 0
            guard let handle = blockHandle(value, &position) else { return "its index block holds an entry that does not decode" }
            if let problem = blockProblem(bytes, handle, limit: footer, what: "data block") { return problem }
        }
        return nil
    }

    private static func blockProblem(_ bytes: [UInt8], _ handle: BlockHandle, limit: Int, what: String) -> String? {
        let (end, overflow) = handle.offset.addingReportingOverflow(handle.size + blockTrailerBytes)
        guard !overflow, handle.size >= 0, end <= limit else { return "its \(what) at byte \(handle.offset) runs past the end of the file" }
        let stored = littleEndian32(bytes, at: handle.offset + handle.size + 1)
        guard stored == CRC32C.masked(CRC32C.checksum(bytes[handle.offset..<(handle.offset + handle.size + 1)])) else {
            return "its \(what) at byte \(handle.offset) fails its checksum"
        }
        return nil
    }

    /// The values of a table block's entries (keys are not needed here), or nil if the block does not decode.
    private static func blockValues(_ block: [UInt8]) -> [[UInt8]]? {
        guard block.count >= 4 else { return nil }
        let restarts = Int(littleEndian32(block, at: block.count - 4))
        let (restartBytes, overflow) = restarts.multipliedReportingOverflow(by: 4)
        guard !overflow, restartBytes <= block.count - 4 else { return nil }
        let entriesEnd = block.count - 4 - restartBytes
        var values: [[UInt8]] = []
        var cursor = 0
        while cursor < entriesEnd {
            guard varint(block, &cursor) != nil, let unshared = varint(block, &cursor), let valueLength = varint(block, &cursor),
                  unshared <= UInt64(entriesEnd), valueLength <= UInt64(entriesEnd) else { return nil }
            let valueStart = cursor + Int(unshared)
            let valueEnd = valueStart + Int(valueLength)
            guard valueEnd <= entriesEnd else { return nil }
            values.append(Array(block[valueStart..<valueEnd]))
            cursor = valueEnd
        }
        return values
    }

    private static func blockHandle(_ bytes: [UInt8], _ cursor: inout Int) -> BlockHandle? {
        guard let offset = varint(bytes, &cursor), let size = varint(bytes, &cursor),
              offset <= UInt64(Int.max / 2), size <= UInt64(Int.max / 2) else { return nil }
        return BlockHandle(offset: Int(offset), size: Int(size))
    }

    // MARK: Encodings

    private static func varint(_ bytes: [UInt8], _ cursor: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < bytes.count, shift < 64 {
            let byte = bytes[cursor]
            cursor += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    private static func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    private static func littleEndian64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    private static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }
}

/// CRC-32C (Castagnoli), as LevelDB computes it, and LevelDB's masking of stored checksums.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// Snappy's raw format, decompression only: enough to read a table's index block.
enum Snappy {
    /// The decompressed bytes, or nil if `input` is not valid Snappy or would exceed `limit` bytes.
    static func decompress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        var cursor = 0
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard cursor < input.count, shift < 35 else { return nil }
            let byte = input[cursor]
            cursor += 1
            length |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        guard length <= UInt64(limit) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(Int(length))
        while cursor < input.count {
            let tag = input[cursor]
            cursor += 1
            switch tag & 0x03 {
            case 0:
                var literal = Int(tag >> 2)
                if literal >= 60 {
                    let extra = literal - 59
                    guard cursor + extra <= input.count else { return nil }
                    literal = (0..<extra).reduce(0) { $0 | Int(input[cursor + $1]) << (8 * $1) }
                    cursor += extra
                }
                literal += 1
                guard cursor + literal <= input.count, output.count + literal <= Int(length) else { return nil }
                output.append(contentsOf: input[cursor..<(cursor + literal)])
                cursor += literal
            default:
                let copyLength: Int
                let distance: Int
                switch tag & 0x03 {
                case 1:
                    guard cursor < input.count else { return nil }
                    copyLength = Int((tag >> 2) & 0x07) + 4
                    distance = Int(tag >> 5) << 8 | Int(input[cursor])
                    cursor += 1
                case 2:
                    guard cursor + 2 <= input.count else { return nil }
                    copyLength = Int(tag >> 2) + 1
                    distance = Int(input[cursor]) | Int(input[cursor + 1]) << 8
                    cursor += 2
                default:
                    guard cursor + 4 <= input.count else { return nil }
                    copyLength = Int(tag >> 2) + 1
                    distance = (0..<4).reduce(0) { $0 | Int(input[cursor + $1]) << (8 * $1) }
                    cursor += 4
                }
                guard distance > 0, distance <= output.count, output.count + copyLength <= Int(length) else { return nil }
                let start = output.count - distance
                for index in 0..<copyLength { output.append(output[start + index]) }
            }
        }
        return output.count == Int(length) ? output : nil
    }
}
