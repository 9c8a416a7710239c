import Ledger
import LedgerCore

/// A balance an intraday report states, with the type code its file gives
/// it (camt `ITBD`, `OPBD`, `CLAV`, …; MT942 `60M`, …).
public struct ReportBalance: Equatable, Sendable, CanonicalCodable {
    public var code: String
    public var amountMinor: Int64
    public var date: CalendarDate

    public init(code: String, amountMinor: Int64, date: CalendarDate) {
        self.code = code
        self.amountMinor = amountMinor
        self.date = date
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(code)
        encoder.write(amountMinor)
        encoder.write(date)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        code = try decoder.readString("balance code", limit: StatementsLimits.balanceCodeBytesMax)
        amountMinor = try decoder.readInt64("balance amount")
        date = try decoder.read(CalendarDate.self, "balance date")
    }
}

/// Arguments of `statements.postIntradayReport`: an intraday account report
/// (camt.052, MT942). Its lines show what the bank has booked so far today;
/// they are not matched and the reconciliation does not count them, because
/// the day's statement books them.
public struct PostIntradayReport: Equatable, Sendable, CanonicalCodable {
    public var account: String
    /// Unique per account; a report id is never posted twice.
    public var reportID: String
    public var sequence: String?
    public var currency: String
    /// The day the report covers (camt `FrToDt`, MT942 :13D:), when the file says.
    public var reportDate: CalendarDate?
    public var balances: [ReportBalance]
    public var lines: [StatementLineInput]

    public init(account: String, reportID: String, sequence: String? = nil, currency: String, reportDate: CalendarDate? = nil,
                balances: [ReportBalance] = [], lines: [StatementLineInput]) {
        self.account = account
        self.reportID = reportID
        self.sequence = sequence
        self.currency = currency
        self.reportDate = reportDate
        self.balances = balances
        self.lines = lines
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(account)
        encoder.write(reportID)
        encoder.write(optional: sequence)
        encoder.write(currency)
        encoder.write(reportDate)
        encoder.write(balances)
        encoder.write(lines)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        account = try decoder.readString("account", limit: StatementsLimits.identifierBytesMax)
        reportID = try decoder.readString("report id", limit: StatementsLimits.identifierBytesMax)
        sequence = try decoder.readOptionalString("sequence", limit: StatementsLimits.identifierBytesMax)
        currency = try decoder.readString("currency", limit: StatementsLimits.currencyBytes)
        reportDate = try decoder.readOptional(CalendarDate.self, "report date")
        balances = try decoder.readArray(ReportBalance.self, "balances", limit: StatementsLimits.reportBalancesMax)
        lines = try decoder.readArray(StatementLineInput.self, "lines", limit: StatementsLimits.linesPerStatementMax)
    }
}

/// A posted intraday report, its lines inline.
extension PostIntradayReport {
    /// SHA-256 of the canonical arguments: how an importer recognises a report already on the ledger.
    public var digest: Hash { Hash.sha256(canonicalBytes) }
}

struct IntradayReportRecord: Equatable, Sendable, CanonicalCodable {
    var header: PostIntradayReport
    var posted: Provenance

    init(header: PostIntradayReport, posted: Provenance) {
        self.header = header
        self.posted = posted
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(header)
        encoder.write(posted)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        header = try decoder.read(PostIntradayReport.self, "intraday report")
        posted = try decoder.read(Provenance.self, "posted")
    }
}

extension StatementsContract {
    static func intradayReportKey(_ account: String, _ id: String) -> [UInt8] { stateKey("rpt", part(account), part(id)) }
    static func intradayReportPrefix(_ account: String) -> [UInt8] { stateKey("rpt", part(account), "") }

    func postIntradayReport(_ arguments: PostIntradayReport, in context: inout TransactionContext) throws {
        let account = try resolveAccount(arguments.account, bank: nil, as: .holdingBank, context)
        try Self.checkIdentifier(arguments.reportID, "report id")
        guard arguments.currency == account.currency else {
            throw Rejection(code: "currency_mismatch", message: "report is in \(arguments.currency) but account '\(arguments.account)' is in \(account.currency)")
        }
        let key = Self.intradayReportKey(account.scope, arguments.reportID)
        if let posted = try context.get(IntradayReportRecord.self, key) {
            guard posted.header == arguments else {
                throw Rejection(code: "duplicate_report", message: "a different intraday report '\(arguments.reportID)' was already posted for account '\(arguments.account)' (at height \(posted.posted.height))")
            }
            context.emit("intraday_report_already_posted", [("account", arguments.account), ("report", arguments.reportID),
                                                            ("height", String(posted.posted.height))])
            return
        }
        for balance in arguments.balances {
            guard !balance.code.isEmpty, balance.code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw Rejection(code: "bad_balance_code", message: "balance code '\(balance.code)' is not 1 to \(StatementsLimits.balanceCodeBytesMax) letters or digits")
            }
            try Self.checkAmount(balance.amountMinor, "\(balance.code) balance")
        }
        var lineIDs: Set<String> = []
        for line in arguments.lines {
            try Self.checkIdentifier(line.lineID, "line id")
            try Self.checkAmount(line.amountMinor, "line '\(line.lineID)' amount")
            guard lineIDs.insert(line.lineID).inserted else {
                throw Rejection(code: "duplicate_line", message: "line id '\(line.lineID)' appears twice in report '\(arguments.reportID)'")
            }
        }
        context.put(key, IntradayReportRecord(header: arguments, posted: Provenance(context)))
        context.emit("intraday_report_posted", [("account", arguments.account), ("report", arguments.reportID),
                                                ("lines", String(arguments.lines.count)), ("balances", String(arguments.balances.count))])
    }

    static func json(_ report: IntradayReportRecord, withLines: Bool) -> JSONValue {
        let header = report.header
        var object: [String: JSONValue] = [
            "account": .string(header.account), "reportId": .string(header.reportID),
            "sequence": header.sequence.map { .string($0) } ?? .null, "currency": .string(header.currency),
            "reportDate": header.reportDate.map { .string($0.description) } ?? .null,
            "balances": .array(header.balances.map { balance in
                .object(["code": .string(balance.code), "amountMinor": .integer(balance.amountMinor), "date": .string(balance.date.description)])
            }),
            "lineCount": .integer(Int64(header.lines.count)), "digest": .string(header.digest.hex), "posted": report.posted.json,
        ]
        if withLines {
            object["lines"] = .array(header.lines.map { line in
                func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
                return .object([
                    "lineId": .string(line.lineID), "bookingDate": .string(line.bookingDate.description),
                    "valueDate": .string(line.valueDate.description), "amountMinor": .integer(line.amountMinor), "reversal": .bool(line.isReversal),
                    "bankReference": optional(line.bankReference), "customerReference": optional(line.customerReference),
                    "counterpartyName": optional(line.counterpartyName), "counterpartyAccount": optional(line.counterpartyAccount),
                    "transactionTypeCode": optional(line.transactionTypeCode), "narrative": .string(line.narrative),
                ])
            })
        }
        return .object(object)
    }
}
