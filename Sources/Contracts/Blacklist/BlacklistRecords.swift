import Ledger
import LedgerCore

/// Where an entry stands as stored. Time-driven changes (an appeal's deadline
/// passing, an entry expiring) are evaluated lazily against block time by
/// ``BlacklistEntry/status(at:)`` and written here when the entry is next touched.
public enum BlacklistStoredStatus: String, Sendable, CaseIterable, CanonicalCodable {
    case active
    case underAppeal = "under_appeal"
    /// Revoked by its uploader or a regulator.
    case revoked
    /// The uploader accepted an appeal.
    case withdrawn
    /// An appeal went unanswered past its deadline.
    case appealLapsed = "appeal_lapsed"
    /// Its expiry or retention period ended.
    case expired

    var tag: UInt64 {
        switch self {
        case .active: 0
        case .underAppeal: 1
        case .revoked: 2
        case .withdrawn: 3
        case .appealLapsed: 4
        case .expired: 5
        }
    }

    /// Whether an entry in this status still matches checks.
    public var isLive: Bool { self == .active || self == .underAppeal }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("entry status")
        guard let status = Self.allCases.first(where: { $0.tag == tag }) else { throw .unknownTag(field: "entry status", tag: tag) }
        self = status
    }
}

/// An open appeal on an entry.
struct BlacklistAppeal: Equatable, Sendable, CanonicalCodable {
    var appellant: String
    var filedAtMs: UInt64
    /// The last block time at which the uploader may still answer.
    var deadlineMs: UInt64
    var reason: String
    var relationshipEvidenceHash: Hash

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(appellant)
        encoder.write(filedAtMs)
        encoder.write(deadlineMs)
        encoder.write(reason)
        encoder.write(relationshipEvidenceHash)
    }

    init(appellant: String, filedAtMs: UInt64, deadlineMs: UInt64, reason: String, relationshipEvidenceHash: Hash) {
        self.appellant = appellant
        self.filedAtMs = filedAtMs
        self.deadlineMs = deadlineMs
        self.reason = reason
        self.relationshipEvidenceHash = relationshipEvidenceHash
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        appellant = try decoder.readString("appellant", limit: Limits.identifierBytesMax)
        filedAtMs = try decoder.readUInt64("appeal filed at")
        deadlineMs = try decoder.readUInt64("appeal deadline")
        reason = try decoder.readString("appeal reason", limit: BlacklistLimits.textBytesMax)
        relationshipEvidenceHash = try decoder.read(Hash.self, "relationship evidence hash")
    }
}

/// The current version of an entry. Every change is also appended to the
/// entry's history, which is never rewritten.
package struct BlacklistEntry: Equatable, Sendable, CanonicalCodable {
    var id: UInt64
    var subject: BlacklistSubject
    var uploader: String
    var uploaderKey: PublicKey
    var version: UInt32
    var reasonCode: String
    var evidenceHash: Hash
    var note: String?
    /// The explicit expiry, if the uploader set one.
    var expiresAtMs: UInt64?
    var listedAtMs: UInt64
    var listedAtHeight: UInt64
    /// Listing time plus the genesis retention period.
    var retentionEndsAtMs: UInt64
    var status: BlacklistStoredStatus
    /// When the stored status last changed away from active or under appeal.
    var endedAtMs: UInt64?
    var corroborators: [String]
    var disputers: [String]
    /// Every bank that has appealed this entry, in order.
    var appellants: [String]
    /// The open appeal; after a lapse, the appeal that went unanswered.
    var appeal: BlacklistAppeal?
    package var historyCount: UInt32

    /// The moment the entry stops matching: its explicit expiry or the end of retention, whichever is sooner.
    var effectiveExpiryMs: UInt64 { min(expiresAtMs ?? UInt64.max, retentionEndsAtMs) }

    /// The status at block time `nowMs`, with deadlines and expiry applied.
    func status(at nowMs: UInt64) -> BlacklistStoredStatus {
        pendingEnd(at: nowMs)?.status ?? status
    }

    /// A time-driven end that has happened by `nowMs` but is not yet
    /// recorded: an unanswered appeal past its deadline, or expiry.
    func pendingEnd(at nowMs: UInt64) -> (status: BlacklistStoredStatus, atMs: UInt64)? {
        guard status.isLive else { return nil }
        let expiry = effectiveExpiryMs
        if status == .underAppeal, let appeal {
            let lapse = appeal.deadlineMs == UInt64.max ? UInt64.max : appeal.deadlineMs + 1
            if lapse <= expiry, nowMs >= lapse { return (.appealLapsed, lapse) }
        }
        if nowMs >= expiry { return (.expired, expiry) }
        return nil
    }

    package func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(subject)
        encoder.write(uploader)
        encoder.write(uploaderKey)
        encoder.write(version)
        encoder.write(reasonCode)
        encoder.write(evidenceHash)
        encoder.write(optional: note)
        encoder.write(optional: expiresAtMs)
        encoder.write(listedAtMs)
        encoder.write(listedAtHeight)
        encoder.write(retentionEndsAtMs)
        encoder.write(status)
        encoder.write(optional: endedAtMs)
        encoder.write(corroborators)
        encoder.write(disputers)
        encoder.write(appellants)
        encoder.write(appeal)
        encoder.write(historyCount)
    }

    package init(id: UInt64, subject: BlacklistSubject, uploader: String, uploaderKey: PublicKey, reasonCode: String, evidenceHash: Hash,
         note: String?, expiresAtMs: UInt64?, listedAtMs: UInt64, listedAtHeight: UInt64, retentionEndsAtMs: UInt64) {
        self.id = id
        self.subject = subject
        self.uploader = uploader
        self.uploaderKey = uploaderKey
        self.version = 1
        self.reasonCode = reasonCode
        self.evidenceHash = evidenceHash
        self.note = note
        self.expiresAtMs = expiresAtMs
        self.listedAtMs = listedAtMs
        self.listedAtHeight = listedAtHeight
        self.retentionEndsAtMs = retentionEndsAtMs
        self.status = .active
        self.endedAtMs = nil
        self.corroborators = []
        self.disputers = []
        self.appellants = []
        self.appeal = nil
        self.historyCount = 0
    }

    package init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.readUInt64("entry id")
        subject = try decoder.read(BlacklistSubject.self, "subject")
        uploader = try decoder.readString("uploader", limit: Limits.identifierBytesMax)
        uploaderKey = try decoder.read(PublicKey.self, "uploader key")
        version = try decoder.readUInt32("version")
        reasonCode = try decoder.readString("reason code", limit: BlacklistLimits.codeBytesMax)
        evidenceHash = try decoder.read(Hash.self, "evidence hash")
        note = try decoder.readOptionalString("note", limit: BlacklistLimits.textBytesMax)
        expiresAtMs = try decoder.readOptionalUInt64("expires at")
        listedAtMs = try decoder.readUInt64("listed at")
        listedAtHeight = try decoder.readUInt64("listed at height")
        retentionEndsAtMs = try decoder.readUInt64("retention ends at")
        status = try decoder.read(BlacklistStoredStatus.self, "status")
        endedAtMs = try decoder.readOptionalUInt64("ended at")
        corroborators = try decoder.readStrings("corroborators", countLimit: BlacklistLimits.institutionsPerEntryMax, lengthLimit: Limits.identifierBytesMax)
        disputers = try decoder.readStrings("disputers", countLimit: BlacklistLimits.institutionsPerEntryMax, lengthLimit: Limits.identifierBytesMax)
        appellants = try decoder.readStrings("appellants", countLimit: BlacklistLimits.institutionsPerEntryMax, lengthLimit: Limits.identifierBytesMax)
        appeal = try decoder.readOptional(BlacklistAppeal.self, "appeal")
        historyCount = try decoder.readUInt32("history count")
    }
}

/// What happened to an entry, as kept in its history.
public enum BlacklistAction: String, Sendable, CaseIterable, CanonicalCodable {
    case listed
    case amended
    case corroborated
    case disputed
    case appealed
    case answered
    case revoked
    /// An appeal's deadline passed unanswered; recorded by whoever next touched the entry.
    case appealLapsed = "appeal_lapsed"
    /// The entry reached its expiry; recorded by whoever next touched the entry.
    case expired
    /// A check matched the entry.
    case checked

    var tag: UInt64 { UInt64(Self.allCases.firstIndex(of: self) ?? 0) }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        self = try decoder.readCase(Self.self, "history action")
    }
}

/// One named value of a history record.
struct BlacklistDetail: Equatable, Sendable, CanonicalCodable {
    var key: String
    var value: String

    init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(key)
        encoder.write(value)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.readString("detail key", limit: Limits.nameBytesMax)
        value = try decoder.readString("detail value", limit: BlacklistLimits.textBytesMax * 2)
    }
}

/// One step of an entry's history, with who signed it and where it was committed.
struct BlacklistHistoryRecord: Equatable, Sendable, CanonicalCodable {
    var sequence: UInt32
    var action: BlacklistAction
    var organization: String
    var signer: PublicKey
    var transactionID: Hash
    var blockHeight: UInt64
    var blockTimeMs: UInt64
    var details: [BlacklistDetail]

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(sequence)
        encoder.write(action)
        encoder.write(organization)
        encoder.write(signer)
        encoder.write(transactionID)
        encoder.write(blockHeight)
        encoder.write(blockTimeMs)
        encoder.write(details)
    }

    init(sequence: UInt32, action: BlacklistAction, organization: String, signer: PublicKey, transactionID: Hash, blockHeight: UInt64,
         blockTimeMs: UInt64, details: [BlacklistDetail]) {
        self.sequence = sequence
        self.action = action
        self.organization = organization
        self.signer = signer
        self.transactionID = transactionID
        self.blockHeight = blockHeight
        self.blockTimeMs = blockTimeMs
        self.details = details
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        sequence = try decoder.readUInt32("sequence")
        action = try decoder.read(BlacklistAction.self, "action")
        organization = try decoder.readString("organization", limit: Limits.identifierBytesMax)
        signer = try decoder.read(PublicKey.self, "signer")
        transactionID = try decoder.read(Hash.self, "transaction id")
        blockHeight = try decoder.readUInt64("block height")
        blockTimeMs = try decoder.readUInt64("block time")
        details = try decoder.readArray(BlacklistDetail.self, "details", limit: 32)
    }
}

/// Per-subject bookkeeping: the entries that still match, every entry ever
/// listed, and how many lookups have been recorded.
package struct BlacklistSubjectRecord: Equatable, Sendable, CanonicalCodable {
    /// Entries not yet recorded as ended; each is re-evaluated against block time on use.
    package var liveEntryIDs: [UInt64] = []
    package var allEntryIDs: [UInt64] = []
    var lookupCount: UInt64 = 0

    package init() {}

    package func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(UInt64(liveEntryIDs.count))
        for id in liveEntryIDs { encoder.write(id) }
        encoder.write(UInt64(allEntryIDs.count))
        for id in allEntryIDs { encoder.write(id) }
        encoder.write(lookupCount)
    }

    package init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let liveCount = try decoder.readLength("live entries", limit: BlacklistLimits.entriesPerSubjectMax)
        for _ in 0..<liveCount { liveEntryIDs.append(try decoder.readUInt64("live entry id")) }
        let allCount = try decoder.readLength("entries", limit: BlacklistLimits.entriesPerSubjectMax)
        for _ in 0..<allCount { allEntryIDs.append(try decoder.readUInt64("entry id")) }
        lookupCount = try decoder.readUInt64("lookup count")
    }
}

/// One recorded look at a subject: who asked, when, why and what it saw.
struct BlacklistLookupRecord: Equatable, Sendable, CanonicalCodable {
    var organization: String
    var signer: PublicKey
    var transactionID: Hash
    var blockHeight: UInt64
    var blockTimeMs: UInt64
    var purposeCode: String
    var matchedEntryIDs: [UInt64]
    /// How many subjects the transaction checked.
    var batchSize: UInt32

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(organization)
        encoder.write(signer)
        encoder.write(transactionID)
        encoder.write(blockHeight)
        encoder.write(blockTimeMs)
        encoder.write(purposeCode)
        encoder.write(UInt64(matchedEntryIDs.count))
        for id in matchedEntryIDs { encoder.write(id) }
        encoder.write(batchSize)
    }

    init(organization: String, signer: PublicKey, transactionID: Hash, blockHeight: UInt64, blockTimeMs: UInt64, purposeCode: String,
         matchedEntryIDs: [UInt64], batchSize: UInt32) {
        self.organization = organization
        self.signer = signer
        self.transactionID = transactionID
        self.blockHeight = blockHeight
        self.blockTimeMs = blockTimeMs
        self.purposeCode = purposeCode
        self.matchedEntryIDs = matchedEntryIDs
        self.batchSize = batchSize
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        organization = try decoder.readString("organization", limit: Limits.identifierBytesMax)
        signer = try decoder.read(PublicKey.self, "signer")
        transactionID = try decoder.read(Hash.self, "transaction id")
        blockHeight = try decoder.readUInt64("block height")
        blockTimeMs = try decoder.readUInt64("block time")
        purposeCode = try decoder.readString("purpose code", limit: BlacklistLimits.codeBytesMax)
        let count = try decoder.readLength("matched entries", limit: BlacklistLimits.entriesPerSubjectMax)
        var ids: [UInt64] = []
        for _ in 0..<count { ids.append(try decoder.readUInt64("matched entry id")) }
        matchedEntryIDs = ids
        batchSize = try decoder.readUInt32("batch size")
    }
}

/// What an institution has contributed and consumed; the allowance follows from it.
struct BlacklistContribution: Equatable, Sendable, CanonicalCodable {
    var entriesAdded: UInt64 = 0
    var corroborations: UInt64 = 0
    var disputesRaised: UInt64 = 0
    var appealsFiled: UInt64 = 0
    var appealsAnswered: UInt64 = 0
    var revocations: UInt64 = 0
    /// Subjects checked, the figure metered against the allowance.
    var subjectsChecked: UInt64 = 0
    var checkTransactions: UInt64 = 0

    init() {}

    func encode(to encoder: inout CanonicalEncoder) {
        for value in [entriesAdded, corroborations, disputesRaised, appealsFiled, appealsAnswered, revocations, subjectsChecked, checkTransactions] {
            encoder.write(value)
        }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entriesAdded = try decoder.readUInt64("entries added")
        corroborations = try decoder.readUInt64("corroborations")
        disputesRaised = try decoder.readUInt64("disputes raised")
        appealsFiled = try decoder.readUInt64("appeals filed")
        appealsAnswered = try decoder.readUInt64("appeals answered")
        revocations = try decoder.readUInt64("revocations")
        subjectsChecked = try decoder.readUInt64("subjects checked")
        checkTransactions = try decoder.readUInt64("check transactions")
    }
}
