#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Contracts
import Foundation
import Ledger
import LedgerCore

/// Why a reconciliation state file could not be read or written.
public struct ReconciliationStateFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file concerned.
    public let path: String
    /// What is wrong with it.
    public let reason: String

    /// Creates an error about `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "state file \(path): \(reason)" }
}

/// The durable state of a reconciliation job: the engine (which holds its
/// cursor) and the chain it belongs to.
///
/// File format, canonical encoding (``CanonicalEncoder``):
/// 1. the magic string `consort-reconciliation-state`;
/// 2. the format version (`1`);
/// 3. the chain id and the genesis hash of the chain the engine followed;
/// 4. the engine's canonical bytes, length-prefixed;
/// 5. the SHA-256 of everything before it, 32 bytes.
/// A file that does not have this shape, whose checksum does not match, or
/// that belongs to another chain is refused, never silently replaced.
public struct ReconciliationState: Equatable, Sendable {
    /// The magic string that opens every state file.
    public static let magic = "consort-reconciliation-state"
    /// The only format version written and read.
    public static let formatVersion: UInt32 = 1

    /// The chain the engine followed.
    public var chainID: String
    /// The genesis hash of that chain.
    public var genesisHash: Hash
    /// The engine, with its cursor.
    public var engine: ReconciliationEngine

    /// Creates a state.
    public init(chainID: String, genesisHash: Hash, engine: ReconciliationEngine) {
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.engine = engine
    }

    /// The bytes of the state file.
    public var fileBytes: [UInt8] {
        var encoder = CanonicalEncoder()
        encoder.write(Self.magic)
        encoder.write(Self.formatVersion)
        encoder.write(chainID)
        encoder.write(fixed: genesisHash.bytes)
        encoder.write(bytes: engine.canonicalBytes)
        let checksum = Hash.sha256(encoder.bytes)
        encoder.write(fixed: checksum.bytes)
        return encoder.bytes
    }

    /// Reads a state file's bytes; `path` only names the file in errors.
    public init(fileBytes bytes: [UInt8], path: String) throws(ReconciliationStateFileError) {
        func fail(_ reason: String) -> ReconciliationStateFileError { ReconciliationStateFileError(path: path, reason: reason) }
        guard bytes.count > 32 else { throw fail("it is \(bytes.count) bytes long, too short to be a reconciliation state file") }
        let body = Array(bytes.dropLast(32))
        var decoder = CanonicalDecoder(body)
        do {
            let magic = try decoder.readString("magic", limit: 64)
            guard magic == Self.magic else { throw fail("it is not a reconciliation state file (no '\(Self.magic)' header)") }
            let version = try decoder.readUInt32("format version")
            guard version == Self.formatVersion else { throw fail("format version \(version) is not supported (this build reads \(Self.formatVersion))") }
            guard Hash.sha256(body).bytes == Array(bytes.suffix(32)) else {
                throw fail("its checksum does not match its contents; the file is corrupt")
            }
            chainID = try decoder.readString("chain id", limit: Limits.identifierBytesMax)
            genesisHash = try Hash(bytes: try decoder.readFixed("genesis hash", count: 32))
            let engineBytes = try decoder.readBytes("engine", limit: ReconciliationJobLimits.stateFileBytesMax)
            try decoder.finish("reconciliation state")
            engine = try ReconciliationEngine(canonicalBytes: engineBytes)
        } catch let error as CodecError {
            throw fail("it does not decode: \(error)")
        } catch let error as ReconciliationStateFileError {
            throw error
        } catch {
            throw fail("\(error)")
        }
    }

    /// Loads the state file at `path`, or returns nil when there is no file.
    public static func load(path: String) throws(ReconciliationStateFileError) -> ReconciliationState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReconciliationStateFileError(path: path, reason: "it exists but cannot be read")
        }
        guard data.count <= ReconciliationJobLimits.stateFileBytesMax else {
            throw ReconciliationStateFileError(path: path, reason: "it is \(data.count) bytes, above the limit of \(ReconciliationJobLimits.stateFileBytesMax)")
        }
        return try ReconciliationState(fileBytes: Array(data), path: path)
    }

    /// Writes the state to `path` atomically: a temporary file beside it is
    /// written and flushed to disk, then renamed over `path`, and the folder
    /// is flushed, so a crash leaves either the old or the new state.
    public func save(path: String) throws(ReconciliationStateFileError) {
        try Self.writeAtomically(fileBytes, to: path)
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ReconciliationStateFileError) {
        func fail(_ what: String) -> ReconciliationStateFileError {
            ReconciliationStateFileError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw fail("cannot create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let error = fail("cannot write \(temporary)")
                close(descriptor)
                throw error
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let error = fail("cannot flush \(temporary)")
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw fail("cannot rename \(temporary) to \(path)") }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }
}
