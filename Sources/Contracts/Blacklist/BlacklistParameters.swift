import Ledger
import LedgerCore

/// The blacklist's rules fixed at genesis, read from `contracts.blacklist` of
/// the genesis file. Every field is optional there; absent fields take the
/// defaults of ``defaults``.
///
/// ```json
/// "blacklist": {
///   "reasonCodes": ["fraud", "loan_default"],
///   "purposeCodes": ["credit_application", "account_opening"],
///   "appealAnswerDays": 20,
///   "retentionDays": 1825,
///   "baseAllowance": 100,
///   "allowancePerEntry": 20,
///   "allowancePerCorroboration": 5,
///   "batchSubjectsMax": 1000
/// }
/// ```
public struct BlacklistParameters: Equatable, Sendable, CanonicalCodable {
    /// Why an entry may be listed; an entry names exactly one of these.
    public var reasonCodes: [String]
    /// Why a check is made; each check names one of these.
    public var purposeCodes: [String]
    /// Days the uploader has to answer an appeal before the entry is removed.
    public var appealAnswerDays: UInt32
    /// Days an entry lasts at most from its listing; an explicit expiry may only shorten it.
    public var retentionDays: UInt32
    /// Subjects every institution may check before contributing anything.
    public var baseAllowance: UInt64
    /// Subjects added to an institution's allowance for each entry it lists.
    public var allowancePerEntry: UInt64
    /// Subjects added to an institution's allowance for each entry it corroborates.
    public var allowancePerCorroboration: UInt64
    /// Most subjects one check transaction may name.
    public var batchSubjectsMax: UInt32

    /// The defaults: a five-year retention, twenty days to answer an appeal,
    /// and "upload more, query more" at 100 + 20 per entry + 5 per corroboration.
    public static let defaults = BlacklistParameters(
        reasonCodes: ["fraud", "loan_default", "money_laundering", "forged_documents", "sanctions", "court_enforcement", "telecom_fraud"],
        purposeCodes: ["account_opening", "credit_application", "loan_review", "payment_screening", "regulatory_inspection"],
        appealAnswerDays: 20, retentionDays: 5 * 365, baseAllowance: 100, allowancePerEntry: 20, allowancePerCorroboration: 5,
        batchSubjectsMax: 1000)

    /// Parameters with the given values; ``fromGenesis(_:)`` reads and checks them from a genesis file.
    public init(reasonCodes: [String], purposeCodes: [String], appealAnswerDays: UInt32, retentionDays: UInt32, baseAllowance: UInt64,
                allowancePerEntry: UInt64, allowancePerCorroboration: UInt64, batchSubjectsMax: UInt32) {
        self.reasonCodes = reasonCodes
        self.purposeCodes = purposeCodes
        self.appealAnswerDays = appealAnswerDays
        self.retentionDays = retentionDays
        self.baseAllowance = baseAllowance
        self.allowancePerEntry = allowancePerEntry
        self.allowancePerCorroboration = allowancePerCorroboration
        self.batchSubjectsMax = batchSubjectsMax
    }

    static let millisecondsPerDay: UInt64 = 86_400_000
    var appealAnswerMs: UInt64 { UInt64(appealAnswerDays) * Self.millisecondsPerDay }
    package var retentionMs: UInt64 { UInt64(retentionDays) * Self.millisecondsPerDay }

    /// What an institution with these contributions may check in total.
    func allowance(entriesAdded: UInt64, corroborations: UInt64) -> UInt64 {
        let (fromEntries, overflowEntries) = allowancePerEntry.multipliedReportingOverflow(by: entriesAdded)
        let (fromCorroborations, overflowCorroborations) = allowancePerCorroboration.multipliedReportingOverflow(by: corroborations)
        guard !overflowEntries, !overflowCorroborations else { return UInt64.max }
        let (sum, overflowSum) = baseAllowance.addingReportingOverflow(fromEntries)
        let (total, overflowTotal) = sum.addingReportingOverflow(fromCorroborations)
        return overflowSum || overflowTotal ? UInt64.max : total
    }

    /// Reads the genesis section; nil or absent fields take the defaults.
    /// Unknown fields are refused so that a misspelt parameter is not silently ignored.
    public static func fromGenesis(_ section: JSONValue?) throws(GenesisError) -> BlacklistParameters {
        var parameters = defaults
        guard let section, section != .null else { return parameters }
        guard case .object(let fields) = section else { throw GenesisError("contracts.blacklist must be an object") }
        let known: Set<String> = ["reasonCodes", "purposeCodes", "appealAnswerDays", "retentionDays", "baseAllowance",
                                  "allowancePerEntry", "allowancePerCorroboration", "batchSubjectsMax"]
        for key in fields.keys.sorted() where !known.contains(key) {
            throw GenesisError("contracts.blacklist.\(key) is not a blacklist parameter (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let value = fields["reasonCodes"] { parameters.reasonCodes = try codes(value, field: "reasonCodes") }
        if let value = fields["purposeCodes"] { parameters.purposeCodes = try codes(value, field: "purposeCodes") }
        if let value = fields["appealAnswerDays"] { parameters.appealAnswerDays = UInt32(try integer(value, field: "appealAnswerDays", range: 1...365)) }
        if let value = fields["retentionDays"] { parameters.retentionDays = UInt32(try integer(value, field: "retentionDays", range: 1...36_500)) }
        let allowanceRange: ClosedRange<Int64> = 0...Int64(BlacklistLimits.allowanceMax)
        if let value = fields["baseAllowance"] { parameters.baseAllowance = UInt64(try integer(value, field: "baseAllowance", range: allowanceRange)) }
        if let value = fields["allowancePerEntry"] { parameters.allowancePerEntry = UInt64(try integer(value, field: "allowancePerEntry", range: allowanceRange)) }
        if let value = fields["allowancePerCorroboration"] {
            parameters.allowancePerCorroboration = UInt64(try integer(value, field: "allowancePerCorroboration", range: allowanceRange))
        }
        if let value = fields["batchSubjectsMax"] {
            parameters.batchSubjectsMax = UInt32(try integer(value, field: "batchSubjectsMax", range: 1...Int64(BlacklistLimits.batchSubjectsParameterMax)))
        }
        return parameters
    }

    private static func integer(_ value: JSONValue, field: String, range: ClosedRange<Int64>) throws(GenesisError) -> Int64 {
        guard let number = value.intValue, range.contains(number) else {
            throw GenesisError("contracts.blacklist.\(field) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    private static func codes(_ value: JSONValue, field: String) throws(GenesisError) -> [String] {
        guard let list = value.arrayValue, !list.isEmpty, list.count <= BlacklistLimits.codesMax else {
            throw GenesisError("contracts.blacklist.\(field) must be a list of 1 to \(BlacklistLimits.codesMax) codes")
        }
        var result: [String] = []
        for (index, item) in list.enumerated() {
            guard let code = item.stringValue, isCode(code) else {
                throw GenesisError("contracts.blacklist.\(field)[\(index)] must be 1 to \(BlacklistLimits.codeBytesMax) characters of a-z, 0-9 and _")
            }
            guard !PersonalIdentifiers.appear(in: code) else {
                throw GenesisError("contracts.blacklist.\(field)[\(index)] holds \(PersonalIdentifiers.digitsMin) or more digits, which transactions may not carry (they look like a personal identifier)")
            }
            guard !result.contains(code) else { throw GenesisError("contracts.blacklist.\(field)[\(index)] '\(code)' appears twice") }
            result.append(code)
        }
        return result
    }

    static func isCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return !bytes.isEmpty && bytes.count <= BlacklistLimits.codeBytesMax
            && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    /// The parameters as the `parameters` query answers them.
    public var answer: BlacklistParametersAnswer {
        BlacklistParametersAnswer(
            reasonCodes: reasonCodes, purposeCodes: purposeCodes, appealAnswerDays: Int64(appealAnswerDays),
            retentionDays: Int64(retentionDays), baseAllowance: Int64(clamping: baseAllowance),
            allowancePerEntry: Int64(clamping: allowancePerEntry), allowancePerCorroboration: Int64(clamping: allowancePerCorroboration),
            batchSubjectsMax: Int64(batchSubjectsMax))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(reasonCodes)
        encoder.write(purposeCodes)
        encoder.write(appealAnswerDays)
        encoder.write(retentionDays)
        encoder.write(baseAllowance)
        encoder.write(allowancePerEntry)
        encoder.write(allowancePerCorroboration)
        encoder.write(batchSubjectsMax)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        reasonCodes = try decoder.readStrings("reason codes", countLimit: BlacklistLimits.codesMax, lengthLimit: BlacklistLimits.codeBytesMax)
        purposeCodes = try decoder.readStrings("purpose codes", countLimit: BlacklistLimits.codesMax, lengthLimit: BlacklistLimits.codeBytesMax)
        appealAnswerDays = try decoder.readUInt32("appeal answer days")
        retentionDays = try decoder.readUInt32("retention days")
        baseAllowance = try decoder.readUInt64("base allowance")
        allowancePerEntry = try decoder.readUInt64("allowance per entry")
        allowancePerCorroboration = try decoder.readUInt64("allowance per corroboration")
        batchSubjectsMax = try decoder.readUInt32("batch subjects max")
    }
}
