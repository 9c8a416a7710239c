import Ledger
import LedgerCore

/// Supply-chain receivables (docs/contracts.md, Receivables): a core enterprise's payable
/// becomes a voucher whose face amount is a range of unit numbers; suppliers
/// split it and pass pieces down their own supply chain, finance pieces at a
/// bank, and the issuer pays every outstanding piece at maturity.
///
/// State layout (keys in this contract's namespace):
/// - `params` — ``ReceivableParameters`` from genesis;
/// - `v/<voucher>` — ``ReceivableVoucher``;
/// - `p/<voucher>/<first:20>/<last:20>` — ``ReceivablePiece``; zero-padded unit
///   numbers make a voucher's pieces sort by range, so the descendants of a
///   piece `[f, l]` are exactly the keys from `f` up to `l` (a range scan, no walk);
/// - `cl/<issuer>/<bank>` — ``ReceivableCreditLineRecord``;
/// - `tot/<issuer>/<currency>` — ``ReceivableIssuerTotals``;
/// - `idue/<issuer>/<due day:10>/<voucher>` and `due/<due day:10>/<voucher>` —
///   accepted, unsettled vouchers by due date, for overdue checks;
/// - `inv/<invoice hash>` — the voucher an invoice backs (one voucher per invoice);
/// - `set/<org>` — ``ReceivableSettings``; `pa/<org>/<action id>` — ``ReceivablePendingAction``.
///
/// Indexes (beside the state): `holder` and `incoming` (`<org>/<voucher>/<first>/<last>`)
/// for holdings and offers waiting for an organization; `vouchers`
/// (`<org>/issuer|supplier/<voucher>`).
public struct ReceivablesContract: BuiltInContract {
    /// The contract's name in calls and its state namespace.
    public static let name = "receivables"

    /// The receivables contract; its parameters come from genesis and live in its state.
    public init() {}

    /// Voucher ids: 1–64 characters of `A–Z a–z 0–9 . _ -`.
    public static func isValidVoucherID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...ReceivablesLimits.voucherIDBytesMax).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// ISO 4217 shape: three upper-case ASCII letters.
    public static func isValidCurrency(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        return bytes.count == 3 && bytes.allSatisfy { (0x41...0x5A).contains($0) }
    }

    public func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])] {
        let parameters = try ReceivableParameters(json: genesis.contracts[Self.name])
        return [(Keys.parameters, parameters.canonicalBytes)]
    }

    // MARK: Keys

    enum Keys {
        static let parameters = stateKey("params")
        static func padded(_ value: UInt64) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, 20 - text.count)) + text
        }
        static func paddedDay(_ day: ReceivableDay) -> String {
            let text = String(day.daysSinceEpoch)
            return String(repeating: "0", count: max(0, 10 - text.count)) + text
        }
        static func voucher(_ id: String) -> [UInt8] { stateKey("v", id) }
        static func piece(_ id: ReceivablePieceID) -> [UInt8] { stateKey("p", id.voucherID, padded(id.first), padded(id.last)) }
        static func pieces(of voucher: String) -> [UInt8] { stateKey("p", voucher, "") }
        /// Where a scan for pieces whose first unit is at least `first` starts.
        static func pieces(of voucher: String, from first: UInt64) -> [UInt8] { stateKey("p", voucher, padded(first), "") }
        static func creditLine(issuer: String, bank: String) -> [UInt8] { stateKey("cl", issuer, bank) }
        static func creditLines(of issuer: String) -> [UInt8] { stateKey("cl", issuer, "") }
        static func totals(issuer: String, currency: String) -> [UInt8] { stateKey("tot", issuer, currency) }
        static func totals(of issuer: String) -> [UInt8] { stateKey("tot", issuer, "") }
        static func invoice(_ hash: Hash) -> [UInt8] { stateKey("inv", hash.hex) }
        static func settings(_ organization: String) -> [UInt8] { stateKey("set", organization) }
        static func action(_ organization: String, _ id: Hash) -> [UInt8] { stateKey("pa", organization, id.hex) }
        static func actions(of organization: String) -> [UInt8] { stateKey("pa", organization, "") }
        static func due(_ day: ReceivableDay, _ voucher: String) -> [UInt8] { stateKey("due", paddedDay(day), voucher) }
        static let dueAll = stateKey("due", "")
        static func issuerDue(_ issuer: String, _ day: ReceivableDay, _ voucher: String) -> [UInt8] {
            stateKey("idue", issuer, paddedDay(day), voucher)
        }
        static func issuerDue(of issuer: String) -> [UInt8] { stateKey("idue", issuer, "") }
        /// Index key of a piece under an organization (`holder` and `incoming` indexes).
        static func pieceIndex(_ organization: String, _ id: ReceivablePieceID) -> [UInt8] {
            stateKey(organization, id.voucherID, padded(id.first), padded(id.last))
        }
        static func voucherIndex(_ organization: String, role: String, _ voucher: String) -> [UInt8] {
            stateKey(organization, role, voucher)
        }
        /// The due day encoded in a `due/` or `idue/` key (second to last part).
        static func dueDay(inKey key: [UInt8]) -> ReceivableDay? {
            let parts = key.split(separator: 0x2F, omittingEmptySubsequences: false)
            guard parts.count >= 3, let days = UInt32(String(decoding: parts[parts.count - 2], as: UTF8.self)) else { return nil }
            return ReceivableDay(daysSinceEpoch: days)
        }
        static func lastPart(ofKey key: [UInt8]) -> String {
            String(decoding: key.split(separator: 0x2F, omittingEmptySubsequences: false).last ?? [], as: UTF8.self)
        }
    }

    static let holderIndex = "holder"
    static let incomingIndex = "incoming"
    static let voucherIndex = "vouchers"

    // MARK: Execution

    public func execute(_ call: ContractCall, in context: inout TransactionContext) throws {
        let operation = try operation(of: call)
        let signing = Self.signing(of: context, preparedBy: nil)
        switch operation {
        case .approve:
            try approve(ReceivableActionRef(canonicalBytes: call.arguments), in: &context)
        case .discard:
            try discard(ReceivableActionRef(canonicalBytes: call.arguments), signing: signing, in: &context)
        default:
            let settings = try Self.settings(of: context.organization.id, in: context)
            if settings.makerChecker {
                // Validate against current state on a throwaway copy, then park the call for a second key.
                var probe = context
                try perform(operation, call.arguments, signing: signing, in: &probe)
                let action = ReceivablePendingAction(id: context.transactionID, organization: context.organization.id,
                                                     operation: operation.rawValue, arguments: call.arguments, prepared: signing)
                context.put(Keys.action(action.organization, action.id), action)
                context.emit("action_pending", [("action", action.id.hex), ("organization", action.organization), ("operation", action.operation)])
            } else {
                try perform(operation, call.arguments, signing: signing, in: &context)
            }
        }
    }

    static func signing(of context: TransactionContext, preparedBy: ReceivablePreparation?) -> ReceivableSigning {
        ReceivableSigning(transactionID: context.transactionID, organization: context.organization.id, signer: context.sender,
                          height: context.blockHeight, timeMs: context.blockTimestampMs, preparedBy: preparedBy)
    }

    private func perform(_ operation: Operation, _ arguments: [UInt8], signing: ReceivableSigning, in context: inout TransactionContext) throws {
        let parameters = try Self.parameters(in: context)
        switch operation {
        case .setCreditLine: try setCreditLine(ReceivableCreditLine(canonicalBytes: arguments), signing, &context)
        case .issue: try issue(ReceivableIssue(canonicalBytes: arguments), parameters, signing, &context)
        case .cancel: try cancel(ReceivableVoucherRef(canonicalBytes: arguments), signing, &context)
        case .acceptVoucher: try acceptVoucher(ReceivableVoucherRef(canonicalBytes: arguments), signing, &context)
        case .rejectVoucher: try rejectVoucher(ReceivableVoucherRef(canonicalBytes: arguments), signing, &context)
        case .offerTransfer: try offerTransfer(ReceivableTransfer(canonicalBytes: arguments), parameters, signing, &context)
        case .acceptTransfer: try acceptTransfer(ReceivablePieceRef(canonicalBytes: arguments), signing, &context)
        case .declineTransfer: try declineOffer(ReceivablePieceRef(canonicalBytes: arguments), financing: false, signing, &context)
        case .withdrawOffer: try withdrawOffer(ReceivablePieceRef(canonicalBytes: arguments), signing, &context)
        case .offerFinancing: try offerFinancing(ReceivableFinanceOffer(canonicalBytes: arguments), parameters, signing, &context)
        case .acceptFinancing: try acceptFinancing(ReceivableFinanceAccept(canonicalBytes: arguments), signing, &context)
        case .declineFinancing: try declineOffer(ReceivablePieceRef(canonicalBytes: arguments), financing: true, signing, &context)
        case .settle: try settle(ReceivableSettle(canonicalBytes: arguments), signing, &context)
        case .freeze: try freeze(ReceivablePieceRef(canonicalBytes: arguments), signing, &context)
        case .unfreeze: try unfreeze(ReceivablePieceRef(canonicalBytes: arguments), signing, &context)
        case .configure: try configure(ReceivableSettings(canonicalBytes: arguments), &context)
        case .approve, .discard:
            // `execute` handles these itself and never parks them, so a stored action naming one is damage.
            throw StorageError.corrupted(reason: "a pending action names \(operation.rawValue), which is never prepared")
        }
    }

    // MARK: Reading records

    static func parameters(in context: TransactionContext) throws -> ReceivableParameters {
        guard let parameters = try context.get(ReceivableParameters.self, Keys.parameters) else {
            throw StorageError.corrupted(reason: "receivables parameters are missing from state")
        }
        return parameters
    }

    static func settings(of organization: String, in context: TransactionContext) throws -> ReceivableSettings {
        try context.get(ReceivableSettings.self, Keys.settings(organization)) ?? ReceivableSettings()
    }

    static func voucher(_ id: String, in context: TransactionContext) throws -> ReceivableVoucher {
        guard isValidVoucherID(id), let voucher = try context.get(ReceivableVoucher.self, Keys.voucher(id)) else {
            throw Rejection(code: "unknown_voucher", message: "no voucher '\(id)'")
        }
        return voucher
    }

    static func piece(_ id: ReceivablePieceID, in context: TransactionContext) throws -> ReceivablePiece {
        guard let piece = try context.get(ReceivablePiece.self, Keys.piece(id)) else {
            throw Rejection(code: "unknown_piece", message: "no piece \(id)")
        }
        return piece
    }

    static func organization(_ id: String, in context: TransactionContext) throws -> Organization {
        guard let organization = try context.organization(id: id) else {
            throw Rejection(code: "unknown_organization", message: "no organization '\(id)'")
        }
        return organization
    }

    static func append(_ step: ReceivableStep, to piece: inout ReceivablePiece) throws {
        // The last slot is kept for the settlement step, so settlement never fails on a full history.
        guard step.action == .settled || piece.history.count < ReceivablesLimits.pieceHistoryMax - 1 else {
            throw Rejection(code: "piece_history_full", message: "piece \(piece.id) has \(piece.history.count) steps, the most a piece may record before settlement")
        }
        piece.history.append(step)
    }

    static func save(_ piece: ReceivablePiece, in context: inout TransactionContext) {
        context.put(Keys.piece(piece.id), piece)
    }

    // MARK: Credit lines

    private func setCreditLine(_ arguments: ReceivableCreditLine, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        let issuer = try Self.organization(arguments.issuer, in: context)
        guard issuer.kind == .coreEnterprise else {
            throw Rejection(code: "not_core_enterprise", message: "'\(issuer.id)' is a \(issuer.kind.rawValue); credit lines are for core enterprises")
        }
        guard Self.isValidCurrency(arguments.currency) else {
            throw Rejection(code: "bad_currency", message: "currency '\(arguments.currency)' is not an ISO 4217 code of three upper-case letters")
        }
        let key = Keys.creditLine(issuer: issuer.id, bank: signing.organization)
        var line = try context.get(ReceivableCreditLineRecord.self, key)
            ?? ReceivableCreditLineRecord(bank: signing.organization, issuer: issuer.id, currency: arguments.currency, limit: 0, used: 0, signing: signing)
        guard line.currency == arguments.currency || line.used == 0 else {
            throw Rejection(code: "currency_change", message: "the line is used in \(line.currency); its currency cannot change until its vouchers close")
        }
        guard arguments.limit >= line.used else {
            throw Rejection(code: "limit_below_outstanding", message: "limit \(arguments.limit) is below the \(line.used) that open vouchers use")
        }
        line.currency = arguments.currency
        line.limit = arguments.limit
        line.signing = signing
        context.put(key, line)
        context.emit("credit_line_set", [("bank", line.bank), ("issuer", line.issuer), ("currency", line.currency), ("limit", String(line.limit))])
    }

    // MARK: Issue, accept, reject, cancel

    private func issue(_ arguments: ReceivableIssue, _ parameters: ReceivableParameters, _ signing: ReceivableSigning,
                       _ context: inout TransactionContext) throws {
        let issuer = signing.organization
        guard Self.isValidVoucherID(arguments.voucherID) else {
            throw Rejection(code: "bad_voucher_id", message: "voucher id must be 1 to \(ReceivablesLimits.voucherIDBytesMax) characters of A-Z a-z 0-9 . _ -")
        }
        guard try context.get(Keys.voucher(arguments.voucherID)) == nil else {
            throw Rejection(code: "voucher_exists", message: "voucher '\(arguments.voucherID)' already exists")
        }
        guard arguments.amount >= 1, arguments.amount <= ReceivablesLimits.amountMax else {
            throw Rejection(code: "bad_amount", message: "face amount must be 1 to \(ReceivablesLimits.amountMax) minor units")
        }
        guard Self.isValidCurrency(arguments.currency) else {
            throw Rejection(code: "bad_currency", message: "currency '\(arguments.currency)' is not an ISO 4217 code of three upper-case letters")
        }
        let supplier = try Self.organization(arguments.supplier, in: context)
        guard Self.traders.contains(supplier.kind), supplier.status == .active, supplier.id != issuer else {
            throw Rejection(code: "bad_supplier", message: "the supplier must be another active enterprise or core enterprise")
        }
        let today = ReceivableDay(timestampMs: context.blockTimestampMs)
        guard arguments.issueDate <= today else {
            throw Rejection(code: "issue_date_in_future", message: "issue date \(arguments.issueDate) is after today \(today)")
        }
        guard arguments.dueDate > arguments.issueDate else {
            throw Rejection(code: "due_not_after_issue", message: "due date \(arguments.dueDate) must be after issue date \(arguments.issueDate)")
        }
        let latest = arguments.issueDate.addingMonths(Int(parameters.dueMonthsMax))
        guard arguments.dueDate <= latest else {
            throw Rejection(code: "due_too_far", message: "due date \(arguments.dueDate) is more than \(parameters.dueMonthsMax) months after issue (latest \(latest))")
        }
        guard arguments.dueDate > today else {
            throw Rejection(code: "due_in_past", message: "due date \(arguments.dueDate) is not after today \(today)")
        }
        guard !arguments.invoices.isEmpty else {
            throw Rejection(code: "no_invoices", message: "a voucher needs at least one invoice behind it")
        }
        var numbers = Set<String>()
        var hashes = Set<Hash>()
        var invoiceTotal: UInt64 = 0
        for invoice in arguments.invoices {
            guard !invoice.number.isEmpty, invoice.amount >= 1, invoice.date <= arguments.issueDate,
                  numbers.insert(invoice.number).inserted, hashes.insert(invoice.documentHash).inserted else {
                throw Rejection(code: "bad_invoice", message: "invoice '\(invoice.number)' needs a number, a positive amount, a date on or before issue, and must appear once")
            }
            invoiceTotal = invoiceTotal.addingReportingOverflow(invoice.amount).overflow ? UInt64.max : invoiceTotal + invoice.amount
        }
        guard invoiceTotal >= arguments.amount else {
            throw Rejection(code: "amount_exceeds_invoices", message: "face amount \(arguments.amount) exceeds the invoices' total \(invoiceTotal)")
        }
        for invoice in arguments.invoices {
            if let raw = try context.get(Keys.invoice(invoice.documentHash)) {
                throw Rejection(code: "invoice_already_used", message: "invoice '\(invoice.number)' already backs voucher '\(String(decoding: raw, as: UTF8.self))'")
            }
        }
        let lineKey = Keys.creditLine(issuer: issuer, bank: arguments.creditBank)
        guard var line = try context.get(ReceivableCreditLineRecord.self, lineKey) else {
            throw Rejection(code: "no_credit_line", message: "bank '\(arguments.creditBank)' has granted '\(issuer)' no credit line")
        }
        guard line.currency == arguments.currency else {
            throw Rejection(code: "currency_mismatch", message: "the credit line is in \(line.currency), the voucher in \(arguments.currency)")
        }
        guard line.limit >= line.used, arguments.amount <= line.limit - line.used else {
            throw Rejection(code: "credit_line_exceeded", message: "amount \(arguments.amount) exceeds the unused line \(line.limit >= line.used ? line.limit - line.used : 0)")
        }
        let overdue = try Self.overdueCount(issuer: issuer, today: today, limit: Int(parameters.overdueVouchersMax) + 1, in: context)
        guard overdue <= Int(parameters.overdueVouchersMax) else {
            throw Rejection(code: "too_many_overdue", message: "'\(issuer)' has \(overdue) overdue vouchers, more than the \(parameters.overdueVouchersMax) allowed; settle them first")
        }
        line.used += arguments.amount
        context.put(lineKey, line)
        let voucher = ReceivableVoucher(
            id: arguments.voucherID, issuer: issuer, supplier: supplier.id, creditBank: arguments.creditBank, amount: arguments.amount,
            currency: arguments.currency, issueDate: arguments.issueDate, dueDate: arguments.dueDate, contractHash: arguments.contractHash,
            invoices: arguments.invoices, transferable: arguments.transferable, note: arguments.note, issued: signing)
        context.put(Keys.voucher(voucher.id), voucher)
        for invoice in arguments.invoices { context.put(Keys.invoice(invoice.documentHash), Array(voucher.id.utf8)) }
        context.setIndex(Self.voucherIndex, Keys.voucherIndex(issuer, role: "issuer", voucher.id))
        context.setIndex(Self.voucherIndex, Keys.voucherIndex(supplier.id, role: "supplier", voucher.id))
        context.emit("voucher_issued", [("voucher", voucher.id), ("issuer", issuer), ("supplier", supplier.id),
                                        ("amount", String(voucher.amount)), ("currency", voucher.currency), ("due", voucher.dueDate.iso)])
    }

    /// Vouchers of `issuer` whose due day is before `today`, counting at most `limit`.
    static func overdueCount(issuer: String, today: ReceivableDay, limit: Int, in context: TransactionContext) throws -> Int {
        let entries = try context.scan(prefix: Keys.issuerDue(of: issuer), limit: limit)
        return entries.filter { (Keys.dueDay(inKey: $0.key) ?? today) < today }.count
    }

    private func cancel(_ arguments: ReceivableVoucherRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var voucher = try Self.voucher(arguments.voucherID, in: context)
        guard voucher.issuer == signing.organization else {
            throw Rejection(code: "not_issuer", message: "only the issuer '\(voucher.issuer)' may cancel voucher '\(voucher.id)'")
        }
        try close(&voucher, as: .cancelled, reason: arguments.reason, signing, &context)
        context.emit("voucher_cancelled", [("voucher", voucher.id)])
    }

    private func rejectVoucher(_ arguments: ReceivableVoucherRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var voucher = try Self.voucher(arguments.voucherID, in: context)
        guard voucher.supplier == signing.organization else {
            throw Rejection(code: "not_supplier", message: "only the named supplier '\(voucher.supplier)' may reject voucher '\(voucher.id)'")
        }
        try close(&voucher, as: .rejected, reason: arguments.reason, signing, &context)
        context.emit("voucher_rejected", [("voucher", voucher.id)])
    }

    /// Ends a voucher that was never accepted, releasing its credit line and invoices.
    private func close(_ voucher: inout ReceivableVoucher, as status: ReceivableVoucherStatus, reason: String?,
                       _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        guard voucher.status == .pendingAcceptance else {
            throw Rejection(code: "voucher_not_pending", message: "voucher '\(voucher.id)' is \(voucher.status.rawValue), not pending acceptance")
        }
        voucher.status = status
        voucher.decided = signing
        voucher.decisionReason = reason
        context.put(Keys.voucher(voucher.id), voucher)
        try releaseCredit(voucher, &context)
        for invoice in voucher.invoices { context.delete(Keys.invoice(invoice.documentHash)) }
    }

    private func releaseCredit(_ voucher: ReceivableVoucher, _ context: inout TransactionContext) throws {
        let key = Keys.creditLine(issuer: voucher.issuer, bank: voucher.creditBank)
        guard var line = try context.get(ReceivableCreditLineRecord.self, key), line.used >= voucher.amount else {
            throw StorageError.corrupted(reason: "credit line of voucher '\(voucher.id)' is missing or uses less than the voucher")
        }
        line.used -= voucher.amount
        context.put(key, line)
    }

    private func acceptVoucher(_ arguments: ReceivableVoucherRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var voucher = try Self.voucher(arguments.voucherID, in: context)
        guard voucher.supplier == signing.organization else {
            throw Rejection(code: "not_supplier", message: "only the named supplier '\(voucher.supplier)' may accept voucher '\(voucher.id)'")
        }
        guard voucher.status == .pendingAcceptance else {
            throw Rejection(code: "voucher_not_pending", message: "voucher '\(voucher.id)' is \(voucher.status.rawValue), not pending acceptance")
        }
        let today = ReceivableDay(timestampMs: context.blockTimestampMs)
        guard today < voucher.dueDate else {
            throw Rejection(code: "voucher_due", message: "voucher '\(voucher.id)' fell due on \(voucher.dueDate); it can no longer be accepted")
        }
        voucher.status = .active
        voucher.decided = signing
        voucher.pieceRecords = 1
        context.put(Keys.voucher(voucher.id), voucher)
        let step = ReceivableStep(action: .issued, counterparty: voucher.issuer, amount: voucher.amount, detail: nil, signing: signing)
        let root = ReceivablePiece(id: voucher.rootPiece, parent: nil, holder: voucher.supplier, status: .active, history: [step])
        Self.save(root, in: &context)
        context.setIndex(Self.holderIndex, Keys.pieceIndex(root.holder, root.id))
        let totalsKey = Keys.totals(issuer: voucher.issuer, currency: voucher.currency)
        var totals = try context.get(ReceivableIssuerTotals.self, totalsKey) ?? ReceivableIssuerTotals()
        totals.issuedCount += 1
        totals.issuedAmount &+= voucher.amount
        totals.outstandingCount += 1
        totals.outstandingAmount &+= voucher.amount
        context.put(totalsKey, totals)
        context.put(Keys.due(voucher.dueDate, voucher.id), voucher.rootPiece.canonicalBytes)
        context.put(Keys.issuerDue(voucher.issuer, voucher.dueDate, voucher.id), voucher.rootPiece.canonicalBytes)
        context.emit("voucher_accepted", [("voucher", voucher.id), ("piece", root.id.description), ("holder", root.holder)])
    }

    // MARK: Moving pieces

    /// Loads a piece its holder wants to move and checks it may move now.
    private func movablePiece(_ id: ReceivablePieceID, forFinancing: Bool, _ signing: ReceivableSigning,
                              _ context: TransactionContext) throws -> (ReceivableVoucher, ReceivablePiece) {
        let voucher = try Self.voucher(id.voucherID, in: context)
        let piece = try Self.piece(id, in: context)
        if forFinancing && (piece.status == .financed || piece.financing != nil) {
            throw Rejection(code: "already_financed", message: "piece \(id) was already financed by '\(piece.financing?.bank ?? piece.holder)'; a piece can be financed once")
        }
        guard piece.holder == signing.organization else {
            throw Rejection(code: "not_holder", message: "piece \(id) is held by '\(piece.holder)', not '\(signing.organization)'")
        }
        guard piece.status == .active else {
            throw Rejection(code: "piece_not_active", message: "piece \(id) is \(piece.status.rawValue) and cannot move")
        }
        guard !piece.isFrozen else {
            throw Rejection(code: "piece_frozen", message: "piece \(id) is frozen: \(piece.freeze?.reason ?? "")")
        }
        guard ReceivableDay(timestampMs: context.blockTimestampMs) < voucher.dueDate else {
            throw Rejection(code: "voucher_due", message: "voucher '\(voucher.id)' fell due on \(voucher.dueDate); its pieces wait for settlement")
        }
        return (voucher, piece)
    }

    /// Cuts `amount` off the low end of `piece` if it is less than the whole;
    /// returns the piece to move (the parent itself when `amount` is the whole).
    private func cut(_ piece: ReceivablePiece, amount: UInt64, voucher: inout ReceivableVoucher, _ parameters: ReceivableParameters,
                     _ signing: ReceivableSigning, _ context: inout TransactionContext) throws -> ReceivablePiece {
        guard amount >= 1, amount <= piece.amount else {
            throw Rejection(code: "bad_amount", message: "amount must be 1 to \(piece.amount), the amount of piece \(piece.id)")
        }
        if amount == piece.amount { return piece }
        guard amount >= parameters.minimumSplitAmount, piece.amount - amount >= parameters.minimumSplitAmount else {
            throw Rejection(code: "split_below_minimum", message: "a split must leave at least \(parameters.minimumSplitAmount) on each side")
        }
        guard voucher.pieceRecords + 2 <= parameters.pieceRecordsPerVoucherMax else {
            throw Rejection(code: "too_many_pieces", message: "voucher '\(voucher.id)' already has \(voucher.pieceRecords) piece records, the most allowed is \(parameters.pieceRecordsPerVoucherMax)")
        }
        let movedID = ReceivablePieceID(voucherID: piece.id.voucherID, first: piece.id.first, last: piece.id.first + amount - 1)
        let keptID = ReceivablePieceID(voucherID: piece.id.voucherID, first: piece.id.first + amount, last: piece.id.last)
        var parent = piece
        try Self.append(ReceivableStep(action: .splitInto, counterparty: nil, amount: piece.amount, detail: "\(movedID) \(keptID)", signing: signing), to: &parent)
        parent.status = .split
        Self.save(parent, in: &context)
        context.removeIndex(Self.holderIndex, Keys.pieceIndex(parent.holder, parent.id))
        var children: [ReceivablePiece] = []
        for id in [movedID, keptID] {
            let step = ReceivableStep(action: .splitFrom, counterparty: nil, amount: id.amount, detail: parent.id.description, signing: signing)
            let child = ReceivablePiece(id: id, parent: parent.id, holder: parent.holder, status: .active, history: [step])
            Self.save(child, in: &context)
            context.setIndex(Self.holderIndex, Keys.pieceIndex(child.holder, child.id))
            children.append(child)
        }
        voucher.pieceRecords += 2
        context.put(Keys.voucher(voucher.id), voucher)
        return children[0]
    }

    private func offerTransfer(_ arguments: ReceivableTransfer, _ parameters: ReceivableParameters, _ signing: ReceivableSigning,
                               _ context: inout TransactionContext) throws {
        var (voucher, piece) = try movablePiece(arguments.piece, forFinancing: false, signing, context)
        guard voucher.transferable else {
            throw Rejection(code: "not_transferable", message: "voucher '\(voucher.id)' was issued non-transferable")
        }
        let recipient = try Self.organization(arguments.recipient, in: context)
        guard Self.traders.contains(recipient.kind), recipient.status == .active, recipient.id != piece.holder, recipient.id != voucher.issuer else {
            throw Rejection(code: "bad_recipient", message: "the recipient must be another active enterprise or core enterprise, not the holder or the issuer")
        }
        piece = try cut(piece, amount: arguments.amount, voucher: &voucher, parameters, signing, &context)
        let offer = ReceivableOffer(counterparty: recipient.id, discountRateBps: 0, recourse: .withRecourse, signing: signing)
        try Self.append(ReceivableStep(action: .transferOffered, counterparty: recipient.id, amount: piece.amount, detail: nil, signing: signing), to: &piece)
        if try Self.settings(of: recipient.id, in: context).autoAcceptTransfers {
            try completeTransfer(&piece, to: recipient.id, detail: "auto-accepted", signing, &context)
        } else {
            piece.status = .transferOffered
            piece.offer = offer
            Self.save(piece, in: &context)
            context.setIndex(Self.incomingIndex, Keys.pieceIndex(recipient.id, piece.id))
        }
        context.emit("transfer_offered", [("piece", piece.id.description), ("from", signing.organization), ("to", recipient.id),
                                          ("amount", String(piece.amount)), ("status", piece.status.rawValue)])
    }

    private func completeTransfer(_ piece: inout ReceivablePiece, to recipient: String, detail: String?, _ signing: ReceivableSigning,
                                  _ context: inout TransactionContext) throws {
        let previous = piece.holder
        try Self.append(ReceivableStep(action: .transferred, counterparty: previous, amount: piece.amount, detail: detail, signing: signing), to: &piece)
        context.removeIndex(Self.holderIndex, Keys.pieceIndex(previous, piece.id))
        context.removeIndex(Self.incomingIndex, Keys.pieceIndex(recipient, piece.id))
        context.setIndex(Self.holderIndex, Keys.pieceIndex(recipient, piece.id))
        piece.holder = recipient
        piece.status = .active
        piece.offer = nil
        Self.save(piece, in: &context)
    }

    /// Loads a piece offered to the signer and checks the offer is of the expected kind.
    private func offeredPiece(_ id: ReceivablePieceID, financing: Bool, _ signing: ReceivableSigning,
                              _ context: TransactionContext) throws -> ReceivablePiece {
        let piece = try Self.piece(id, in: context)
        guard let offer = piece.offer, piece.status == (financing ? .financingOffered : .transferOffered) else {
            throw Rejection(code: "no_offer", message: "piece \(id) has no open \(financing ? "financing" : "transfer") offer")
        }
        guard offer.counterparty == signing.organization else {
            throw Rejection(code: "not_recipient", message: "piece \(id) is offered to '\(offer.counterparty)', not '\(signing.organization)'")
        }
        return piece
    }

    private func acceptTransfer(_ arguments: ReceivablePieceRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var piece = try offeredPiece(arguments.piece, financing: false, signing, context)
        guard !piece.isFrozen else {
            throw Rejection(code: "piece_frozen", message: "piece \(piece.id) is frozen: \(piece.freeze?.reason ?? "")")
        }
        let voucher = try Self.voucher(piece.id.voucherID, in: context)
        guard ReceivableDay(timestampMs: context.blockTimestampMs) < voucher.dueDate else {
            throw Rejection(code: "voucher_due", message: "voucher '\(voucher.id)' fell due on \(voucher.dueDate); its pieces wait for settlement")
        }
        let from = piece.holder
        try completeTransfer(&piece, to: signing.organization, detail: nil, signing, &context)
        context.emit("transfer_accepted", [("piece", piece.id.description), ("from", from), ("to", piece.holder)])
    }

    private func declineOffer(_ arguments: ReceivablePieceRef, financing: Bool, _ signing: ReceivableSigning,
                              _ context: inout TransactionContext) throws {
        var piece = try offeredPiece(arguments.piece, financing: financing, signing, context)
        try Self.append(ReceivableStep(action: financing ? .financingDeclined : .transferDeclined, counterparty: piece.holder,
                                       amount: piece.amount, detail: arguments.reason, signing: signing), to: &piece)
        context.removeIndex(Self.incomingIndex, Keys.pieceIndex(signing.organization, piece.id))
        piece.status = .active
        piece.offer = nil
        Self.save(piece, in: &context)
        context.emit(financing ? "financing_declined" : "transfer_declined", [("piece", piece.id.description), ("by", signing.organization)])
    }

    private func withdrawOffer(_ arguments: ReceivablePieceRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var piece = try Self.piece(arguments.piece, in: context)
        guard piece.holder == signing.organization else {
            throw Rejection(code: "not_holder", message: "piece \(piece.id) is held by '\(piece.holder)', not '\(signing.organization)'")
        }
        guard let offer = piece.offer, piece.status == .transferOffered || piece.status == .financingOffered else {
            throw Rejection(code: "no_offer", message: "piece \(piece.id) has no open offer")
        }
        try Self.append(ReceivableStep(action: .offerWithdrawn, counterparty: offer.counterparty, amount: piece.amount,
                                       detail: arguments.reason, signing: signing), to: &piece)
        context.removeIndex(Self.incomingIndex, Keys.pieceIndex(offer.counterparty, piece.id))
        piece.status = .active
        piece.offer = nil
        Self.save(piece, in: &context)
        context.emit("offer_withdrawn", [("piece", piece.id.description), ("counterparty", offer.counterparty)])
    }

    // MARK: Financing

    private func offerFinancing(_ arguments: ReceivableFinanceOffer, _ parameters: ReceivableParameters, _ signing: ReceivableSigning,
                                _ context: inout TransactionContext) throws {
        var (voucher, piece) = try movablePiece(arguments.piece, forFinancing: true, signing, context)
        let bank = try Self.organization(arguments.bank, in: context)
        guard bank.kind == .bank, bank.status == .active else {
            throw Rejection(code: "bad_bank", message: "'\(bank.id)' is not an active bank")
        }
        guard arguments.discountRateBps >= 1, arguments.discountRateBps <= ReceivablesLimits.discountRateBpsMax else {
            throw Rejection(code: "bad_rate", message: "discount rate must be 1 to \(ReceivablesLimits.discountRateBpsMax) basis points a year")
        }
        piece = try cut(piece, amount: arguments.amount, voucher: &voucher, parameters, signing, &context)
        try Self.append(ReceivableStep(action: .financingOffered, counterparty: bank.id, amount: piece.amount,
                                       detail: "\(arguments.discountRateBps) bps, \(arguments.recourse.rawValue)", signing: signing), to: &piece)
        piece.status = .financingOffered
        piece.offer = ReceivableOffer(counterparty: bank.id, discountRateBps: arguments.discountRateBps, recourse: arguments.recourse, signing: signing)
        Self.save(piece, in: &context)
        context.setIndex(Self.incomingIndex, Keys.pieceIndex(bank.id, piece.id))
        context.emit("financing_offered", [("piece", piece.id.description), ("bank", bank.id), ("amount", String(piece.amount)),
                                           ("rateBps", String(arguments.discountRateBps)), ("recourse", arguments.recourse.rawValue)])
    }

    private func acceptFinancing(_ arguments: ReceivableFinanceAccept, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var piece = try offeredPiece(arguments.piece, financing: true, signing, context)
        guard let offer = piece.offer else { throw Rejection(code: "no_offer", message: "piece \(piece.id) has no open financing offer") }
        guard !piece.isFrozen else {
            throw Rejection(code: "piece_frozen", message: "piece \(piece.id) is frozen: \(piece.freeze?.reason ?? "")")
        }
        if let registration = arguments.registrationNumber, registration.isEmpty {
            throw Rejection(code: "bad_registration", message: "a registration number, when given, must not be empty")
        }
        let voucher = try Self.voucher(piece.id.voucherID, in: context)
        let today = ReceivableDay(timestampMs: context.blockTimestampMs)
        guard today < voucher.dueDate else {
            throw Rejection(code: "voucher_due", message: "voucher '\(voucher.id)' fell due on \(voucher.dueDate); it can no longer be financed")
        }
        let days = voucher.dueDate.daysSinceEpoch - today.daysSinceEpoch
        guard let (fee, paidOut) = ReceivableFinancing.discount(principal: piece.amount, rateBps: offer.discountRateBps, days: days) else {
            throw Rejection(code: "fee_exceeds_principal", message: "at \(offer.discountRateBps) bps for \(days) days the fee would consume the whole principal")
        }
        let seller = piece.holder
        let financing = ReceivableFinancing(bank: signing.organization, seller: seller, principal: piece.amount, discountRateBps: offer.discountRateBps,
                                            days: days, fee: fee, paidOut: paidOut, recourse: offer.recourse,
                                            registrationNumber: arguments.registrationNumber, signing: signing)
        try Self.append(ReceivableStep(action: .financed, counterparty: seller, amount: piece.amount,
                                       detail: "fee \(fee), paid out \(paidOut)", signing: signing), to: &piece)
        context.removeIndex(Self.holderIndex, Keys.pieceIndex(seller, piece.id))
        context.removeIndex(Self.incomingIndex, Keys.pieceIndex(signing.organization, piece.id))
        context.setIndex(Self.holderIndex, Keys.pieceIndex(signing.organization, piece.id))
        piece.holder = signing.organization
        piece.status = .financed
        piece.offer = nil
        piece.financing = financing
        Self.save(piece, in: &context)
        context.emit("financed", [("piece", piece.id.description), ("bank", signing.organization), ("seller", seller),
                                  ("principal", String(piece.amount)), ("fee", String(fee)), ("paidOut", String(paidOut))])
    }

    // MARK: Settlement

    private func settle(_ arguments: ReceivableSettle, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var voucher = try Self.voucher(arguments.voucherID, in: context)
        guard voucher.issuer == signing.organization else {
            throw Rejection(code: "not_issuer", message: "only the issuer '\(voucher.issuer)' may settle voucher '\(voucher.id)'")
        }
        guard voucher.status == .active else {
            throw Rejection(code: "voucher_not_active", message: "voucher '\(voucher.id)' is \(voucher.status.rawValue)")
        }
        let today = ReceivableDay(timestampMs: context.blockTimestampMs)
        let early = today < voucher.dueDate
        guard !early || arguments.early else {
            throw Rejection(code: "not_due", message: "voucher '\(voucher.id)' falls due on \(voucher.dueDate); settle before then only when marked early")
        }
        var outstanding: [ReceivablePiece] = []
        var liveTotal: UInt64 = 0
        for entry in try context.scan(prefix: Keys.pieces(of: voucher.id)) {
            let piece: ReceivablePiece
            do { piece = try ReceivablePiece(canonicalBytes: entry.value) } catch {
                throw StorageError.corrupted(reason: "a piece of voucher '\(voucher.id)' does not decode: \(error)")
            }
            guard piece.status.isLive else { continue }
            liveTotal += piece.amount
            guard piece.status.isOutstanding else { continue }
            if piece.isFrozen {
                throw Rejection(code: "frozen_pieces", message: "piece \(piece.id) is frozen (\(piece.freeze?.reason ?? "")); the voucher cannot settle until it is unfrozen")
            }
            outstanding.append(piece)
        }
        guard liveTotal == voucher.amount else {
            throw StorageError.corrupted(reason: "live pieces of voucher '\(voucher.id)' sum to \(liveTotal), not its face amount \(voucher.amount)")
        }
        var byHolder: [String: (amount: UInt64, pieces: UInt64)] = [:]
        var paid: UInt64 = 0
        for var piece in outstanding {
            let holder = piece.holder
            try Self.append(ReceivableStep(action: .settled, counterparty: holder, amount: piece.amount, detail: arguments.early && early ? "early" : nil,
                                           signing: signing), to: &piece)
            piece.status = .settled
            piece.offer = nil
            Self.save(piece, in: &context)
            let line = byHolder[holder] ?? (0, 0)
            byHolder[holder] = (line.amount + piece.amount, line.pieces + 1)
            paid += piece.amount
        }
        let lines = byHolder.keys.sorted().map { holder in
            ReceivableClearingLine(holder: holder, amount: byHolder[holder]?.amount ?? 0, pieces: byHolder[holder]?.pieces ?? 0)
        }
        voucher.status = .settled
        voucher.settlement = ReceivableSettlement(early: early, signing: signing, lines: lines)
        context.put(Keys.voucher(voucher.id), voucher)
        try releaseCredit(voucher, &context)
        let totalsKey = Keys.totals(issuer: voucher.issuer, currency: voucher.currency)
        var totals = try context.get(ReceivableIssuerTotals.self, totalsKey) ?? ReceivableIssuerTotals()
        totals.outstandingCount = totals.outstandingCount > 0 ? totals.outstandingCount - 1 : 0
        totals.outstandingAmount = totals.outstandingAmount >= voucher.amount ? totals.outstandingAmount - voucher.amount : 0
        totals.settledCount += 1
        totals.settledAmount &+= voucher.amount
        context.put(totalsKey, totals)
        context.delete(Keys.due(voucher.dueDate, voucher.id))
        context.delete(Keys.issuerDue(voucher.issuer, voucher.dueDate, voucher.id))
        context.emit("voucher_settled", [("voucher", voucher.id), ("paid", String(paid)), ("pieces", String(outstanding.count)),
                                         ("holders", String(lines.count)), ("early", String(early))])
    }

    // MARK: Freeze

    private func freeze(_ arguments: ReceivablePieceRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var piece = try Self.piece(arguments.piece, in: context)
        guard let reason = arguments.reason, !reason.isEmpty else {
            throw Rejection(code: "missing_reason", message: "a freeze needs a reason (for example the court order number)")
        }
        guard piece.status.isOutstanding else {
            throw Rejection(code: "piece_closed", message: "piece \(piece.id) is \(piece.status.rawValue); only outstanding pieces can be frozen")
        }
        guard piece.freeze == nil else {
            throw Rejection(code: "already_frozen", message: "piece \(piece.id) is already frozen")
        }
        try Self.append(ReceivableStep(action: .frozen, counterparty: piece.holder, amount: piece.amount, detail: reason, signing: signing), to: &piece)
        piece.freeze = ReceivableFreeze(reason: reason, signing: signing)
        Self.save(piece, in: &context)
        context.emit("piece_frozen", [("piece", piece.id.description), ("reason", reason)])
    }

    private func unfreeze(_ arguments: ReceivablePieceRef, _ signing: ReceivableSigning, _ context: inout TransactionContext) throws {
        var piece = try Self.piece(arguments.piece, in: context)
        guard let reason = arguments.reason, !reason.isEmpty else {
            throw Rejection(code: "missing_reason", message: "an unfreeze needs a reason")
        }
        guard piece.freeze != nil else {
            throw Rejection(code: "not_frozen", message: "piece \(piece.id) is not frozen")
        }
        try Self.append(ReceivableStep(action: .unfrozen, counterparty: piece.holder, amount: piece.amount, detail: reason, signing: signing), to: &piece)
        piece.freeze = nil
        Self.save(piece, in: &context)
        context.emit("piece_unfrozen", [("piece", piece.id.description), ("reason", reason)])
    }

    // MARK: Settings and maker–checker

    private func configure(_ settings: ReceivableSettings, _ context: inout TransactionContext) throws {
        guard !settings.makerChecker || context.organization.memberKeys.count >= 2 else {
            throw Rejection(code: "too_few_keys", message: "maker–checker needs at least two member keys; '\(context.organization.id)' has \(context.organization.memberKeys.count)")
        }
        context.put(Keys.settings(context.organization.id), settings)
        context.emit("settings_changed", [("organization", context.organization.id), ("autoAcceptTransfers", String(settings.autoAcceptTransfers)),
                                          ("makerChecker", String(settings.makerChecker))])
    }

    private func pendingAction(_ id: Hash, _ context: TransactionContext) throws -> ReceivablePendingAction {
        guard let action = try context.get(ReceivablePendingAction.self, Keys.action(context.organization.id, id)) else {
            throw Rejection(code: "unknown_action", message: "'\(context.organization.id)' has no pending action \(id.short)…")
        }
        guard action.status == .pending else {
            throw Rejection(code: "action_closed", message: "action \(id.short)… was already \(action.status.rawValue)")
        }
        return action
    }

    private func approve(_ arguments: ReceivableActionRef, in context: inout TransactionContext) throws {
        var action = try pendingAction(arguments.actionID, context)
        guard action.prepared.signer != context.sender else {
            throw Rejection(code: "same_key", message: "the reviewer must sign with a different member key than the operator")
        }
        guard let operation = Operation(rawValue: action.operation) else {
            throw StorageError.corrupted(reason: "pending action \(action.id.short)… names unknown operation '\(action.operation)'")
        }
        let preparation = ReceivablePreparation(transactionID: action.prepared.transactionID, signer: action.prepared.signer,
                                                height: action.prepared.height, timeMs: action.prepared.timeMs)
        let signing = Self.signing(of: context, preparedBy: preparation)
        try perform(operation, action.arguments, signing: signing, in: &context)
        action.status = .approved
        action.decided = signing
        action.reason = arguments.reason
        context.put(Keys.action(action.organization, action.id), action)
        context.emit("action_approved", [("action", action.id.hex), ("operation", action.operation)])
    }

    private func discard(_ arguments: ReceivableActionRef, signing: ReceivableSigning, in context: inout TransactionContext) throws {
        var action = try pendingAction(arguments.actionID, context)
        action.status = .discarded
        action.decided = signing
        action.reason = arguments.reason
        context.put(Keys.action(action.organization, action.id), action)
        context.emit("action_discarded", [("action", action.id.hex), ("operation", action.operation)])
    }
}
