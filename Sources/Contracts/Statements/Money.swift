import Ledger
import LedgerCore

/// ISO 4217 currency codes and their minor-unit exponents.
///
/// Amounts on the ledger are integers in minor units; the exponent says how
/// many decimal places a currency's minor unit has (2 for EUR, 0 for JPY, 3
/// for KWD). The table holds the active codes plus the historic European
/// codes that still appear in archived statements (DEM, FRF, …).
public enum ISO4217 {
    /// Exponent of `code`, or nil when the code is not a known ISO 4217 code.
    public static func exponent(of code: String) -> Int? {
        if let special = exceptions[code] { return special }
        return twoDecimal.contains(code) ? 2 : nil
    }

    private static let exceptions: [String: Int] = [
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
        "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0, "ITL": 0, "ESP": 0, "GRD": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4,
    ]

    private static let twoDecimal: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD",
        "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP",
        "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
        "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
        "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
        "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN",
        "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
        "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD",
        "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL", "CNH",
        "DEM", "FRF", "ATS", "BEF", "NLG", "FIM", "IEP", "PTE", "LUF", "CYP", "MTL", "SIT", "SKK", "EEK", "LVL",
        "LTL", "HRK",
    ]

    /// Parses a decimal amount (`1234,5`, `1234.50`, `0,12`, `1234,`) into
    /// unsigned minor units of a currency with `exponent` decimal places.
    /// Returns nil with a reason when the text is not such an amount.
    public static func minorUnits(_ text: Substring, separator: Character, exponent: Int) -> Result<Int64, AmountError> {
        var integerPart = Substring()
        var fraction = Substring()
        if let position = text.firstIndex(of: separator) {
            integerPart = text[text.startIndex..<position]
            fraction = text[text.index(after: position)...]
        } else {
            integerPart = text
        }
        guard !integerPart.isEmpty || !fraction.isEmpty else { return .failure(AmountError("'\(text)' has no digits")) }
        guard integerPart.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .failure(AmountError("'\(text)' is not a decimal amount"))
        }
        let trimmedFraction = fraction.reversed().drop(while: { $0 == "0" })
        guard trimmedFraction.count <= exponent else {
            return .failure(AmountError("'\(text)' has more decimal places than the currency's \(exponent)"))
        }
        let significant = integerPart.drop(while: { $0 == "0" })
        guard significant.count + exponent <= 17 else { return .failure(AmountError("'\(text)' is too large")) }
        var value: Int64 = 0
        for digit in significant { value = value * 10 + Int64(digit.wholeNumberValue ?? 0) }
        var fractionDigits = Array(fraction.prefix(exponent))
        while fractionDigits.count < exponent { fractionDigits.append("0") }
        for digit in fractionDigits { value = value * 10 + Int64(digit.wholeNumberValue ?? 0) }
        return .success(value)
    }

    /// Formats signed minor units as a decimal string with `exponent` places ("-1234.50").
    public static func decimalString(_ minor: Int64, exponent: Int) -> String {
        let negative = minor < 0
        let magnitude = minor.magnitude
        guard exponent > 0 else { return (negative ? "-" : "") + String(magnitude) }
        var divisor: UInt64 = 1
        for _ in 0..<exponent { divisor *= 10 }
        var fraction = String(magnitude % divisor)
        while fraction.count < exponent { fraction = "0" + fraction }
        return (negative ? "-" : "") + String(magnitude / divisor) + "." + fraction
    }
}

/// Why a text is not an amount.
public struct AmountError: Error, Equatable, Sendable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A calendar date without time zone, as statements and books carry them.
/// Stored as a day number counted from 1900-01-01 so that dates compare and
/// subtract as integers.
public struct CalendarDate: Hashable, Comparable, Sendable, CanonicalCodable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date, or nil when the fields name no day between 1900 and 2199.
    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2199).contains(year), (1...12).contains(month), day >= 1,
              day <= CalendarDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`, optionally followed by a time (`T…`) or a zone
    /// (`Z`, `+01:00`); the date part is used as written.
    public init?(iso text: Substring) {
        let datePart = text.prefix(10)
        let parts = datePart.split(separator: "-", omittingEmptySubsequences: false)
        guard datePart.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        guard text.count == 10 || ["T", "Z", "+", "-"].contains(text[text.index(text.startIndex, offsetBy: 10)]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Creates the date of a day number counted from 1900-01-01 (clamped to 1900…2199).
    public init(dayNumber: Int) {
        let z = min(max(dayNumber, 0), 109_571) - 25_567 + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    }

    /// The date of a block timestamp (milliseconds since 1970-01-01 UTC).
    public init(timestampMs: UInt64) {
        let daysSince1970 = Int(timestampMs / 86_400_000)
        self.init(dayNumber: daysSince1970 + 25_567)
    }

    /// Days since 1900-01-01.
    public var dayNumber: Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468 + 25_567
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(UInt64(dayNumber))
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let number = try decoder.readUInt32("date")
        guard number < 109_572 else { throw .invalidValue(field: "date", reason: "day number \(number) is after 2199") }
        self.init(dayNumber: Int(number))
    }
}
