import Ledger
import LedgerCore

extension ClearingContract {
    /// Answers a query over committed state.
    ///
    /// - `payment` (`id`): every side with its versions, and the findings on the payment.
    /// - `breaks` (optional `participant`: an organization id — the payer or
    ///   payee institution, or the clearing house that had posted the clearing
    ///   side when the finding was posted; optional `open`: `true` for open
    ///   findings only; optional `paymentPrefix`: only payments whose id
    ///   starts with it, such as one batch's; optional `limit`, default 1000, at most 10000):
    ///   findings in payment id order (hex of its UTF-8 bytes), each with
    ///   `open` and its `resolution` or null.
    /// - `position` (`cycle`): the cycle's net positions per institution and
    ///   currency, their hash (what `signCycle` signs), and the per-currency totals (always 0).
    /// - `cycle` (`id`): the cycle's status, participants, who signed, who is
    ///   awaited, who was recorded unsigned, and its positions hash.
    /// - `openCycle` (`clearingHouse`): the id of the cycle that clearing house has open.
    /// - `config`: the contract's genesis parameters, including the
    ///   `reconciliation` object every job must use.
    public func query(_ name: String, parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        switch Query(rawValue: name) {
        case .payment:
            guard let id = parameters["id"] else { throw .missing("id") }
            return try payment(id, in: view)
        case .breaks:
            return try breaks(parameters, in: view)
        case .position:
            guard let id = parameters["cycle"] else { throw .missing("cycle") }
            let cycle = try cycle(id, in: view)
            var totals: [String: Int64] = [:]
            for position in cycle.positions { totals[position.currency, default: 0] &+= position.netMinor }
            return try .queryAnswer(ClearingPositionAnswer(cycle: cycle.id, status: cycle.status, positions: cycle.positions,
                                                           positionsHash: cycle.positions.positionsHash, totals: totals))
        case .cycle:
            guard let id = parameters["id"] else { throw .missing("id") }
            return try Self.json(try cycle(id, in: view))
        case .openCycle:
            guard let clearingHouse = parameters["clearingHouse"] else { throw .missing("clearingHouse") }
            let raw: [UInt8]?
            do { raw = try view.get(contract: Self.name, ClearingKeys.openCycle(clearingHouse)) } catch { throw .storage(error) }
            guard let raw else { throw QueryError(.notFound, "'\(clearingHouse)' has no open cycle") }
            return try .queryAnswer(ClearingOpenCycleAnswer(cycle: String(decoding: raw, as: UTF8.self)))
        case .config:
            guard let configuration = try view.get(ClearingConfiguration.self, contract: Self.name, ClearingKeys.config) else {
                throw QueryError(.storage, "the clearing configuration record is missing")
            }
            let reconciliation = configuration.reconciliation
            return try .queryAnswer(ClearingConfigAnswer(
                reconcilers: configuration.reconcilers, amountMinorMax: Int64(clamping: configuration.amountMinorMax),
                reconciliation: .init(graceMs: Int64(clamping: reconciliation.graceMs),
                                      inTransitThresholdMs: Int64(clamping: reconciliation.inTransitThresholdMs),
                                      duplicateWindowMs: Int64(clamping: reconciliation.duplicateWindowMs),
                                      retentionMs: Int64(clamping: reconciliation.retentionMs))))
        case nil:
            throw QueryError(.unknownQuery, "clearing has no query '\(name)' (\(Query.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    private func payment(_ id: String, in view: any QueryView) throws(QueryError) -> JSONValue {
        var sides: [JSONValue] = []
        let versionEntries: [(key: [UInt8], value: [UInt8])]
        do {
            versionEntries = try view.scan(contract: Self.name, prefix: ClearingKeys.versions(id), start: nil,
                                           limit: ClearingSide.allCases.count * ClearingLimits.versionsPerSideMax)
        } catch { throw .storage(error) }
        for side in ClearingSide.allCases {
            guard let head = try view.get(SideRecord.self, contract: Self.name, ClearingKeys.side(id, side)) else { continue }
            let prefix = ClearingKeys.version(id, side, 0).dropLast(20)
            var versions: [JSONValue] = []
            for entry in versionEntries where entry.key.starts(with: prefix) {
                guard let version = try? RecordVersion(canonicalBytes: entry.value) else { throw QueryError(.storage, "a record version does not decode") }
                versions.append(Self.json(version))
            }
            var object = Self.json(head)
            object["versions"] = .array(versions)
            sides.append(.object(object))
        }
        guard !sides.isEmpty else { throw QueryError(.notFound, "no record of payment '\(id)'") }
        let findingEntries: [(key: [UInt8], value: [UInt8])]
        do {
            findingEntries = try view.scan(contract: Self.name, prefix: ClearingKeys.findings(of: id), start: nil, limit: ClearingLimits.queryResultsMax)
        } catch { throw .storage(error) }
        var findings: [ClearingFindingAnswer] = []
        for entry in findingEntries { findings.append(try findingAnswer(entry.value, in: view)) }
        return .object(["paymentId": .string(id), "sides": .array(sides), "findings": try .queryAnswer(findings)])
    }

    private func breaks(_ parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        var limit = ClearingLimits.queryResultsDefault
        if let text = parameters["limit"] {
            guard let value = Int(text), (1...ClearingLimits.queryResultsMax).contains(value) else {
                throw QueryError(.badParameter, "limit must be an integer from 1 to \(ClearingLimits.queryResultsMax)")
            }
            limit = value
        }
        var openOnly = false
        if let text = parameters["open"] {
            guard text == "true" || text == "false" else { throw QueryError(.badParameter, "open must be true or false") }
            openOnly = text == "true"
        }
        let paymentPrefix = parameters["paymentPrefix"]
        if let paymentPrefix, paymentPrefix.isEmpty || paymentPrefix.utf8.count > ClearingLimits.paymentIDBytesMax {
            throw QueryError(.badParameter, "paymentPrefix must be 1 to \(ClearingLimits.paymentIDBytesMax) bytes")
        }
        var results: [ClearingFindingAnswer] = []
        var start: [UInt8]?
        let pageSize = 1000
        while results.count < limit {
            let page: [(key: [UInt8], value: [UInt8])]
            do {
                if let paymentPrefix {
                    // Hex keeps prefixes: the hex of a prefix starts the hex of every id it begins.
                    let prefix = Array(("finding/" + ClearingKeys.hex(paymentPrefix)).utf8)
                    page = try view.scan(contract: Self.name, prefix: prefix, start: start, limit: pageSize)
                } else if let participant = parameters["participant"] {
                    let prefix = Array((participant + "/").utf8)
                    let entries = try view.scanIndex(contract: Self.name, index: ClearingKeys.participantIndex, prefix: prefix, start: start, limit: pageSize)
                    page = try entries.map { entry throws(StorageError) in
                        let stateKey = Array("finding/".utf8) + entry.key.dropFirst(prefix.count)
                        guard let value = try view.get(contract: Self.name, stateKey) else {
                            throw StorageError.corrupted(reason: "the participant index names a finding that is not in state")
                        }
                        return (entry.key, value)
                    }
                } else if openOnly {
                    let prefix = ClearingKeys.openFindings
                    let entries = try view.scan(contract: Self.name, prefix: prefix, start: start, limit: pageSize)
                    page = try entries.map { entry throws(StorageError) in
                        guard let key = ClearingKeys.openFindingKey(Array(entry.key.dropFirst(prefix.count)), height: entry.value),
                              let value = try view.get(contract: Self.name, ClearingKeys.finding(key)) else {
                            throw StorageError.corrupted(reason: "an open-finding entry names no finding")
                        }
                        return (entry.key, value)
                    }
                } else {
                    page = try view.scan(contract: Self.name, prefix: ClearingKeys.findings, start: start, limit: pageSize)
                }
            } catch { throw .storage(error) }
            for entry in page where results.count < limit {
                let finding = try findingAnswer(entry.value, in: view)
                if openOnly, !finding.open { continue }
                if paymentPrefix != nil, let participant = parameters["participant"], !finding.participants.contains(participant) { continue }
                results.append(finding)
            }
            guard page.count == pageSize, let last = page.last else { break }
            start = last.key + [0]
        }
        return try .queryAnswer(results)
    }

    private func findingAnswer(_ raw: [UInt8], in view: any QueryView) throws(QueryError) -> ClearingFindingAnswer {
        guard let finding = try? FindingRecord(canonicalBytes: raw) else { throw QueryError(.storage, "a finding record does not decode") }
        let resolution = try view.get(ResolutionRecord.self, contract: Self.name, ClearingKeys.resolution(finding.key))
        return ClearingFindingAnswer(
            paymentID: finding.key.paymentID, kind: finding.key.kind, side: finding.key.side,
            detectedAtHeight: Int64(clamping: finding.key.detectedAtHeight), details: finding.details, postedBy: finding.postedBy,
            postedAtHeight: Int64(clamping: finding.postedAtHeight), participants: finding.participants, open: resolution == nil,
            resolution: resolution.map { resolution in
                ClearingFindingAnswer.Resolution(resolvedAtHeight: Int64(clamping: resolution.resolvedAtHeight), details: resolution.details,
                                                 postedBy: resolution.postedBy, postedAtHeight: Int64(clamping: resolution.postedAtHeight))
            })
    }

    private func cycle(_ id: String, in view: any QueryView) throws(QueryError) -> SettlementCycle {
        guard let cycle = try view.get(SettlementCycle.self, contract: Self.name, ClearingKeys.cycle(id)) else {
            throw QueryError(.notFound, "no settlement cycle '\(id)'")
        }
        return cycle
    }

    static func json(_ cycle: SettlementCycle) throws(QueryError) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(cycle.id),
            "clearingHouse": .string(cycle.clearingHouse),
            "status": .string(cycle.status.rawValue),
            "openedAtHeight": .integer(Int64(clamping: cycle.openedAtHeight)),
            "openedAtMs": .integer(Int64(clamping: cycle.openedAtMs)),
            "frozenAtHeight": cycle.frozenAtHeight.map { .integer(Int64(clamping: $0)) } ?? .null,
            "closedAtHeight": cycle.closedAtHeight.map { .integer(Int64(clamping: $0)) } ?? .null,
            "entries": .integer(Int64(clamping: cycle.entryCount)),
            "participants": .array(cycle.participants.map { .string($0) }),
            "signed": .array(cycle.signatures.map { .object(["institution": .string($0.institution), "height": .integer(Int64(clamping: $0.height))]) }),
            "awaiting": .array((cycle.status == .closed ? [] : cycle.awaitingSignatures).map { .string($0) }),
            "unsigned": .array(cycle.unsigned.map { .string($0) }),
            "positionsHash": .string(cycle.positions.positionsHash.hex),
        ]
        object["positions"] = try .queryAnswer(cycle.positions)
        return .object(object)
    }

    static func json(_ head: SideRecord) -> [String: JSONValue] {
        [
            "side": .string(head.side.rawValue),
            "postedBy": .string(head.postedBy),
            "payer": .object(["institution": .string(head.payer.institution), "account": .string(head.payer.account)]),
            "payee": .object(["institution": .string(head.payee.institution), "account": .string(head.payee.account)]),
            "amountMinor": .integer(Int64(clamping: head.amountMinor)),
            "currency": .string(head.currency),
            "participantTimestampMs": .integer(Int64(clamping: head.participantTimestampMs)),
            "channel": .string(head.channel),
            "status": .string(head.status.rawValue),
            "version": .integer(Int64(head.version)),
            "postedAtHeight": .integer(Int64(clamping: head.postedAtHeight)),
            "postedAtMs": .integer(Int64(clamping: head.postedAtMs)),
            "settledInCycle": head.settledInCycle.map { .string($0) } ?? .null,
            "returnedInCycle": head.returnedInCycle.map { .string($0) } ?? .null,
        ]
    }

    static func json(_ version: RecordVersion) -> JSONValue {
        .object([
            "version": .integer(Int64(version.version)),
            "status": .string(version.status.rawValue),
            "amountMinor": .integer(Int64(clamping: version.amountMinor)),
            "currency": .string(version.currency),
            "participantTimestampMs": .integer(Int64(clamping: version.participantTimestampMs)),
            "height": .integer(Int64(clamping: version.height)),
            "timeMs": .integer(Int64(clamping: version.timeMs)),
            "transaction": .string(version.transactionID.hex),
        ])
    }
}
