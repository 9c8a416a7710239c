import Consensus
import Ledger
import LedgerCore

/// Where a validator keeps what its replica must remember across a crash.
///
/// The replica asks for its state to be persisted before nearly every vote.
/// Its prepared certificates carry whole blocks, so writing the state as one
/// value would rewrite every uncommitted block (megabytes under load) with a
/// sync on each vote. Here each prepared certificate has its own key and is
/// written only when it changes; the rest of the state, which is small, is
/// written every time. Everything of one persist goes in one synced batch,
/// so a crash leaves either the old state or the new one.
final class ConsensusStateStore {
    /// The small part of the state and the heights of the certificates stored beside it.
    private static let stateKey = Array("replica/state-v2".utf8)
    /// The whole state as one value, as earlier versions wrote it; read once, then replaced.
    private static let legacyStateKey = Array("replica/state".utf8)
    private static let preparedPrefix = "replica/prepared/"

    private let store: LevelDBStore
    /// What each stored certificate key holds now.
    private var stored: [UInt64: CertificateIdentity] = [:]
    private var legacyPresent = false

    init(store: LevelDBStore) {
        self.store = store
    }

    /// The persisted state, or nil on a validator's first start.
    func load() throws(NodeStartError) -> PersistentState? {
        do {
            if let raw = try store.get(Self.stateKey) {
                let summary = try StoredConsensusState(canonicalBytes: raw)
                var state = summary.state
                var prepared: [PreparedCertificate] = []
                for height in summary.preparedHeights {
                    guard let bytes = try store.get(Self.preparedKey(height)) else {
                        throw NodeStartError("the persisted consensus state names a prepared certificate at height \(height) that is not stored")
                    }
                    let certificate = try PreparedCertificate(canonicalBytes: bytes)
                    guard certificate.height == height else {
                        throw NodeStartError("the prepared certificate stored for height \(height) is for height \(certificate.height)")
                    }
                    prepared.append(certificate)
                    stored[height] = CertificateIdentity(certificate)
                }
                state.prepared = prepared
                legacyPresent = try store.get(Self.legacyStateKey) != nil
                return state
            }
            if let raw = try store.get(Self.legacyStateKey) {
                legacyPresent = true
                return try PersistentState(canonicalBytes: raw)
            }
            return nil
        } catch let error as NodeStartError {
            throw error
        } catch {
            throw NodeStartError("the persisted consensus state does not decode (\(error)); refusing to start rather than risk signing twice")
        }
    }

    /// Writes `state` durably (synced) before the caller sends anything it covers.
    func persist(_ state: PersistentState) throws(StorageError) {
        var batch = WriteBatch()
        var next: [UInt64: CertificateIdentity] = [:]
        for certificate in state.prepared {
            let identity = CertificateIdentity(certificate)
            next[certificate.height] = identity
            if stored[certificate.height] != identity { batch.put(Self.preparedKey(certificate.height), certificate.canonicalBytes) }
        }
        for height in stored.keys where next[height] == nil { batch.delete(Self.preparedKey(height)) }
        var summary = state
        summary.prepared = []
        batch.put(Self.stateKey, StoredConsensusState(state: summary, preparedHeights: state.prepared.map(\.height)).canonicalBytes)
        if legacyPresent { batch.delete(Self.legacyStateKey) }
        try store.write(batch, sync: true)
        stored = next
        legacyPresent = false
    }

    private static func preparedKey(_ height: UInt64) -> [UInt8] {
        let digits = String(height)
        return Array((preparedPrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits).utf8)
    }
}

/// What tells two prepared certificates for one height apart without encoding them.
private struct CertificateIdentity: Equatable {
    let view: UInt64
    let blockHash: Hash
    let preparers: [UInt32]

    init(_ certificate: PreparedCertificate) {
        view = certificate.view
        blockHash = certificate.blockHash
        preparers = certificate.prepares.map(\.replica)
    }
}

/// The persisted state without its prepared certificates, and the heights of those, ascending.
private struct StoredConsensusState: CanonicalCodable {
    var state: PersistentState
    var preparedHeights: [UInt64]

    init(state: PersistentState, preparedHeights: [UInt64]) {
        self.state = state
        self.preparedHeights = preparedHeights
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(state)
        encoder.write(UInt64(preparedHeights.count))
        for height in preparedHeights { encoder.write(height) }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        state = try decoder.read(PersistentState.self, "persisted consensus state")
        let count = try decoder.readLength("prepared heights", limit: ConsensusLimits.preparedCertificatesMax)
        preparedHeights = []
        for _ in 0..<count {
            let height = try decoder.readUInt64("prepared height")
            if let last = preparedHeights.last, height <= last {
                throw .invalidValue(field: "prepared heights", reason: "not strictly increasing")
            }
            preparedHeights.append(height)
        }
    }
}
