import ConsortTesting
import Contracts
import Foundation
import Ledger
import LedgerCore

/// Measures statement matching on one account through the contract's own
/// posting code (``StatementsContract/postEntry(_:batchID:posted:account:matcher:index:)``
/// and ``StatementsContract/postLine(_:statementID:currency:account:matcher:made:index:)``,
/// the functions `postBookEntries` and `postStatement` run for every item):
/// each item's record is stored, matched against the open-item index in
/// state, and its match recorded. The state is held in memory, so the figure
/// is the contract's work, not the disk's or the state tree's.
///
/// `linesPerSide` payments appear once on each side: the books first, in
/// batches of ``StatementsLimits/entriesPerBatchMax``, then the bank, in
/// statements of ``StatementsLimits/linesPerStatementMax`` lines. Amounts
/// come from ``amounts`` only, over ``days`` days, so each day holds many
/// equal amounts (about `linesPerSide / (amounts × days)` per amount and day
/// and side, from ``counterparties`` customers); a third carry a unique
/// invoice reference, and the books are dated up to two days after the bank.
public enum StatementsBenchmark {
    /// The distinct amounts paid.
    public static let amounts: [Int64] = (1...40).map { Int64($0) * 2_500 }
    /// The days the payments spread over.
    public static let days = 250
    /// The customers paying.
    public static let counterparties = 30
    /// The fewest and most lines per side a run takes (memory grows with it: about 1 GB per million).
    public static let linesPerSideRange = 1_000...2_000_000
    /// The throughput the contract is expected to reach in a release build.
    public static let targetLinesPerSecond = 100_000.0

    /// Figures of one run.
    public struct Result: Sendable, CustomStringConvertible {
        public var linesPerSide: Int
        /// Bank lines matched.
        public var matched: Int
        /// Seconds spent posting and matching both sides.
        public var seconds: Double
        /// Bank lines matched per second, over the whole run (books included).
        public var linesMatchedPerSecond: Double
        public var matchesByRule: [String: Int]
        /// Largest number of equal amounts on one day on one side.
        public var largestAmountDay: Int
        /// State reads and writes (deletions included) per posted item.
        public var readsPerItem: Double
        public var writesPerItem: Double

        public var description: String {
            let rules = matchesByRule.keys.sorted().map { "\($0)=\(matchesByRule[$0] ?? 0)" }.joined(separator: " ")
            return "statements matching: \(linesPerSide) lines per side, \(matched) matched in \(String(format: "%.3f", seconds)) s, "
                + "\(Int(linesMatchedPerSecond)) lines matched/s (\(rules))"
        }
    }

    /// A run's input: the book batches and the statements' lines.
    struct Payments {
        var batches: [[BookEntryInput]] = []
        var statements: [[StatementLineInput]] = []
        var largestAmountDay = 0
    }

    static func payments(linesPerSide: Int, seed: UInt64) -> Payments {
        var random = SplitMix64(seed: seed)
        let start = CalendarDate(year: 2026, month: 1, day: 1)?.dayNumber ?? 0
        var payments = Payments()
        var entries: [BookEntryInput] = []
        var lines: [StatementLineInput] = []
        var perAmountDay: [Int64: Int] = [:]
        for index in 0..<linesPerSide {
            let magnitude = amounts[Int(random.next(below: UInt64(amounts.count)))]
            let amount = random.next(below: 2) == 0 ? magnitude : -magnitude
            let day = Int(random.next(below: UInt64(days)))
            let delay = Int(random.next(below: 3))
            let reference = index % 3 == 0 ? "INV\(index)" : nil
            let counterparty = "Customer \(random.next(below: UInt64(counterparties))) Ltd"
            perAmountDay[amount &* 1_000 &+ Int64(day), default: 0] += 1
            lines.append(StatementLineInput(lineID: String(index), bookingDate: CalendarDate(dayNumber: start + day),
                                            valueDate: CalendarDate(dayNumber: start + day), amountMinor: amount,
                                            customerReference: reference, counterpartyName: counterparty))
            entries.append(BookEntryInput(entryID: "E\(index)", date: CalendarDate(dayNumber: start + day + delay), amountMinor: amount,
                                          currency: "EUR", reference: reference, counterparty: counterparty))
            if lines.count == StatementsLimits.linesPerStatementMax {
                payments.statements.append(lines)
                lines = []
            }
            if entries.count == StatementsLimits.entriesPerBatchMax {
                payments.batches.append(entries)
                entries = []
            }
        }
        if !lines.isEmpty { payments.statements.append(lines) }
        if !entries.isEmpty { payments.batches.append(entries) }
        payments.largestAmountDay = perAmountDay.values.max() ?? 0
        return payments
    }

    /// Runs the benchmark; `seed` fixes the generated payments. `linesPerSide`
    /// outside ``linesPerSideRange`` is clamped to it. `progress` hears how
    /// far posting has come, about every tenth of the items.
    public static func run(linesPerSide requested: Int = 100_000, seed: UInt64 = 1, progress: (String) -> Void = { _ in }) throws -> Result {
        let linesPerSide = min(max(requested, linesPerSideRange.lowerBound), linesPerSideRange.upperBound)
        let input = payments(linesPerSide: linesPerSide, seed: seed)
        let posting = try post(input, signer: try PrivateKey.generate().publicKey, progress: progress)
        let seconds = posting.seconds
        let items = Double(2 * linesPerSide)
        let (reads, writes) = (posting.index.state.traffic.reads, posting.index.state.traffic.writes)
        let byRule = try StatementsContract.matchesByRule(account: posting.account, state: posting.index.state)
        return Result(linesPerSide: linesPerSide, matched: posting.matched, seconds: seconds,
                      linesMatchedPerSecond: seconds > 0 ? Double(posting.matched) / seconds : 0, matchesByRule: byRule,
                      largestAmountDay: input.largestAmountDay, readsPerItem: Double(reads) / items,
                      writesPerItem: Double(writes) / items)
    }

    /// What posting a run's input left: the index with its state, the account and the time it took.
    struct Posting {
        var index: OpenItemIndex<MemoryStatementsState>
        var account: AccountRecord
        var matched: Int
        var seconds: Double
    }

    /// Posts `input` through the contract's posting code, the books first,
    /// every change signed by `signer`, and times it; `progress` hears of
    /// each further tenth of the items posted, between batches.
    static func post(_ input: Payments, signer: PublicKey, progress: (String) -> Void = { _ in }) throws -> Posting {
        func provenance(_ organization: String, _ height: Int) -> Provenance {
            Provenance(transactionID: Hash.sha256(Array("statements-benchmark-\(height)".utf8)), signer: signer, organizationID: organization,
                       height: UInt64(height), timestampMs: 1_767_225_600_000 + UInt64(height) * 1000)
        }
        let name = "DE89370400440532013000"
        let rules = MatchingRules(dateToleranceDays: 3)
        var account = AccountRecord(account: name, bankID: "bank", enterpriseID: "enterprise", currency: "EUR",
                                    rules: rules, registered: provenance("bank", 0))
        let matcher = Matcher(rules: rules)
        var index = OpenItemIndex(state: MemoryStatementsState(), account: account.scope)
        var matched = 0
        var height = 0
        let clock = ContinuousClock()
        let began = clock.now
        let items = input.batches.reduce(0) { $0 + $1.count } + input.statements.reduce(0) { $0 + $1.count }
        var posted = 0
        var reported = 0
        func report(_ count: Int) {
            posted += count
            guard items > 0, posted * 10 / items > reported else { return }
            reported = posted * 10 / items
            progress("\(posted) of \(items) items posted, \(matched) matched, \(String(format: "%.1f", (clock.now - began).inSeconds)) s")
        }
        for batch in input.batches {
            height += 1
            let posted = provenance("enterprise", height)
            let batchID = "B\(height)"
            for entry in batch where try index.post(entry, batchID: batchID, posted: posted, account: &account, matcher: matcher) != nil {
                matched += 1
            }
            report(batch.count)
        }
        for lines in input.statements {
            height += 1
            let made = provenance("bank", height)
            let statementID = "S\(height)"
            for line in lines where try index.post(line, statementID: statementID, currency: "EUR", account: &account,
                                                   matcher: matcher, made: made) != nil {
                matched += 1
            }
            report(lines.count)
        }
        index.flush()
        let elapsed = clock.now - began
        return Posting(index: index, account: account, matched: matched, seconds: elapsed.inSeconds)
    }
}
