import Contracts
import Foundation
import Ledger
import LedgerCore

/// Measures the matcher's throughput on one account: `linesPerSide` bank
/// lines and as many book entries derived from the same payments (a third
/// matched by reference, the rest by amount and date, the books dated up to
/// two days after the bank), run through ``Matcher`` over an in-memory index.
public enum StatementsBenchmark {
    /// Figures of one run.
    public struct Result: Sendable, CustomStringConvertible {
        public var linesPerSide: Int
        public var matched: Int
        public var seconds: Double
        /// Bank lines matched per second.
        public var linesMatchedPerSecond: Double
        public var matchesByRule: [String: Int]

        public var description: String {
            let rules = matchesByRule.keys.sorted().map { "\($0)=\(matchesByRule[$0] ?? 0)" }.joined(separator: " ")
            return "statements matching: \(linesPerSide) lines per side, \(matched) matched in \(String(format: "%.3f", seconds)) s, "
                + "\(Int(linesMatchedPerSecond)) lines matched/s (\(rules))"
        }
    }

    /// Runs the benchmark; `seed` fixes the generated payments.
    public static func run(linesPerSide: Int = 100_000, seed: UInt64 = 1) -> Result {
        var random = SplitMix64(seed: seed)
        let start = CalendarDate(year: 2026, month: 1, day: 1)?.dayNumber ?? 0
        var bank: [MatchItem] = []
        var book: [MatchItem] = []
        bank.reserveCapacity(linesPerSide)
        book.reserveCapacity(linesPerSide)
        for index in 0..<linesPerSide {
            let amount = Int64(random.next(below: 5_000_000) + 1) * (random.next(below: 2) == 0 ? 1 : -1)
            let day = Int32(start + Int(random.next(below: 365)))
            let delay = Int32(random.next(below: 3))
            let reference = index % 3 == 0 ? ["INV\(index)"] : []
            let counterparty = "PARTY\(random.next(below: 500))"
            bank.append(MatchItem(side: .bank, id: "s/\(index)", amountMinor: amount, currency: "EUR", day: day, references: reference,
                                  counterparty: counterparty, isReversal: false))
            book.append(MatchItem(side: .book, id: "e\(index)", amountMinor: amount, currency: "EUR", day: day + delay, references: reference,
                                  counterparty: counterparty, isReversal: false))
        }
        let matcher = Matcher(rules: MatchingRules(dateToleranceDays: 3))
        var index = MemoryMatchingIndex()
        var matched = 0
        var byRule: [String: Int] = [:]
        let clock = ContinuousClock()
        let began = clock.now
        for item in book {
            _ = try? matcher.arrive(item, index: &index)
        }
        for item in bank {
            if let decision = try? matcher.arrive(item, index: &index) {
                matched += decision.bankItems.count
                byRule[decision.rule.rawValue, default: 0] += 1
            }
        }
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(linesPerSide: linesPerSide, matched: matched, seconds: seconds,
                      linesMatchedPerSecond: seconds > 0 ? Double(matched) / seconds : 0, matchesByRule: byRule)
    }
}

