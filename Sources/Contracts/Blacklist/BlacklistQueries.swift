import Ledger
import LedgerCore

extension BlacklistContract {
    /// The blacklist's read-only queries. They are not metered and not
    /// recorded: they serve auditors, regulators and uploaders. (A query carries
    /// no caller identity in the ledger's query interface, so restricting who may
    /// run them is the job of the node's API.) Times are block times in ms; an
    /// entry's `status` is evaluated against the latest committed block's time.
    public enum Query: String, CaseIterable, Sendable {
        /// The genesis parameters. No parameters. Answer: the object of ``BlacklistParameters/json``.
        case parameters
        /// One entry. Parameters: `id`. Answer: an entry object (see ``BlacklistQueries``).
        case entry
        /// An entry with its whole history and the blocks that hold each step.
        /// Parameters: `id`, optional `offset` and `limit` over the history.
        /// Answer: `{entry, history: [step], historyTotal, blocks: [block], verification}`.
        case provenance
        /// Every entry ever listed for a subject and every recorded look at it.
        /// Parameters: `subject` (`company:<code>` or `person:<64 hex>`), optional
        /// `offset` and `limit` over the lookups. Answer: `{subject, entries, lookups, lookupsTotal}`.
        case subject
        /// What an institution has contributed and consumed. Parameters: `organization`.
        /// A dispute is won when the disputed entry left the list by revocation,
        /// withdrawal or a lapsed appeal, lost when it ran to its expiry, and
        /// pending while it is live; outcomes are evaluated at the latest block time.
        /// Answer: `{organization, entriesAdded, entriesLive, entriesEnded, corroborations, disputesRaised,
        /// disputesWon, disputesLost, disputesPending, appealsFiled, appealsAnswered, revocations,
        /// subjectsChecked, checkTransactions, allowance, allowanceRemaining}`.
        case report
        /// Entries listed by an institution, oldest first. Parameters: `organization`, optional `offset`, `limit`.
        /// Answer: `{organization, entries, total}`.
        case uploads
    }
}

/// Answers ``BlacklistContract/Query`` queries over a ``QueryView``.
///
/// An entry object: `{id, subject, uploader, uploaderKey, version, reasonCode,
/// evidenceHash, note?, expiresAtMs?, effectiveExpiryMs, retentionEndsAtMs,
/// listedAtMs, listedAtHeight, status, storedStatus, endedAtMs?, underAppeal,
/// appeal?, corroboratedBy, disputedBy, appellants, historyCount}`.
///
/// A history step: `{sequence, action, organization, signer, transactionID,
/// blockHeight, transactionIndex, blockTimeMs, details}`.
///
/// A block: `{height, blockHash, parentHash, proposer, timestampMs, transactionsRoot,
/// stateHeight, stateRoot, validatorSetHash, certificate: {view, blockHash,
/// signatures: [{validatorIndex, signature}]}}` — enough to check offline
/// that each step's transaction sits in a block finalised by a quorum of
/// validators (``CommitCertificate/verify(header:validators:chainID:)``): the
/// header can be rebuilt from these fields and hashed. Proving that the
/// transaction is in the block takes the block's transaction list, which the
/// ledger's query view does not expose; fetch the block from the node.
public struct BlacklistQueries {
    let view: any QueryView
    let reader: BlacklistQueryReader

    /// Default and largest number of records in one answer.
    static let pageDefault = 1000

    /// Queries over `view`.
    public init(view: any QueryView) {
        self.view = view
        self.reader = BlacklistQueryReader(view: view)
    }

    /// Answers one query.
    public func answer(_ query: BlacklistContract.Query, _ parameters: [String: String]) throws(QueryError) -> JSONValue {
        switch query {
        case .parameters: return try .queryAnswer(try storage { () throws(StorageError) in try reader.parameters().answer })
        case .entry: return entryJSON(try existingEntry(parameters))
        case .provenance: return try provenance(parameters)
        case .subject: return try subjectHistory(parameters)
        case .report: return try report(parameters)
        case .uploads: return try uploads(parameters)
        }
    }

    private func storage<T>(_ body: () throws(StorageError) -> T) throws(QueryError) -> T {
        do {
            return try body()
        } catch {
            throw .storage(error)
        }
    }

    private func existingEntry(_ parameters: [String: String]) throws(QueryError) -> BlacklistEntry {
        guard let text = parameters["id"] else { throw .missing("id") }
        guard let id = UInt64(text) else { throw QueryError(.badParameter, "id '\(text.prefix(40))' is not an entry number") }
        guard let entry = try storage({ () throws(StorageError) in try reader.entry(id) }) else {
            throw QueryError(.notFound, "there is no blacklist entry \(id)")
        }
        return entry
    }

    private func page(_ parameters: [String: String]) throws(QueryError) -> (offset: UInt64, limit: Int) {
        var offset: UInt64 = 0
        var limit = Self.pageDefault
        if let text = parameters["offset"] {
            guard let value = UInt64(text) else { throw QueryError(.badParameter, "offset must be a non-negative integer") }
            offset = value
        }
        if let text = parameters["limit"] {
            guard let value = Int(text), (1...BlacklistLimits.queryRecordsMax).contains(value) else {
                throw QueryError(.badParameter, "limit must be an integer from 1 to \(BlacklistLimits.queryRecordsMax)")
            }
            limit = value
        }
        return (offset, limit)
    }

    private func organizationParameter(_ parameters: [String: String]) throws(QueryError) -> String {
        guard let organization = parameters["organization"] else { throw .missing("organization") }
        guard !organization.isEmpty, organization.utf8.count <= Limits.identifierBytesMax, !organization.contains("/") else {
            throw QueryError(.badParameter, "organization must be an organization id")
        }
        return organization
    }

    // MARK: Entries and provenance

    func entryJSON(_ entry: BlacklistEntry) -> JSONValue {
        let now = view.blockTimestampMs
        let status = entry.status(at: now)
        var fields: [String: JSONValue] = [
            "id": .integer(Int64(clamping: entry.id)),
            "subject": .string(entry.subject.text),
            "uploader": .string(entry.uploader),
            "uploaderKey": .string(entry.uploaderKey.hex),
            "version": .integer(Int64(entry.version)),
            "reasonCode": .string(entry.reasonCode),
            "evidenceHash": .string(entry.evidenceHash.hex),
            "effectiveExpiryMs": .integer(Int64(clamping: entry.effectiveExpiryMs)),
            "retentionEndsAtMs": .integer(Int64(clamping: entry.retentionEndsAtMs)),
            "listedAtMs": .integer(Int64(clamping: entry.listedAtMs)),
            "listedAtHeight": .integer(Int64(clamping: entry.listedAtHeight)),
            "status": .string(status.rawValue),
            "storedStatus": .string(entry.status.rawValue),
            "underAppeal": .bool(status == .underAppeal),
            "corroboratedBy": .array(entry.corroborators.map { .string($0) }),
            "disputedBy": .array(entry.disputers.map { .string($0) }),
            "appellants": .array(entry.appellants.map { .string($0) }),
            "historyCount": .integer(Int64(entry.historyCount)),
        ]
        if let note = entry.note { fields["note"] = .string(note) }
        if let expiry = entry.expiresAtMs { fields["expiresAtMs"] = .integer(Int64(clamping: expiry)) }
        if let ended = entry.endedAtMs ?? entry.pendingEnd(at: now)?.atMs { fields["endedAtMs"] = .integer(Int64(clamping: ended)) }
        if let appeal = entry.appeal {
            fields["appeal"] = .object([
                "appellant": .string(appeal.appellant),
                "filedAtMs": .integer(Int64(clamping: appeal.filedAtMs)),
                "deadlineMs": .integer(Int64(clamping: appeal.deadlineMs)),
                "reason": .string(appeal.reason),
                "relationshipEvidenceHash": .string(appeal.relationshipEvidenceHash.hex),
            ])
        }
        return .object(fields)
    }

    private func provenance(_ parameters: [String: String]) throws(QueryError) -> JSONValue {
        let (offset, limit) = try page(parameters)
        let entry = try existingEntry(parameters)
        var steps: [JSONValue] = []
        var heights = Set<UInt64>()
        var sequence = UInt32(clamping: offset)
        while sequence < entry.historyCount, steps.count < limit {
            let key = BlacklistKeys.history(entry.id, sequence)
            guard let record = try storage({ () throws(StorageError) in try reader.record(BlacklistHistoryRecord.self, key) }) else {
                throw QueryError(.storage, "history step \(sequence) of entry \(entry.id) is missing")
            }
            let location = try storage { () throws(StorageError) in try view.transactionLocation(record.transactionID) }
            steps.append(historyJSON(record, transactionIndex: location?.index))
            heights.insert(record.blockHeight)
            sequence += 1
        }
        var blocks: [JSONValue] = []
        for height in heights.sorted() {
            blocks.append(try blockJSON(height))
        }
        return .object([
            "entry": entryJSON(entry),
            "history": .array(steps),
            "historyTotal": .integer(Int64(entry.historyCount)),
            "blocks": .array(blocks),
            "verification": .string("""
                For each step: fetch the block at blockHeight, check its header hashes to blockHash, that the certificate's \
                signatures by a quorum of the genesis validators sign (chainID, height, view, blockHash), and that the \
                transaction at transactionIndex has id transactionID and is signed by signer, a key of organization.
                """),
        ])
    }

    func historyJSON(_ record: BlacklistHistoryRecord, transactionIndex: UInt32?) -> JSONValue {
        var details: [String: JSONValue] = [:]
        for detail in record.details { details[detail.key] = .string(detail.value) }
        return .object([
            "sequence": .integer(Int64(record.sequence)),
            "action": .string(record.action.rawValue),
            "organization": .string(record.organization),
            "signer": .string(record.signer.hex),
            "transactionID": .string(record.transactionID.hex),
            "blockHeight": .integer(Int64(clamping: record.blockHeight)),
            "transactionIndex": transactionIndex.map { .integer(Int64($0)) } ?? .null,
            "blockTimeMs": .integer(Int64(clamping: record.blockTimeMs)),
            "details": .object(details),
        ])
    }

    private func blockJSON(_ height: UInt64) throws(QueryError) -> JSONValue {
        let header = try storage { () throws(StorageError) in try view.blockHeader(at: height) }
        let certificate = try storage { () throws(StorageError) in try view.certificate(at: height) }
        guard let header else { throw QueryError(.storage, "block \(height) named in the history is missing") }
        let certificateJSON: JSONValue = certificate.map { certificate in
            .object([
                "height": .integer(Int64(clamping: certificate.height)),
                "view": .integer(Int64(clamping: certificate.view)),
                "blockHash": .string(certificate.blockHash.hex),
                "signatures": .array(certificate.signatures.map {
                    .object(["validatorIndex": .integer(Int64($0.validatorIndex)), "signature": .string($0.signature.hex)])
                }),
            ])
        } ?? .null
        return .object([
            "height": .integer(Int64(clamping: height)),
            "blockHash": .string(header.hash.hex),
            "parentHash": .string(header.parentHash.hex),
            "proposer": .string(header.proposer.hex),
            "timestampMs": .integer(Int64(clamping: header.timestampMs)),
            "transactionsRoot": .string(header.transactionsRoot.hex),
            "stateHeight": .integer(Int64(clamping: header.stateHeight)),
            "stateRoot": .string(header.stateRoot.hex),
            "validatorSetHash": .string(header.validatorSetHash.hex),
            "certificate": certificateJSON,
        ])
    }

    // MARK: Subjects

    private func subjectHistory(_ parameters: [String: String]) throws(QueryError) -> JSONValue {
        guard let text = parameters["subject"] else { throw .missing("subject") }
        let subject: BlacklistSubject
        do {
            subject = try BlacklistSubject(text: text)
        } catch {
            throw QueryError(.badParameter, error.message)
        }
        let (offset, limit) = try page(parameters)
        let record = try storage { () throws(StorageError) in try reader.subjectRecord(subject) }
        var entries: [JSONValue] = []
        for id in record.allEntryIDs {
            guard let entry = try storage({ () throws(StorageError) in try reader.entry(id) }) else {
                throw QueryError(.storage, "entry \(id) named by the subject record is missing")
            }
            entries.append(entryJSON(entry))
        }
        var lookups: [JSONValue] = []
        var sequence = offset
        while sequence < record.lookupCount, lookups.count < limit {
            let key = BlacklistKeys.lookup(subject, sequence)
            guard let lookup = try storage({ () throws(StorageError) in try reader.record(BlacklistLookupRecord.self, key) }) else {
                throw QueryError(.storage, "lookup \(sequence) of \(subject.text) is missing")
            }
            lookups.append(.object([
                "sequence": .integer(Int64(clamping: sequence)),
                "organization": .string(lookup.organization),
                "signer": .string(lookup.signer.hex),
                "transactionID": .string(lookup.transactionID.hex),
                "blockHeight": .integer(Int64(clamping: lookup.blockHeight)),
                "blockTimeMs": .integer(Int64(clamping: lookup.blockTimeMs)),
                "purposeCode": .string(lookup.purposeCode),
                "matchedEntries": .array(lookup.matchedEntryIDs.map { .integer(Int64(clamping: $0)) }),
                "batchSize": .integer(Int64(lookup.batchSize)),
            ]))
            sequence += 1
        }
        return .object([
            "subject": .string(subject.text),
            "entries": .array(entries),
            "lookups": .array(lookups),
            "lookupsTotal": .integer(Int64(clamping: record.lookupCount)),
        ])
    }

    // MARK: Institutions

    private func indexedEntries(_ index: String, _ organization: String, limit: Int) throws(QueryError) -> [BlacklistEntry] {
        let rows = try storage { () throws(StorageError) in
            try view.scanIndex(contract: BlacklistContract.name, index: index, prefix: stateKey(organization, ""), start: nil, limit: limit)
        }
        var entries: [BlacklistEntry] = []
        for row in rows {
            let idText = String(decoding: row.key.suffix(16), as: UTF8.self)
            guard let id = UInt64(idText, radix: 16),
                  let entry = try storage({ () throws(StorageError) in try reader.entry(id) }) else {
                throw QueryError(.storage, "index \(index) names an entry that does not exist")
            }
            entries.append(entry)
        }
        return entries
    }

    private func report(_ parameters: [String: String]) throws(QueryError) -> JSONValue {
        let organization = try organizationParameter(parameters)
        let found = try storage { () throws(StorageError) in try view.organization(id: organization) }
        guard found != nil else { throw QueryError(.notFound, "no organization '\(organization)'") }
        let now = view.blockTimestampMs
        let contribution = try storage { () throws(StorageError) in try reader.contribution(organization) }
        let settings = try storage { () throws(StorageError) in try reader.parameters() }
        let allowance = settings.allowance(entriesAdded: contribution.entriesAdded, corroborations: contribution.corroborations)
        var won: Int64 = 0
        var lost: Int64 = 0
        var pending: Int64 = 0
        for entry in try indexedEntries(BlacklistKeys.disputesIndex, organization, limit: BlacklistLimits.reportEntriesMax) {
            switch entry.status(at: now) {
            case .revoked, .withdrawn, .appealLapsed: won += 1
            case .expired: lost += 1
            case .active, .underAppeal: pending += 1
            }
        }
        var live: Int64 = 0
        var ended: Int64 = 0
        for entry in try indexedEntries(BlacklistKeys.uploadsIndex, organization, limit: BlacklistLimits.reportEntriesMax) {
            if entry.status(at: now).isLive { live += 1 } else { ended += 1 }
        }
        return .object([
            "organization": .string(organization),
            "entriesAdded": .integer(Int64(clamping: contribution.entriesAdded)),
            "entriesLive": .integer(live),
            "entriesEnded": .integer(ended),
            "corroborations": .integer(Int64(clamping: contribution.corroborations)),
            "disputesRaised": .integer(Int64(clamping: contribution.disputesRaised)),
            "disputesWon": .integer(won),
            "disputesLost": .integer(lost),
            "disputesPending": .integer(pending),
            "appealsFiled": .integer(Int64(clamping: contribution.appealsFiled)),
            "appealsAnswered": .integer(Int64(clamping: contribution.appealsAnswered)),
            "revocations": .integer(Int64(clamping: contribution.revocations)),
            "subjectsChecked": .integer(Int64(clamping: contribution.subjectsChecked)),
            "checkTransactions": .integer(Int64(clamping: contribution.checkTransactions)),
            "allowance": .integer(Int64(clamping: allowance)),
            "allowanceRemaining": .integer(Int64(clamping: allowance > contribution.subjectsChecked ? allowance - contribution.subjectsChecked : 0)),
        ])
    }

    private func uploads(_ parameters: [String: String]) throws(QueryError) -> JSONValue {
        let organization = try organizationParameter(parameters)
        let (offset, limit) = try page(parameters)
        let all = try indexedEntries(BlacklistKeys.uploadsIndex, organization, limit: BlacklistLimits.reportEntriesMax)
        let start = Int(min(offset, UInt64(all.count)))
        return .object([
            "organization": .string(organization),
            "entries": .array(all[start...].prefix(limit).map { entryJSON($0) }),
            "total": .integer(Int64(all.count)),
        ])
    }
}
