import Ledger
import LedgerCore

/// A calendar day (UTC), counted in days since 1970-01-01.
///
/// Receivable dates (issue, due, invoice dates) are whole days: a voucher due
/// on day D may be settled from the first millisecond of D (block time), and
/// is overdue from the first millisecond of D + 1 while it is unsettled.
/// The conversions use integer civil-calendar arithmetic only (Howard
/// Hinnant's `days_from_civil`), so every node computes the same day.
public struct ReceivableDay: Hashable, Comparable, Sendable, CanonicalCodable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var daysSinceEpoch: UInt32

    public static let millisecondsPerDay: UInt64 = 86_400_000

    public init(daysSinceEpoch: UInt32) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// The day that contains a block timestamp (milliseconds since 1970, UTC).
    public init(timestampMs: UInt64) {
        daysSinceEpoch = UInt32(clamping: timestampMs / Self.millisecondsPerDay)
    }

    /// The day of a proleptic Gregorian date; nil if the date does not exist
    /// or lies before 1970 or after 9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1970...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= Self.daysInMonth(year: year, month: month) else { return nil }
        daysSinceEpoch = UInt32(Self.daysFromCivil(year: year, month: month, day: day))
    }

    /// Parses `YYYY-MM-DD`; nil for anything else.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Year, month (1–12) and day of month.
    public var civil: (year: Int, month: Int, day: Int) {
        // civil_from_days, shifted so that the era starts on 0000-03-01.
        let z = Int(daysSinceEpoch) + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// `YYYY-MM-DD`.
    public var iso: String {
        let (year, month, day) = civil
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public var description: String { iso }

    /// The first millisecond of this day.
    public var startMs: UInt64 { UInt64(daysSinceEpoch) * Self.millisecondsPerDay }

    /// The same day of the month `months` later, clamped to the end of a
    /// shorter month (2026-08-31 plus 6 months is 2027-02-28).
    public func addingMonths(_ months: Int) -> ReceivableDay {
        let (year, month, day) = civil
        let monthIndex = year * 12 + (month - 1) + months
        let newYear = monthIndex / 12
        let newMonth = monthIndex % 12 + 1
        let newDay = min(day, Self.daysInMonth(year: newYear, month: newMonth))
        return ReceivableDay(daysSinceEpoch: UInt32(clamping: Self.daysFromCivil(year: newYear, month: newMonth, day: newDay)))
    }

    public static func < (lhs: ReceivableDay, rhs: ReceivableDay) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(daysSinceEpoch) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        daysSinceEpoch = try decoder.readUInt32("day")
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let monthPrime = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthPrime + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
