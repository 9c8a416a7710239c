import Ledger
import LedgerCore

/// Arguments of `blacklist.add`.
public struct AddBlacklistEntry: Equatable, Sendable, CanonicalCodable {
    /// The company or person (keyed hash) concerned.
    public var subject: BlacklistSubject
    /// One of the genesis reason codes.
    public var reasonCode: String
    /// Hash of the evidence the uploader holds off the ledger.
    public var evidenceHash: Hash
    /// When the entry stops matching, if sooner than the retention period; must be in the future.
    public var expiresAtMs: UInt64?
    /// Free text for other members; must not contain personal identifiers.
    public var note: String?

    /// Arguments with the given fields.
    public init(subject: BlacklistSubject, reasonCode: String, evidenceHash: Hash, expiresAtMs: UInt64? = nil, note: String? = nil) {
        self.subject = subject
        self.reasonCode = reasonCode
        self.evidenceHash = evidenceHash
        self.expiresAtMs = expiresAtMs
        self.note = note
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(subject)
        encoder.write(reasonCode)
        encoder.write(evidenceHash)
        encoder.write(optional: expiresAtMs)
        encoder.write(optional: note)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        subject = try decoder.read(BlacklistSubject.self, "subject")
        reasonCode = try decoder.readString("reason code", limit: BlacklistLimits.codeBytesMax)
        evidenceHash = try decoder.read(Hash.self, "evidence hash")
        expiresAtMs = try decoder.readOptionalUInt64("expires at")
        note = try decoder.readOptionalString("note", limit: BlacklistLimits.textBytesMax)
    }
}

/// Arguments of `blacklist.amend`: the fields given replace the current
/// version's; at least one must be given. The previous version stays in the history.
public struct AmendBlacklistEntry: Equatable, Sendable, CanonicalCodable {
    /// The entry, by the number `add` gave it (event `entry_added`, attribute `entry`).
    public var entryID: UInt64
    /// A new reason code from the genesis list.
    public var reasonCode: String?
    /// A new expiry; in the future and within the retention period from the original listing.
    public var expiresAtMs: UInt64?
    /// Hash of evidence held off the ledger, if any.
    public var evidenceHash: Hash?
    /// Free text; must not contain personal identifiers.
    public var note: String?

    /// Arguments with the given fields.
    public init(entryID: UInt64, reasonCode: String? = nil, expiresAtMs: UInt64? = nil, evidenceHash: Hash? = nil, note: String? = nil) {
        self.entryID = entryID
        self.reasonCode = reasonCode
        self.expiresAtMs = expiresAtMs
        self.evidenceHash = evidenceHash
        self.note = note
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entryID)
        encoder.write(optional: reasonCode)
        encoder.write(optional: expiresAtMs)
        encoder.write(evidenceHash)
        encoder.write(optional: note)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entryID = try decoder.readUInt64("entry id")
        reasonCode = try decoder.readOptionalString("reason code", limit: BlacklistLimits.codeBytesMax)
        expiresAtMs = try decoder.readOptionalUInt64("expires at")
        evidenceHash = try decoder.readOptional(Hash.self, "evidence hash")
        note = try decoder.readOptionalString("note", limit: BlacklistLimits.textBytesMax)
    }
}

/// Arguments of `blacklist.corroborate` and `blacklist.dispute`: another
/// institution's position on an entry, with its reason.
public struct BlacklistOpinion: Equatable, Sendable, CanonicalCodable {
    /// The entry, by the number `add` gave it (event `entry_added`, attribute `entry`).
    public var entryID: UInt64
    /// Why, in words; must not be empty or contain a personal identifier.
    public var reason: String
    /// Hash of supporting evidence held off the ledger, if any.
    public var evidenceHash: Hash?

    /// Arguments with the given fields.
    public init(entryID: UInt64, reason: String, evidenceHash: Hash? = nil) {
        self.entryID = entryID
        self.reason = reason
        self.evidenceHash = evidenceHash
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entryID)
        encoder.write(reason)
        encoder.write(evidenceHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entryID = try decoder.readUInt64("entry id")
        reason = try decoder.readString("reason", limit: BlacklistLimits.textBytesMax)
        evidenceHash = try decoder.readOptional(Hash.self, "evidence hash")
    }
}

/// Arguments of `blacklist.appeal`.
///
/// The ledger does not know which bank holds a subject's account, so the
/// rule is declarative: the appealing bank states that the subject is its
/// customer (`declaresSubjectIsCustomer` must be true) and gives the hash of
/// the account relationship record it holds. Both are kept in the entry's
/// history under the bank's signature, so a false declaration is traceable
/// to the bank and key that made it. The uploader cannot appeal its own
/// entry, each bank may appeal an entry once, and only one appeal may be open at a time.
public struct FileBlacklistAppeal: Equatable, Sendable, CanonicalCodable {
    /// The entry, by the number `add` gave it (event `entry_added`, attribute `entry`).
    public var entryID: UInt64
    /// Why, in words; must not be empty or contain a personal identifier.
    public var reason: String
    /// Must be true: the appealing bank declares the subject is its customer.
    public var declaresSubjectIsCustomer: Bool
    /// Hash of the bank's record of its relationship with the subject.
    public var relationshipEvidenceHash: Hash

    /// Arguments with the given fields.
    public init(entryID: UInt64, reason: String, declaresSubjectIsCustomer: Bool, relationshipEvidenceHash: Hash) {
        self.entryID = entryID
        self.reason = reason
        self.declaresSubjectIsCustomer = declaresSubjectIsCustomer
        self.relationshipEvidenceHash = relationshipEvidenceHash
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entryID)
        encoder.write(reason)
        encoder.write(declaresSubjectIsCustomer)
        encoder.write(relationshipEvidenceHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entryID = try decoder.readUInt64("entry id")
        reason = try decoder.readString("reason", limit: BlacklistLimits.textBytesMax)
        declaresSubjectIsCustomer = try decoder.readBool("declares subject is customer")
        relationshipEvidenceHash = try decoder.read(Hash.self, "relationship evidence hash")
    }
}

/// How an uploader answers an appeal.
public enum BlacklistAppealDecision: String, Sendable, CaseIterable, CanonicalCodable {
    /// The entry stands; it is active again.
    case maintain
    /// The uploader accepts the appeal; the entry is removed.
    case withdraw

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(self == .maintain ? UInt64(0) : 1)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("appeal decision") {
        case 0: self = .maintain
        case 1: self = .withdraw
        case let tag: throw .unknownTag(field: "appeal decision", tag: tag)
        }
    }
}

/// Arguments of `blacklist.answer`.
public struct AnswerBlacklistAppeal: Equatable, Sendable, CanonicalCodable {
    /// The entry, by the number `add` gave it (event `entry_added`, attribute `entry`).
    public var entryID: UInt64
    /// Whether the entry stands or is withdrawn.
    public var decision: BlacklistAppealDecision
    /// Why, in words; must not be empty or contain a personal identifier.
    public var reason: String
    /// Hash of evidence held off the ledger, if any.
    public var evidenceHash: Hash?

    /// Arguments with the given fields.
    public init(entryID: UInt64, decision: BlacklistAppealDecision, reason: String, evidenceHash: Hash? = nil) {
        self.entryID = entryID
        self.decision = decision
        self.reason = reason
        self.evidenceHash = evidenceHash
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entryID)
        encoder.write(decision)
        encoder.write(reason)
        encoder.write(evidenceHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entryID = try decoder.readUInt64("entry id")
        decision = try decoder.read(BlacklistAppealDecision.self, "decision")
        reason = try decoder.readString("reason", limit: BlacklistLimits.textBytesMax)
        evidenceHash = try decoder.readOptional(Hash.self, "evidence hash")
    }
}

/// Arguments of `blacklist.revoke`.
public struct RevokeBlacklistEntry: Equatable, Sendable, CanonicalCodable {
    /// The entry, by the number `add` gave it (event `entry_added`, attribute `entry`).
    public var entryID: UInt64
    /// Why, in words; must not be empty or contain a personal identifier.
    public var reason: String

    /// Arguments with the given fields.
    public init(entryID: UInt64, reason: String) {
        self.entryID = entryID
        self.reason = reason
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entryID)
        encoder.write(reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entryID = try decoder.readUInt64("entry id")
        reason = try decoder.readString("reason", limit: BlacklistLimits.textBytesMax)
    }
}

/// Arguments of `blacklist.check`.
public struct CheckBlacklistSubject: Equatable, Sendable, CanonicalCodable {
    /// The company or person (keyed hash) concerned.
    public var subject: BlacklistSubject
    /// One of the genesis purpose codes: why the institution is looking.
    public var purposeCode: String

    /// Arguments with the given fields.
    public init(subject: BlacklistSubject, purposeCode: String) {
        self.subject = subject
        self.purposeCode = purposeCode
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(subject)
        encoder.write(purposeCode)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        subject = try decoder.read(BlacklistSubject.self, "subject")
        purposeCode = try decoder.readString("purpose code", limit: BlacklistLimits.codeBytesMax)
    }
}

/// Arguments of `blacklist.batchCheck`.
public struct BatchCheckBlacklist: Equatable, Sendable, CanonicalCodable {
    /// Distinct subjects, at most ``BlacklistParameters/batchSubjectsMax``.
    public var subjects: [BlacklistSubject]
    /// One of the genesis purpose codes: why the institution is looking.
    public var purposeCode: String

    /// Arguments with the given fields.
    public init(subjects: [BlacklistSubject], purposeCode: String) {
        self.subjects = subjects
        self.purposeCode = purposeCode
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(subjects)
        encoder.write(purposeCode)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        subjects = try decoder.readArray(BlacklistSubject.self, "subjects", limit: BlacklistLimits.batchSubjectsDecodeMax)
        purposeCode = try decoder.readString("purpose code", limit: BlacklistLimits.codeBytesMax)
    }
}

/// Arguments of `blacklist.settle`.
public struct SettleBlacklistEntries: Equatable, Sendable, CanonicalCodable {
    /// Entries whose lapsed appeal or expiry should be recorded.
    public var entryIDs: [UInt64]

    /// Arguments with the given fields.
    public init(entryIDs: [UInt64]) {
        self.entryIDs = entryIDs
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(UInt64(entryIDs.count))
        for id in entryIDs { encoder.write(id) }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let count = try decoder.readLength("entry ids", limit: BlacklistLimits.settleEntriesMax)
        var ids: [UInt64] = []
        for _ in 0..<count { ids.append(try decoder.readUInt64("entry id")) }
        entryIDs = ids
    }
}

/// The answer of a `check` or `batchCheck`, read back from its receipt's
/// events, for clients that print it.
public struct BlacklistCheckResult: Equatable, Sendable {
    /// The live entries found for one subject.
    public struct Match: Equatable, Sendable {
        /// The subject's text form (`company:<code>` or `person:<hash hex>`).
        public var subject: String
        /// One compact JSON object per entry: `{entry, uploader, reasonCode,
        /// status, version, listedAtMs, expiresAtMs, corroborations, disputes,
        /// corroboratedBy, disputedBy, appealDeadlineMs?}`; `status` is
        /// `active` or `under_appeal`.
        public var entries: [String]
        /// Entries left out of the event for size; query `subject` for all of them.
        public var omitted: Int
    }

    /// One of the genesis purpose codes: why the institution is looking.
    public var purposeCode: String
    /// Subjects this transaction checked.
    public var subjects: Int
    /// Subjects with at least one live entry, in the order they were checked.
    public var matches: [Match]
    /// Subjects the institution has checked in all, including these.
    public var subjectsCheckedTotal: UInt64
    /// The institution's allowance at the time of the check.
    public var allowance: UInt64

    /// Reads the result from a receipt's events; nil if they hold no check summary.
    public init?(events: [Event]) {
        guard let summary = events.first(where: { $0.contract == BlacklistContract.name && $0.name == "check_summary" }),
              let purpose = summary["purposeCode"], let subjects = summary["subjects"].flatMap({ Int($0) }),
              let total = summary["subjectsChecked"].flatMap({ UInt64($0) }), let allowance = summary["allowance"].flatMap({ UInt64($0) }) else {
            return nil
        }
        purposeCode = purpose
        self.subjects = subjects
        subjectsCheckedTotal = total
        self.allowance = allowance
        matches = events.filter { $0.contract == BlacklistContract.name && $0.name == "check_match" }.compactMap { event in
            guard let subject = event["subject"] else { return nil }
            let entries = event.attributes.filter { $0.key == "entry" }.map(\.value)
            return Match(subject: subject, entries: entries, omitted: event["omitted"].flatMap { Int($0) } ?? 0)
        }
    }
}
