import Ledger
import LedgerCore

// The accountant's daily work on the ledger: matching by hand, undoing a
// match, confirming an ambiguous one, and correcting a book entry by a
// reversing entry (docs/contracts.md, Statements). Every change keeps who
// made it and why; nothing posted is overwritten.

/// Arguments of `statements.matchItems`: open items matched by a person of the account.
public struct ManualMatch: Equatable, Sendable, CanonicalCodable {
    public var account: String
    /// Bank lines by item id (`statement/line`, as queries show `itemId`).
    public var bankItems: [String]
    /// Book entries by entry id.
    public var bookEntries: [String]
    /// Why they belong together; kept with the match.
    public var reason: String
    /// The bank holding the account; needed only when the account number is registered by several banks for the caller.
    public var bank: String?

    public init(account: String, bankItems: [String], bookEntries: [String], reason: String, bank: String? = nil) {
        self.account = account
        self.bankItems = bankItems
        self.bookEntries = bookEntries
        self.reason = reason
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(bankItems)
        encoder.write(bookEntries)
        encoder.write(reason)
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        bankItems = try decoder.readStrings("bank items", countLimit: StatementsLimits.matchMembersMax, lengthLimit: StatementsLimits.matchItemIDBytesMax)
        bookEntries = try decoder.readStrings("book entries", countLimit: StatementsLimits.matchMembersMax, lengthLimit: StatementsLimits.identifierBytesMax)
        reason = try decoder.readString("reason", limit: StatementsLimits.reasonBytesMax)
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }
}

/// Arguments of `statements.unmatch` and `statements.reviewMatch`: one match, and why.
public struct MatchAction: Equatable, Sendable, CanonicalCodable {
    public var account: String
    public var matchID: UInt64
    public var reason: String
    /// The bank holding the account; needed only when the account number is registered by several banks for the caller.
    public var bank: String?

    public init(account: String, matchID: UInt64, reason: String, bank: String? = nil) {
        self.account = account
        self.matchID = matchID
        self.reason = reason
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(matchID)
        encoder.write(reason)
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        matchID = try decoder.readUInt64("match id")
        reason = try decoder.readString("reason", limit: StatementsLimits.reasonBytesMax)
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }
}

/// Arguments of `statements.unmatch`.
public typealias Unmatch = MatchAction
/// Arguments of `statements.reviewMatch`.
public typealias ReviewMatch = MatchAction

/// Arguments of `statements.correctBookEntry`: a posted entry is reversed by
/// a new entry (the correction's id, the opposite amount) and, optionally,
/// replaced by a new one; the entry itself stays as it was posted.
public struct CorrectBookEntry: Equatable, Sendable, CanonicalCodable {
    public var account: String
    /// The id of the reversing entry, and of the correction (unique among entries and batches).
    public var correctionID: String
    /// The entry corrected.
    public var entryID: String
    public var reason: String
    /// The reversing entry's date (default: the corrected entry's date).
    public var date: CalendarDate?
    /// The entry that takes the corrected one's place, if any.
    public var replacement: BookEntryInput?
    /// The bank holding the account; needed only when the enterprise holds the same account number at several banks.
    public var bank: String?

    public init(account: String, correctionID: String, entryID: String, reason: String, date: CalendarDate? = nil,
                replacement: BookEntryInput? = nil, bank: String? = nil) {
        self.account = account
        self.correctionID = correctionID
        self.entryID = entryID
        self.reason = reason
        self.date = date
        self.replacement = replacement
        self.bank = bank
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(correctionID)
        encoder.write(entryID)
        encoder.write(reason)
        encoder.write(date)
        encoder.write(replacement)
        encoder.write(optional: bank)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        correctionID = try decoder.readString("correction id", limit: StatementsLimits.identifierBytesMax)
        entryID = try decoder.readString("entry id", limit: StatementsLimits.identifierBytesMax)
        reason = try decoder.readString("reason", limit: StatementsLimits.reasonBytesMax)
        date = try decoder.readOptional(CalendarDate.self, "reversal date")
        replacement = try decoder.readOptional(BookEntryInput.self, "replacement")
        bank = try decoder.readOptionalString("bank", limit: Limits.identifierBytesMax)
    }

    /// SHA-256 of the canonical arguments without `bank` (which only says
    /// which account is meant): posting the same correction again is recognised by it.
    public var digest: Hash {
        var unnamed = self
        unnamed.bank = nil
        return Hash.sha256(unnamed.canonicalBytes)
    }
}

/// Matches made while posting, and how many of them were ambiguous.
struct MatchTally {
    var matched = 0
    var ambiguous = 0

    mutating func count(_ decision: MatchDecision?) {
        guard let decision else { return }
        matched += 1
        if !decision.alternatives.isEmpty { ambiguous += 1 }
    }
}

extension StatementsContract {
    private static func checkReason(_ reason: String) throws {
        guard !reason.trimmingSpaces().isEmpty else {
            throw Rejection(code: "empty_reason", message: "say why (a reason is kept with the change)")
        }
    }

    private static func match(_ id: UInt64, of account: AccountRecord, _ state: TransactionContext) throws -> MatchRecord {
        guard let match = try state.get(MatchRecord.self, matchKey(account.scope, id)) else {
            throw Rejection(code: "unknown_match", message: "account '\(account.account)' has no match \(id)")
        }
        return match
    }

    private static func describe(_ state: ItemState, _ what: String) -> String {
        switch state {
        case .open: "\(what) is open"
        case .matched(let id): "\(what) is already in match \(id); unmatch it first"
        case .withdrawn: "\(what) belongs to a statement that a correction replaced"
        }
    }

    /// The members a dissolved match left open, not yet in the open-item index.
    struct Reopened {
        var items: [MatchItem] = []
        /// A person made or reviewed the match: its items wait for a person
        /// again rather than being matched anew by the matcher.
        var byPerson = false
    }

    /// Dissolves match `matchID` of the account with key scope `account`
    /// (``AccountRecord/scope``) with `note` and marks its members open,
    /// except those `keeping` claims (the caller settles them); returns the
    /// members marked open, in (side, id) order.
    static func dissolve<State: StatementsState>(_ matchID: UInt64, account: String, note: MatchNote, keeping: (ItemRef) -> Bool,
                                                 state: inout State) throws -> Reopened {
        guard var match = try state.record(MatchRecord.self, matchKey(account, matchID)) else {
            throw StorageError.corrupted(reason: "match \(matchID) of \(account) has no record")
        }
        guard !match.dissolved else { return Reopened() }
        match.dissolution = note
        state.putRecord(matchKey(account, matchID), match)
        var reopened: [MatchItem] = []
        for id in match.bankItems where !keeping(ItemRef(side: .bank, id: id)) {
            guard var line = try state.record(LineRecord.self, lineKey(account, id)) else {
                throw StorageError.corrupted(reason: "matched line \(id) of \(account) has no record")
            }
            line.state = .open
            state.putRecord(lineKey(account, id), line)
            reopened.append(item(line: line.line, id: id, currency: line.currency))
        }
        for id in match.bookItems where !keeping(ItemRef(side: .book, id: id)) {
            guard var book = try state.record(BookRecord.self, bookKey(account, id)) else {
                throw StorageError.corrupted(reason: "matched book entry \(id) of \(account) has no record")
            }
            book.state = .open
            state.putRecord(bookKey(account, id), book)
            reopened.append(item(entry: book.entry, id: id))
        }
        return Reopened(items: reopened.sorted { ($0.side.rawValue, $0.id) < ($1.side.rawValue, $1.id) },
                        byPerson: match.rule == .manual || match.reviewed != nil)
    }

    /// Settles what a dissolved match left open: items of a match a person
    /// made or reviewed go back to the open items as they are; the matcher's
    /// are matched anew, as if they had just arrived.
    static func settle<State>(_ reopened: Reopened, account: inout AccountRecord, matcher: Matcher, made: Provenance,
                              index: inout OpenItemIndex<State>, tally: inout MatchTally) throws {
        guard !reopened.byPerson else {
            for item in reopened.items { try index.add(item) }
            return
        }
        try rematch(reopened.items, account: &account, matcher: matcher, made: made, index: &index, tally: &tally)
    }

    /// Matches items that a dissolved match left open anew, as if they had just arrived.
    static func rematch<State>(_ items: [MatchItem], account: inout AccountRecord, matcher: Matcher, made: Provenance,
                               index: inout OpenItemIndex<State>, tally: inout MatchTally) throws {
        for item in items {
            let decision = try matcher.arrive(item, index: &index)
            if let decision { try record(decision, account: &account, made: made, index: &index) }
            tally.count(decision)
        }
    }

    func matchItems(_ arguments: ManualMatch, in context: inout TransactionContext) throws {
        var account = try resolveAccount(arguments.account, bank: arguments.bank, as: .party, context)
        try Self.checkReason(arguments.reason)
        let name = account.account
        let scope = account.scope
        guard arguments.bankItems.count + arguments.bookEntries.count >= 2 else {
            throw Rejection(code: "too_few_items", message: "a match needs at least two items")
        }
        guard Set(arguments.bankItems).count == arguments.bankItems.count, Set(arguments.bookEntries).count == arguments.bookEntries.count else {
            throw Rejection(code: "duplicate_item", message: "an item appears twice in the match")
        }
        var bank: [MatchItem] = []
        var book: [MatchItem] = []
        for id in arguments.bankItems {
            guard let line = try context.get(LineRecord.self, Self.lineKey(scope, id)) else {
                throw Rejection(code: "unknown_item", message: "account '\(name)' has no bank line '\(id)' (give the item id as the statement query shows it: statement/line)")
            }
            guard line.state == .open else { throw Rejection(code: "item_not_open", message: Self.describe(line.state, "bank line '\(id)'")) }
            bank.append(Self.item(line: line.line, id: id, currency: line.currency))
        }
        for entryID in arguments.bookEntries {
            let id = Self.part(entryID)
            guard let entry = try context.get(BookRecord.self, Self.bookKey(scope, id)) else {
                throw Rejection(code: "unknown_entry", message: "account '\(name)' has no book entry '\(entryID)'")
            }
            guard entry.state == .open else { throw Rejection(code: "item_not_open", message: Self.describe(entry.state, "book entry '\(entryID)'")) }
            book.append(Self.item(entry: entry.entry, id: id))
        }
        let bankSum = bank.reduce(Int64(0)) { $0 + $1.amountMinor }
        let bookSum = book.reduce(Int64(0)) { $0 + $1.amountMinor }
        if bank.isEmpty || book.isEmpty {
            guard bankSum + bookSum == 0 else {
                throw Rejection(code: "unbalanced_match", message: "items of one side match only when they cancel out; these add up to \(bankSum + bookSum) minor units")
            }
            let owner = bank.isEmpty ? account.enterpriseID : account.bankID
            guard context.organization.id == owner else {
                throw Rejection(code: "not_side_owner", message: "only '\(owner)' may match its own \(bank.isEmpty ? "book entries" : "bank lines") with one another")
            }
        }
        let difference = bank.isEmpty || book.isEmpty ? 0 : bankSum - bookSum
        var store = OpenItemIndex(state: context, account: scope)
        for member in bank + book { try store.remove(member) }
        let decision = MatchDecision(rule: .manual, bankItems: bank.sorted { $0.id < $1.id }, bookItems: book.sorted { $0.id < $1.id },
                                     differenceMinor: difference)
        let matchID = account.nextMatchID
        try Self.record(decision, account: &account, made: Provenance(store.state), index: &store, reason: arguments.reason)
        context = store.finishedState()
        context.put(account.key, account)
        context.emit("items_matched", [("account", name), ("match", String(matchID)), ("bankItems", String(bank.count)),
                                       ("bookEntries", String(book.count)), ("differenceMinor", String(difference)), ("by", context.organization.id)])
    }

    func unmatch(_ arguments: Unmatch, in context: inout TransactionContext) throws {
        let account = try resolveAccount(arguments.account, bank: arguments.bank, as: .party, context)
        try Self.checkReason(arguments.reason)
        let name = account.account
        let match = try Self.match(arguments.matchID, of: account, context)
        if let dissolution = match.dissolution {
            throw Rejection(code: "match_dissolved", message: "match \(match.id) was already dissolved at height \(dissolution.by.height): \(dissolution.reason)")
        }
        guard match.rule != .correction else {
            throw Rejection(code: "correction_match", message: "match \(match.id) pairs a corrected book entry with its reversing entry; a correction is never undone, correct the entry again instead")
        }
        let caller = context.organization.id
        if let reviewed = match.reviewed, reviewed.by.organizationID != caller {
            throw Rejection(code: "not_match_owner", message: "match \(match.id) was reviewed by '\(reviewed.by.organizationID)' (\(reviewed.reason)); only they may undo it")
        }
        if match.rule == .manual, match.made.organizationID != caller {
            throw Rejection(code: "not_match_owner", message: "match \(match.id) was made by hand by '\(match.made.organizationID)' (\(match.reason)); only they may undo it")
        }
        var store = OpenItemIndex(state: context, account: account.scope)
        let note = MatchNote(reason: arguments.reason, by: Provenance(store.state))
        let reopened = try Self.dissolve(match.id, account: account.scope, note: note, keeping: { _ in false }, state: &store.state).items
        for item in reopened { try store.add(item) }
        context = store.finishedState()
        context.emit("match_dissolved", [("account", name), ("match", String(match.id)), ("items", String(reopened.count)),
                                         ("by", context.organization.id)])
    }

    func reviewMatch(_ arguments: ReviewMatch, in context: inout TransactionContext) throws {
        let account = try resolveAccount(arguments.account, bank: arguments.bank, as: .party, context)
        try Self.checkReason(arguments.reason)
        var match = try Self.match(arguments.matchID, of: account, context)
        if let reviewed = match.reviewed {
            throw Rejection(code: "already_reviewed", message: "match \(match.id) was already reviewed at height \(reviewed.by.height) by '\(reviewed.by.organizationID)'")
        }
        guard match.awaitsReview else {
            throw Rejection(code: "not_ambiguous", message: match.dissolved
                ? "match \(match.id) is dissolved" : "match \(match.id) had no equally good alternative; there is nothing to review")
        }
        match.reviewed = MatchNote(reason: arguments.reason, by: Provenance(context))
        context.put(Self.matchKey(account.scope, match.id), match)
        context.emit("match_reviewed", [("account", account.account), ("match", String(match.id)), ("by", context.organization.id)])
    }

    func correctBookEntry(_ arguments: CorrectBookEntry, in context: inout TransactionContext) throws {
        var account = try resolveAccount(arguments.account, bank: arguments.bank, as: .enterprise, context)
        try Self.checkReason(arguments.reason)
        let name = account.account
        let scope = account.scope
        try Self.checkIdentifier(arguments.correctionID, "correction id")
        let digest = arguments.digest
        if let batch = try context.get(BatchRecord.self, Self.batchKey(scope, arguments.correctionID)) {
            guard batch.digest == digest else {
                throw Rejection(code: "duplicate_batch", message: "a batch or correction '\(arguments.correctionID)' was already posted for account '\(name)' (at height \(batch.posted.height)); give the correction another id")
            }
            context.emit("book_entry_already_corrected", [("account", name), ("correction", arguments.correctionID),
                                                          ("height", String(batch.posted.height))])
            return
        }
        let originalID = Self.part(arguments.entryID)
        guard let original = try context.get(BookRecord.self, Self.bookKey(scope, originalID)) else {
            throw Rejection(code: "unknown_entry", message: "account '\(name)' has no book entry '\(arguments.entryID)'")
        }
        let reversalID = Self.part(arguments.correctionID)
        guard try context.get(Self.bookKey(scope, reversalID)) == nil else {
            throw Rejection(code: "duplicate_entry", message: "book entry '\(arguments.correctionID)' already exists; the correction's id names its reversing entry, so it must be new")
        }
        if let replacement = arguments.replacement {
            try Self.checkIdentifier(replacement.entryID, "replacement entry id")
            guard replacement.entryID != arguments.correctionID,
                  try context.get(Self.bookKey(scope, Self.part(replacement.entryID))) == nil else {
                throw Rejection(code: "duplicate_entry", message: "book entry '\(replacement.entryID)' already exists; a replacement is a new entry")
            }
            guard replacement.currency == account.currency else {
                throw Rejection(code: "currency_mismatch", message: "entry '\(replacement.entryID)' is in \(replacement.currency) but the account is in \(account.currency)")
            }
            try Self.checkAmount(replacement.amountMinor, "entry '\(replacement.entryID)' amount")
            guard replacement.amountMinor != 0 else {
                throw Rejection(code: "zero_amount", message: "entry '\(replacement.entryID)' has amount 0")
            }
        }
        var store = OpenItemIndex(state: context, account: scope)
        let made = Provenance(store.state)
        var reopened = Reopened()
        switch original.state {
        case .open:
            try store.remove(Self.item(entry: original.entry, id: originalID))
        case .matched(let matchID):
            let match = try Self.match(matchID, of: account, store.state)
            guard match.rule != .correction else {
                throw Rejection(code: "already_corrected", message: "book entry '\(arguments.entryID)' belongs to correction match \(matchID) (a corrected entry or a reversing entry); correct its replacement instead")
            }
            let note = MatchNote(reason: "book entry '\(arguments.entryID)' corrected by '\(arguments.correctionID)'", by: made)
            reopened = try Self.dissolve(matchID, account: scope, note: note, keeping: { $0 == ItemRef(side: .book, id: originalID) },
                                         state: &store.state)
        case .withdrawn:
            throw Rejection(code: "item_not_open", message: Self.describe(original.state, "book entry '\(arguments.entryID)'"))
        }
        if let date = arguments.date, date < original.entry.date {
            throw Rejection(code: "reversal_before_entry", message: "the reversing entry's date \(date) is before the corrected entry's date \(original.entry.date)")
        }
        let entries = arguments.replacement == nil ? 1 : 2
        store.state.put(Self.batchKey(scope, arguments.correctionID), BatchRecord(digest: digest, entries: UInt64(entries), posted: made))
        let input = original.entry
        let reversal = BookEntryInput(entryID: arguments.correctionID, date: arguments.date ?? input.date, amountMinor: -input.amountMinor,
                                      currency: input.currency, reference: input.reference, counterparty: input.counterparty,
                                      memo: arguments.reason, isReversal: true)
        let reversalRecord = BookRecord(entry: reversal, batchID: arguments.correctionID, posted: made, state: .open)
        let pair = [Self.item(entry: input, id: originalID), Self.item(entry: reversal, id: reversalID)].sorted { $0.id < $1.id }
        let correctionMatch = account.nextMatchID
        try Self.record(MatchDecision(rule: .correction, bankItems: [], bookItems: pair, differenceMinor: 0), account: &account, made: made,
                        index: &store, arriving: .book(reversalID, reversalRecord), reason: arguments.reason)
        var tally = MatchTally()
        let matcher = Matcher(rules: account.rules)
        if let replacement = arguments.replacement {
            tally.count(try Self.postEntry(replacement, batchID: arguments.correctionID, posted: made, account: &account, matcher: matcher, index: &store))
        }
        try Self.settle(reopened, account: &account, matcher: matcher, made: made, index: &store, tally: &tally)
        context = store.finishedState()
        context.put(account.key, account)
        var attributes = [("account", name), ("entry", arguments.entryID), ("correction", arguments.correctionID),
                          ("correctionMatch", String(correctionMatch)), ("matches", String(tally.matched))]
        if let replacement = arguments.replacement { attributes.append(("replacement", replacement.entryID)) }
        if tally.ambiguous > 0 { attributes.append(("ambiguousMatches", String(tally.ambiguous))) }
        context.emit("book_entry_corrected", attributes)
    }
}
