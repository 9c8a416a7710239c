import Ledger
import LedgerCore

extension StatementsContract {
    public func query(_ name: String, parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        guard let query = Query(rawValue: name) else {
            throw QueryError(.unknownQuery, "statements has no query '\(name)' (\(Query.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let accountName = parameters["account"] else { throw .missing("account") }
        let account = try Self.queriedAccount(accountName, bank: parameters["bank"], view)
        let scope = account.scope
        let settings = try view.get(Parameters.self, contract: Self.name, Self.parametersKey) ?? Parameters()
        let riskAgeDays = Int(settings.riskAgeDays)
        switch query {
        case .account:
            return Self.json(account)
        case .status:
            let date = try Self.date(parameters["date"]) ?? CalendarDate(timestampMs: view.blockTimestampMs)
            let snapshot = try Self.snapshot(account, view)
            let report = Reconciliation.report(snapshot, date: date)
            let exponent = ISO4217.exponent(of: account.currency) ?? 2
            var classes: [String: JSONValue] = [:]
            for itemClass in OutstandingClass.allCases {
                let items = report.outstanding.filter { $0.itemClass == itemClass }
                classes[itemClass.rawValue] = .object([
                    "count": .integer(Int64(items.count)), "totalMinor": .integer(report.total(itemClass)),
                    "risk": .integer(Int64(items.filter { $0.ageDays > riskAgeDays }.count)),
                    "oldestAgeDays": .integer(Int64(items.map(\.ageDays).max() ?? 0)),
                    "items": try .queryAnswer(items.prefix(StatementsLimits.statusItemsListedMax).map { $0.answer(riskAgeDays: riskAgeDays, exponent: exponent) }),
                ])
            }
            let live = snapshot.matches.filter { !$0.dissolved && $0.rule != .correction }
            let correctionIDs = Set(snapshot.matches.filter { $0.rule == .correction }.map(\.id))
            let corrections = correctionIDs.count
            var byRule: [String: JSONValue] = [:]
            for rule in MatchRule.allCases where rule != .correction {
                byRule[rule.rawValue] = .integer(Int64(live.filter { $0.rule == rule }.count))
            }
            let confirmations = try Self.confirmations(account, view)
            let openDisputes = confirmations.filter { $0.status == .disputed }.map { record -> JSONValue in
                .object(["statementId": .string(record.statementID), "since": record.steps.last?.json ?? .null])
            }
            let awaitingReview = live.filter(\.awaitsReview)
            var object: [String: JSONValue] = [
                "account": .string(account.account), "currency": .string(account.currency), "date": .string(date.description),
                "matched": .integer(Int64(live.count)), "matchedByRule": .object(byRule), "corrections": .integer(Int64(corrections)),
                "ambiguousMatches": .object([
                    "count": .integer(Int64(awaitingReview.count)),
                    "items": .array(awaitingReview.prefix(StatementsLimits.statusItemsListedMax).map(Self.json)),
                ]),
                "matchedBankLines": .integer(Int64(snapshot.lines.filter { if case .matched = $0.record.state { true } else { false } }.count)),
                "matchedBookEntries": .integer(Int64(snapshot.entries.filter { entry in
                    guard case .matched(let id) = entry.record.state else { return false }
                    return !correctionIDs.contains(id)
                }.count)),
                "correctedBookEntries": .integer(Int64(snapshot.entries.filter { entry in
                    guard case .matched(let id) = entry.record.state else { return false }
                    return correctionIDs.contains(id)
                }.count)),
                "outstanding": .object(classes), "riskAgeDays": .integer(Int64(riskAgeDays)), "openDisputes": .array(openDisputes),
            ]
            if let last = account.lastConfirmedStatement,
               let record = confirmations.first(where: { $0.statementID == last }),
               let step = record.steps.last(where: { $0.status == .confirmed }) {
                object["lastConfirmation"] = .object(["statementId": .string(last), "step": step.json])
            } else {
                object["lastConfirmation"] = .null
            }
            return .object(object)
        case .report:
            guard let text = parameters["date"] else { throw .missing("date") }
            guard let date = try Self.date(text) else { throw .missing("date") }
            let report = Reconciliation.report(try Self.snapshot(account, view), date: date)
            return try .queryAnswer(report.answer(account: account.account, riskAgeDays: riskAgeDays))
        case .statement:
            guard let statementID = parameters["statementId"] else { throw .missing("statementId") }
            guard let statement = try view.get(StatementRecord.self, contract: Self.name, Self.statementKey(scope, statementID)) else {
                throw QueryError(.notFound, "no statement '\(statementID)' for account '\(accountName)'")
            }
            let prefix = Self.lineKey(scope, Self.part(statementID) + "/")
            var lines: [JSONValue] = []
            for entry in try Self.scan(view, prefix: prefix, limit: StatementsLimits.linesPerStatementMax) {
                let line = try Self.decode(LineRecord.self, entry.value)
                let itemID = String(decoding: entry.key.dropFirst(Self.linePrefix(scope).count), as: UTF8.self)
                lines.append(Self.json(line, itemID: itemID))
            }
            var json = Self.json(statement)
            let confirmation = try view.get(ConfirmationRecord.self, contract: Self.name, Self.confirmationKey(scope, statementID))
            if case .object(var object) = json {
                object["lines"] = .array(lines)
                object["confirmation"] = .array(confirmation?.steps.map(\.json) ?? [])
                object["confirmationStatus"] = confirmation?.status.map { .string($0.label) } ?? .null
                json = .object(object)
            }
            return json
        case .statements:
            var list: [JSONValue] = []
            for entry in try Self.scan(view, prefix: Self.statementPrefix(scope), limit: StatementsLimits.queryRecordsListedMax) {
                list.append(Self.json(try Self.decode(StatementRecord.self, entry.value)))
            }
            return .array(list)
        case .bookEntries:
            let limit = try Self.limit(parameters["limit"])
            let start = parameters["after"].map { Self.bookKey(scope, Self.part($0)) + [0] }
            var list: [JSONValue] = []
            for entry in try Self.scan(view, prefix: Self.bookPrefix(scope), start: start, limit: limit) {
                let book = try Self.decode(BookRecord.self, entry.value)
                list.append(Self.json(book))
            }
            return .array(list)
        case .bookEntry:
            guard let entryID = parameters["entryId"] else { throw .missing("entryId") }
            guard let book = try view.get(BookRecord.self, contract: Self.name, Self.bookKey(scope, Self.part(entryID))) else {
                throw QueryError(.notFound, "account '\(accountName)' has no book entry '\(entryID)'")
            }
            return Self.json(book)
        case .matches:
            let limit = try Self.limit(parameters["limit"])
            let start = try parameters["after"].map { text throws(QueryError) -> [UInt8] in
                guard let id = UInt64(text) else { throw QueryError(.badParameter, "after must be a match id") }
                return Self.matchKey(scope, id) + [0]
            }
            var list: [JSONValue] = []
            for entry in try Self.scan(view, prefix: Self.matchPrefix(scope), start: start, limit: limit) {
                list.append(Self.json(try Self.decode(MatchRecord.self, entry.value)))
            }
            return .array(list)
        case .intradayReports:
            var list: [JSONValue] = []
            for entry in try Self.scan(view, prefix: Self.intradayReportPrefix(scope), limit: StatementsLimits.queryRecordsListedMax) {
                list.append(Self.json(try Self.decode(IntradayReportRecord.self, entry.value), withLines: false))
            }
            return .array(list)
        case .intradayReport:
            guard let reportID = parameters["reportId"] else { throw .missing("reportId") }
            guard let report = try view.get(IntradayReportRecord.self, contract: Self.name, Self.intradayReportKey(scope, reportID)) else {
                throw QueryError(.notFound, "no intraday report '\(reportID)' for account '\(accountName)'")
            }
            return Self.json(report, withLines: true)
        }
    }

    static func date(_ text: String?) throws(QueryError) -> CalendarDate? {
        guard let text else { return nil }
        guard let date = CalendarDate(iso: Substring(text)), text.count == 10 else {
            throw QueryError(.badParameter, "date '\(text)' is not YYYY-MM-DD")
        }
        return date
    }

    static func limit(_ text: String?) throws(QueryError) -> Int {
        guard let text else { return 1000 }
        guard let value = Int(text), (1...100_000).contains(value) else { throw QueryError(.badParameter, "limit must be 1 to 100000") }
        return value
    }

    static func scan(_ view: any QueryView, prefix: [UInt8], start: [UInt8]? = nil, limit: Int) throws(QueryError) -> [(key: [UInt8], value: [UInt8])] {
        do {
            return try view.scan(contract: name, prefix: prefix, start: start, limit: limit)
        } catch {
            throw .storage(error)
        }
    }

    static func decode<T: CanonicalDecodable>(_ type: T.Type, _ bytes: [UInt8]) throws(QueryError) -> T {
        do {
            return try T(canonicalBytes: bytes)
        } catch {
            throw QueryError(.storage, "a \(T.self) record does not decode: \(error)")
        }
    }

    /// The account a query names: account number `number` held by `bank`;
    /// without a bank, the only registration its enterprise accepted, or the
    /// only registration when none is accepted.
    static func queriedAccount(_ number: String, bank: String?, _ view: any QueryView) throws(QueryError) -> AccountRecord {
        if let bank {
            guard let account = try view.get(AccountRecord.self, contract: name, accountKey(number, bank: bank)) else {
                throw QueryError(.notFound, "account '\(number)' is not registered by bank '\(bank)'")
            }
            return account
        }
        var holders: [AccountRecord] = []
        for entry in try scan(view, prefix: accountHoldersPrefix(number), limit: StatementsLimits.accountHoldersMax) {
            holders.append(try decode(AccountRecord.self, entry.value))
        }
        let accepted = holders.filter { $0.accepted != nil }
        if accepted.count == 1, let only = accepted.first { return only }
        if accepted.isEmpty, holders.count == 1, let only = holders.first { return only }
        guard !holders.isEmpty else { throw QueryError(.notFound, "account '\(number)' is not registered") }
        throw QueryError(.badParameter, "account '\(number)' is registered by the banks \(holders.map { "'\($0.bankID)'" }.joined(separator: ", ")); name the one meant with the bank parameter (--bank)")
    }

    static func snapshot(_ account: AccountRecord, _ view: any QueryView) throws(QueryError) -> AccountSnapshot {
        let name = account.scope
        var statements: [StatementRecord] = []
        for entry in try scan(view, prefix: statementPrefix(name), limit: StatementsLimits.reportStatementsReadMax) {
            statements.append(try decode(StatementRecord.self, entry.value))
        }
        var lines: [AccountSnapshot.Line] = []
        for entry in try scan(view, prefix: linePrefix(name), limit: StatementsLimits.reportItemsReadMax) {
            let id = String(decoding: entry.key.dropFirst(linePrefix(name).count), as: UTF8.self)
            lines.append(.init(id: id, record: try decode(LineRecord.self, entry.value)))
        }
        var entries: [AccountSnapshot.Entry] = []
        for entry in try scan(view, prefix: bookPrefix(name), limit: StatementsLimits.reportItemsReadMax) {
            let id = String(decoding: entry.key.dropFirst(bookPrefix(name).count), as: UTF8.self)
            entries.append(.init(id: id, record: try decode(BookRecord.self, entry.value)))
        }
        var matches: [MatchRecord] = []
        for entry in try scan(view, prefix: matchPrefix(name), limit: StatementsLimits.reportItemsReadMax) {
            matches.append(try decode(MatchRecord.self, entry.value))
        }
        return AccountSnapshot(account: account, statements: statements, lines: lines, entries: entries, matches: matches)
    }

    static func confirmations(_ account: AccountRecord, _ view: any QueryView) throws(QueryError) -> [ConfirmationRecord] {
        var result: [ConfirmationRecord] = []
        for entry in try scan(view, prefix: confirmationPrefix(account.scope), limit: StatementsLimits.reportStatementsReadMax) {
            result.append(try decode(ConfirmationRecord.self, entry.value))
        }
        return result
    }

    static func json(_ account: AccountRecord) -> JSONValue {
        .object([
            "account": .string(account.account), "bank": .string(account.bankID), "enterprise": .string(account.enterpriseID),
            "currency": .string(account.currency),
            "rules": .object([
                "dateToleranceDays": .integer(Int64(account.rules.dateToleranceDays)), "allowSplit": .bool(account.rules.allowSplit),
                "splitGroupMax": .integer(Int64(account.rules.splitGroupMax)), "feeToleranceMinor": .integer(account.rules.feeToleranceMinor),
            ]),
            "bookOpeningMinor": account.bookOpeningMinor.map { .integer($0) } ?? .null,
            "lastConfirmedStatement": account.lastConfirmedStatement.map { .string($0) } ?? .null,
            "accepted": account.accepted?.json ?? .null,
            "registered": account.registered.json,
        ])
    }

    static func json(_ balance: StatementBalance?) -> JSONValue {
        guard let balance else { return .null }
        return .object(["amountMinor": .integer(balance.amountMinor), "date": .string(balance.date.description)])
    }

    static func json(_ statement: StatementRecord) -> JSONValue {
        let header = statement.header
        return .object([
            "account": .string(header.account), "statementId": .string(header.statementID),
            "sequence": header.sequence.map { .string($0) } ?? .null, "currency": .string(header.currency),
            "openingBooked": json(header.openingBooked), "closingBooked": json(header.closingBooked),
            "openingAvailable": json(header.openingAvailable), "closingAvailable": json(header.closingAvailable),
            "balanceCheck": json(header.balanceCheck),
            "corrects": header.corrects.map { .string($0) } ?? .null,
            "supersededBy": statement.supersededBy.map { .string($0) } ?? .null,
            "lineCount": .integer(Int64(statement.lineCount)), "digest": .string(statement.digest.hex), "posted": statement.posted.json,
        ])
    }

    static func json(_ check: StatementBalanceCheck) -> JSONValue {
        if case .discrepancy(let difference) = check {
            return .object(["result": .string(check.label), "differenceMinor": .integer(difference)])
        }
        return .object(["result": .string(check.label)])
    }

    static func stateJSON(_ state: ItemState) -> JSONValue {
        if case .matched(let id) = state { return .object(["state": .string(state.label), "match": .integer(Int64(id))]) }
        return .object(["state": .string(state.label)])
    }

    static func json(_ line: LineRecord, itemID: String) -> JSONValue {
        let input = line.line
        func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
        return .object([
            "itemId": .string(itemID), "lineId": .string(input.lineID), "bookingDate": .string(input.bookingDate.description),
            "valueDate": .string(input.valueDate.description), "amountMinor": .integer(input.amountMinor), "reversal": .bool(input.isReversal),
            "bankReference": optional(input.bankReference), "customerReference": optional(input.customerReference),
            "counterpartyName": optional(input.counterpartyName), "counterpartyAccount": optional(input.counterpartyAccount),
            "transactionTypeCode": optional(input.transactionTypeCode), "narrative": .string(input.narrative), "matching": stateJSON(line.state),
        ])
    }

    static func json(_ book: BookRecord) -> JSONValue {
        let entry = book.entry
        return .object([
            "entryId": .string(entry.entryID), "date": .string(entry.date.description), "amountMinor": .integer(entry.amountMinor),
            "currency": .string(entry.currency), "reference": entry.reference.map { .string($0) } ?? .null,
            "counterparty": entry.counterparty.map { .string($0) } ?? .null, "memo": .string(entry.memo), "reversal": .bool(entry.isReversal),
            "batch": .string(book.batchID), "posted": book.posted.json, "matching": stateJSON(book.state),
        ])
    }

    static func json(_ match: MatchRecord) -> JSONValue {
        .object([
            "id": .integer(Int64(match.id)), "rule": .string(match.rule.rawValue), "bankItems": .array(match.bankItems.map { .string($0) }),
            "bookItems": .array(match.bookItems.map { .string($0) }), "differenceMinor": .integer(match.differenceMinor),
            "dissolved": .bool(match.dissolved), "made": match.made.json, "reason": .string(match.reason),
            "alternatives": .array(match.alternatives.map(\.json)), "awaitsReview": .bool(match.awaitsReview),
            "reviewed": match.reviewed?.json ?? .null, "dissolution": match.dissolution?.json ?? .null,
        ])
    }
}
