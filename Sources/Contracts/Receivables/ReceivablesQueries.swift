import Ledger
import LedgerCore

extension ReceivablesContract {
    /// The receivables contract's queries, with their parameters. All answers are
    /// JSON objects; amounts are integers in minor units, dates `YYYY-MM-DD`,
    /// times milliseconds since 1970, and "overdue" is judged against the latest
    /// committed block's time.
    public enum Query: String, CaseIterable, Sendable {
        /// `voucher` (id) → the voucher, its trade documents, decisions and settlement clearing.
        case voucher
        /// `piece` (`<voucher>:<first>-<last>`) → the piece, its state and full history.
        case piece
        /// `voucher` (id), `limit` (optional) → every piece record of the voucher, live and retired, in unit order.
        case tree
        /// `piece`, `certificates` (optional `true`), `limit` (optional) → `issuance` (voucher with
        /// invoices and contract hash), `ancestors` (root first), `piece`, `descendants` (in unit
        /// order), `truncated`; every step carries its transaction hash, organization, signer key,
        /// height and time. With `certificates=true` also `transactions` (hash → height and index
        /// in its block) and `certificates` (header fields and validator signatures of every block
        /// holding one of those transactions).
        case trace
        /// `organization`, `limit` (optional) → `pieces` the organization holds (including settled
        /// ones, until paid out of the ledger), `totals` by currency and status (plus `frozen`),
        /// `incoming` offers waiting for it, and `vouchersAwaitingAcceptance` naming it as supplier.
        case holdings
        /// `issuer` → cumulative issued, outstanding, settled, overdue count and amount (per currency), credit lines.
        case disclosure
        /// `issuer` (optional), `limit` (optional) → accepted vouchers past their due date and unsettled.
        case overdue
        /// `issuer`, `bank` → the credit line and its use.
        case creditLine
        /// `organization` → its settings and its maker–checker actions (pending and decided), newest last.
        case actions
    }

    public func query(_ name: String, parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        guard let query = Query(rawValue: name) else {
            throw QueryError(.unknownQuery, "receivables has no query '\(name)' (\(Query.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let limit = try Self.limit(parameters)
        switch query {
        case .voucher:
            return Self.json(try Self.voucher(try Self.required("voucher", parameters), view))
        case .piece:
            let piece = try Self.piece(try Self.pieceID(parameters), view)
            return Self.json(piece)
        case .tree:
            let voucher = try Self.voucher(try Self.required("voucher", parameters), view)
            let (pieces, truncated) = try Self.pieces(of: voucher.id, within: nil, view, limit: limit)
            return .object(["voucher": Self.json(voucher), "pieces": .array(pieces.map { Self.json($0) }), "truncated": .bool(truncated)])
        case .trace:
            return try trace(parameters, view, limit: limit)
        case .holdings:
            return try holdings(try Self.required("organization", parameters), view, limit: limit)
        case .disclosure:
            return try disclosure(try Self.required("issuer", parameters), view)
        case .overdue:
            return try overdue(parameters["issuer"], view, limit: limit)
        case .creditLine:
            let issuer = try Self.required("issuer", parameters)
            let bank = try Self.required("bank", parameters)
            guard let line = try view.get(ReceivableCreditLineRecord.self, contract: Self.name, Keys.creditLine(issuer: issuer, bank: bank)) else {
                throw QueryError(.notFound, "bank '\(bank)' has granted '\(issuer)' no credit line")
            }
            return Self.json(line)
        case .actions:
            let organization = try Self.required("organization", parameters)
            let settings = try view.get(ReceivableSettings.self, contract: Self.name, Keys.settings(organization)) ?? ReceivableSettings()
            let entries = try Self.scan(view, Keys.actions(of: organization), start: nil, limit: limit)
            var actions: [ReceivablePendingAction] = []
            for entry in entries { actions.append(try Self.decode(ReceivablePendingAction.self, entry.value)) }
            actions.sort { ($0.prepared.height, $0.id) < ($1.prepared.height, $1.id) }
            return .object([
                "settings": .object(["autoAcceptTransfers": .bool(settings.autoAcceptTransfers), "makerChecker": .bool(settings.makerChecker)]),
                "actions": .array(actions.map { Self.json($0) }),
            ])
        }
    }

    // MARK: Trace

    private func trace(_ parameters: [String: String], _ view: any QueryView, limit: Int) throws(QueryError) -> JSONValue {
        let piece = try Self.piece(try Self.pieceID(parameters), view)
        let voucher = try Self.voucher(piece.id.voucherID, view)
        var ancestors: [ReceivablePiece] = []
        var next = piece.parent
        while let id = next {
            let ancestor = try Self.piece(id, view)
            guard ancestors.count < ReceivablesLimits.pieceAncestorsMax, ancestor.id.contains(piece.id) else {
                throw QueryError(.storage, "the parent chain of \(piece.id) is broken at \(id)")
            }
            ancestors.append(ancestor)
            next = ancestor.parent
        }
        ancestors.reverse()
        let (descendants, truncated) = try Self.pieces(of: voucher.id, within: piece.id, view, limit: limit)
        var result: [String: JSONValue] = [
            "issuance": Self.json(voucher),
            "ancestors": .array(ancestors.map { Self.json($0) }),
            "piece": Self.json(piece),
            "descendants": .array(descendants.map { Self.json($0) }),
            "truncated": .bool(truncated),
            "height": .integer(Int64(clamping: view.height)),
        ]
        if parameters["certificates"] == "true" {
            var transactions = Set<Hash>()
            for signing in Self.signings(of: voucher) { transactions.insert(signing.transactionID) }
            for item in ancestors + [piece] + descendants {
                for step in item.history {
                    transactions.insert(step.signing.transactionID)
                    if let prepared = step.signing.preparedBy { transactions.insert(prepared.transactionID) }
                }
            }
            // Where each transaction sits, so an auditor can fetch the block, check the
            // transaction against the header's transactions root and the header against its certificate.
            var heights = Set<UInt64>()
            var locations: [String: JSONValue] = [:]
            for id in transactions {
                let location: TransactionLocation?
                do { location = try view.transactionLocation(id) } catch { throw .storage(error) }
                guard let location else { continue }
                heights.insert(location.height)
                locations[id.hex] = .object(["height": .integer(Int64(clamping: location.height)), "index": .integer(Int64(location.index))])
            }
            result["transactions"] = .object(locations)
            var certificates: [JSONValue] = []
            for height in heights.sorted() {
                let certificate: CommitCertificate?
                let header: BlockHeader?
                do {
                    certificate = try view.certificate(at: height)
                    header = try view.blockHeader(at: height)
                } catch {
                    throw .storage(error)
                }
                guard let certificate, let header else { continue }
                certificates.append(.object([
                    "height": .integer(Int64(clamping: height)),
                    "view": .integer(Int64(clamping: certificate.view)),
                    "blockHash": .string(certificate.blockHash.hex),
                    "timestampMs": .integer(Int64(clamping: header.timestampMs)),
                    "transactionsRoot": .string(header.transactionsRoot.hex),
                    "signatures": .array(certificate.signatures.map {
                        .object(["validator": .integer(Int64($0.validatorIndex)), "signature": .string($0.signature.hex)])
                    }),
                ]))
            }
            result["certificates"] = .array(certificates)
        }
        return .object(result)
    }

    static func signings(of voucher: ReceivableVoucher) -> [ReceivableSigning] {
        [voucher.issued] + (voucher.decided.map { [$0] } ?? []) + (voucher.settlement.map { [$0.signing] } ?? [])
    }

    /// The pieces of `voucher` in unit order; with `within`, only those strictly inside that
    /// piece's range (its descendants), found by a range scan that starts at its first unit
    /// and stops past its last, so the cost follows the answer, not the voucher or the state.
    static func pieces(of voucher: String, within: ReceivablePieceID?, _ view: any QueryView, limit: Int) throws(QueryError) -> ([ReceivablePiece], Bool) {
        let prefix = Keys.pieces(of: voucher)
        var start: [UInt8]? = within.map { Keys.pieces(of: voucher, from: $0.first) }
        var found: [ReceivablePiece] = []
        while true {
            let batch = try scan(view, prefix, start: start, limit: ReceivablesLimits.scanBatchEntries)
            for entry in batch {
                let piece = try decode(ReceivablePiece.self, entry.value)
                if let within {
                    if piece.id.first > within.last { return (found, false) }
                    guard piece.id != within, within.contains(piece.id) else { continue }
                }
                guard found.count < limit else { return (found, true) }
                found.append(piece)
            }
            guard batch.count == ReceivablesLimits.scanBatchEntries, let last = batch.last else { return (found, false) }
            start = last.key + [0]
        }
    }

    // MARK: Holdings, disclosure, overdue

    private func holdings(_ organization: String, _ view: any QueryView, limit: Int) throws(QueryError) -> JSONValue {
        var vouchers: [String: ReceivableVoucher] = [:]
        func voucher(_ id: String) throws(QueryError) -> ReceivableVoucher {
            if let cached = vouchers[id] { return cached }
            let loaded = try Self.voucher(id, view)
            vouchers[id] = loaded
            return loaded
        }
        let held = try Self.scanIndex(view, Self.holderIndex, stateKey(organization, ""), limit: limit + 1)
        var pieces: [JSONValue] = []
        var totals: [String: [String: (count: UInt64, amount: UInt64)]] = [:]
        for entry in held.prefix(limit) {
            let piece = try Self.piece(try Self.pieceID(fromIndexKey: entry.key), view)
            guard piece.holder == organization else { continue }
            let currency = try voucher(piece.id.voucherID).currency
            var byStatus = totals[currency] ?? [:]
            for status in [piece.status.rawValue] + (piece.isFrozen ? ["frozen"] : []) {
                let current = byStatus[status] ?? (0, 0)
                byStatus[status] = (current.count + 1, current.amount &+ piece.amount)
            }
            totals[currency] = byStatus
            pieces.append(Self.summary(piece, currency: currency))
        }
        let offered = try Self.scanIndex(view, Self.incomingIndex, stateKey(organization, ""), limit: limit)
        var incoming: [JSONValue] = []
        for entry in offered {
            let piece = try Self.piece(try Self.pieceID(fromIndexKey: entry.key), view)
            // Offers lapse at settlement without their index entries; show only open ones.
            guard piece.status == .transferOffered || piece.status == .financingOffered, piece.offer?.counterparty == organization else { continue }
            var summary = Self.summary(piece, currency: try voucher(piece.id.voucherID).currency)
            if case .object(var members) = summary {
                members["from"] = .string(piece.holder)
                if piece.status == .financingOffered, let offer = piece.offer {
                    members["discountRateBps"] = .integer(Int64(offer.discountRateBps))
                    members["recourse"] = .string(offer.recourse.rawValue)
                }
                summary = .object(members)
            }
            incoming.append(summary)
        }
        var awaiting: [JSONValue] = []
        for entry in try Self.scanIndex(view, Self.voucherIndex, stateKey(organization, "supplier", ""), limit: limit) {
            let candidate = try voucher(Keys.lastPart(ofKey: entry.key))
            guard candidate.status == .pendingAcceptance else { continue }
            awaiting.append(.object(["voucher": .string(candidate.id), "issuer": .string(candidate.issuer),
                                     "amount": .integer(Int64(clamping: candidate.amount)), "currency": .string(candidate.currency),
                                     "dueDate": .string(candidate.dueDate.iso)]))
        }
        var totalsJSON: [String: JSONValue] = [:]
        for (currency, byStatus) in totals {
            var members: [String: JSONValue] = [:]
            for (status, value) in byStatus {
                members[status] = .object(["count": .integer(Int64(clamping: value.count)), "amount": .integer(Int64(clamping: value.amount))])
            }
            totalsJSON[currency] = .object(members)
        }
        return .object([
            "organization": .string(organization),
            "pieces": .array(pieces),
            "totals": .object(totalsJSON),
            "incoming": .array(incoming),
            "vouchersAwaitingAcceptance": .array(awaiting),
            "truncated": .bool(held.count > limit),
        ])
    }

    private func disclosure(_ issuer: String, _ view: any QueryView) throws(QueryError) -> JSONValue {
        var currencies: [String: JSONValue] = [:]
        var overdue: [String: (count: UInt64, amount: UInt64)] = [:]
        for item in try overdueVouchers(issuer, view, limit: ReceivablesLimits.queryPiecesMax).vouchers {
            let current = overdue[item.currency] ?? (0, 0)
            overdue[item.currency] = (current.count + 1, current.amount &+ item.amount)
        }
        for entry in try Self.scan(view, Keys.totals(of: issuer), start: nil, limit: ReceivablesLimits.disclosureEntriesMax) {
            let currency = Keys.lastPart(ofKey: entry.key)
            let totals = try Self.decode(ReceivableIssuerTotals.self, entry.value)
            let late = overdue[currency] ?? (0, 0)
            currencies[currency] = .object([
                "issuedCount": .integer(Int64(clamping: totals.issuedCount)),
                "issuedAmount": .integer(Int64(clamping: totals.issuedAmount)),
                "outstandingCount": .integer(Int64(clamping: totals.outstandingCount)),
                "outstandingAmount": .integer(Int64(clamping: totals.outstandingAmount)),
                "settledCount": .integer(Int64(clamping: totals.settledCount)),
                "settledAmount": .integer(Int64(clamping: totals.settledAmount)),
                "overdueCount": .integer(Int64(clamping: late.count)),
                "overdueAmount": .integer(Int64(clamping: late.amount)),
            ])
        }
        var lines: [JSONValue] = []
        for entry in try Self.scan(view, Keys.creditLines(of: issuer), start: nil, limit: ReceivablesLimits.disclosureEntriesMax) {
            lines.append(Self.json(try Self.decode(ReceivableCreditLineRecord.self, entry.value)))
        }
        return .object([
            "issuer": .string(issuer),
            "asOfMs": .integer(Int64(clamping: view.blockTimestampMs)),
            "currencies": .object(currencies),
            "creditLines": .array(lines),
        ])
    }

    private func overdue(_ issuer: String?, _ view: any QueryView, limit: Int) throws(QueryError) -> JSONValue {
        let (vouchers, truncated) = try overdueVouchers(issuer, view, limit: limit)
        let today = ReceivableDay(timestampMs: view.blockTimestampMs)
        return .object([
            "asOf": .string(today.iso),
            "vouchers": .array(vouchers.map { voucher in
                .object([
                    "voucher": .string(voucher.id), "issuer": .string(voucher.issuer), "amount": .integer(Int64(clamping: voucher.amount)),
                    "currency": .string(voucher.currency), "dueDate": .string(voucher.dueDate.iso),
                    "daysOverdue": .integer(Int64(today.daysSinceEpoch) - Int64(voucher.dueDate.daysSinceEpoch)),
                ])
            }),
            "truncated": .bool(truncated),
        ])
    }

    /// Accepted, unsettled vouchers due before today, oldest first; stops at the first one not yet overdue.
    private func overdueVouchers(_ issuer: String?, _ view: any QueryView, limit: Int) throws(QueryError) -> (vouchers: [ReceivableVoucher], truncated: Bool) {
        let today = ReceivableDay(timestampMs: view.blockTimestampMs)
        let prefix = issuer.map { Keys.issuerDue(of: $0) } ?? Keys.dueAll
        var start: [UInt8]?
        var found: [ReceivableVoucher] = []
        while true {
            let batch = try Self.scan(view, prefix, start: start, limit: ReceivablesLimits.scanBatchEntries)
            for entry in batch {
                guard let day = Keys.dueDay(inKey: entry.key), day < today else { return (found, false) }
                guard found.count < limit else { return (found, true) }
                found.append(try Self.voucher(Keys.lastPart(ofKey: entry.key), view))
            }
            guard batch.count == ReceivablesLimits.scanBatchEntries, let last = batch.last else { return (found, false) }
            start = last.key + [0]
        }
    }

    // MARK: Reading

    static func required(_ name: String, _ parameters: [String: String]) throws(QueryError) -> String {
        guard let value = parameters[name], !value.isEmpty else { throw .missing(name) }
        return value
    }

    static func limit(_ parameters: [String: String]) throws(QueryError) -> Int {
        guard let text = parameters["limit"] else { return ReceivablesLimits.queryPiecesMax }
        guard let value = Int(text), value >= 1, value <= ReceivablesLimits.queryPiecesMax else {
            throw QueryError(.badParameter, "limit must be an integer from 1 to \(ReceivablesLimits.queryPiecesMax)")
        }
        return value
    }

    static func pieceID(_ parameters: [String: String]) throws(QueryError) -> ReceivablePieceID {
        let text = try required("piece", parameters)
        guard let id = ReceivablePieceID(text) else {
            throw QueryError(.badParameter, "piece must look like <voucher>:<first>-<last>, e.g. PO-7:1-250000")
        }
        return id
    }

    static func pieceID(fromIndexKey key: [UInt8]) throws(QueryError) -> ReceivablePieceID {
        let parts = key.split(separator: 0x2F, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 4, let first = UInt64(parts[2]), let last = UInt64(parts[3]), first >= 1, first <= last else {
            throw QueryError(.storage, "index entry '\(String(decoding: key, as: UTF8.self))' is malformed")
        }
        return ReceivablePieceID(voucherID: parts[1], first: first, last: last)
    }

    static func voucher(_ id: String, _ view: any QueryView) throws(QueryError) -> ReceivableVoucher {
        guard isValidVoucherID(id), let voucher = try view.get(ReceivableVoucher.self, contract: name, Keys.voucher(id)) else {
            throw QueryError(.notFound, "no voucher '\(id)'")
        }
        return voucher
    }

    static func piece(_ id: ReceivablePieceID, _ view: any QueryView) throws(QueryError) -> ReceivablePiece {
        guard let piece = try view.get(ReceivablePiece.self, contract: name, Keys.piece(id)) else {
            throw QueryError(.notFound, "no piece \(id)")
        }
        return piece
    }

    static func scan(_ view: any QueryView, _ prefix: [UInt8], start: [UInt8]?, limit: Int) throws(QueryError) -> [(key: [UInt8], value: [UInt8])] {
        do {
            return try view.scan(contract: name, prefix: prefix, start: start, limit: limit)
        } catch {
            throw .storage(error)
        }
    }

    static func scanIndex(_ view: any QueryView, _ index: String, _ prefix: [UInt8], limit: Int) throws(QueryError) -> [(key: [UInt8], value: [UInt8])] {
        do {
            return try view.scanIndex(contract: name, index: index, prefix: prefix, start: nil, limit: limit)
        } catch {
            throw .storage(error)
        }
    }

    static func decode<T: CanonicalDecodable>(_ type: T.Type, _ raw: [UInt8]) throws(QueryError) -> T {
        do {
            return try T(canonicalBytes: raw)
        } catch {
            throw QueryError(.storage, "a \(T.self) record does not decode: \(error)")
        }
    }

    // MARK: JSON

    static func json(_ signing: ReceivableSigning) -> JSONValue {
        var members: [String: JSONValue] = [
            "transaction": .string(signing.transactionID.hex),
            "organization": .string(signing.organization),
            "signer": .string(signing.signer.hex),
            "height": .integer(Int64(clamping: signing.height)),
            "timeMs": .integer(Int64(clamping: signing.timeMs)),
        ]
        if let prepared = signing.preparedBy {
            members["preparedBy"] = .object([
                "transaction": .string(prepared.transactionID.hex),
                "signer": .string(prepared.signer.hex),
                "height": .integer(Int64(clamping: prepared.height)),
                "timeMs": .integer(Int64(clamping: prepared.timeMs)),
            ])
        }
        return .object(members)
    }

    static func json(_ voucher: ReceivableVoucher) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(voucher.id),
            "issuer": .string(voucher.issuer),
            "supplier": .string(voucher.supplier),
            "creditBank": .string(voucher.creditBank),
            "amount": .integer(Int64(clamping: voucher.amount)),
            "currency": .string(voucher.currency),
            "issueDate": .string(voucher.issueDate.iso),
            "dueDate": .string(voucher.dueDate.iso),
            "contractHash": .string(voucher.contractHash.hex),
            "invoices": .array(voucher.invoices.map { invoice in
                .object(["number": .string(invoice.number), "amount": .integer(Int64(clamping: invoice.amount)),
                         "date": .string(invoice.date.iso), "hash": .string(invoice.documentHash.hex)])
            }),
            "transferable": .bool(voucher.transferable),
            "status": .string(voucher.status.rawValue),
            "issued": json(voucher.issued),
            "rootPiece": .string(voucher.rootPiece.description),
            "pieceRecords": .integer(Int64(clamping: voucher.pieceRecords)),
        ]
        if let note = voucher.note { members["note"] = .string(note) }
        if let decided = voucher.decided { members["decided"] = json(decided) }
        if let reason = voucher.decisionReason { members["decisionReason"] = .string(reason) }
        if let settlement = voucher.settlement {
            members["settlement"] = .object([
                "early": .bool(settlement.early),
                "signing": json(settlement.signing),
                "clearing": .array(settlement.lines.map { line in
                    .object(["holder": .string(line.holder), "amount": .integer(Int64(clamping: line.amount)),
                             "pieces": .integer(Int64(clamping: line.pieces))])
                }),
            ])
        }
        return .object(members)
    }

    static func summary(_ piece: ReceivablePiece, currency: String) -> JSONValue {
        .object([
            "piece": .string(piece.id.description),
            "amount": .integer(Int64(clamping: piece.amount)),
            "currency": .string(currency),
            "status": .string(piece.status.rawValue),
            "frozen": .bool(piece.isFrozen),
        ])
    }

    static func json(_ piece: ReceivablePiece) -> JSONValue {
        var members: [String: JSONValue] = [
            "piece": .string(piece.id.description),
            "voucher": .string(piece.id.voucherID),
            "first": .integer(Int64(clamping: piece.id.first)),
            "last": .integer(Int64(clamping: piece.id.last)),
            "amount": .integer(Int64(clamping: piece.amount)),
            "holder": .string(piece.holder),
            "status": .string(piece.status.rawValue),
            "frozen": .bool(piece.isFrozen),
            "history": .array(piece.history.map { step in
                var fields: [String: JSONValue] = [
                    "action": .string(step.action.rawValue),
                    "amount": .integer(Int64(clamping: step.amount)),
                    "signing": json(step.signing),
                ]
                if let counterparty = step.counterparty { fields["counterparty"] = .string(counterparty) }
                if let detail = step.detail { fields["detail"] = .string(detail) }
                return .object(fields)
            }),
        ]
        if let parent = piece.parent { members["parent"] = .string(parent.description) }
        if let offer = piece.offer {
            var fields: [String: JSONValue] = ["to": .string(offer.counterparty), "signing": json(offer.signing)]
            if piece.status == .financingOffered {
                fields["discountRateBps"] = .integer(Int64(offer.discountRateBps))
                fields["recourse"] = .string(offer.recourse.rawValue)
            }
            members["offer"] = .object(fields)
        }
        if let financing = piece.financing {
            var fields: [String: JSONValue] = [
                "bank": .string(financing.bank), "seller": .string(financing.seller),
                "principal": .integer(Int64(clamping: financing.principal)), "discountRateBps": .integer(Int64(financing.discountRateBps)),
                "days": .integer(Int64(financing.days)), "fee": .integer(Int64(clamping: financing.fee)),
                "paidOut": .integer(Int64(clamping: financing.paidOut)), "recourse": .string(financing.recourse.rawValue),
                "rounding": .string("fee = principal × rateBps × days / 3 600 000, half up"),
                "signing": json(financing.signing),
            ]
            if let registration = financing.registrationNumber { fields["registrationNumber"] = .string(registration) }
            members["financing"] = .object(fields)
        }
        if let freeze = piece.freeze {
            members["freeze"] = .object(["reason": .string(freeze.reason), "signing": json(freeze.signing)])
        }
        return .object(members)
    }

    static func json(_ line: ReceivableCreditLineRecord) -> JSONValue {
        .object([
            "bank": .string(line.bank), "issuer": .string(line.issuer), "currency": .string(line.currency),
            "limit": .integer(Int64(clamping: line.limit)), "used": .integer(Int64(clamping: line.used)),
            "unused": .integer(Int64(clamping: line.limit >= line.used ? line.limit - line.used : 0)),
            "signing": json(line.signing),
        ])
    }

    static func json(_ action: ReceivablePendingAction) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(action.id.hex), "organization": .string(action.organization), "operation": .string(action.operation),
            "status": .string(action.status.rawValue), "prepared": json(action.prepared),
        ]
        if let decided = action.decided { members["decided"] = json(decided) }
        if let reason = action.reason { members["reason"] = .string(reason) }
        return .object(members)
    }
}
