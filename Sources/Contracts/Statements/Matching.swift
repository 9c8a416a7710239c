import Ledger
import LedgerCore

/// Which side of the reconciliation an item comes from.
public enum MatchSide: UInt8, Sendable, Equatable, Hashable, CanonicalCodable {
    case bank = 0
    case book = 1

    public var other: MatchSide { self == .bank ? .book : .bank }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(rawValue) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readUInt8("side")
        guard let side = MatchSide(rawValue: tag) else { throw .unknownTag(field: "side", tag: UInt64(tag)) }
        self = side
    }
}

/// The rule that made a match; stored with every match.
public enum MatchRule: String, Sendable, Equatable, CaseIterable, CanonicalCodable {
    /// Same reference, same amount and currency.
    case reference
    /// Same reference; the bank credited the booked receipt less a fee within the account's tolerance.
    case referenceWithFee = "reference_fee"
    /// Same reference; one item on one side equals the sum of several on the other.
    case referenceSplit = "reference_split"
    /// Same amount and currency, dates within the tolerance window, counterparties agree.
    case amountDateCounterparty = "amount_date_counterparty"
    /// Same amount and currency, dates within the tolerance window, a counterparty missing on one side.
    case amountDate = "amount_date"
    /// A line and its reversal on the same side cancel.
    case reversal
    /// Matched by a person of the account, with a reason.
    case manual
    /// A book entry and the reversing entry of its correction.
    case correction

    var tag: UInt64 { UInt64(Self.allCases.firstIndex(of: self) ?? 0) }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        self = try decoder.readCase(Self.self, "match rule")
    }
}

/// What the matcher knows of an open item: enough to choose candidates
/// without reading the full record.
public struct MatchItem: Equatable, Sendable, CanonicalCodable {
    public var side: MatchSide
    /// Bank lines: `statement/line` (escaped); book entries: the entry id (escaped).
    public var id: String
    public var amountMinor: Int64
    public var currency: String
    /// Value date (bank) or entry date (books), as a day number.
    public var day: Int32
    /// Normalized references (upper case, no spaces); empty when none.
    public var references: [String]
    /// Normalized counterparty name; empty when none.
    public var counterparty: String
    public var isReversal: Bool

    public init(side: MatchSide, id: String, amountMinor: Int64, currency: String, day: Int32, references: [String],
                counterparty: String, isReversal: Bool) {
        self.side = side
        self.id = id
        self.amountMinor = amountMinor
        self.currency = currency
        self.day = day
        self.references = references
        self.counterparty = counterparty
        self.isReversal = isReversal
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(side)
        encoder.write(id)
        encoder.write(amountMinor)
        encoder.write(currency)
        encoder.write(Int64(day))
        encoder.write(references)
        encoder.write(counterparty)
        encoder.write(isReversal)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        side = try decoder.read(MatchSide.self, "side")
        id = try decoder.readString("item id", limit: StatementsLimits.matchItemIDBytesMax)
        amountMinor = try decoder.readInt64("item amount")
        currency = try decoder.readString("item currency", limit: StatementsLimits.currencyBytes)
        guard let day = Int32(exactly: try decoder.readInt64("item day")) else { throw .integerOverflow(field: "item day") }
        self.day = day
        references = try decoder.readStrings("item references", countLimit: StatementsLimits.referencesPerItemMax, lengthLimit: StatementsLimits.referenceBytesMax)
        counterparty = try decoder.readString("item counterparty", limit: StatementsLimits.nameBytesMax)
        isReversal = try decoder.readBool("item reversal")
    }

    /// The item's references sorted, each once: the order every lookup by
    /// reference takes. An item has at most ``StatementsLimits/referencesPerItemMax``,
    /// so this sorts a few strings rather than hashing them into a set.
    public var distinctReferences: [String] {
        guard references.count > 1 else { return references }
        var sorted = references.sorted()
        var kept = 1
        for position in 1..<sorted.count where sorted[position] != sorted[kept - 1] {
            sorted[kept] = sorted[position]
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        return sorted
    }

    /// Upper case, letters and digits only; `NONREF`/`NOTPROVIDED` count as none.
    public static func normalizedReference(_ text: String?) -> String? {
        guard let text else { return nil }
        let kept = asciiNormalized(text, keeping: { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ".") })
            ?? String(text.uppercased().unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "/" || $0 == "." })
        guard !kept.isEmpty, kept != "NONREF", kept != "NOTPROVIDED" else { return nil }
        return String(decoding: kept.utf8.prefix(StatementsLimits.referenceBytesMax), as: UTF8.self)
    }

    /// `text` upper-cased with only ASCII letters, digits and the bytes
    /// `keeping` accepts; nil when `text` is not ASCII. For ASCII text this
    /// is what upper-casing and filtering by Unicode properties give.
    private static func asciiNormalized(_ text: String, keeping: (UInt8) -> Bool) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var kept: [UInt8] = []
            kept.reserveCapacity(bytes.count)
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): kept.append(byte - 0x20)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): kept.append(byte)
                default: if keeping(byte) { kept.append(byte) }
                }
            }
            return String(decoding: kept, as: UTF8.self)
        }
    }

    /// Upper case letters and digits only.
    public static func normalizedName(_ text: String?) -> String {
        guard let text else { return "" }
        let kept = asciiNormalized(text, keeping: { _ in false })
            ?? String(text.uppercased().unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) })
        return String(decoding: kept.utf8.prefix(StatementsLimits.nameBytesMax), as: UTF8.self)
    }
}

/// A decision of the matcher: which items match under which rule.
public struct MatchDecision: Equatable, Sendable {
    public var rule: MatchRule
    public var bankItems: [MatchItem]
    public var bookItems: [MatchItem]
    /// Σ bank − Σ book for fee matches (negative: the bank credited less); 0 otherwise.
    public var differenceMinor: Int64
    /// Open items that scored as well as the chosen one; not empty makes the match ambiguous.
    public var alternatives: [ItemRef] = []
}

/// Deterministic incremental matching: each arriving item is matched against
/// the open items of the other side (or, for a reversal, its own side), and
/// stays open when nothing fits. Candidates come only from the open-item
/// index, looked up by reference or by (currency, amount, day), so the state
/// read and written per item does not grow with the number of open items
/// (see ``OpenItemIndex``).
///
/// Order of rules: reversal (reversal items only), reference (exact amount,
/// then with fee tolerance), amount + date window + counterparty, then split
/// by reference when the account's rules allow it. Among equally good
/// candidates the lowest item id wins, on every node alike.
public struct Matcher: Sendable {
    public var rules: MatchingRules

    public init(rules: MatchingRules) {
        self.rules = rules
    }

    /// Matches `item` (which must not be open already) against the open
    /// items, or adds it to them. Items in the returned decision have left
    /// the index. Throws a `Rejection` when an index limit is reached.
    /// `isNew`: the item was never posted before (a new statement's line, a
    /// book entry without a record), so adding it need not read whether it is open.
    public func arrive<State>(_ item: MatchItem, index: inout OpenItemIndex<State>, isNew: Bool = false) throws -> MatchDecision? {
        if item.isReversal, let decision = try reversal(of: item, index: &index) {
            return try commit(decision, arriving: item, index: &index)
        }
        if let decision = try byReference(item, index: index) {
            return try commit(decision, arriving: item, index: &index)
        }
        if let decision = try byAmountAndDate(item, index: &index) {
            return try commit(decision, arriving: item, index: &index)
        }
        if rules.allowSplit, let decision = try split(item, index: index) {
            return try commit(decision, arriving: item, index: &index)
        }
        try index.add(item, isNew: isNew)
        return nil
    }

    private func commit<State>(_ decision: MatchDecision, arriving: MatchItem, index: inout OpenItemIndex<State>) throws -> MatchDecision {
        for member in decision.bankItems + decision.bookItems where member.id != arriving.id || member.side != arriving.side {
            try index.remove(member)
        }
        return decision
    }

    private func decision(_ rule: MatchRule, _ a: MatchItem, _ b: [MatchItem]) -> MatchDecision {
        let all = [a] + b
        let bank = all.filter { $0.side == .bank }.sorted { $0.id < $1.id }
        let book = all.filter { $0.side == .book }.sorted { $0.id < $1.id }
        let difference = rule == .referenceWithFee ? bank.reduce(0) { $0 + $1.amountMinor } - book.reduce(0) { $0 + $1.amountMinor } : 0
        return MatchDecision(rule: rule, bankItems: bank, bookItems: book, differenceMinor: difference)
    }

    /// Orders candidates: nearest date first, then id.
    private func nearest(_ candidates: [MatchItem], to item: MatchItem) -> [MatchItem] {
        candidates.sorted { lhs, rhs in
            let left = abs(Int(lhs.day) - Int(item.day)), right = abs(Int(rhs.day) - Int(item.day))
            return left != right ? left < right : lhs.id < rhs.id
        }
    }

    private func reversal<State>(of item: MatchItem, index: inout OpenItemIndex<State>) throws -> MatchDecision? {
        for reference in item.distinctReferences {
            let candidates = try index.referenceItems(item.side, reference).filter {
                !$0.isReversal && $0.currency == item.currency && $0.amountMinor == -item.amountMinor && $0.id != item.id
            }
            if let first = nearest(candidates, to: item).first { return decision(.reversal, item, [first]) }
        }
        for offset in windowOffsets() {
            let first = try index.lowestOpenItem(item.side, currency: item.currency, amountMinor: -item.amountMinor, day: item.day &+ offset) { counterparty, kind in
                !kind.isReversal && Self.counterpartiesAgree(counterparty, item.counterparty) && (item.references.isEmpty || !kind.hasReferences)
            }
            if let first { return decision(.reversal, item, [first]) }
        }
        return nil
    }

    private func byReference<State>(_ item: MatchItem, index: OpenItemIndex<State>) throws -> MatchDecision? {
        var feeCandidate: MatchItem?
        for reference in item.distinctReferences {
            let candidates = nearest(try index.referenceItems(item.side.other, reference).filter { $0.currency == item.currency }, to: item)
            let exact = candidates.filter { $0.amountMinor == item.amountMinor }
            if let chosen = exact.first {
                var result = decision(.reference, item, [chosen])
                result.alternatives = Self.alternatives(to: chosen, among: exact.dropFirst().filter { abs(Int($0.day) - Int(item.day)) == abs(Int(chosen.day) - Int(item.day)) })
                return result
            }
            if feeCandidate == nil, rules.feeToleranceMinor > 0 {
                feeCandidate = candidates.first { candidate in
                    let bank = item.side == .bank ? item : candidate
                    let book = item.side == .bank ? candidate : item
                    return bank.amountMinor > 0 && book.amountMinor > bank.amountMinor && book.amountMinor - bank.amountMinor <= rules.feeToleranceMinor
                }
            }
        }
        if let feeCandidate { return decision(.referenceWithFee, item, [feeCandidate]) }
        return nil
    }

    private func windowOffsets() -> [Int32] {
        var offsets: [Int32] = [0]
        let tolerance = Int32(min(rules.dateToleranceDays, 31))
        if tolerance > 0 {
            for distance in 1...tolerance { offsets.append(-distance); offsets.append(distance) }
        }
        return offsets
    }

    /// The candidates that scored as well as `chosen` and are not
    /// interchangeable with it or with one another (another counterparty,
    /// day or references), at most ``StatementsLimits/matchAlternativesMax``.
    static func alternatives(to chosen: MatchItem, among tied: some Sequence<MatchItem>) -> [ItemRef] {
        var result: [ItemRef] = []
        var kinds: [(counterparty: String, day: Int32, references: [String])] = [(chosen.counterparty, chosen.day, chosen.references)]
        for other in tied where result.count < StatementsLimits.matchAlternativesMax
            && !kinds.contains(where: { $0.counterparty == other.counterparty && $0.day == other.day && $0.references == other.references }) {
            kinds.append((other.counterparty, other.day, other.references))
            result.append(ItemRef(side: other.side, id: other.id))
        }
        return result
    }

    /// How well two counterparty names agree, best first: the same name,
    /// one containing the other, one side unnamed.
    static func agreement(_ a: String, _ b: String) -> Int {
        if a.isEmpty || b.isEmpty { return 2 }
        return a == b ? 0 : 1
    }

    /// Amount matching scores a candidate by its distance in days, then by
    /// how its counterparty agrees. The nearest, best-agreeing candidate
    /// wins (the earlier day, then the lowest id, among equals); candidates
    /// of the same score with another counterparty or day are its
    /// alternatives, which make the match ambiguous (docs/contracts.md,
    /// Statements). Candidates of one counterparty and day are
    /// interchangeable and never alternatives.
    private func byAmountAndDate<State>(_ item: MatchItem, index: inout OpenItemIndex<State>) throws -> MatchDecision? {
        let tolerance = Int32(min(rules.dateToleranceDays, 31))
        for distance in 0...tolerance {
            var candidates: [MatchItem] = []
            for offset in distance == 0 ? [Int32(0)] : [-distance, distance] {
                candidates += try index.groupTops(item.side.other, currency: item.currency, amountMinor: item.amountMinor, day: item.day &+ offset) { counterparty, _ in
                    Self.counterpartiesAgree(counterparty, item.counterparty)
                }
            }
            guard !candidates.isEmpty else { continue }
            var best = Int.max
            for candidate in candidates { best = Swift.min(best, Self.agreement(candidate.counterparty, item.counterparty)) }
            let tied = candidates.filter { Self.agreement($0.counterparty, item.counterparty) == best }
                .sorted { ($0.day, $0.id) < ($1.day, $1.id) }
            guard let chosen = tied.first else { continue }
            let rule: MatchRule = chosen.counterparty.isEmpty || item.counterparty.isEmpty ? .amountDate : .amountDateCounterparty
            var result = decision(rule, item, [chosen])
            result.alternatives = Self.alternatives(to: chosen, among: tied.dropFirst())
            return result
        }
        return nil
    }

    private func split<State>(_ item: MatchItem, index: OpenItemIndex<State>) throws -> MatchDecision? {
        let groupMax = Int(rules.splitGroupMax)
        let sameSign: (MatchItem) -> Bool = { ($0.amountMinor > 0) == (item.amountMinor > 0) && $0.currency == item.currency && !$0.isReversal }
        for reference in item.distinctReferences {
            let others = try index.referenceItems(item.side.other, reference).filter(sameSign)
            var same = try index.referenceItems(item.side, reference).filter { sameSign($0) && $0.id != item.id }
            same.append(item)
            if others.count == 1, same.count >= 2, same.count <= groupMax,
               same.reduce(Int64(0), { $0 &+ $1.amountMinor }) == others[0].amountMinor {
                return decision(.referenceSplit, others[0], same)
            }
            if same.count == 1, others.count >= 2, others.count <= groupMax,
               others.reduce(Int64(0), { $0 &+ $1.amountMinor }) == item.amountMinor {
                return decision(.referenceSplit, item, others)
            }
        }
        return nil
    }

    /// Two counterparties agree when either is unknown or one name contains the other.
    static func counterpartiesAgree(_ a: String, _ b: String) -> Bool {
        if a.isEmpty || b.isEmpty { return true }
        if let agree = asciiContainment(a, b) { return agree }
        return a.contains(b) || b.contains(a)
    }

    /// Whether one ASCII name contains the other, by bytes; nil when either
    /// name is not ASCII (then Unicode-aware containment decides). For ASCII
    /// text the two containments agree.
    private static func asciiContainment(_ a: String, _ b: String) -> Bool? {
        var a = a, b = b
        return a.withUTF8 { left -> Bool? in
            b.withUTF8 { right -> Bool? in
                guard !left.contains(where: { $0 >= 0x80 }), !right.contains(where: { $0 >= 0x80 }) else { return nil }
                return left.count >= right.count ? bytes(left, contain: right) : bytes(right, contain: left)
            }
        }
    }

    private static func bytes(_ haystack: UnsafeBufferPointer<UInt8>, contain needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count, haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            start += 1
        }
        return false
    }
}
