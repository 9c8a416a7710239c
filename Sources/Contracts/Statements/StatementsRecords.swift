import Ledger
import LedgerCore

/// Who did something and when: kept with every record that queries show as history.
public struct Provenance: Equatable, Sendable, CanonicalCodable {
    public var transactionID: Hash
    public var signer: PublicKey
    public var organizationID: String
    public var height: UInt64
    public var timestampMs: UInt64

    /// The provenance of a change made by `organizationID` through `signer` in a transaction of a block.
    package init(transactionID: Hash, signer: PublicKey, organizationID: String, height: UInt64, timestampMs: UInt64) {
        self.transactionID = transactionID
        self.signer = signer
        self.organizationID = organizationID
        self.height = height
        self.timestampMs = timestampMs
    }

    init(_ context: TransactionContext) {
        transactionID = context.transactionID
        signer = context.sender
        organizationID = context.organization.id
        height = context.blockHeight
        timestampMs = context.blockTimestampMs
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(transactionID)
        encoder.write(signer)
        encoder.write(organizationID)
        encoder.write(height)
        encoder.write(timestampMs)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        transactionID = try decoder.read(Hash.self, "transaction id")
        signer = try decoder.read(PublicKey.self, "signer")
        organizationID = try decoder.readString("organization", limit: Limits.identifierBytesMax)
        height = try decoder.readUInt64("height")
        timestampMs = try decoder.readUInt64("timestamp")
    }

    var json: JSONValue {
        .object(["transactionId": .string(transactionID.hex), "signer": .string(signer.hex), "organization": .string(organizationID),
                 "height": .integer(Int64(height)), "timestampMs": .integer(Int64(timestampMs))])
    }
}

/// An enterprise account held by a bank.
package struct AccountRecord: Equatable, Sendable, CanonicalCodable {
    var account: String
    var bankID: String
    var enterpriseID: String
    var currency: String
    var rules: MatchingRules
    var bookOpeningMinor: Int64?
    var hasBookEntries: Bool
    var nextMatchID: UInt64
    var lastConfirmedStatement: String?
    var registered: Provenance
    /// When the enterprise accepted the registration; until then its operations do not reach the account.
    var accepted: Provenance?

    /// The account's part of every state key of its records: its bank and number, escaped.
    package var scope: String { StatementsContract.part(bankID) + "/" + StatementsContract.part(account) }
    /// Where the record itself is kept.
    var key: [UInt8] { StatementsContract.accountKey(account, bank: bankID) }

    package func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(bankID)
        encoder.write(enterpriseID)
        encoder.write(currency)
        encoder.write(rules)
        encoder.write(optional: bookOpeningMinor.map { UInt64(bitPattern: $0) })
        encoder.write(hasBookEntries)
        encoder.write(nextMatchID)
        encoder.write(optional: lastConfirmedStatement)
        encoder.write(registered)
        encoder.write(accepted)
    }

    package init(account: String, bankID: String, enterpriseID: String, currency: String, rules: MatchingRules, registered: Provenance) {
        self.account = account
        self.bankID = bankID
        self.enterpriseID = enterpriseID
        self.currency = currency
        self.rules = rules
        self.bookOpeningMinor = nil
        self.hasBookEntries = false
        self.nextMatchID = 1
        self.lastConfirmedStatement = nil
        self.registered = registered
        self.accepted = nil
    }

    package init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        bankID = try decoder.readString("bank", limit: Limits.identifierBytesMax)
        enterpriseID = try decoder.readString("enterprise", limit: Limits.identifierBytesMax)
        currency = try decoder.readString("currency", limit: StatementsLimits.currencyBytes)
        rules = try decoder.read(MatchingRules.self, "rules")
        bookOpeningMinor = try decoder.readOptionalUInt64("book opening").map { Int64(bitPattern: $0) }
        hasBookEntries = try decoder.readBool("has book entries")
        nextMatchID = try decoder.readUInt64("next match id")
        lastConfirmedStatement = try decoder.readOptionalString("last confirmed", limit: StatementsLimits.identifierBytesMax)
        registered = try decoder.read(Provenance.self, "registered")
        accepted = try decoder.readOptional(Provenance.self, "accepted")
    }
}

/// Where an item stands in matching.
enum ItemState: Equatable, Sendable, CanonicalCodable {
    case open
    case matched(UInt64)
    /// The line belongs to a statement that a correction replaced.
    case withdrawn

    func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .open: encoder.write(UInt64(0))
        case .matched(let id):
            encoder.write(UInt64(1))
            encoder.write(id)
        case .withdrawn: encoder.write(UInt64(2))
        }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("item state") {
        case 0: self = .open
        case 1: self = .matched(try decoder.readUInt64("match id"))
        case 2: self = .withdrawn
        case let tag: throw .unknownTag(field: "item state", tag: tag)
        }
    }

    var label: String {
        switch self {
        case .open: "open"
        case .matched: "matched"
        case .withdrawn: "withdrawn"
        }
    }
}

/// A posted statement (its lines are stored one record each).
struct StatementRecord: Equatable, Sendable, CanonicalCodable {
    var header: PostStatement
    /// SHA-256 of the statement's arguments as posted, lines included: posting
    /// the same statement again is recognised by it.
    var digest: Hash
    var supersededBy: String?
    var posted: Provenance

    func encode(to encoder: inout CanonicalEncoder) {
        var stripped = header
        stripped.lines = []
        encoder.write(stripped)
        encoder.write(UInt64(lineCount))
        encoder.write(digest)
        encoder.write(optional: supersededBy)
        encoder.write(posted)
    }

    init(header: PostStatement, supersededBy: String?, posted: Provenance) {
        self.header = header
        self.digest = header.digest
        self.supersededBy = supersededBy
        self.posted = posted
        self.lineCount = header.lines.count
    }

    var lineCount: Int

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        header = try decoder.read(PostStatement.self, "statement")
        lineCount = Int(try decoder.readLength("line count", limit: StatementsLimits.linesPerStatementMax))
        digest = try decoder.read(Hash.self, "statement digest")
        supersededBy = try decoder.readOptionalString("superseded by", limit: StatementsLimits.identifierBytesMax)
        posted = try decoder.read(Provenance.self, "posted")
    }
}

/// A stored bank line.
struct LineRecord: Equatable, Sendable, CanonicalCodable {
    var statementID: String
    var line: StatementLineInput
    var currency: String
    var state: ItemState

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(statementID)
        encoder.write(line)
        encoder.write(currency)
        encoder.write(state)
    }

    init(statementID: String, line: StatementLineInput, currency: String, state: ItemState) {
        self.statementID = statementID
        self.line = line
        self.currency = currency
        self.state = state
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        statementID = try decoder.readString("statement id", limit: StatementsLimits.identifierBytesMax)
        line = try decoder.read(StatementLineInput.self, "line")
        currency = try decoder.readString("currency", limit: StatementsLimits.currencyBytes)
        state = try decoder.read(ItemState.self, "state")
    }
}

/// A stored book entry.
struct BookRecord: Equatable, Sendable, CanonicalCodable {
    var entry: BookEntryInput
    var batchID: String
    var posted: Provenance
    var state: ItemState

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(entry)
        encoder.write(batchID)
        encoder.write(posted)
        encoder.write(state)
    }

    init(entry: BookEntryInput, batchID: String, posted: Provenance, state: ItemState) {
        self.entry = entry
        self.batchID = batchID
        self.posted = posted
        self.state = state
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        entry = try decoder.read(BookEntryInput.self, "entry")
        batchID = try decoder.readString("batch id", limit: StatementsLimits.identifierBytesMax)
        posted = try decoder.read(Provenance.self, "posted")
        state = try decoder.read(ItemState.self, "state")
    }
}

/// One item of a match's side, as matches and their alternatives name it.
public struct ItemRef: Equatable, Hashable, Sendable, CanonicalCodable {
    public var side: MatchSide
    /// Bank lines: `statement/line` (escaped); book entries: the entry id (escaped).
    public var id: String

    public init(side: MatchSide, id: String) {
        self.side = side
        self.id = id
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(side)
        encoder.write(id)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        side = try decoder.read(MatchSide.self, "item side")
        id = try decoder.readString("item id", limit: StatementsLimits.matchItemIDBytesMax)
    }

    var json: JSONValue { .object(["side": .string(side == .bank ? "bank" : "book"), "itemId": .string(id)]) }
}

/// Who changed a match that the matcher made or a person made, and why:
/// the review of an ambiguous match, or its dissolution.
struct MatchNote: Equatable, Sendable, CanonicalCodable {
    var reason: String
    var by: Provenance

    init(reason: String, by: Provenance) {
        self.reason = reason
        self.by = by
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(reason)
        encoder.write(by)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        reason = try decoder.readString("note reason", limit: StatementsLimits.reasonBytesMax)
        by = try decoder.read(Provenance.self, "note by")
    }

    var json: JSONValue { .object(["reason": .string(reason), "by": by.json]) }
}

/// A match between bank lines and book entries (or a line and its reversal).
struct MatchRecord: Equatable, Sendable, CanonicalCodable {
    var id: UInt64
    var rule: MatchRule
    var bankItems: [String]
    var bookItems: [String]
    var differenceMinor: Int64
    /// Why a person made it (manual matches and corrections); empty for the matcher's.
    var reason: String
    /// Open items that scored as well as the chosen one when the matcher made
    /// the match: while not empty and not reviewed, the match is ambiguous and
    /// listed for review.
    var alternatives: [ItemRef]
    /// Who confirmed an ambiguous match, and why.
    var reviewed: MatchNote?
    /// Who dissolved the match (unmatched it, corrected a statement or an entry of it), and why.
    var dissolution: MatchNote?
    var made: Provenance

    var dissolved: Bool { dissolution != nil }
    /// Made by the matcher with equally good alternatives, not yet reviewed, not dissolved.
    var awaitsReview: Bool { !alternatives.isEmpty && reviewed == nil && dissolution == nil }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(rule)
        encoder.write(bankItems)
        encoder.write(bookItems)
        encoder.write(differenceMinor)
        encoder.write(reason)
        encoder.write(alternatives)
        encoder.write(reviewed)
        encoder.write(dissolution)
        encoder.write(made)
    }

    init(id: UInt64, rule: MatchRule, bankItems: [String], bookItems: [String], differenceMinor: Int64, reason: String = "",
         alternatives: [ItemRef] = [], made: Provenance) {
        self.id = id
        self.rule = rule
        self.bankItems = bankItems
        self.bookItems = bookItems
        self.differenceMinor = differenceMinor
        self.reason = reason
        self.alternatives = alternatives
        self.reviewed = nil
        self.dissolution = nil
        self.made = made
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.readUInt64("match id")
        rule = try decoder.read(MatchRule.self, "rule")
        bankItems = try decoder.readStrings("bank items", countLimit: StatementsLimits.matchMembersMax + 1, lengthLimit: StatementsLimits.matchItemIDBytesMax)
        bookItems = try decoder.readStrings("book items", countLimit: StatementsLimits.matchMembersMax + 1, lengthLimit: StatementsLimits.matchItemIDBytesMax)
        differenceMinor = try decoder.readInt64("difference")
        reason = try decoder.readString("match reason", limit: StatementsLimits.reasonBytesMax)
        alternatives = try decoder.readArray(ItemRef.self, "alternatives", limit: StatementsLimits.matchAlternativesMax)
        reviewed = try decoder.readOptional(MatchNote.self, "reviewed")
        dissolution = try decoder.readOptional(MatchNote.self, "dissolution")
        made = try decoder.read(Provenance.self, "made")
    }
}

/// A posted batch of book entries: who posted it, and a digest of its
/// arguments, so that posting the same batch again is recognised.
struct BatchRecord: Equatable, Sendable, CanonicalCodable {
    var digest: Hash
    var entries: UInt64
    var posted: Provenance

    init(digest: Hash, entries: UInt64, posted: Provenance) {
        self.digest = digest
        self.entries = entries
        self.posted = posted
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(digest)
        encoder.write(entries)
        encoder.write(posted)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        digest = try decoder.read(Hash.self, "batch digest")
        entries = try decoder.readUInt64("batch entries")
        posted = try decoder.read(Provenance.self, "batch posted")
    }
}

/// The confirmation state of one statement's closing balance, with its history.
struct ConfirmationRecord: Equatable, Sendable, CanonicalCodable {
    enum Status: UInt8, Sendable {
        case confirmed = 0, disputed = 1, resolved = 2

        var label: String {
            switch self {
            case .confirmed: "confirmed"
            case .disputed: "disputed"
            case .resolved: "resolved"
            }
        }
    }

    struct Step: Equatable, Sendable, CanonicalCodable {
        var status: Status
        var text: String
        var amountMinor: Int64?
        var by: Provenance

        func encode(to encoder: inout CanonicalEncoder) {
            encoder.write(status.rawValue)
            encoder.write(text)
            encoder.write(optional: amountMinor.map { UInt64(bitPattern: $0) })
            encoder.write(by)
        }

        init(status: Status, text: String, amountMinor: Int64?, by: Provenance) {
            self.status = status
            self.text = text
            self.amountMinor = amountMinor
            self.by = by
        }

        init(from decoder: inout CanonicalDecoder) throws(CodecError) {
            let raw = try decoder.readUInt8("confirmation status")
            guard let status = Status(rawValue: raw) else { throw .unknownTag(field: "confirmation status", tag: UInt64(raw)) }
            self.status = status
            text = try decoder.readString("confirmation text", limit: StatementsLimits.reasonBytesMax)
            amountMinor = try decoder.readOptionalUInt64("confirmation amount").map { Int64(bitPattern: $0) }
            by = try decoder.read(Provenance.self, "confirmation by")
        }

        var json: JSONValue {
            var object: [String: JSONValue] = ["status": .string(status.label), "text": .string(text), "by": by.json]
            if let amountMinor { object["amountMinor"] = .integer(amountMinor) }
            return .object(object)
        }
    }

    var statementID: String
    var steps: [Step]

    var status: Status? { steps.last?.status }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(statementID)
        encoder.write(steps)
    }

    init(statementID: String, steps: [Step]) {
        self.statementID = statementID
        self.steps = steps
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        statementID = try decoder.readString("statement id", limit: StatementsLimits.identifierBytesMax)
        steps = try decoder.readArray(Step.self, "steps", limit: StatementsLimits.historyEntriesMax)
    }
}
