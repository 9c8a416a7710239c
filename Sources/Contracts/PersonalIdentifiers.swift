/// Finds what looks like a personal identifier in free text, so that contracts
/// can refuse it before it is signed into a block: a resident identity number
/// (18 digits, or the older 15), a bank card number, or any other run of
/// ``digitsMin`` digits or more.
///
/// Digits count in any script (ASCII, full-width ０-９, others) and also when
/// written in groups: spaces of any kind, dashes, dots, slashes and
/// underscores between them (`110101-19900307-0011`, `1101 0119 9003 0700 11`,
/// `110101.19900307.0011`) do not end the run, nor do invisible formatting
/// characters (zero-width spaces, soft hyphens). Letters, commas and other
/// punctuation do, and so do more than ``separatorRunMax`` separators in a
/// row, so that amounts, dates and references in prose are not mistaken for
/// one (`repaid 2026-03-01, amount 1,250,000.00, ref 20260301-0042`).
public enum PersonalIdentifiers {
    /// Digits in one run that make text look like a personal identifier: the
    /// 15-digit old identity number is the shortest kind caught.
    public static let digitsMin = 15
    /// Most separators in a row that still join two groups of digits.
    public static let separatorRunMax = 3

    /// Whether `text` holds a run of at least ``digitsMin`` digits, grouped or not.
    public static func appear(in text: String) -> Bool {
        var digits = 0
        var separators = 0
        for scalar in text.unicodeScalars {
            switch kind(of: scalar) {
            case .digit:
                digits += 1
                separators = 0
                if digits >= digitsMin { return true }
            case .invisible:
                continue
            case .separator:
                separators += 1
                if separators > separatorRunMax { digits = 0 }
            case .other:
                digits = 0
                separators = 0
            }
        }
        return false
    }

    private enum Kind {
        case digit
        case separator
        case invisible
        case other
    }

    private static func kind(of scalar: Unicode.Scalar) -> Kind {
        let properties = scalar.properties
        if let type = properties.numericType, type == .decimal || type == .digit { return .digit }
        if properties.generalCategory == .format { return .invisible }
        if properties.isWhitespace { return .separator }
        switch properties.generalCategory {
        case .dashPunctuation, .connectorPunctuation, .spaceSeparator: return .separator
        default: break
        }
        return groupingMarks.contains(scalar.value) ? .separator : .other
    }

    /// Dots, slashes and a minus sign people put between digit groups:
    /// `.` `/` `·` `•` `‧` `−` `・` `．` `／` `｡` `。`.
    private static let groupingMarks: Set<UInt32> = [0x2E, 0x2F, 0xB7, 0x2022, 0x2027, 0x2212, 0x30FB, 0xFF0E, 0xFF0F, 0xFF61, 0x3002]
}
