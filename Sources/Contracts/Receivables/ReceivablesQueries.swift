import Ledger
import LedgerCore

extension ReceivablesContract {
    /// The receivables contract's queries, with their parameters. Every answer is
    /// the JSON of a typed answer (`ReceivableVoucherAnswer`, `ReceivablePieceAnswer`,
    /// `ReceivableTreeAnswer`, `ReceivableTraceAnswer`, `ReceivableHoldingsAnswer`,
    /// `ReceivableDisclosureAnswer`, `ReceivableOverdueAnswer`, `ReceivableCreditLineAnswer`,
    /// `ReceivableActionsAnswer`) that clients decode; amounts are integers in minor
    /// units, dates `YYYY-MM-DD`, times milliseconds since 1970, and "overdue" is
    /// judged against the latest committed block's time.
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
            return try .queryAnswer(ReceivableVoucherAnswer(try Self.voucher(try Self.required("voucher", parameters), view)))
        case .piece:
            return try .queryAnswer(ReceivablePieceAnswer(try Self.piece(try Self.pieceID(parameters), view)))
        case .tree:
            let voucher = try Self.voucher(try Self.required("voucher", parameters), view)
            let (pieces, truncated) = try Self.pieces(of: voucher.id, within: nil, view, limit: limit)
            return try .queryAnswer(ReceivableTreeAnswer(voucher: ReceivableVoucherAnswer(voucher), pieces: pieces.map(ReceivablePieceAnswer.init),
                                                         truncated: truncated))
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
            return try .queryAnswer(ReceivableCreditLineAnswer(line))
        case .actions:
            let organization = try Self.required("organization", parameters)
            let settings = try view.get(ReceivableSettings.self, contract: Self.name, Keys.settings(organization)) ?? ReceivableSettings()
            let entries = try Self.scan(view, Keys.actions(of: organization), start: nil, limit: limit)
            var actions: [ReceivablePendingAction] = []
            for entry in entries { actions.append(try Self.decode(ReceivablePendingAction.self, entry.value)) }
            actions.sort { ($0.prepared.height, $0.id) < ($1.prepared.height, $1.id) }
            return try .queryAnswer(ReceivableActionsAnswer(
                settings: .init(autoAcceptTransfers: settings.autoAcceptTransfers, makerChecker: settings.makerChecker),
                actions: actions.map(ReceivableActionsAnswer.Action.init)))
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
        var answer = ReceivableTraceAnswer(
            issuance: ReceivableVoucherAnswer(voucher), ancestors: ancestors.map(ReceivablePieceAnswer.init), piece: ReceivablePieceAnswer(piece),
            descendants: descendants.map(ReceivablePieceAnswer.init), truncated: truncated, height: Int64(clamping: view.height))
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
            var locations: [String: ReceivableTraceAnswer.Location] = [:]
            for id in transactions {
                let location: TransactionLocation?
                do { location = try view.transactionLocation(id) } catch { throw .storage(error) }
                guard let location else { continue }
                heights.insert(location.height)
                locations[id.hex] = .init(height: Int64(clamping: location.height), index: Int64(location.index))
            }
            var certificates: [ReceivableTraceAnswer.Certificate] = []
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
                certificates.append(.init(
                    height: Int64(clamping: height), view: Int64(clamping: certificate.view), blockHash: certificate.blockHash,
                    timestampMs: Int64(clamping: header.timestampMs), transactionsRoot: header.transactionsRoot,
                    signatures: certificate.signatures.map { .init(validator: Int64($0.validatorIndex), signature: $0.signature) }))
            }
            answer.transactions = locations
            answer.certificates = certificates
        }
        return try .queryAnswer(answer)
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
        var pieces: [ReceivableHoldingsAnswer.Piece] = []
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
            pieces.append(.init(piece: piece.id, amount: Int64(clamping: piece.amount), currency: currency, status: piece.status, frozen: piece.isFrozen))
        }
        let offered = try Self.scanIndex(view, Self.incomingIndex, stateKey(organization, ""), limit: limit)
        var incoming: [ReceivableHoldingsAnswer.Incoming] = []
        for entry in offered {
            let piece = try Self.piece(try Self.pieceID(fromIndexKey: entry.key), view)
            // Offers lapse at settlement without their index entries; show only open ones.
            guard piece.status == .transferOffered || piece.status == .financingOffered, piece.offer?.counterparty == organization else { continue }
            let financing = piece.status == .financingOffered ? piece.offer : nil
            incoming.append(.init(piece: piece.id, amount: Int64(clamping: piece.amount), currency: try voucher(piece.id.voucherID).currency,
                                  status: piece.status, frozen: piece.isFrozen, from: piece.holder,
                                  discountRateBps: financing.map { Int64($0.discountRateBps) }, recourse: financing?.recourse))
        }
        var awaiting: [ReceivableHoldingsAnswer.AwaitingVoucher] = []
        for entry in try Self.scanIndex(view, Self.voucherIndex, stateKey(organization, "supplier", ""), limit: limit) {
            let candidate = try voucher(Keys.lastPart(ofKey: entry.key))
            guard candidate.status == .pendingAcceptance else { continue }
            awaiting.append(.init(voucher: candidate.id, issuer: candidate.issuer, amount: Int64(clamping: candidate.amount),
                                  currency: candidate.currency, dueDate: candidate.dueDate))
        }
        let totalsAnswer = totals.mapValues { byStatus in
            byStatus.mapValues { ReceivableHoldingsAnswer.Total(count: Int64(clamping: $0.count), amount: Int64(clamping: $0.amount)) }
        }
        return try .queryAnswer(ReceivableHoldingsAnswer(organization: organization, pieces: pieces, totals: totalsAnswer, incoming: incoming,
                                                         vouchersAwaitingAcceptance: awaiting, truncated: held.count > limit))
    }

    private func disclosure(_ issuer: String, _ view: any QueryView) throws(QueryError) -> JSONValue {
        var currencies: [String: ReceivableDisclosureAnswer.Currency] = [:]
        var overdue: [String: (count: UInt64, amount: UInt64)] = [:]
        for item in try overdueVouchers(issuer, view, limit: ReceivablesLimits.queryPiecesMax).vouchers {
            let current = overdue[item.currency] ?? (0, 0)
            overdue[item.currency] = (current.count + 1, current.amount &+ item.amount)
        }
        for entry in try Self.scan(view, Keys.totals(of: issuer), start: nil, limit: ReceivablesLimits.disclosureEntriesMax) {
            let currency = Keys.lastPart(ofKey: entry.key)
            let totals = try Self.decode(ReceivableIssuerTotals.self, entry.value)
            let late = overdue[currency] ?? (0, 0)
            currencies[currency] = .init(
                issuedCount: Int64(clamping: totals.issuedCount), issuedAmount: Int64(clamping: totals.issuedAmount),
                outstandingCount: Int64(clamping: totals.outstandingCount), outstandingAmount: Int64(clamping: totals.outstandingAmount),
                settledCount: Int64(clamping: totals.settledCount), settledAmount: Int64(clamping: totals.settledAmount),
                overdueCount: Int64(clamping: late.count), overdueAmount: Int64(clamping: late.amount))
        }
        var lines: [ReceivableCreditLineAnswer] = []
        for entry in try Self.scan(view, Keys.creditLines(of: issuer), start: nil, limit: ReceivablesLimits.disclosureEntriesMax) {
            lines.append(ReceivableCreditLineAnswer(try Self.decode(ReceivableCreditLineRecord.self, entry.value)))
        }
        return try .queryAnswer(ReceivableDisclosureAnswer(issuer: issuer, asOfMs: Int64(clamping: view.blockTimestampMs), currencies: currencies,
                                                           creditLines: lines))
    }

    private func overdue(_ issuer: String?, _ view: any QueryView, limit: Int) throws(QueryError) -> JSONValue {
        let (vouchers, truncated) = try overdueVouchers(issuer, view, limit: limit)
        let today = ReceivableDay(timestampMs: view.blockTimestampMs)
        return try .queryAnswer(ReceivableOverdueAnswer(asOf: today, vouchers: vouchers.map { voucher in
            .init(voucher: voucher.id, issuer: voucher.issuer, amount: Int64(clamping: voucher.amount), currency: voucher.currency,
                  dueDate: voucher.dueDate, daysOverdue: Int64(today.daysSinceEpoch) - Int64(voucher.dueDate.daysSinceEpoch))
        }, truncated: truncated))
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
}
