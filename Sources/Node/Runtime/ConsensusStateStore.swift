import Consensus
import Ledger
import LedgerCore

/// Where a validator keeps what its replica must remember across a crash.
///
/// The replica asks for its state to be persisted before nearly every vote.
/// Its prepared certificates carry block headers and signatures (not the
/// transactions, see docs/consensus.md), up to a watermark window of them, so
/// writing the state as one value would still rewrite all of them with a sync
/// on each vote. Here each prepared certificate has its own key and is
/// written only when it changes; the rest of the state, which is small, is
/// written every time. The block bodies the replica retains (so that it can
/// commit and serve re-proposed blocks after a restart) are stored the same
/// way, one key per block hash, written once and deleted when dropped, and
/// so is the new-view message the current view was entered by (up to a few
/// hundred kilobytes), under one key, rewritten only when the view changes.
/// A record written before new-view messages were persisted is read as one
/// without it. A record in the earliest format (certificates with whole
/// blocks) does not decode, and the node refuses to start on it. Everything of one persist goes in one synced batch,
/// so a crash leaves either the old state or the new one.
///
/// It also notes the height the ledger has reached, after each block the
/// ledger has written durably: the ledger's LevelDB reads a write-ahead log
/// cut short without a word, so at start a ledger below that note has lost
/// blocks, and the node refuses to run on it.
final class ConsensusStateStore {
    /// The small part of the state, the heights of the certificates stored beside it, and whether a new view is.
    private static let stateKey = Array("replica/state-v3".utf8)
    /// The same, as written before the new-view message was persisted; read once, then replaced.
    private static let stateV2Key = Array("replica/state-v2".utf8)
    /// The new-view message of the persisted view.
    private static let newViewKey = Array("replica/new-view".utf8)
    /// The whole state as one value, as earlier versions wrote it; read once, then replaced.
    private static let legacyStateKey = Array("replica/state".utf8)
    private static let preparedPrefix = "replica/prepared/"
    private static let bodyPrefix = "replica/body/"
    /// The highest height the ledger was known to hold.
    private static let ledgerHeightKey = Array("replica/ledger-height".utf8)

    private let store: LevelDBStore
    /// What each stored certificate key holds now.
    private var stored: [UInt64: CertificateIdentity] = [:]
    /// The block bodies stored now, by hash.
    private var storedBodies = Set<Hash>()
    /// The view and signature of the new-view message stored now.
    private var storedNewView: (view: UInt64, signature: Signature)?
    private var legacyPresent = false
    private var stateV2Present = false

    init(store: LevelDBStore) {
        self.store = store
    }

    /// The persisted state, or nil on a validator's first start.
    func load() throws(NodeStartError) -> PersistentState? {
        do {
            let current = try store.get(Self.stateKey)
            let v2 = current == nil ? try store.get(Self.stateV2Key) : nil
            if let raw = current ?? v2 {
                let summary = try current == nil ? StoredConsensusState(v2Bytes: raw) : StoredConsensusState(canonicalBytes: raw)
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
                var bodies: [Block] = []
                for hash in summary.bodyHashes {
                    guard let bytes = try store.get(Self.bodyKey(hash)) else {
                        throw NodeStartError("the persisted consensus state names a block body \(hash) that is not stored")
                    }
                    let body = try Block(canonicalBytes: bytes)
                    guard body.hash == hash else {
                        throw NodeStartError("the block body stored for \(hash) is block \(body.hash)")
                    }
                    bodies.append(body)
                    storedBodies.insert(hash)
                }
                state.blockBodies = bodies
                if summary.hasNewView {
                    guard let bytes = try store.get(Self.newViewKey) else {
                        throw NodeStartError("the persisted consensus state names a new-view message that is not stored")
                    }
                    let newView = try NewView(canonicalBytes: bytes)
                    guard newView.view == state.view else {
                        throw NodeStartError("the new-view message stored is for view \(newView.view), the persisted view is \(state.view)")
                    }
                    state.newView = newView
                    storedNewView = (newView.view, newView.signature)
                }
                legacyPresent = try store.get(Self.legacyStateKey) != nil
                let v2Stored = current == nil ? true : try store.get(Self.stateV2Key) != nil
                stateV2Present = v2Stored
                return state
            }
            if let raw = try store.get(Self.legacyStateKey) {
                legacyPresent = true
                var decoder = CanonicalDecoder(raw)
                let state = try PersistentState(decodingWithoutNewView: &decoder)
                try decoder.finish("persisted consensus state")
                return state
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
        var nextBodies = Set<Hash>()
        var bodyHashes: [Hash] = []
        for body in state.blockBodies {
            let hash = body.hash
            nextBodies.insert(hash)
            bodyHashes.append(hash)
            if !storedBodies.contains(hash) { batch.put(Self.bodyKey(hash), body.canonicalBytes) }
        }
        for hash in storedBodies where !nextBodies.contains(hash) { batch.delete(Self.bodyKey(hash)) }
        let nextNewView = state.newView.map { (view: $0.view, signature: $0.signature) }
        if let newView = state.newView {
            if storedNewView.map({ $0.view != newView.view || $0.signature != newView.signature }) ?? true {
                batch.put(Self.newViewKey, newView.canonicalBytes)
            }
        } else if storedNewView != nil {
            batch.delete(Self.newViewKey)
        }
        var summary = state
        summary.prepared = []
        summary.blockBodies = []
        summary.newView = nil
        batch.put(Self.stateKey, StoredConsensusState(state: summary, preparedHeights: state.prepared.map(\.height),
                                                      bodyHashes: bodyHashes, hasNewView: state.newView != nil).canonicalBytes)
        if legacyPresent { batch.delete(Self.legacyStateKey) }
        if stateV2Present { batch.delete(Self.stateV2Key) }
        try store.write(batch, sync: true)
        stored = next
        storedBodies = nextBodies
        storedNewView = nextNewView
        legacyPresent = false
        stateV2Present = false
    }

    /// Notes that the ledger holds every block up to `height`. Called once the
    /// ledger's own synced commit has returned, and not synced itself: the
    /// note never runs ahead of the ledger, and one lost in a power cut only
    /// weakens the check at the next start.
    func recordLedgerHeight(_ height: UInt64) throws(StorageError) {
        var encoder = CanonicalEncoder()
        encoder.write(height)
        var batch = WriteBatch()
        batch.put(Self.ledgerHeightKey, encoder.bytes)
        try store.write(batch, sync: false)
    }

    /// The height last noted by ``recordLedgerHeight(_:)``, or nil if none was.
    func recordedLedgerHeight() throws(NodeStartError) -> UInt64? {
        do {
            guard let raw = try store.get(Self.ledgerHeightKey) else { return nil }
            var decoder = CanonicalDecoder(raw)
            let height = try decoder.readUInt64("ledger height")
            try decoder.finish("ledger height")
            return height
        } catch {
            throw NodeStartError("the ledger height noted in the consensus state does not decode (\(error)); refusing to start")
        }
    }

    /// Refuses a ledger that ends below the height this store noted: its
    /// files lost blocks that this validator had committed (and voted on).
    func checkLedger(height: UInt64, ledgerPath: String, warnings: [String]) throws(NodeStartError) {
        guard let noted = try recordedLedgerHeight(), noted > height else { return }
        let cause = warnings.isEmpty ? "" : " (\(warnings.joined(separator: "; ")))"
        throw NodeStartError("""
            the ledger in \(ledgerPath) ends at block \(height), but the consensus state in \(store.path) records that it held block \(noted): \
            \(noted - height) committed blocks were lost from the ledger's files\(cause). Refusing to start on it. \
            Restore \(ledgerPath) from a backup, or replace it with a copy of the ledger folder of another validator of this chain \
            (stopped while copying), then start again
            """)
    }

    private static func bodyKey(_ hash: Hash) -> [UInt8] {
        Array((bodyPrefix + hash.hex).utf8)
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

/// The persisted state without its prepared certificates, block bodies and
/// new-view message, the heights of those certificates, ascending, the
/// hashes of those bodies, ascending, and whether a new-view message is stored.
private struct StoredConsensusState: CanonicalCodable {
    var state: PersistentState
    var preparedHeights: [UInt64]
    var bodyHashes: [Hash]
    var hasNewView: Bool

    init(state: PersistentState, preparedHeights: [UInt64], bodyHashes: [Hash], hasNewView: Bool) {
        self.state = state
        self.preparedHeights = preparedHeights
        self.bodyHashes = bodyHashes
        self.hasNewView = hasNewView
    }

    /// Decodes the summary as written before new-view messages were persisted.
    init(v2Bytes bytes: [UInt8]) throws(CodecError) {
        var decoder = CanonicalDecoder(bytes)
        try self.init(decoding: &decoder, v2: true)
        try decoder.finish("persisted consensus state")
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(state)
        encoder.write(UInt64(preparedHeights.count))
        for height in preparedHeights { encoder.write(height) }
        encoder.write(bodyHashes)
        encoder.write(hasNewView)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        try self.init(decoding: &decoder, v2: false)
    }

    private init(decoding decoder: inout CanonicalDecoder, v2: Bool) throws(CodecError) {
        state = v2 ? try PersistentState(decodingWithoutNewView: &decoder) : try decoder.read(PersistentState.self, "persisted consensus state")
        if state.newView != nil { throw .invalidValue(field: "persisted consensus state", reason: "a new view stored inline") }
        let count = try decoder.readLength("prepared heights", limit: ConsensusLimits.preparedCertificatesMax)
        preparedHeights = []
        for _ in 0..<count {
            let height = try decoder.readUInt64("prepared height")
            if let last = preparedHeights.last, height <= last {
                throw .invalidValue(field: "prepared heights", reason: "not strictly increasing")
            }
            preparedHeights.append(height)
        }
        bodyHashes = try decoder.readArray(Hash.self, "block body hashes", limit: ConsensusLimits.watermarkWindowBlocksMax)
        for index in bodyHashes.indices.dropFirst() where bodyHashes[index - 1] >= bodyHashes[index] {
            throw .invalidValue(field: "block body hashes", reason: "not strictly increasing")
        }
        hasNewView = v2 ? false : try decoder.readBool("new view stored")
    }
}
