import Ledger
import LedgerCore

/// Clearing records, settlement cycles and reconciliation results (docs/contracts.md, Clearing).
///
/// **Records.** Each participant posts its own view of a payment (`post`) and
/// later status updates of it (`update`). The side of a record follows from
/// the sender's organization: a clearing house posts the `clearing` side; a
/// bank posts the `payer` side if it is the record's payer institution, the
/// `payee` side if it is the payee institution, and may not post otherwise.
/// Payer and payee institutions are banks of the consortium and must differ;
/// every side of one payment names the same two institutions (the first
/// record fixes them). A side is posted once and only its poster may update
/// it; every change is kept as an immutable version.
///
/// **Cycles.** A clearing house opens a cycle (`openCycle`; at most one open
/// per clearing house). A payment belongs to the cycle that was open at the
/// clearing house when the clearing side recorded it `settled` (by `post` or
/// `update`); recording a settlement without an open cycle is refused. When
/// the clearing side later records a settled payment `returned`, the
/// reversal goes into the cycle open at that moment. `closeCycle` freezes a
/// cycle; each participant (an institution named as payer or payee by any of
/// its entries) then signs its positions (`signCycle`), and the last
/// signature closes it. `closeCycle` with `force` closes a frozen cycle at
/// once, recording who has not signed.
///
/// **Findings.** A reconciliation job posts each break it finds
/// (`postFinding`) and later its resolution (`resolveFinding`), signed with
/// a member key of a bank or clearing house (restricted to the genesis list
/// `reconcilers` when that is set). Findings are idempotent by being ignored:
/// posting a finding whose key was already posted, or while another finding
/// of the same (payment, kind, side) is open, and resolving a finding already
/// resolved, succeed without changing anything and emit `finding_ignored` or
/// `resolution_ignored` with the reason. Ignoring rather than refusing keeps
/// a job's batch intact: a refused transaction leaves its nonce unused, so
/// every later transaction of the batch would fail on its nonce. Malformed
/// findings (unknown payment, impossible heights, unknown finding to resolve)
/// are still refused.
public struct ClearingContract: BuiltInContract {
    /// The contract's name and state namespace.
    public static let name = "clearing"

    /// The clearing contract; it has no configuration beyond its genesis section.
    public init() {}

    /// Query names; parameters are listed in ``query(_:parameters:in:)``.
    public enum Query: String, CaseIterable, Sendable {
        case payment
        case breaks
        case position
        case cycle
        case openCycle
        case config
    }

    /// The event a committed record change carries; ``ClearingBlock/extract(block:receipts:)`` reads it.
    public static let recordEvent = "record"

    /// Writes the configuration read from `genesis.contracts["clearing"]` (see ``ClearingConfiguration/parse(_:organizations:)``).
    public func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])] {
        let configuration = try ClearingConfiguration.parse(genesis.contracts[Self.name], organizations: genesis.organizations)
        return [(ClearingKeys.config, configuration.canonicalBytes)]
    }

    /// Runs one operation; refusals are ``Rejection``s with stable codes.
    public func execute(_ call: ContractCall, in context: inout TransactionContext) throws {
        switch try operation(of: call) {
        case .post: try post(PostRecord(canonicalBytes: call.arguments), in: &context)
        case .update: try update(UpdateRecord(canonicalBytes: call.arguments), in: &context)
        case .openCycle: try openCycle(OpenCycle(canonicalBytes: call.arguments), in: &context)
        case .closeCycle: try closeCycle(CloseCycle(canonicalBytes: call.arguments), in: &context)
        case .signCycle: try signCycle(SignCycle(canonicalBytes: call.arguments), in: &context)
        case .postFinding: try postFinding(PostFinding(canonicalBytes: call.arguments), in: &context)
        case .resolveFinding: try resolveFinding(ResolveFinding(canonicalBytes: call.arguments), in: &context)
        }
    }

    // MARK: Records

    private func configuration(_ context: TransactionContext) throws -> ClearingConfiguration {
        guard let configuration = try context.get(ClearingConfiguration.self, ClearingKeys.config) else {
            throw StorageError.corrupted(reason: "the clearing configuration record is missing")
        }
        return configuration
    }

    private func post(_ record: PostRecord, in context: inout TransactionContext) throws {
        let configuration = try configuration(context)
        try checkPaymentID(record.paymentID)
        guard !record.payer.account.isEmpty, !record.payee.account.isEmpty else {
            throw Rejection(code: "bad_account", message: "payer and payee accounts must not be empty")
        }
        guard record.payer.institution != record.payee.institution else {
            throw Rejection(code: "same_institution", message: "payer and payee institution are both '\(record.payer.institution)'; on-us payments are not cleared")
        }
        try checkAmount(record.amountMinor, configuration)
        try checkCurrency(record.currency)
        guard !record.channel.isEmpty else { throw Rejection(code: "bad_channel", message: "the channel must not be empty") }

        let organization = context.organization
        let side: ClearingSide
        if organization.kind == .clearingHouse {
            side = .clearing
        } else if organization.id == record.payer.institution {
            side = .payer
        } else if organization.id == record.payee.institution {
            side = .payee
        } else {
            throw Rejection(code: "not_a_party", message: "'\(organization.id)' is neither the payer nor the payee institution of payment '\(record.paymentID)'; a bank posts only its own side")
        }
        if let existing = try context.get(SideRecord.self, ClearingKeys.side(record.paymentID, side)) {
            throw Rejection(code: "side_already_posted", message: "the \(side.rawValue) side of payment '\(record.paymentID)' was posted by '\(existing.postedBy)' at height \(existing.postedAtHeight); send an update instead")
        }
        for other in ClearingSide.allCases where other != side {
            guard let existing = try context.get(SideRecord.self, ClearingKeys.side(record.paymentID, other)) else { continue }
            guard existing.payer.institution == record.payer.institution, existing.payee.institution == record.payee.institution else {
                throw Rejection(code: "institutions_differ", message: "payment '\(record.paymentID)' is between '\(existing.payer.institution)' and '\(existing.payee.institution)' on its \(other.rawValue) side")
            }
        }
        for institution in [record.payer.institution, record.payee.institution] {
            guard let bank = try context.organization(id: institution), bank.kind == .bank else {
                throw Rejection(code: "unknown_institution", message: "'\(institution)' is not a bank of the consortium")
            }
        }
        var head = SideRecord(side: side, postedBy: organization.id, record: record, height: context.blockHeight, timeMs: context.blockTimestampMs)
        if side == .clearing && record.status == .settled {
            head.settledInCycle = try addCycleEntry(.settlement, head: head, paymentID: record.paymentID, in: &context)
        }
        try store(head, paymentID: record.paymentID, change: "posted", in: &context)
    }

    private func update(_ update: UpdateRecord, in context: inout TransactionContext) throws {
        let configuration = try configuration(context)
        let organization = context.organization
        var mine: SideRecord?
        var anySide = false
        for side in ClearingSide.allCases {
            guard let existing = try context.get(SideRecord.self, ClearingKeys.side(update.paymentID, side)) else { continue }
            anySide = true
            let eligible = organization.kind == .clearingHouse ? side == .clearing : side != .clearing
            if eligible && existing.postedBy == organization.id {
                mine = existing
                break
            }
        }
        guard var head = mine else {
            if anySide {
                throw Rejection(code: "not_your_record", message: "'\(organization.id)' has posted no side of payment '\(update.paymentID)'; only a side's poster may update it")
            }
            throw Rejection(code: "unknown_payment", message: "no record of payment '\(update.paymentID)' has been posted")
        }
        guard head.version < ClearingLimits.versionsPerSideMax else {
            throw Rejection(code: "too_many_versions", message: "a side may have at most \(ClearingLimits.versionsPerSideMax) versions")
        }
        guard head.status.allowsUpdate(to: update.status) else {
            let reason = head.status == update.status ? "the status is already \(head.status.rawValue)"
                : head.status.isFinal ? "\(head.status.rawValue) is final"
                : "a settled payment can only be returned"
            throw Rejection(code: "bad_transition", message: "cannot move the \(head.side.rawValue) side of '\(update.paymentID)' from \(head.status.rawValue) to \(update.status.rawValue): \(reason)")
        }
        let amount = update.correctedAmountMinor ?? head.amountMinor
        let currency = update.correctedCurrency ?? head.currency
        try checkAmount(amount, configuration)
        try checkCurrency(currency)
        if head.settledInCycle != nil && (amount != head.amountMinor || currency != head.currency) {
            throw Rejection(code: "settled_record_fixed", message: "the clearing side of '\(update.paymentID)' is settled in cycle '\(head.settledInCycle ?? "")'; its amount and currency can no longer change")
        }
        head.amountMinor = amount
        head.currency = currency
        head.status = update.status
        head.participantTimestampMs = update.participantTimestampMs
        head.version += 1
        if head.side == .clearing {
            if update.status == .settled {
                head.settledInCycle = try addCycleEntry(.settlement, head: head, paymentID: update.paymentID, in: &context)
            } else if update.status == .returned && head.settledInCycle != nil {
                head.returnedInCycle = try addCycleEntry(.reversal, head: head, paymentID: update.paymentID, in: &context)
            }
        }
        try store(head, paymentID: update.paymentID, change: "updated", in: &context)
    }

    private func store(_ head: SideRecord, paymentID: String, change: String, in context: inout TransactionContext) throws {
        context.put(ClearingKeys.side(paymentID, head.side), head)
        let version = RecordVersion(
            version: head.version, status: head.status, amountMinor: head.amountMinor, currency: head.currency,
            participantTimestampMs: head.participantTimestampMs, height: context.blockHeight, timeMs: context.blockTimestampMs,
            transactionID: context.transactionID)
        context.put(ClearingKeys.version(paymentID, head.side, head.version), version)
        context.emit(Self.recordEvent, ClearingRecordChange(paymentID: paymentID, head: head).eventAttributes(change: change))
    }

    private func checkPaymentID(_ id: String) throws {
        guard !id.isEmpty else { throw Rejection(code: "bad_payment_id", message: "the payment id must not be empty") }
    }

    private func checkAmount(_ amount: UInt64, _ configuration: ClearingConfiguration) throws {
        guard amount > 0, amount <= configuration.amountMinorMax else {
            throw Rejection(code: "bad_amount", message: "amount \(amount) must be from 1 to \(configuration.amountMinorMax) minor units")
        }
    }

    private func checkCurrency(_ currency: String) throws {
        guard isCurrencyCode(currency) else {
            throw Rejection(code: "bad_currency", message: "currency '\(currency)' is not an ISO 4217 code of three upper-case letters")
        }
    }

    // MARK: Cycles

    /// Records a settlement or reversal of the clearing side into the sender's
    /// open cycle and returns that cycle's id.
    private func addCycleEntry(_ kind: CycleEntryKind, head: SideRecord, paymentID: String, in context: inout TransactionContext) throws -> String {
        let clearingHouse = context.organization.id
        guard let rawID = try context.get(ClearingKeys.openCycle(clearingHouse)) else {
            throw Rejection(code: "no_open_cycle", message: "'\(clearingHouse)' has no open settlement cycle; open one before recording a settlement or return")
        }
        let cycleID = String(decoding: rawID, as: UTF8.self)
        guard var cycle = try context.get(SettlementCycle.self, ClearingKeys.cycle(cycleID)) else {
            throw StorageError.corrupted(reason: "open cycle '\(cycleID)' of '\(clearingHouse)' has no record")
        }
        let payer = head.payer.institution
        let payee = head.payee.institution
        let amount = Int64(head.amountMinor)
        let (payerDelta, payeeDelta) = kind == .settlement ? (-amount, amount) : (amount, -amount)
        try adjust(&cycle, institution: payer, currency: head.currency, by: payerDelta)
        try adjust(&cycle, institution: payee, currency: head.currency, by: payeeDelta)
        for institution in [payer, payee] where !cycle.participants.contains(institution) {
            guard cycle.participants.count < ClearingLimits.cycleParticipantsMax else {
                throw Rejection(code: "cycle_full", message: "cycle '\(cycleID)' already has \(ClearingLimits.cycleParticipantsMax) participants")
            }
            cycle.participants.insert(institution, at: cycle.participants.firstIndex(where: { $0 > institution }) ?? cycle.participants.count)
        }
        let entry = CycleEntry(kind: kind, paymentID: paymentID, payer: payer, payee: payee, amountMinor: head.amountMinor,
                               currency: head.currency, height: context.blockHeight)
        context.put(ClearingKeys.cycleEntry(cycleID, cycle.entryCount), entry)
        cycle.entryCount += 1
        context.put(ClearingKeys.cycle(cycleID), cycle)
        return cycleID
    }

    private func adjust(_ cycle: inout SettlementCycle, institution: String, currency: String, by delta: Int64) throws {
        let index = cycle.positions.firstIndex { ($0.institution, $0.currency) >= (institution, currency) } ?? cycle.positions.count
        if index < cycle.positions.count, cycle.positions[index].institution == institution, cycle.positions[index].currency == currency {
            let (sum, overflow) = cycle.positions[index].netMinor.addingReportingOverflow(delta)
            guard !overflow else {
                throw Rejection(code: "position_overflow", message: "the net position of '\(institution)' in \(currency) would overflow in cycle '\(cycle.id)'")
            }
            cycle.positions[index].netMinor = sum
        } else {
            guard cycle.positions.count < ClearingLimits.cyclePositionsMax else {
                throw Rejection(code: "cycle_full", message: "cycle '\(cycle.id)' already holds \(ClearingLimits.cyclePositionsMax) positions")
            }
            cycle.positions.insert(NetPosition(institution: institution, currency: currency, netMinor: delta), at: index)
        }
    }

    private func openCycle(_ arguments: OpenCycle, in context: inout TransactionContext) throws {
        guard !arguments.cycleID.isEmpty else { throw Rejection(code: "bad_cycle_id", message: "the cycle id must not be empty") }
        let clearingHouse = context.organization.id
        if let existing = try context.get(SettlementCycle.self, ClearingKeys.cycle(arguments.cycleID)) {
            throw Rejection(code: "cycle_exists", message: "cycle '\(arguments.cycleID)' was opened by '\(existing.clearingHouse)' at height \(existing.openedAtHeight)")
        }
        if let open = try context.get(ClearingKeys.openCycle(clearingHouse)) {
            throw Rejection(code: "cycle_already_open", message: "'\(clearingHouse)' already has cycle '\(String(decoding: open, as: UTF8.self))' open; close it first")
        }
        let cycle = SettlementCycle(id: arguments.cycleID, clearingHouse: clearingHouse, openedAtHeight: context.blockHeight, openedAtMs: context.blockTimestampMs)
        context.put(ClearingKeys.cycle(cycle.id), cycle)
        context.put(ClearingKeys.openCycle(clearingHouse), Array(cycle.id.utf8))
        context.emit("cycle_opened", [("cycle", cycle.id), ("clearingHouse", clearingHouse)])
    }

    private func closeCycle(_ arguments: CloseCycle, in context: inout TransactionContext) throws {
        var cycle = try ownCycle(arguments.cycleID, context)
        switch cycle.status {
        case .closed:
            throw Rejection(code: "cycle_closed", message: "cycle '\(cycle.id)' is already closed")
        case .open:
            cycle.status = .closing
            cycle.frozenAtHeight = context.blockHeight
            context.delete(ClearingKeys.openCycle(cycle.clearingHouse))
            context.emit("cycle_frozen", [("cycle", cycle.id), ("positionsHash", cycle.positions.positionsHash.hex)])
            if cycle.awaitingSignatures.isEmpty || arguments.force { finish(&cycle, in: &context) }
        case .closing:
            let awaiting = cycle.awaitingSignatures
            guard arguments.force else {
                throw Rejection(code: "awaiting_signatures", message: "cycle '\(cycle.id)' awaits the sign-off of \(awaiting.joined(separator: ", ")); close with force to record them as unsigned")
            }
            finish(&cycle, in: &context)
        }
        context.put(ClearingKeys.cycle(cycle.id), cycle)
    }

    private func finish(_ cycle: inout SettlementCycle, in context: inout TransactionContext) {
        cycle.unsigned = cycle.awaitingSignatures
        cycle.status = .closed
        cycle.closedAtHeight = context.blockHeight
        context.emit("cycle_closed", [("cycle", cycle.id), ("unsigned", cycle.unsigned.joined(separator: ","))])
    }

    private func ownCycle(_ id: String, _ context: TransactionContext) throws -> SettlementCycle {
        guard let cycle = try context.get(SettlementCycle.self, ClearingKeys.cycle(id)) else {
            throw Rejection(code: "unknown_cycle", message: "no settlement cycle '\(id)'")
        }
        guard cycle.clearingHouse == context.organization.id else {
            throw Rejection(code: "not_your_cycle", message: "cycle '\(id)' belongs to '\(cycle.clearingHouse)'")
        }
        return cycle
    }

    private func signCycle(_ arguments: SignCycle, in context: inout TransactionContext) throws {
        guard var cycle = try context.get(SettlementCycle.self, ClearingKeys.cycle(arguments.cycleID)) else {
            throw Rejection(code: "unknown_cycle", message: "no settlement cycle '\(arguments.cycleID)'")
        }
        let institution = context.organization.id
        switch cycle.status {
        case .open: throw Rejection(code: "cycle_open", message: "cycle '\(cycle.id)' is still open; positions are signed once its clearing house closes it")
        case .closed: throw Rejection(code: "cycle_closed", message: "cycle '\(cycle.id)' is already closed")
        case .closing: break
        }
        guard cycle.participants.contains(institution) else {
            throw Rejection(code: "not_a_participant", message: "'\(institution)' has no position in cycle '\(cycle.id)'")
        }
        guard !cycle.signatures.contains(where: { $0.institution == institution }) else {
            throw Rejection(code: "already_signed", message: "'\(institution)' has already signed cycle '\(cycle.id)'")
        }
        let expected = cycle.positions.positionsHash
        guard arguments.positionsHash == expected else {
            throw Rejection(code: "positions_differ", message: "the signed positions hash \(arguments.positionsHash.short)… is not the cycle's \(expected.short)…")
        }
        cycle.signatures.append(CycleSignature(institution: institution, height: context.blockHeight))
        context.emit("cycle_signed", [("cycle", cycle.id), ("institution", institution)])
        if cycle.awaitingSignatures.isEmpty { finish(&cycle, in: &context) }
        context.put(ClearingKeys.cycle(cycle.id), cycle)
    }

    // MARK: Findings

    private func checkReconciler(_ context: TransactionContext) throws {
        let configuration = try configuration(context)
        guard configuration.reconcilers.isEmpty || configuration.reconcilers.contains(context.organization.id) else {
            throw Rejection(code: "not_a_reconciler", message: "'\(context.organization.id)' is not among the reconcilers named at genesis")
        }
    }

    private func postFinding(_ finding: PostFinding, in context: inout TransactionContext) throws {
        try checkReconciler(context)
        let key = finding.key
        guard key.detectedAtHeight < context.blockHeight else {
            throw Rejection(code: "bad_height", message: "detection height \(key.detectedAtHeight) must be below this block's height \(context.blockHeight)")
        }
        var participants = Set<String>()
        for side in ClearingSide.allCases {
            guard let head = try context.get(SideRecord.self, ClearingKeys.side(key.paymentID, side)) else { continue }
            participants.formUnion([head.payer.institution, head.payee.institution, head.postedBy])
        }
        guard !participants.isEmpty else {
            throw Rejection(code: "unknown_payment", message: "no record of payment '\(key.paymentID)' has been posted")
        }
        if let existing = try context.get(FindingRecord.self, ClearingKeys.finding(key)) {
            context.emit("finding_ignored", Self.attributes(key) + [("reason", "already_posted"), ("postedBy", existing.postedBy),
                                                                    ("postedAtHeight", String(existing.postedAtHeight))])
            return
        }
        if let open = try context.get(ClearingKeys.openFinding(key.paymentID, key.kind, key.side)) {
            context.emit("finding_ignored", Self.attributes(key) + [("reason", "open_finding_exists"), ("openSinceHeight", Self.decodeHeight(open))])
            return
        }
        let record = FindingRecord(key: key, details: finding.details, postedBy: context.organization.id, postedAtHeight: context.blockHeight,
                                   participants: participants.sorted())
        context.put(ClearingKeys.finding(key), record)
        context.put(ClearingKeys.openFinding(key.paymentID, key.kind, key.side), Self.encodeHeight(key.detectedAtHeight))
        for participant in record.participants {
            context.setIndex(ClearingKeys.participantIndex, Array((participant + "/" + ClearingKeys.findingSuffix(key)).utf8))
        }
        context.emit("finding_posted", Self.attributes(key))
    }

    private func resolveFinding(_ resolution: ResolveFinding, in context: inout TransactionContext) throws {
        try checkReconciler(context)
        let key = resolution.key
        guard try context.get(FindingRecord.self, ClearingKeys.finding(key)) != nil else {
            throw Rejection(code: "finding_not_found", message: "no \(key.kind.rawValue) finding on the \(key.side.rawValue) side of '\(key.paymentID)' detected at height \(key.detectedAtHeight)")
        }
        guard resolution.resolvedAtHeight >= key.detectedAtHeight, resolution.resolvedAtHeight < context.blockHeight else {
            throw Rejection(code: "bad_height", message: "resolution height \(resolution.resolvedAtHeight) must be from the detection height \(key.detectedAtHeight) to below this block's height \(context.blockHeight)")
        }
        if let existing = try context.get(ResolutionRecord.self, ClearingKeys.resolution(key)) {
            context.emit("resolution_ignored", Self.attributes(key) + [("reason", "already_resolved"), ("postedBy", existing.postedBy),
                                                                       ("postedAtHeight", String(existing.postedAtHeight))])
            return
        }
        context.put(ClearingKeys.resolution(key), ResolutionRecord(resolvedAtHeight: resolution.resolvedAtHeight, details: resolution.details,
                                                                   postedBy: context.organization.id, postedAtHeight: context.blockHeight))
        context.delete(ClearingKeys.openFinding(key.paymentID, key.kind, key.side))
        context.emit("finding_resolved", Self.attributes(key) + [("resolvedAtHeight", String(resolution.resolvedAtHeight))])
    }

    static func attributes(_ key: FindingKey) -> [(String, String)] {
        [("payment", key.paymentID), ("kind", key.kind.rawValue), ("side", key.side.rawValue), ("detectedAtHeight", String(key.detectedAtHeight))]
    }

    static func encodeHeight(_ height: UInt64) -> [UInt8] {
        var encoder = CanonicalEncoder()
        encoder.write(height)
        return encoder.bytes
    }

    static func decodeHeight(_ raw: [UInt8]) -> String {
        var decoder = CanonicalDecoder(raw)
        return (try? decoder.readUInt64("height")).map(String.init) ?? "unknown"
    }
}
