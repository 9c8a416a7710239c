import Ledger
import LedgerCore

/// Bank–enterprise statements (银企对账): banks post statements for the
/// enterprise accounts they hold, enterprises post their book entries, and
/// the contract matches the two sides as they arrive, keeps the outstanding
/// items, produces the balance reconciliation statement and records the
/// enterprise's confirmation or dispute of each closing balance
/// (docs/contracts.md, Statements).
///
/// Genesis parameters (`contracts.statements`, all optional):
/// - `dateToleranceDays` (default 3, 0…31): date window of amount matching;
/// - `allowSplit` (default false): one-to-many / many-to-one by reference;
/// - `splitGroupMax` (default 8, 2…64): the most items in a split match;
/// - `feeToleranceMinor` (default 0 = off): largest bank fee a receipt may lack;
/// - `riskAgeDays` (default 90, 1…3650): outstanding items older than this are flagged.
/// The first four are the defaults of accounts registered without rules.
public struct StatementsContract: BuiltInContract {
    /// The contract's name in calls and its state namespace.
    public static let name = "statements"

    /// The statements contract; its parameters come from genesis and live in its state.
    public init() {}

    /// Query names; every query takes `account`, and `bank` when several banks hold that account number.
    public enum Query: String, CaseIterable, Sendable {
        /// `account`: the account, its bank, enterprise and rules.
        case account
        /// `account`, optional `date` (YYYY-MM-DD, default: the latest block's date): matched count, outstanding by class, last confirmation, open disputes.
        case status
        /// `account`, `date`: the balance reconciliation statement.
        case report
        /// `account`, `statementId`: a statement with its lines and confirmation history.
        case statement
        /// `account`: the account's statements without lines.
        case statements
        /// `account`, optional `after` (entry id) and `limit` (default 1000): book entries in id order.
        case bookEntries
        /// `account`, `entryId`: one book entry.
        case bookEntry
        /// `account`, optional `after` (match id) and `limit` (default 1000): matches with their rules.
        case matches
        /// `account`: the account's intraday reports without lines.
        case intradayReports
        /// `account`, `reportId`: an intraday report with its balances and lines.
        case intradayReport
    }

    // MARK: Parameters

    /// The contract's genesis parameters.
    public struct Parameters: Equatable, Sendable, CanonicalCodable {
        public var defaultRules: MatchingRules
        public var riskAgeDays: UInt32

        public init(defaultRules: MatchingRules = MatchingRules(), riskAgeDays: UInt32 = 90) {
            self.defaultRules = defaultRules
            self.riskAgeDays = riskAgeDays
        }

        public func encode(to encoder: inout CanonicalEncoder) {
            encoder.write(defaultRules)
            encoder.write(riskAgeDays)
        }

        public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
            defaultRules = try decoder.read(MatchingRules.self, "default rules")
            riskAgeDays = try decoder.readUInt32("risk age days")
        }

        /// Reads the genesis section; absent fields take their defaults.
        public init(json: JSONValue?) throws(GenesisError) {
            self.init()
            guard let json else { return }
            guard case .object(let members) = json else { throw GenesisError("contracts.statements must be an object") }
            let known: Set<String> = ["dateToleranceDays", "allowSplit", "splitGroupMax", "feeToleranceMinor", "riskAgeDays"]
            for key in members.keys.sorted() where !known.contains(key) {
                throw GenesisError("contracts.statements.\(key) is not a parameter (known: \(known.sorted().joined(separator: ", ")))")
            }
            func integer(_ key: String, _ range: ClosedRange<Int64>) throws(GenesisError) -> Int64? {
                guard let value = members[key] else { return nil }
                guard let number = value.intValue, range.contains(number) else {
                    throw GenesisError("contracts.statements.\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
                }
                return number
            }
            if let value = try integer("dateToleranceDays", 0...31) { defaultRules.dateToleranceDays = UInt32(value) }
            if let value = try integer("splitGroupMax", 2...Int64(StatementsLimits.matchMembersMax)) { defaultRules.splitGroupMax = UInt32(value) }
            if let value = try integer("feeToleranceMinor", 0...StatementsLimits.feeToleranceMinorMax) { defaultRules.feeToleranceMinor = value }
            if let value = try integer("riskAgeDays", 1...3650) { riskAgeDays = UInt32(value) }
            if let value = members["allowSplit"] {
                guard let flag = value.boolValue else { throw GenesisError("contracts.statements.allowSplit must be true or false") }
                defaultRules.allowSplit = flag
            }
        }
    }

    static let parametersKey = stateKey("params")

    public func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])] {
        let parameters = try Parameters(json: genesis.contracts[Self.name])
        return [(Self.parametersKey, parameters.canonicalBytes)]
    }

    // MARK: Keys

    /// Escapes a key part so that `/` inside ids cannot split keys.
    ///
    /// The escape works on whole characters, as it always has: a `/` or `%`
    /// that a combining mark joins into one character is left as it is.
    /// State keys of existing chains depend on this, so it cannot change
    /// without a protocol version.
    static func part(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "/") }) else { return text }
        var result = ""
        for character in text {
            switch character {
            case "%": result += "%25"
            case "/": result += "%2F"
            default: result.append(character)
            }
        }
        return result
    }

    /// An account is keyed by its number and the bank that holds it, so that
    /// no bank can take another bank's account number by registering it first.
    static func accountKey(_ account: String, bank: String) -> [UInt8] { stateKey("acct", part(account), part(bank)) }
    /// The registrations of an account number, one per bank holding it.
    static func accountHoldersPrefix(_ account: String) -> [UInt8] { stateKey("acct", part(account), "") }
    static func statementKey(_ account: String, _ id: String) -> [UInt8] { stateKey("stmt", part(account), part(id)) }
    static func statementPrefix(_ account: String) -> [UInt8] { stateKey("stmt", part(account), "") }
    static func lineItemID(_ statementID: String, _ lineID: String) -> String { part(statementID) + "/" + part(lineID) }
    static func lineKey(_ account: String, _ itemID: String) -> [UInt8] { stateKey("line", part(account), itemID) }
    static func linePrefix(_ account: String) -> [UInt8] { stateKey("line", part(account), "") }
    static func bookKey(_ account: String, _ itemID: String) -> [UInt8] { stateKey("book", part(account), itemID) }
    static func bookPrefix(_ account: String) -> [UInt8] { stateKey("book", part(account), "") }
    static func batchKey(_ account: String, _ id: String) -> [UInt8] { stateKey("batch", part(account), part(id)) }
    static func matchKey(_ account: String, _ id: UInt64) -> [UInt8] { stateKey("match", part(account), padded(id)) }
    static func matchPrefix(_ account: String) -> [UInt8] { stateKey("match", part(account), "") }
    static func confirmationKey(_ account: String, _ id: String) -> [UInt8] { stateKey("conf", part(account), part(id)) }
    static func confirmationPrefix(_ account: String) -> [UInt8] { stateKey("conf", part(account), "") }

    static func padded(_ value: UInt64) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 16 - text.count)) + text
    }

    // MARK: Execution

    public func execute(_ call: ContractCall, in context: inout TransactionContext) throws {
        switch try operation(of: call) {
        case .registerAccount:
            try registerAccount(try RegisterAccount(canonicalBytes: call.arguments), in: &context)
        case .postStatement:
            try postStatement(try PostStatement(canonicalBytes: call.arguments), in: &context)
        case .postBookEntries:
            try postBookEntries(try PostBookEntries(canonicalBytes: call.arguments), in: &context)
        case .confirmBalance:
            try confirmBalance(try ConfirmBalance(canonicalBytes: call.arguments), in: &context)
        case .disputeBalance:
            try disputeBalance(try DisputeBalance(canonicalBytes: call.arguments), in: &context)
        case .resolveDispute:
            try resolveDispute(try ResolveDispute(canonicalBytes: call.arguments), in: &context)
        case .postIntradayReport:
            try postIntradayReport(try PostIntradayReport(canonicalBytes: call.arguments), in: &context)
        case .matchItems:
            try matchItems(try ManualMatch(canonicalBytes: call.arguments), in: &context)
        case .unmatch:
            try unmatch(try Unmatch(canonicalBytes: call.arguments), in: &context)
        case .reviewMatch:
            try reviewMatch(try ReviewMatch(canonicalBytes: call.arguments), in: &context)
        case .correctBookEntry:
            try correctBookEntry(try CorrectBookEntry(canonicalBytes: call.arguments), in: &context)
        case .acceptAccount:
            try acceptAccount(try AcceptAccount(canonicalBytes: call.arguments), in: &context)
        }
    }

    private func parameters(_ context: TransactionContext) throws -> Parameters {
        try context.get(Parameters.self, Self.parametersKey) ?? Parameters()
    }

    static func checkIdentifier(_ text: String, _ what: String) throws {
        guard !text.isEmpty, !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Rejection(code: "bad_identifier", message: "\(what) must be non-empty text without control characters")
        }
        guard part(text).utf8.count <= StatementsLimits.escapedIdentifierBytesMax else {
            throw Rejection(code: "bad_identifier", message: "\(what) is too long for a state key (at most \(StatementsLimits.escapedIdentifierBytesMax) bytes once '/' and '%' are escaped)")
        }
    }

    static func checkAmount(_ amount: Int64, _ what: String) throws {
        guard amount.magnitude <= StatementsLimits.amountMinorMax.magnitude else {
            throw Rejection(code: "amount_out_of_range", message: "\(what) \(amount) is beyond ±\(StatementsLimits.amountMinorMax) minor units")
        }
    }

    /// Who may act on an account in an operation.
    enum AccountRole {
        /// The bank holding it, which is the caller.
        case holdingBank
        /// The enterprise whose account it is.
        case enterprise
        /// Its bank or its enterprise.
        case party
    }

    /// Every registration of account number `number`, one per bank holding it.
    static func holders(of number: String, _ context: TransactionContext) throws -> [AccountRecord] {
        var holders: [AccountRecord] = []
        for entry in try context.scan(prefix: accountHoldersPrefix(number), limit: StatementsLimits.accountHoldersMax) {
            do {
                holders.append(try AccountRecord(canonicalBytes: entry.value))
            } catch {
                throw StorageError.corrupted(reason: "statements account record \(String(decoding: entry.key, as: UTF8.self)) does not decode: \(error)")
            }
        }
        return holders
    }

    /// The account the caller acts on as `role`. A bank acts on the account
    /// it holds under `number`. An enterprise acts only on registrations
    /// naming it that it has accepted: the one held by `bank` when given,
    /// else the only one, so a bank that registers a number for it without
    /// its consent reaches nothing.
    func resolveAccount(_ number: String, bank: String?, as role: AccountRole, _ context: TransactionContext) throws -> AccountRecord {
        let caller = context.organization.id
        if role == .holdingBank || (role == .party && context.organization.kind == .bank) {
            if let own = try context.get(AccountRecord.self, Self.accountKey(number, bank: caller)) { return own }
            let holders = try Self.holders(of: number, context)
            guard !holders.isEmpty else {
                throw Rejection(code: "unknown_account", message: "account '\(number)' is not registered; the bank that holds it registers it first")
            }
            throw Rejection(code: role == .holdingBank ? "not_account_bank" : "not_account_party",
                            message: "'\(caller)' holds no account '\(number)' (it is registered by \(holders.map { "'\($0.bankID)'" }.joined(separator: ", ")))")
        }
        let registered: [AccountRecord]
        if let bank {
            registered = try context.get(AccountRecord.self, Self.accountKey(number, bank: bank)).map { [$0] } ?? []
        } else {
            registered = try Self.holders(of: number, context)
        }
        let mine = registered.filter { $0.enterpriseID == caller }
        let accepted = mine.filter { $0.accepted != nil }
        if accepted.count == 1, let only = accepted.first { return only }
        if accepted.count > 1 {
            throw Rejection(code: "ambiguous_account", message: "'\(caller)' has accepted account '\(number)' at the banks \(accepted.map { "'\($0.bankID)'" }.joined(separator: ", ")); name the bank that holds the one meant (the bank argument, --bank)")
        }
        if !mine.isEmpty {
            throw Rejection(code: "account_not_accepted", message: "account '\(number)' was registered for '\(caller)' by \(mine.map { "'\($0.bankID)'" }.joined(separator: ", ")) and is not accepted yet; the enterprise accepts the registration of the bank that really holds it first")
        }
        guard let other = registered.first else {
            throw Rejection(code: "unknown_account", message: "account '\(number)' is not registered\(bank.map { " by bank '\($0)'" } ?? ""); the bank that holds it registers it first")
        }
        throw Rejection(code: role == .enterprise ? "not_account_enterprise" : "not_account_party",
                        message: "account '\(number)' belongs to '\(other.enterpriseID)', not '\(caller)'")
    }

    private func acceptAccount(_ arguments: AcceptAccount, in context: inout TransactionContext) throws {
        guard var account = try context.get(AccountRecord.self, Self.accountKey(arguments.account, bank: arguments.bank)) else {
            throw Rejection(code: "unknown_account", message: "bank '\(arguments.bank)' has registered no account '\(arguments.account)'")
        }
        guard account.enterpriseID == context.organization.id else {
            throw Rejection(code: "not_account_enterprise", message: "account '\(arguments.account)' of bank '\(arguments.bank)' was registered for '\(account.enterpriseID)', not '\(context.organization.id)'")
        }
        if let accepted = account.accepted {
            context.emit("account_already_accepted", [("account", arguments.account), ("bank", arguments.bank), ("height", String(accepted.height))])
            return
        }
        account.accepted = Provenance(context)
        context.put(account.key, account)
        context.emit("account_accepted", [("account", arguments.account), ("bank", arguments.bank), ("enterprise", account.enterpriseID)])
    }

    private func registerAccount(_ arguments: RegisterAccount, in context: inout TransactionContext) throws {
        try Self.checkIdentifier(arguments.account, "account")
        guard ISO4217.exponent(of: arguments.currency) != nil else {
            throw Rejection(code: "unknown_currency", message: "'\(arguments.currency)' is not an ISO 4217 currency code")
        }
        if let problem = arguments.rules?.problem { throw Rejection(code: "bad_rules", message: problem) }
        guard try context.get(Self.accountKey(arguments.account, bank: context.organization.id)) == nil else {
            throw Rejection(code: "account_exists", message: "account '\(arguments.account)' is already registered by '\(context.organization.id)'")
        }
        guard try Self.holders(of: arguments.account, context).count < StatementsLimits.accountHoldersMax else {
            throw Rejection(code: "too_many_holders", message: "account number '\(arguments.account)' is already registered by \(StatementsLimits.accountHoldersMax) banks (StatementsLimits.accountHoldersMax)")
        }
        guard let enterprise = try context.organization(id: arguments.enterpriseID) else {
            throw Rejection(code: "unknown_organization", message: "no organization '\(arguments.enterpriseID)'")
        }
        guard enterprise.kind == .enterprise || enterprise.kind == .coreEnterprise else {
            throw Rejection(code: "not_an_enterprise", message: "'\(enterprise.id)' is a \(enterprise.kind.rawValue), accounts are held for enterprises")
        }
        guard enterprise.status == .active else {
            throw Rejection(code: "organization_suspended", message: "'\(enterprise.id)' is suspended")
        }
        let rules = try arguments.rules ?? parameters(context).defaultRules
        let record = AccountRecord(account: arguments.account, bankID: context.organization.id, enterpriseID: enterprise.id,
                                   currency: arguments.currency, rules: rules, registered: Provenance(context))
        guard Self.part(record.scope).utf8.count <= StatementsLimits.escapedIdentifierBytesMax else {
            throw Rejection(code: "bad_identifier", message: "account '\(arguments.account)' and bank '\(record.bankID)' together are too long for a state key (at most \(StatementsLimits.escapedIdentifierBytesMax) bytes once '/' and '%' are escaped)")
        }
        context.put(record.key, record)
        context.emit("account_registered", [("account", arguments.account), ("bank", context.organization.id), ("enterprise", enterprise.id)])
    }

    private func postStatement(_ arguments: PostStatement, in context: inout TransactionContext) throws {
        var account = try resolveAccount(arguments.account, bank: nil, as: .holdingBank, context)
        try Self.checkIdentifier(arguments.statementID, "statement id")
        guard arguments.currency == account.currency else {
            throw Rejection(code: "currency_mismatch", message: "statement is in \(arguments.currency) but account '\(arguments.account)' is in \(account.currency)")
        }
        if let posted = try context.get(StatementRecord.self, Self.statementKey(account.scope, arguments.statementID)) {
            guard posted.digest == arguments.digest else {
                throw Rejection(code: "duplicate_statement", message: "a different statement '\(arguments.statementID)' was already posted for account '\(arguments.account)' (at height \(posted.posted.height)); corrections are new statements that name it in 'corrects'")
            }
            context.emit("statement_already_posted", [("account", arguments.account), ("statement", arguments.statementID),
                                                      ("height", String(posted.posted.height))])
            return
        }
        guard arguments.openingBooked.date <= arguments.closingBooked.date else {
            throw Rejection(code: "bad_period", message: "the closing balance date \(arguments.closingBooked.date) is before the opening date \(arguments.openingBooked.date)")
        }
        try Self.checkAmount(arguments.openingBooked.amountMinor, "opening balance")
        try Self.checkAmount(arguments.closingBooked.amountMinor, "closing balance")
        for balance in [arguments.openingAvailable, arguments.closingAvailable].compactMap({ $0 }) {
            try Self.checkAmount(balance.amountMinor, "available balance")
        }
        var total = arguments.openingBooked.amountMinor
        var lineIDs: Set<String> = []
        for line in arguments.lines {
            try Self.checkIdentifier(line.lineID, "line id")
            try Self.checkAmount(line.amountMinor, "line '\(line.lineID)' amount")
            guard lineIDs.insert(line.lineID).inserted else {
                throw Rejection(code: "duplicate_line", message: "line id '\(line.lineID)' appears twice in statement '\(arguments.statementID)'")
            }
            let (sum, overflow) = total.addingReportingOverflow(line.amountMinor)
            guard !overflow else { throw Rejection(code: "amount_overflow", message: "the statement's total overflows") }
            total = sum
        }
        try Self.checkBalance(arguments, linesTotalWithOpening: total)
        let matcher = Matcher(rules: account.rules)
        var store = OpenItemIndex(state: context, account: account.scope)
        var reopened: [MatchItem] = []
        if let corrected = arguments.corrects {
            reopened = try withdraw(statement: corrected, by: arguments.statementID, account: &account, matcher: matcher, store: &store)
        }
        store.state.put(Self.statementKey(account.scope, arguments.statementID),
                          StatementRecord(header: arguments, supersededBy: nil, posted: Provenance(store.state)))
        let made = Provenance(store.state)
        var tally = MatchTally()
        for line in arguments.lines {
            tally.count(try Self.postLine(line, statementID: arguments.statementID, currency: arguments.currency, account: &account,
                                          matcher: matcher, made: made, index: &store))
        }
        try Self.rematch(reopened, account: &account, matcher: matcher, made: made, index: &store, tally: &tally)
        context = store.finishedState()
        context.put(account.key, account)
        var attributes = [("account", arguments.account), ("statement", arguments.statementID), ("lines", String(arguments.lines.count)),
                          ("matches", String(tally.matched)), ("closingBalanceMinor", String(arguments.closingBooked.amountMinor))]
        if tally.ambiguous > 0 { attributes.append(("ambiguousMatches", String(tally.ambiguous))) }
        if let corrected = arguments.corrects { attributes.append(("corrects", corrected)) }
        switch arguments.balanceCheck {
        case .agrees: break
        case .discrepancy(let difference): attributes.append(("discrepancyMinor", String(difference)))
        case .closingDerived: attributes.append(("closingDerived", "true"))
        }
        context.emit("statement_posted", attributes)
    }

    /// Checks the closing balance against opening plus lines (`total`) as the statement's ``StatementBalanceCheck`` declares it.
    static func checkBalance(_ arguments: PostStatement, linesTotalWithOpening total: Int64) throws {
        let closing = arguments.closingBooked.amountMinor
        switch arguments.balanceCheck {
        case .agrees, .closingDerived:
            guard total == closing else {
                throw Rejection(code: "balance_mismatch", message: "opening balance \(arguments.openingBooked.amountMinor) plus lines gives \(total), but the closing balance is \(closing) (minor units); a statement whose file states this closing balance is posted with balanceCheck discrepancy")
            }
        case .discrepancy(let difference):
            guard difference != 0 else {
                throw Rejection(code: "bad_discrepancy", message: "a discrepancy of 0 is none; post the statement with balanceCheck agrees")
            }
            try checkAmount(difference, "discrepancy")
            let (expected, overflow) = total.addingReportingOverflow(difference)
            guard !overflow, expected == closing else {
                throw Rejection(code: "discrepancy_mismatch", message: "opening balance \(arguments.openingBooked.amountMinor) plus lines gives \(total) and the declared discrepancy is \(difference), but the closing balance is \(closing), not \(overflow ? "beyond Int64" : String(expected)) (minor units)")
            }
        }
    }

    /// Marks `statementID` as replaced by `correction`, withdraws its lines
    /// from matching and dissolves their matches; returns the other members
    /// of the matcher's matches, now open again, to be matched anew (those of
    /// matches a person made or reviewed go back to the open items as they are).
    private func withdraw(statement statementID: String, by correction: String, account: inout AccountRecord, matcher: Matcher,
                          store: inout OpenItemIndex<TransactionContext>) throws -> [MatchItem] {
        let name = account.account
        let scope = account.scope
        guard var statement = try store.state.get(StatementRecord.self, Self.statementKey(scope, statementID)) else {
            throw Rejection(code: "unknown_statement", message: "statement '\(statementID)' to be corrected was never posted for account '\(name)'")
        }
        if let by = statement.supersededBy {
            throw Rejection(code: "already_corrected", message: "statement '\(statementID)' was already corrected by '\(by)'; correct that one instead")
        }
        statement.supersededBy = correction
        store.state.put(Self.statementKey(scope, statementID), statement)
        var reopened: [MatchItem] = []
        let prefix = Self.lineKey(scope, Self.part(statementID) + "/")
        for entry in try store.state.scan(prefix: prefix) {
            let itemID = String(decoding: entry.key.dropFirst(Self.linePrefix(scope).count), as: UTF8.self)
            guard var line = try store.state.get(LineRecord.self, entry.key) else { continue }
            switch line.state {
            case .open:
                try store.remove(Self.item(line: line.line, id: itemID, currency: line.currency))
            case .matched(let matchID):
                let note = MatchNote(reason: "statement '\(statementID)' corrected by statement '\(correction)'", by: Provenance(store.state))
                let dissolved = try Self.dissolve(matchID, account: scope, note: note, keeping: { ref in
                    ref.side == .bank && ref.id.hasPrefix(Self.part(statementID) + "/")
                }, state: &store.state)
                if dissolved.byPerson {
                    for item in dissolved.items { try store.add(item) }
                } else {
                    reopened += dissolved.items
                }
            case .withdrawn:
                break
            }
            line.state = .withdrawn
            store.state.put(entry.key, line)
        }
        if var confirmation = try store.state.get(ConfirmationRecord.self, Self.confirmationKey(scope, statementID)),
           confirmation.status == .disputed {
            confirmation.steps.append(.init(status: .resolved, text: "corrected by statement '\(correction)'", amountMinor: nil, by: Provenance(store.state)))
            store.state.put(Self.confirmationKey(scope, statementID), confirmation)
        }
        return reopened.sorted { ($0.side.rawValue, $0.id) < ($1.side.rawValue, $1.id) }
    }

    /// Stores a bank line of `statementID` and matches it; the match when it matched.
    /// Execution and the benchmark both post lines through this. The line is
    /// new: a statement posts only while the ledger has no statement of its id.
    @discardableResult
    package static func postLine<State>(_ line: StatementLineInput, statementID: String, currency: String, account: inout AccountRecord,
                                        matcher: Matcher, made: Provenance, index: inout OpenItemIndex<State>) throws -> MatchDecision? {
        let itemID = lineItemID(statementID, line.lineID)
        let posted = LineRecord(statementID: statementID, line: line, currency: currency, state: .open)
        guard let decision = try matcher.arrive(item(line: line, id: itemID, currency: currency), index: &index, isNew: true) else {
            index.state.putRecord(index.lineKey(itemID), posted)
            return nil
        }
        try record(decision, account: &account, made: made, index: &index, arriving: .line(itemID, posted))
        return decision
    }

    /// Stores a book entry of `batchID` and matches it; the match when it matched.
    /// Execution and the benchmark both post entries through this. The entry
    /// is new: `postBookEntries` skips entries that have a record, and a
    /// correction's replacement is refused when one exists.
    @discardableResult
    package static func postEntry<State>(_ entry: BookEntryInput, batchID: String, posted: Provenance, account: inout AccountRecord,
                                         matcher: Matcher, index: inout OpenItemIndex<State>) throws -> MatchDecision? {
        let itemID = part(entry.entryID)
        let book = BookRecord(entry: entry, batchID: batchID, posted: posted, state: .open)
        guard let decision = try matcher.arrive(item(entry: entry, id: itemID), index: &index, isNew: true) else {
            index.state.putRecord(index.bookKey(itemID), book)
            return nil
        }
        try record(decision, account: &account, made: posted, index: &index, arriving: .book(itemID, book))
        return decision
    }

    /// How many of the account's matches (dissolved ones included) each rule made, by rule name.
    package static func matchesByRule<State: StatementsState>(account: AccountRecord, state: State) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for id in 1..<max(1, account.nextMatchID) {
            guard let match = try state.record(MatchRecord.self, matchKey(account.scope, id)) else {
                throw StorageError.corrupted(reason: "match \(id) of \(account.account) has no record")
            }
            counts[match.rule.rawValue, default: 0] += 1
        }
        return counts
    }

    /// The record of an item being posted, not yet in state: a match that
    /// includes it writes it once, already marked matched.
    enum ArrivingRecord {
        case none
        case line(String, LineRecord)
        case book(String, BookRecord)
    }

    /// Stores a match and marks its members matched; `arriving` is written
    /// here rather than read back.
    static func record<State>(_ decision: MatchDecision, account: inout AccountRecord, made: Provenance, index: inout OpenItemIndex<State>,
                              arriving: ArrivingRecord = .none, reason: String = "") throws {
        let matchID = account.nextMatchID
        account.nextMatchID += 1
        let match = MatchRecord(id: matchID, rule: decision.rule, bankItems: decision.bankItems.map(\.id), bookItems: decision.bookItems.map(\.id),
                                differenceMinor: decision.differenceMinor, reason: reason, alternatives: decision.alternatives, made: made)
        index.state.putRecord(index.matchKey(matchID), match)
        var arrivingWritten = false
        for item in decision.bankItems {
            var line: LineRecord
            if case .line(let id, let posted) = arriving, id == item.id {
                line = posted
                arrivingWritten = true
            } else {
                guard let stored = try index.state.record(LineRecord.self, index.lineKey(item.id)) else {
                    throw StorageError.corrupted(reason: "matched line \(item.id) of \(index.account) has no record")
                }
                line = stored
            }
            line.state = .matched(matchID)
            index.state.putRecord(index.lineKey(item.id), line)
        }
        for item in decision.bookItems {
            var book: BookRecord
            if case .book(let id, let posted) = arriving, id == item.id {
                book = posted
                arrivingWritten = true
            } else {
                guard let stored = try index.state.record(BookRecord.self, index.bookKey(item.id)) else {
                    throw StorageError.corrupted(reason: "matched book entry \(item.id) of \(index.account) has no record")
                }
                book = stored
            }
            book.state = .matched(matchID)
            index.state.putRecord(index.bookKey(item.id), book)
        }
        guard !arrivingWritten else { return }
        switch arriving {
        case .none: break
        case .line(let id, let posted): index.state.putRecord(index.lineKey(id), posted)
        case .book(let id, let posted): index.state.putRecord(index.bookKey(id), posted)
        }
    }

    static func item(line: StatementLineInput, id: String, currency: String) -> MatchItem {
        let references = [line.customerReference, line.bankReference].compactMap(MatchItem.normalizedReference)
        return MatchItem(side: .bank, id: id, amountMinor: line.amountMinor, currency: currency, day: Int32(line.valueDate.dayNumber),
                         references: Array(references.prefix(StatementsLimits.referencesPerItemMax)),
                         counterparty: MatchItem.normalizedName(line.counterpartyName), isReversal: line.isReversal)
    }

    static func item(entry: BookEntryInput, id: String) -> MatchItem {
        MatchItem(side: .book, id: id, amountMinor: entry.amountMinor, currency: entry.currency, day: Int32(entry.date.dayNumber),
                  references: [entry.reference].compactMap(MatchItem.normalizedReference),
                  counterparty: MatchItem.normalizedName(entry.counterparty), isReversal: entry.isReversal)
    }

    private func postBookEntries(_ arguments: PostBookEntries, in context: inout TransactionContext) throws {
        var account = try resolveAccount(arguments.account, bank: arguments.bank, as: .enterprise, context)
        try Self.checkIdentifier(arguments.batchID, "batch id")
        let digest = arguments.digest
        if let batch = try context.get(BatchRecord.self, Self.batchKey(account.scope, arguments.batchID)) {
            guard batch.digest == digest else {
                throw Rejection(code: "duplicate_batch", message: "a batch '\(arguments.batchID)' with other entries or another opening balance was already posted for account '\(arguments.account)' (at height \(batch.posted.height)); post these entries under another batch id (entries already posted as they are are skipped)")
            }
            context.emit("book_entries_already_posted", [("account", arguments.account), ("batch", arguments.batchID),
                                                         ("height", String(batch.posted.height))])
            return
        }
        guard !arguments.entries.isEmpty else { throw Rejection(code: "empty_batch", message: "a batch needs at least one entry") }
        if let opening = arguments.openingBalanceMinor {
            try Self.checkAmount(opening, "opening balance")
            guard account.bookOpeningMinor == opening || (!account.hasBookEntries && account.bookOpeningMinor == nil) else {
                throw Rejection(code: "opening_balance_late", message: "the books' opening balance can only be given with the account's first batch \(account.bookOpeningMinor.map { "(it is \($0) minor units)" } ?? "(this account's books already have entries, so their opening balance stays 0)")")
            }
            account.bookOpeningMinor = opening
        }
        var ids: Set<String> = []
        var fresh: [BookEntryInput] = []
        for entry in arguments.entries {
            try Self.checkIdentifier(entry.entryID, "entry id")
            guard ids.insert(entry.entryID).inserted else {
                throw Rejection(code: "duplicate_entry", message: "book entry '\(entry.entryID)' appears twice in batch '\(arguments.batchID)'")
            }
            if let posted = try context.get(BookRecord.self, Self.bookKey(account.scope, Self.part(entry.entryID))) {
                guard posted.entry == entry else {
                    throw Rejection(code: "entry_conflict", message: "book entry '\(entry.entryID)' was already posted (batch '\(posted.batchID)') with other content; a posted entry is never overwritten: correct it with a reversing entry (books correct)")
                }
                continue
            }
            fresh.append(entry)
            guard entry.currency == account.currency else {
                throw Rejection(code: "currency_mismatch", message: "entry '\(entry.entryID)' is in \(entry.currency) but the account is in \(account.currency)")
            }
            try Self.checkAmount(entry.amountMinor, "entry '\(entry.entryID)' amount")
            guard entry.amountMinor != 0 else {
                throw Rejection(code: "zero_amount", message: "entry '\(entry.entryID)' has amount 0")
            }
        }
        account.hasBookEntries = true
        let matcher = Matcher(rules: account.rules)
        var store = OpenItemIndex(state: context, account: account.scope)
        let posted = Provenance(store.state)
        store.state.put(Self.batchKey(account.scope, arguments.batchID), BatchRecord(digest: digest, entries: UInt64(fresh.count), posted: posted))
        var tally = MatchTally()
        for entry in fresh {
            tally.count(try Self.postEntry(entry, batchID: arguments.batchID, posted: posted, account: &account, matcher: matcher, index: &store))
        }
        context = store.finishedState()
        context.put(account.key, account)
        var attributes = [("account", arguments.account), ("batch", arguments.batchID),
                          ("entries", String(fresh.count)), ("matches", String(tally.matched))]
        if fresh.count < arguments.entries.count { attributes.append(("alreadyPosted", String(arguments.entries.count - fresh.count))) }
        if tally.ambiguous > 0 { attributes.append(("ambiguousMatches", String(tally.ambiguous))) }
        context.emit("book_entries_posted", attributes)
    }

    private func statementForEnterprise(_ account: String, bank: String?, _ statementID: String, _ context: TransactionContext) throws -> (AccountRecord, StatementRecord) {
        let record = try resolveAccount(account, bank: bank, as: .enterprise, context)
        guard let statement = try context.get(StatementRecord.self, Self.statementKey(record.scope, statementID)) else {
            throw Rejection(code: "unknown_statement", message: "no statement '\(statementID)' for account '\(account)'")
        }
        if let by = statement.supersededBy {
            throw Rejection(code: "statement_superseded", message: "statement '\(statementID)' was corrected by '\(by)'; confirm or dispute that one")
        }
        return (record, statement)
    }

    private func confirmBalance(_ arguments: ConfirmBalance, in context: inout TransactionContext) throws {
        let (accountRecord, statement) = try statementForEnterprise(arguments.account, bank: arguments.bank, arguments.statementID, context)
        var account = accountRecord
        let key = Self.confirmationKey(account.scope, arguments.statementID)
        var confirmation = try context.get(ConfirmationRecord.self, key) ?? ConfirmationRecord(statementID: arguments.statementID, steps: [])
        switch confirmation.status {
        case .disputed:
            throw Rejection(code: "dispute_open", message: "statement '\(arguments.statementID)' has an open dispute; it must be resolved first")
        case .confirmed:
            throw Rejection(code: "already_confirmed", message: "statement '\(arguments.statementID)' is already confirmed")
        case .resolved, nil:
            break
        }
        guard arguments.closingBalanceMinor == statement.header.closingBooked.amountMinor else {
            throw Rejection(code: "balance_mismatch", message: "the statement's closing balance is \(statement.header.closingBooked.amountMinor), not \(arguments.closingBalanceMinor) (minor units); dispute it instead")
        }
        guard confirmation.steps.count < StatementsLimits.historyEntriesMax else {
            throw Rejection(code: "history_full", message: "statement '\(arguments.statementID)' has too many confirmation steps")
        }
        confirmation.steps.append(.init(status: .confirmed, text: "", amountMinor: arguments.closingBalanceMinor, by: Provenance(context)))
        context.put(key, confirmation)
        account.lastConfirmedStatement = arguments.statementID
        context.put(account.key, account)
        context.emit("balance_confirmed", [("account", arguments.account), ("statement", arguments.statementID),
                                           ("closingBalanceMinor", String(arguments.closingBalanceMinor)), ("bank", account.bankID)])
    }

    private func disputeBalance(_ arguments: DisputeBalance, in context: inout TransactionContext) throws {
        let (account, _) = try statementForEnterprise(arguments.account, bank: arguments.bank, arguments.statementID, context)
        guard !arguments.reason.trimmingSpaces().isEmpty else {
            throw Rejection(code: "empty_reason", message: "a dispute needs a reason")
        }
        let key = Self.confirmationKey(account.scope, arguments.statementID)
        var confirmation = try context.get(ConfirmationRecord.self, key) ?? ConfirmationRecord(statementID: arguments.statementID, steps: [])
        guard confirmation.status != .disputed else {
            throw Rejection(code: "already_disputed", message: "statement '\(arguments.statementID)' already has an open dispute")
        }
        guard confirmation.steps.count < StatementsLimits.historyEntriesMax else {
            throw Rejection(code: "history_full", message: "statement '\(arguments.statementID)' has too many confirmation steps")
        }
        confirmation.steps.append(.init(status: .disputed, text: arguments.reason, amountMinor: arguments.claimedBalanceMinor, by: Provenance(context)))
        context.put(key, confirmation)
        context.emit("balance_disputed", [("account", arguments.account), ("statement", arguments.statementID),
                                          ("reason", String(arguments.reason.prefix(StatementsLimits.eventReasonCharactersMax))), ("bank", account.bankID)])
    }

    private func resolveDispute(_ arguments: ResolveDispute, in context: inout TransactionContext) throws {
        let account = try resolveAccount(arguments.account, bank: arguments.bank, as: .party, context)
        guard !arguments.resolution.trimmingSpaces().isEmpty else {
            throw Rejection(code: "empty_resolution", message: "a resolution needs a text")
        }
        let key = Self.confirmationKey(account.scope, arguments.statementID)
        guard var confirmation = try context.get(ConfirmationRecord.self, key), confirmation.status == .disputed else {
            throw Rejection(code: "no_open_dispute", message: "statement '\(arguments.statementID)' has no open dispute")
        }
        guard confirmation.steps.count < StatementsLimits.historyEntriesMax else {
            throw Rejection(code: "history_full", message: "statement '\(arguments.statementID)' has too many confirmation steps")
        }
        confirmation.steps.append(.init(status: .resolved, text: arguments.resolution, amountMinor: nil, by: Provenance(context)))
        context.put(key, confirmation)
        context.emit("dispute_resolved", [("account", arguments.account), ("statement", arguments.statementID), ("by", context.organization.id)])
    }
}
