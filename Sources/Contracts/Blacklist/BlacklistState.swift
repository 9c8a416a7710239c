import Ledger
import LedgerCore

/// Read access to the blacklist's own keys. The contract reads through a
/// ``TransactionContext``, queries through a ``QueryView`` and the benchmark
/// through a plain store, all with the same lookup code.
package protocol BlacklistStateReader {
    func read(_ key: [UInt8]) throws(StorageError) -> [UInt8]?
}

/// Read and write access to the blacklist's own keys, its indexes and its events.
package protocol BlacklistStateAccess: BlacklistStateReader {
    mutating func write(_ key: [UInt8], _ value: [UInt8])
    mutating func emitEvent(_ name: String, _ attributes: [(String, String)])
    mutating func writeIndex(_ index: String, _ key: [UInt8])
}

/// A transaction's context seen through the blacklist's state interface
/// (a wrapper rather than an extension, so that no other contract's helpers
/// on ``TransactionContext`` can clash with these names).
struct BlacklistTransactionState: BlacklistStateAccess {
    var context: TransactionContext

    func read(_ key: [UInt8]) throws(StorageError) -> [UInt8]? { try context.get(key) }
    mutating func write(_ key: [UInt8], _ value: [UInt8]) { context.put(key, value) }
    mutating func emitEvent(_ name: String, _ attributes: [(String, String)]) { context.emit(name, attributes) }
    mutating func writeIndex(_ index: String, _ key: [UInt8]) { context.setIndex(index, key) }
}

/// Committed state seen by a query.
struct BlacklistQueryReader: BlacklistStateReader {
    let view: any QueryView

    func read(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        try view.get(contract: BlacklistContract.name, key)
    }
}

/// The blacklist's state layout. Keys are relative to the contract's namespace.
package enum BlacklistKeys {
    package static let parameters = stateKey("parameters")
    package static let nextEntryID = stateKey("next-entry-id")
    package static func entry(_ id: UInt64) -> [UInt8] { stateKey("entry", hex(id)) }
    static func history(_ id: UInt64, _ sequence: UInt32) -> [UInt8] { stateKey("history", hex(id), hex(UInt64(sequence), digits: 8)) }
    package static func subject(_ subject: BlacklistSubject) -> [UInt8] { stateKey("subject", subject.text) }
    static func lookup(_ subject: BlacklistSubject, _ sequence: UInt64) -> [UInt8] { stateKey("lookup", subject.text, hex(sequence)) }
    static func contribution(_ organization: String) -> [UInt8] { stateKey("contribution", organization) }

    /// Query-only indexes, kept beside the state: `<organization>/<entry id>`.
    static let uploadsIndex = "uploads"
    static let corroborationsIndex = "corroborations"
    static let disputesIndex = "disputes"
    static let appealsIndex = "appeals"
    static func indexKey(_ organization: String, _ id: UInt64) -> [UInt8] { stateKey(organization, hex(id)) }

    /// Fixed-width lower-case hex, so that keys sort in numeric order.
    static func hex(_ value: UInt64, digits: Int = 16) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

extension BlacklistStateReader {
    /// Reads and decodes a record; one that does not decode means the state is damaged.
    func record<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(StorageError) -> T? {
        guard let raw = try read(key) else { return nil }
        do {
            return try T(canonicalBytes: raw)
        } catch {
            throw .corrupted(reason: "blacklist record \(String(decoding: key, as: UTF8.self)) does not decode: \(error)")
        }
    }

    func parameters() throws(StorageError) -> BlacklistParameters {
        guard let parameters = try record(BlacklistParameters.self, BlacklistKeys.parameters) else {
            throw .corrupted(reason: "the blacklist parameters written at genesis are missing")
        }
        return parameters
    }

    func entry(_ id: UInt64) throws(StorageError) -> BlacklistEntry? {
        try record(BlacklistEntry.self, BlacklistKeys.entry(id))
    }

    func subjectRecord(_ subject: BlacklistSubject) throws(StorageError) -> BlacklistSubjectRecord {
        try record(BlacklistSubjectRecord.self, BlacklistKeys.subject(subject)) ?? BlacklistSubjectRecord()
    }

    func contribution(_ organization: String) throws(StorageError) -> BlacklistContribution {
        try record(BlacklistContribution.self, BlacklistKeys.contribution(organization)) ?? BlacklistContribution()
    }

    /// The lookup every check uses: one keyed read of the subject's record,
    /// then one keyed read per entry not yet recorded as ended. Nothing is
    /// scanned, so the cost does not grow with the size of the list.
    func candidateEntries(of record: BlacklistSubjectRecord) throws(StorageError) -> [BlacklistEntry] {
        var entries: [BlacklistEntry] = []
        entries.reserveCapacity(record.liveEntryIDs.count)
        for id in record.liveEntryIDs {
            guard let entry = try entry(id) else {
                throw .corrupted(reason: "blacklist subject record names entry \(id), which does not exist")
            }
            entries.append(entry)
        }
        return entries
    }
}

/// Who is acting, and in which transaction and block.
package struct BlacklistCaller: Sendable {
    var organizationID: String
    var kind: OrganizationKind
    var signer: PublicKey
    var transactionID: Hash
    var blockHeight: UInt64
    var blockTimeMs: UInt64

    package init(organizationID: String, kind: OrganizationKind, signer: PublicKey, transactionID: Hash, blockHeight: UInt64, blockTimeMs: UInt64) {
        self.organizationID = organizationID
        self.kind = kind
        self.signer = signer
        self.transactionID = transactionID
        self.blockHeight = blockHeight
        self.blockTimeMs = blockTimeMs
    }
}

/// What a check found, for callers that want figures rather than events.
package struct BlacklistCheckOutcome: Equatable, Sendable {
    package var subjectsChecked: Int
    package var matchedSubjects: Int
    package var matchedEntries: Int

    package init(subjectsChecked: Int, matchedSubjects: Int, matchedEntries: Int) {
        self.subjectsChecked = subjectsChecked
        self.matchedSubjects = matchedSubjects
        self.matchedEntries = matchedEntries
    }
}

/// The blacklist's rules over some state: every operation of the contract,
/// written once so that the contract and the benchmark run the same code.
package struct BlacklistBook<State: BlacklistStateAccess> {
    package var state: State
    let parameters: BlacklistParameters
    let caller: BlacklistCaller

    package init(state: State, parameters: BlacklistParameters, caller: BlacklistCaller) {
        self.state = state
        self.parameters = parameters
        self.caller = caller
    }

    var now: UInt64 { caller.blockTimeMs }

    // MARK: Reading and writing records

    func existingEntry(_ id: UInt64) throws -> BlacklistEntry {
        guard let entry = try state.entry(id) else {
            throw Rejection(code: "unknown_entry", message: "there is no blacklist entry \(id)")
        }
        return entry
    }

    mutating func save(_ entry: BlacklistEntry) {
        state.write(BlacklistKeys.entry(entry.id), entry.canonicalBytes)
    }

    mutating func updateContribution(_ change: (inout BlacklistContribution) -> Void) throws {
        var contribution = try state.contribution(caller.organizationID)
        change(&contribution)
        state.write(BlacklistKeys.contribution(caller.organizationID), contribution.canonicalBytes)
    }

    /// Appends one step to the entry's history (the caller saves the entry).
    mutating func appendHistory(_ entry: inout BlacklistEntry, _ action: BlacklistAction, _ details: [BlacklistDetail]) {
        let record = BlacklistHistoryRecord(
            sequence: entry.historyCount, action: action, organization: caller.organizationID, signer: caller.signer,
            transactionID: caller.transactionID, blockHeight: caller.blockHeight, blockTimeMs: caller.blockTimeMs, details: details)
        state.write(BlacklistKeys.history(entry.id, entry.historyCount), record.canonicalBytes)
        entry.historyCount += 1
    }

    /// Records a time-driven end (lapsed appeal or expiry) that has come due,
    /// taking the entry off its subject's live list. Returns whether there was
    /// one. Checks pass `announce: false` and count the ends in their summary
    /// instead, so that a large batch cannot exceed a receipt's event limit.
    mutating func recordPendingEnd(_ entry: inout BlacklistEntry, subjectRecord: inout BlacklistSubjectRecord, announce: Bool = true) -> Bool {
        guard let end = entry.pendingEnd(at: now) else { return false }
        var details = [BlacklistDetail("effectiveAtMs", String(end.atMs))]
        if end.status == .appealLapsed, let appeal = entry.appeal {
            details.append(BlacklistDetail("appellant", appeal.appellant))
            details.append(BlacklistDetail("deadlineMs", String(appeal.deadlineMs)))
        }
        entry.status = end.status
        entry.endedAtMs = end.atMs
        appendHistory(&entry, end.status == .appealLapsed ? .appealLapsed : .expired, details)
        subjectRecord.liveEntryIDs.removeAll { $0 == entry.id }
        save(entry)
        if announce {
            state.emitEvent(end.status == .appealLapsed ? "appeal_lapsed" : "entry_expired",
                            [("entry", String(entry.id)), ("subject", entry.subject.text), ("effectiveAtMs", String(end.atMs))])
        }
        return true
    }

    /// Ends an entry now (revocation or withdrawal) and takes it off its subject's live list.
    mutating func end(_ entry: inout BlacklistEntry, as status: BlacklistStoredStatus) throws {
        entry.status = status
        entry.endedAtMs = now
        entry.appeal = nil
        var subjectRecord = try state.subjectRecord(entry.subject)
        subjectRecord.liveEntryIDs.removeAll { $0 == entry.id }
        state.write(BlacklistKeys.subject(entry.subject), subjectRecord.canonicalBytes)
    }

    /// Loads an entry that must still be live; one whose time has run out is refused.
    func liveEntry(_ id: UInt64) throws -> BlacklistEntry {
        let entry = try existingEntry(id)
        let status = entry.status(at: now)
        guard status.isLive else {
            throw Rejection(code: "entry_not_live", message: "entry \(id) is no longer on the list (\(status.rawValue))")
        }
        return entry
    }

    // MARK: Validation

    func checkReasonCode(_ code: String) throws {
        guard parameters.reasonCodes.contains(code) else {
            throw Rejection(code: "unknown_reason_code",
                            message: "reason code '\(code.prefix(64))' is not one of the genesis list: \(parameters.reasonCodes.joined(separator: ", "))")
        }
    }

    func checkExpiry(_ expiresAtMs: UInt64, retentionEndsAtMs: UInt64) throws {
        guard expiresAtMs > now else {
            throw Rejection(code: "bad_expiry", message: "expiry \(expiresAtMs) ms is not after the block time \(now) ms")
        }
        guard expiresAtMs <= retentionEndsAtMs else {
            throw Rejection(code: "expiry_beyond_retention",
                            message: "expiry \(expiresAtMs) ms is after the end of the \(parameters.retentionDays)-day retention at \(retentionEndsAtMs) ms")
        }
    }

    /// Free text must be non-empty when required and must not carry what looks
    /// like a personal identifier: identifiers belong in the subject, hashed,
    /// never in text. Admission refuses such text before it is pooled
    /// (``BlacklistAdmission``), so it never reaches a block; this check is
    /// the same rule applied again at execution.
    static func checkText(_ text: String, field: String, required: Bool) throws {
        if required, text.blacklistTrimmed().isEmpty {
            throw Rejection(code: "empty_text", message: "\(field) must not be empty")
        }
        if let rejection = BlacklistAdmission.identifierRejection(in: text, field: field) { throw rejection }
    }

    static func validate(_ subject: BlacklistSubject) throws {
        if let rejection = subject.rejection { throw rejection }
    }

    // MARK: Operations

    mutating func add(_ arguments: AddBlacklistEntry) throws {
        try Self.validate(arguments.subject)
        try checkReasonCode(arguments.reasonCode)
        let (retentionEnd, overflow) = now.addingReportingOverflow(parameters.retentionMs)
        let retentionEndsAtMs = overflow ? UInt64.max : retentionEnd
        if let expiry = arguments.expiresAtMs { try checkExpiry(expiry, retentionEndsAtMs: retentionEndsAtMs) }
        if let note = arguments.note { try Self.checkText(note, field: "the note", required: false) }

        var subjectRecord = try state.subjectRecord(arguments.subject)
        for var existing in try state.candidateEntries(of: subjectRecord) {
            if recordPendingEnd(&existing, subjectRecord: &subjectRecord) { continue }
            if existing.uploader == caller.organizationID {
                throw Rejection(code: "duplicate_entry",
                                message: "\(caller.organizationID) already lists this subject in entry \(existing.id); amend or revoke it instead")
            }
        }
        guard subjectRecord.allEntryIDs.count < BlacklistLimits.entriesPerSubjectMax else {
            throw Rejection(code: "subject_full", message: "this subject already has \(BlacklistLimits.entriesPerSubjectMax) entries")
        }
        let id = try state.record(BlacklistCounterRecord.self, BlacklistKeys.nextEntryID)?.value ?? 1
        state.write(BlacklistKeys.nextEntryID, BlacklistCounterRecord(value: id + 1).canonicalBytes)

        var entry = BlacklistEntry(
            id: id, subject: arguments.subject, uploader: caller.organizationID, uploaderKey: caller.signer, reasonCode: arguments.reasonCode,
            evidenceHash: arguments.evidenceHash, note: arguments.note, expiresAtMs: arguments.expiresAtMs, listedAtMs: now,
            listedAtHeight: caller.blockHeight, retentionEndsAtMs: retentionEndsAtMs)
        appendHistory(&entry, .listed, Self.versionDetails(entry))
        save(entry)
        subjectRecord.liveEntryIDs.append(id)
        subjectRecord.allEntryIDs.append(id)
        state.write(BlacklistKeys.subject(entry.subject), subjectRecord.canonicalBytes)
        try updateContribution { $0.entriesAdded += 1 }
        state.writeIndex(BlacklistKeys.uploadsIndex, BlacklistKeys.indexKey(caller.organizationID, id))
        state.emitEvent("entry_added", [
            ("entry", String(id)), ("subject", entry.subject.text), ("uploader", entry.uploader), ("reasonCode", entry.reasonCode),
            ("expiresAtMs", String(entry.effectiveExpiryMs)),
        ])
    }

    /// The fields of one version, as kept in the history.
    static func versionDetails(_ entry: BlacklistEntry) -> [BlacklistDetail] {
        var details = [
            BlacklistDetail("version", String(entry.version)),
            BlacklistDetail("subject", entry.subject.text),
            BlacklistDetail("reasonCode", entry.reasonCode),
            BlacklistDetail("evidenceHash", entry.evidenceHash.hex),
            BlacklistDetail("effectiveExpiryMs", String(entry.effectiveExpiryMs)),
        ]
        if let expiry = entry.expiresAtMs { details.append(BlacklistDetail("expiresAtMs", String(expiry))) }
        if let note = entry.note { details.append(BlacklistDetail("note", note)) }
        return details
    }

    mutating func amend(_ arguments: AmendBlacklistEntry) throws {
        var entry = try existingEntry(arguments.entryID)
        guard entry.uploader == caller.organizationID else {
            throw Rejection(code: "not_uploader", message: "entry \(entry.id) was listed by \(entry.uploader); only its uploader may amend it")
        }
        entry = try liveEntry(entry.id)
        guard entry.status(at: now) == .active else {
            throw Rejection(code: "under_appeal", message: "entry \(entry.id) is under appeal; answer the appeal before amending it")
        }
        guard arguments.reasonCode != nil || arguments.expiresAtMs != nil || arguments.evidenceHash != nil || arguments.note != nil else {
            throw Rejection(code: "nothing_to_amend", message: "an amendment must change the reason code, expiry, evidence or note")
        }
        if let code = arguments.reasonCode {
            try checkReasonCode(code)
            entry.reasonCode = code
        }
        if let expiry = arguments.expiresAtMs {
            try checkExpiry(expiry, retentionEndsAtMs: entry.retentionEndsAtMs)
            entry.expiresAtMs = expiry
        }
        if let evidence = arguments.evidenceHash { entry.evidenceHash = evidence }
        if let note = arguments.note {
            try Self.checkText(note, field: "the note", required: false)
            entry.note = note
        }
        entry.version += 1
        appendHistory(&entry, .amended, Self.versionDetails(entry))
        save(entry)
        state.emitEvent("entry_amended", [
            ("entry", String(entry.id)), ("version", String(entry.version)), ("reasonCode", entry.reasonCode),
            ("expiresAtMs", String(entry.effectiveExpiryMs)),
        ])
    }

    mutating func corroborate(_ arguments: BlacklistOpinion) throws {
        var entry = try liveEntry(arguments.entryID)
        try checkOpinion(arguments, on: entry, verb: "corroborate")
        entry.corroborators.append(caller.organizationID)
        appendHistory(&entry, .corroborated, Self.opinionDetails(arguments))
        save(entry)
        try updateContribution { $0.corroborations += 1 }
        state.writeIndex(BlacklistKeys.corroborationsIndex, BlacklistKeys.indexKey(caller.organizationID, entry.id))
        state.emitEvent("entry_corroborated", [("entry", String(entry.id)), ("by", caller.organizationID),
                                               ("corroborations", String(entry.corroborators.count))])
    }

    mutating func dispute(_ arguments: BlacklistOpinion) throws {
        var entry = try liveEntry(arguments.entryID)
        try checkOpinion(arguments, on: entry, verb: "dispute")
        entry.disputers.append(caller.organizationID)
        appendHistory(&entry, .disputed, Self.opinionDetails(arguments))
        save(entry)
        try updateContribution { $0.disputesRaised += 1 }
        state.writeIndex(BlacklistKeys.disputesIndex, BlacklistKeys.indexKey(caller.organizationID, entry.id))
        state.emitEvent("entry_disputed", [("entry", String(entry.id)), ("by", caller.organizationID), ("disputes", String(entry.disputers.count))])
    }

    /// An institution takes one position on another's entry: it may
    /// corroborate or dispute it, once.
    func checkOpinion(_ arguments: BlacklistOpinion, on entry: BlacklistEntry, verb: String) throws {
        guard entry.uploader != caller.organizationID else {
            throw Rejection(code: "own_entry", message: "\(caller.organizationID) listed entry \(entry.id) itself and cannot \(verb) it")
        }
        guard !entry.corroborators.contains(caller.organizationID) else {
            throw Rejection(code: "already_corroborated", message: "\(caller.organizationID) has already corroborated entry \(entry.id)")
        }
        guard !entry.disputers.contains(caller.organizationID) else {
            throw Rejection(code: "already_disputed", message: "\(caller.organizationID) has already disputed entry \(entry.id)")
        }
        guard entry.corroborators.count + entry.disputers.count < BlacklistLimits.institutionsPerEntryMax else {
            throw Rejection(code: "entry_full", message: "entry \(entry.id) has the most opinions an entry may hold")
        }
        try Self.checkText(arguments.reason, field: "the reason", required: true)
    }

    static func opinionDetails(_ arguments: BlacklistOpinion) -> [BlacklistDetail] {
        var details = [BlacklistDetail("reason", arguments.reason)]
        if let evidence = arguments.evidenceHash { details.append(BlacklistDetail("evidenceHash", evidence.hex)) }
        return details
    }

    mutating func appeal(_ arguments: FileBlacklistAppeal) throws {
        var entry = try liveEntry(arguments.entryID)
        guard caller.kind == .bank else {
            throw Rejection(code: "not_a_bank", message: "only the subject's bank may appeal an entry")
        }
        guard entry.uploader != caller.organizationID else {
            throw Rejection(code: "own_entry", message: "\(caller.organizationID) listed entry \(entry.id) itself and cannot appeal it")
        }
        guard arguments.declaresSubjectIsCustomer else {
            throw Rejection(code: "customer_not_declared",
                            message: "an appeal must declare that the subject is the appealing bank's customer")
        }
        if entry.status(at: now) == .underAppeal, let open = entry.appeal {
            throw Rejection(code: "appeal_open", message: "entry \(entry.id) already has an open appeal by \(open.appellant), due by \(open.deadlineMs) ms")
        }
        guard !entry.appellants.contains(caller.organizationID) else {
            throw Rejection(code: "already_appealed", message: "\(caller.organizationID) has already appealed entry \(entry.id)")
        }
        try Self.checkText(arguments.reason, field: "the reason", required: true)
        let (deadline, overflow) = now.addingReportingOverflow(parameters.appealAnswerMs)
        let appeal = BlacklistAppeal(appellant: caller.organizationID, filedAtMs: now, deadlineMs: overflow ? UInt64.max : deadline,
                                     reason: arguments.reason, relationshipEvidenceHash: arguments.relationshipEvidenceHash)
        entry.appeal = appeal
        entry.status = .underAppeal
        entry.appellants.append(caller.organizationID)
        appendHistory(&entry, .appealed, [
            BlacklistDetail("reason", arguments.reason),
            BlacklistDetail("declaresSubjectIsCustomer", "true"),
            BlacklistDetail("relationshipEvidenceHash", arguments.relationshipEvidenceHash.hex),
            BlacklistDetail("deadlineMs", String(appeal.deadlineMs)),
        ])
        save(entry)
        try updateContribution { $0.appealsFiled += 1 }
        state.writeIndex(BlacklistKeys.appealsIndex, BlacklistKeys.indexKey(caller.organizationID, entry.id))
        state.emitEvent("appeal_filed", [("entry", String(entry.id)), ("appellant", caller.organizationID), ("deadlineMs", String(appeal.deadlineMs))])
    }

    mutating func answer(_ arguments: AnswerBlacklistAppeal) throws {
        var entry = try existingEntry(arguments.entryID)
        guard entry.uploader == caller.organizationID else {
            throw Rejection(code: "not_uploader", message: "entry \(entry.id) was listed by \(entry.uploader); only its uploader may answer its appeal")
        }
        switch entry.status(at: now) {
        case .underAppeal:
            break
        case .appealLapsed:
            throw Rejection(code: "appeal_lapsed",
                            message: "the appeal on entry \(entry.id) was due by \(entry.appeal?.deadlineMs ?? 0) ms; unanswered, the entry has been removed")
        case .active:
            throw Rejection(code: "no_open_appeal", message: "entry \(entry.id) has no open appeal")
        case let status:
            throw Rejection(code: "entry_not_live", message: "entry \(entry.id) is no longer on the list (\(status.rawValue))")
        }
        try Self.checkText(arguments.reason, field: "the reason", required: true)
        let appellant = entry.appeal?.appellant ?? ""
        switch arguments.decision {
        case .maintain:
            entry.status = .active
            entry.appeal = nil
        case .withdraw:
            try end(&entry, as: .withdrawn)
        }
        var details = [BlacklistDetail("decision", arguments.decision.rawValue), BlacklistDetail("reason", arguments.reason),
                       BlacklistDetail("appellant", appellant)]
        if let evidence = arguments.evidenceHash { details.append(BlacklistDetail("evidenceHash", evidence.hex)) }
        appendHistory(&entry, .answered, details)
        save(entry)
        try updateContribution { $0.appealsAnswered += 1 }
        state.emitEvent("appeal_answered", [("entry", String(entry.id)), ("decision", arguments.decision.rawValue), ("appellant", appellant)])
    }

    mutating func revoke(_ arguments: RevokeBlacklistEntry) throws {
        var entry = try existingEntry(arguments.entryID)
        let byRegulator = entry.uploader != caller.organizationID
        guard !byRegulator || caller.kind == .regulator else {
            throw Rejection(code: "not_uploader",
                            message: "entry \(entry.id) was listed by \(entry.uploader); only its uploader or a regulator may revoke it")
        }
        entry = try liveEntry(entry.id)
        try Self.checkText(arguments.reason, field: "the reason", required: true)
        let openAppeal = entry.appeal?.appellant
        try end(&entry, as: .revoked)
        var details = [BlacklistDetail("reason", arguments.reason), BlacklistDetail("byRegulator", byRegulator ? "true" : "false")]
        if let openAppeal { details.append(BlacklistDetail("closedAppealOf", openAppeal)) }
        appendHistory(&entry, .revoked, details)
        save(entry)
        try updateContribution { $0.revocations += 1 }
        state.emitEvent("entry_revoked", [("entry", String(entry.id)), ("by", caller.organizationID), ("byRegulator", byRegulator ? "true" : "false")])
    }

    mutating func settle(_ arguments: SettleBlacklistEntries) throws {
        var settled: [UInt64] = []
        var seen = Set<UInt64>()
        for id in arguments.entryIDs where seen.insert(id).inserted {
            var entry = try existingEntry(id)
            var subjectRecord = try state.subjectRecord(entry.subject)
            if recordPendingEnd(&entry, subjectRecord: &subjectRecord) {
                state.write(BlacklistKeys.subject(entry.subject), subjectRecord.canonicalBytes)
                settled.append(id)
            }
        }
        guard !settled.isEmpty else {
            throw Rejection(code: "nothing_due", message: "none of the entries has a lapsed appeal or an expiry to record")
        }
        state.emitEvent("entries_settled", [("entries", settled.map(String.init).joined(separator: ","))])
    }

    // MARK: Checks

    /// Checks `subjects`: refuses the whole batch if it would exceed the
    /// caller's allowance; otherwise records one lookup per subject (who, when,
    /// why, what matched), one `checked` step in each matched entry's history,
    /// records any lapses and expiries that have come due on the subjects'
    /// entries, and emits one `check_match` event per matched subject and a
    /// `check_summary` (purposeCode, subjects, matchedSubjects, subjectsChecked,
    /// allowance, endsRecorded).
    package mutating func check(_ subjects: [BlacklistSubject], purposeCode: String, batchSubjectsMax: Int) throws -> BlacklistCheckOutcome {
        guard parameters.purposeCodes.contains(purposeCode) else {
            throw Rejection(code: "unknown_purpose",
                            message: "purpose code '\(purposeCode.prefix(64))' is not one of the genesis list: \(parameters.purposeCodes.joined(separator: ", "))")
        }
        guard !subjects.isEmpty else { throw Rejection(code: "empty_batch", message: "a check must name at least one subject") }
        guard subjects.count <= batchSubjectsMax else {
            throw Rejection(code: "batch_too_large", message: "a check may name at most \(batchSubjectsMax) subjects, this one names \(subjects.count)")
        }
        var distinct = Set<BlacklistSubject>()
        for subject in subjects {
            try Self.validate(subject)
            guard distinct.insert(subject).inserted else {
                throw Rejection(code: "duplicate_subject", message: "subject \(subject.text) appears twice in the batch")
            }
        }
        var contribution = try state.contribution(caller.organizationID)
        let allowance = parameters.allowance(entriesAdded: contribution.entriesAdded, corroborations: contribution.corroborations)
        let used = contribution.subjectsChecked
        let remaining = allowance > used ? allowance - used : 0
        guard UInt64(subjects.count) <= remaining else {
            throw Rejection(code: "over_allowance", message: """
                \(caller.organizationID) has checked \(used) of its \(allowance) allowed subjects and asks for \(subjects.count) more; \
                list or corroborate entries to raise the allowance (\(parameters.allowancePerEntry) per entry, \
                \(parameters.allowancePerCorroboration) per corroboration)
                """)
        }

        var outcome = BlacklistCheckOutcome(subjectsChecked: subjects.count, matchedSubjects: 0, matchedEntries: 0)
        var endsRecorded = 0
        for subject in subjects {
            var subjectRecord = try state.subjectRecord(subject)
            var matched: [BlacklistEntry] = []
            for var entry in try state.candidateEntries(of: subjectRecord) {
                if recordPendingEnd(&entry, subjectRecord: &subjectRecord, announce: false) {
                    endsRecorded += 1
                    continue
                }
                appendHistory(&entry, .checked, [BlacklistDetail("purposeCode", purposeCode), BlacklistDetail("batchSize", String(subjects.count))])
                save(entry)
                matched.append(entry)
            }
            let lookup = BlacklistLookupRecord(
                organization: caller.organizationID, signer: caller.signer, transactionID: caller.transactionID, blockHeight: caller.blockHeight,
                blockTimeMs: now, purposeCode: purposeCode, matchedEntryIDs: matched.map(\.id), batchSize: UInt32(subjects.count))
            state.write(BlacklistKeys.lookup(subject, subjectRecord.lookupCount), lookup.canonicalBytes)
            subjectRecord.lookupCount += 1
            state.write(BlacklistKeys.subject(subject), subjectRecord.canonicalBytes)
            if !matched.isEmpty {
                outcome.matchedSubjects += 1
                outcome.matchedEntries += matched.count
                state.emitEvent("check_match", matchAttributes(subject, matched))
            }
        }
        contribution.subjectsChecked += UInt64(subjects.count)
        contribution.checkTransactions += 1
        state.write(BlacklistKeys.contribution(caller.organizationID), contribution.canonicalBytes)
        state.emitEvent("check_summary", [
            ("purposeCode", purposeCode), ("subjects", String(subjects.count)), ("matchedSubjects", String(outcome.matchedSubjects)),
            ("subjectsChecked", String(contribution.subjectsChecked)), ("allowance", String(allowance)),
            ("endsRecorded", String(endsRecorded)),
        ])
        return outcome
    }

    /// Most entries listed in one `check_match` event (an event holds at most
    /// ``Limits/eventAttributesMax`` attributes); the rest are counted in `omitted`.
    static var entriesPerMatchEventMax: Int { Limits.eventAttributesMax - 4 }

    func matchAttributes(_ subject: BlacklistSubject, _ entries: [BlacklistEntry]) -> [(String, String)] {
        var attributes: [(String, String)] = [("subject", subject.text), ("matches", String(entries.count))]
        for entry in entries.prefix(Self.entriesPerMatchEventMax) {
            attributes.append(("entry", Self.matchSummary(entry, at: now)))
        }
        if entries.count > Self.entriesPerMatchEventMax {
            attributes.append(("omitted", String(entries.count - Self.entriesPerMatchEventMax)))
        }
        return attributes
    }

    /// One matched entry as compact JSON text: uploader, reason, dates,
    /// corroborations and disputes. Lists of institutions are left out if
    /// they would make the value longer than an event value may be.
    static func matchSummary(_ entry: BlacklistEntry, at nowMs: UInt64) -> String {
        var fields: [String: JSONValue] = [
            "entry": .integer(Int64(clamping: entry.id)),
            "uploader": .string(entry.uploader),
            "reasonCode": .string(entry.reasonCode),
            "status": .string(entry.status(at: nowMs).rawValue),
            "version": .integer(Int64(entry.version)),
            "listedAtMs": .integer(Int64(clamping: entry.listedAtMs)),
            "expiresAtMs": .integer(Int64(clamping: entry.effectiveExpiryMs)),
            "corroborations": .integer(Int64(entry.corroborators.count)),
            "disputes": .integer(Int64(entry.disputers.count)),
        ]
        if let appeal = entry.appeal, entry.status(at: nowMs) == .underAppeal {
            fields["appealDeadlineMs"] = .integer(Int64(clamping: appeal.deadlineMs))
        }
        let short = BlacklistJSONText.render(.object(fields))
        fields["corroboratedBy"] = .array(entry.corroborators.map { .string($0) })
        fields["disputedBy"] = .array(entry.disputers.map { .string($0) })
        let full = BlacklistJSONText.render(.object(fields))
        return full.utf8.count <= Limits.eventValueBytesMax ? full : short
    }
}

/// A stored counter.
package struct BlacklistCounterRecord: CanonicalCodable {
    var value: UInt64

    package func encode(to encoder: inout CanonicalEncoder) { encoder.write(value) }
    package init(value: UInt64) { self.value = value }
    package init(from decoder: inout CanonicalDecoder) throws(CodecError) { value = try decoder.readUInt64("counter") }
}

/// Compact JSON text with object keys in sorted order, so the same value
/// always renders to the same bytes (event values must be deterministic).
enum BlacklistJSONText {
    static func render(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .integer(let number): out += String(number)
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(members[key] ?? .null, to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
