#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import Ledger
import LedgerCore

/// Reads ISO 20022 bank-to-customer cash management messages: camt.053
/// statements (`BkToCstmrStmt/Stmt`), camt.052 account reports
/// (`BkToCstmrAcctRpt/Rpt`) and camt.054 debit/credit notifications
/// (`BkToCstmrDbtCdtNtfctn/Ntfctn`), in the versions whose element names
/// agree with 001.02, 001.04 and 001.08 (status as text or as `Sts/Cd`,
/// dates as `Dt` or `DtTm`, accounts by `IBAN` or `Othr/Id`).
///
/// Only booked entries (`Sts` BOOK) become lines; pending and informational
/// entries are not part of a statement's balance and are left out with a
/// warning. Balances used: `OPBD` opening booked (`PRCD`, previously closed
/// booked, when there is no `OPBD`), `CLBD` closing booked, `OPAV`, `CLAV`
/// available, `FWAV` forward available; others in the account's currency
/// (`ITBD`, `ITAV`, …) are kept as additional balances. A balance in another
/// currency than the account's is kept as a foreign-currency balance. A
/// camt.053 statement with an opening but no closing booked balance gets
/// opening plus lines as its closing balance, with a warning. camt.052
/// reports are intraday reports and need no booked balances.
public enum CamtParser {
    /// Parses every statement, report or notification in a camt file.
    public static func parse(fileContents bytes: [UInt8], fileName: String) throws(StatementImportError) -> [ParsedStatement] {
        guard bytes.count <= StatementsLimits.camtFileBytesMax else {
            throw StatementImportError(fileName: fileName, location: "file", reason: "file is \(bytes.count) bytes, above the limit of \(StatementsLimits.camtFileBytesMax)")
        }
        let root = try XMLTreeBuilder.build(bytes, fileName: fileName)
        guard root.name == "Document" else {
            throw StatementImportError(fileName: fileName, location: root.name, reason: "the root element is <\(root.name)>, expected <Document>")
        }
        let kinds: [(message: String, item: String, format: StatementFormat)] = [
            ("BkToCstmrStmt", "Stmt", .camt053), ("BkToCstmrAcctRpt", "Rpt", .camt052), ("BkToCstmrDbtCdtNtfctn", "Ntfctn", .camt054),
        ]
        guard let message = root.children.first, let kind = kinds.first(where: { $0.message == message.name }) else {
            throw StatementImportError(fileName: fileName, location: "Document",
                                       reason: "expected <BkToCstmrStmt>, <BkToCstmrAcctRpt> or <BkToCstmrDbtCdtNtfctn> under <Document>")
        }
        let expectedNamespace = "urn:iso:std:iso:20022:tech:xsd:\(kind.format.rawValue).001."
        if let namespace = root.attributes["xmlns"], !namespace.hasPrefix(expectedNamespace) {
            throw StatementImportError(fileName: fileName, location: "Document",
                                       reason: "namespace '\(namespace)' does not belong to \(kind.format.rawValue) (<\(message.name)>)")
        }
        let items = message.children.filter { $0.name == kind.item }
        guard !items.isEmpty else {
            throw StatementImportError(fileName: fileName, location: "Document/\(message.name)",
                                       reason: "the message holds no <\(kind.item)> element, so there is no statement to import")
        }
        var statements: [ParsedStatement] = []
        for (index, item) in items.enumerated() {
            let path = "Document/\(message.name)/\(kind.item)[\(index + 1)]"
            statements.append(try parseItem(item, path: path, format: kind.format, fileName: fileName))
        }
        return statements
    }

    private static func parseItem(_ item: XMLElement, path: String, format: StatementFormat, fileName: String) throws(StatementImportError) -> ParsedStatement {
        func fail(_ at: String, _ reason: String) -> StatementImportError {
            StatementImportError(fileName: fileName, location: at, reason: reason)
        }
        guard let statementID = item.child("Id")?.text, !statementID.isEmpty else {
            throw fail(path + "/Id", "the statement has no <Id>")
        }
        guard let accountElement = item.child("Acct") else { throw fail(path + "/Acct", "the statement names no account <Acct>") }
        let iban = accountElement.descendant("Id", "IBAN")?.text
        guard let account = iban ?? accountElement.descendant("Id", "Othr", "Id")?.text, !account.isEmpty else {
            throw fail(path + "/Acct/Id", "the account has neither <IBAN> nor <Othr><Id>")
        }
        let accountCurrency = accountElement.child("Ccy")?.text
        if let accountCurrency, ISO4217.exponent(of: accountCurrency) == nil {
            throw fail(path + "/Acct/Ccy", "'\(accountCurrency)' is not an ISO 4217 currency code")
        }
        let sequence = item.child("ElctrncSeqNb")?.text ?? item.child("LglSeqNb")?.text
        let period = item.child("FrToDt")
        var periodStart: CalendarDate?
        var periodEnd: CalendarDate?
        if let from = period?.child("FrDtTm")?.text {
            guard let date = CalendarDate(iso: Substring(from)) else { throw fail(path + "/FrToDt/FrDtTm", "'\(from)' is not a date-time") }
            periodStart = date
        }
        if let to = period?.child("ToDtTm")?.text {
            guard let date = CalendarDate(iso: Substring(to)) else { throw fail(path + "/FrToDt/ToDtTm", "'\(to)' is not a date-time") }
            periodEnd = date
        }

        var warnings = WarningLog()
        var lines: [ParsedStatementLine] = []
        for (index, entry) in item.children(named: "Ntry").enumerated() {
            let entryPath = "\(path)/Ntry[\(index + 1)]"
            let status = entry.child("Sts").map { $0.child("Cd")?.text ?? $0.text ?? "" } ?? "BOOK"
            guard status == "BOOK" else {
                warnings.add(StatementImportWarning(kind: .unbookedEntry, fileName: fileName, location: entryPath,
                                                    reason: "the entry's status is \(status.isEmpty ? "empty" : status), not BOOK; it is not part of the balance and was left out"))
                continue
            }
            lines.append(try parseEntry(entry, path: entryPath, fileName: fileName))
        }

        var balances: [TypedBalance] = []
        for (index, balanceElement) in item.children(named: "Bal").enumerated() {
            let balancePath = "\(path)/Bal[\(index + 1)]"
            guard let code = balanceElement.descendant("Tp", "CdOrPrtry", "Cd")?.text ?? balanceElement.descendant("Tp", "CdOrPrtry", "Prtry")?.text else {
                throw fail(balancePath + "/Tp", "the balance has no type code")
            }
            let (amount, currency) = try amountOf(balanceElement, path: balancePath, fileName: fileName)
            let sign = try signOf(balanceElement, path: balancePath, fileName: fileName)
            guard let dateElement = balanceElement.child("Dt"), let dateText = dateElement.child("Dt")?.text ?? dateElement.child("DtTm")?.text,
                  let date = CalendarDate(iso: Substring(dateText)) else {
                throw fail(balancePath + "/Dt", "the balance has no valid date")
            }
            balances.append(TypedBalance(code: code, balance: ParsedBalance(amountMinor: sign * amount, currency: currency, date: date),
                                         location: balancePath + "/Amt"))
        }
        let statedCurrency = accountCurrency ?? lines.first?.currency
            ?? balances.first(where: { ["OPBD", "PRCD", "CLBD"].contains($0.code) })?.balance.currency ?? balances.first?.balance.currency
        guard let currency = statedCurrency else {
            throw fail(path, "the statement has no currency: no <Acct><Ccy>, no balance and no booked entry")
        }

        var balancePaths: [String: String] = [:]
        var openingBooked: ParsedBalance?
        var previouslyClosed: TypedBalance?
        var closingBooked: ParsedBalance?
        var openingAvailable: ParsedBalance?
        var closingAvailable: ParsedBalance?
        var forwardAvailable: [ParsedBalance] = []
        var additional: [TypedBalance] = []
        var foreign: [TypedBalance] = []
        for typed in balances {
            let balancePath = String(typed.location.dropLast("/Amt".count))
            guard typed.balance.currency == currency else {
                foreign.append(typed)
                warnings.add(StatementImportWarning(
                    kind: .foreignCurrencyBalance, fileName: fileName, location: typed.location,
                    reason: "the \(typed.code) balance (\(typed.name)) is in \(typed.balance.currency), not the account's \(currency); it is kept as a foreign-currency balance and not used as the account's balance"))
                continue
            }
            func assign(_ slot: inout ParsedBalance?, _ name: String) throws(StatementImportError) {
                guard slot == nil else { throw fail(balancePath, "a second \(name) (\(typed.code))") }
                slot = typed.balance
                balancePaths[name] = typed.location
            }
            switch typed.code {
            case "OPBD": try assign(&openingBooked, "opening booked balance")
            case "PRCD":
                guard previouslyClosed == nil else { throw fail(balancePath, "a second previously closed booked balance (PRCD)") }
                previouslyClosed = typed
            case "CLBD": try assign(&closingBooked, "closing booked balance")
            case "OPAV": try assign(&openingAvailable, "opening available balance")
            case "CLAV": try assign(&closingAvailable, "closing available balance")
            case "FWAV":
                forwardAvailable.append(typed.balance)
                balancePaths["forward available balance \(forwardAvailable.count)"] = typed.location
            default: additional.append(typed)
            }
        }
        if let previouslyClosed {
            if let opening = openingBooked {
                additional.append(previouslyClosed)
                if opening.amountMinor != previouslyClosed.balance.amountMinor {
                    let exponent = ISO4217.exponent(of: currency) ?? 2
                    warnings.add(StatementImportWarning(
                        kind: .previousClosingBalance, fileName: fileName, location: previouslyClosed.location,
                        reason: "the PRCD balance \(ISO4217.decimalString(previouslyClosed.balance.amountMinor, exponent: exponent)) differs from the OPBD balance \(ISO4217.decimalString(opening.amountMinor, exponent: exponent)) \(currency); OPBD is the opening balance"))
                }
            } else {
                openingBooked = previouslyClosed.balance
                balancePaths["opening booked balance"] = previouslyClosed.location
                warnings.add(StatementImportWarning(
                    kind: .previousClosingBalance, fileName: fileName, location: previouslyClosed.location,
                    reason: "the statement has no OPBD balance; the PRCD (previously closed booked) balance is its opening balance"))
            }
        }
        var statement = ParsedStatement(
            format: format, account: account, accountIsIBAN: iban != nil || IBAN.isValid(account), statementID: statementID,
            sequence: sequence, currency: currency, periodStart: periodStart ?? openingBooked?.date, periodEnd: periodEnd ?? closingBooked?.date,
            openingBooked: openingBooked, closingBooked: closingBooked, openingAvailable: openingAvailable,
            closingAvailable: closingAvailable, forwardAvailable: forwardAvailable, additionalBalances: additional,
            foreignCurrencyBalances: foreign, lines: lines,
            information: item.child("AddtlStmtInf")?.text ?? item.child("AddtlRptInf")?.text ?? item.child("AddtlNtfctnInf")?.text)
        try statement.checkBalances(fileName: fileName, incomplete: format.kind == .statement ? .derive : .accept,
                                    warnings: &warnings) { name in balancePaths[name] ?? path }
        statement.warnings = warnings.finished(fileName: fileName)
        return statement
    }

    private static func parseEntry(_ entry: XMLElement, path: String, fileName: String) throws(StatementImportError) -> ParsedStatementLine {
        let (amount, currency) = try amountOf(entry, path: path, fileName: fileName)
        let sign = try signOf(entry, path: path, fileName: fileName)
        func date(_ name: String) throws(StatementImportError) -> CalendarDate? {
            guard let element = entry.child(name) else { return nil }
            guard let text = element.child("Dt")?.text ?? element.child("DtTm")?.text, let date = CalendarDate(iso: Substring(text)) else {
                throw StatementImportError(fileName: fileName, location: "\(path)/\(name)", reason: "<\(name)> holds no valid <Dt> or <DtTm>")
            }
            return date
        }
        let bookingDate = try date("BookgDt")
        guard let valueDate = try date("ValDt") ?? bookingDate else {
            throw StatementImportError(fileName: fileName, location: path, reason: "the entry has neither a value date <ValDt> nor a booking date <BookgDt>")
        }
        let reversal = entry.child("RvslInd")?.text
        guard reversal == nil || reversal == "true" || reversal == "false" else {
            throw StatementImportError(fileName: fileName, location: path + "/RvslInd", reason: "'\(reversal ?? "")' is not true or false")
        }
        let details = entry.descendant("NtryDtls", "TxDtls")
        var typeCode: String?
        let codeSource = entry.child("BkTxCd") ?? details?.child("BkTxCd")
        if let domain = codeSource?.descendant("Domn", "Cd")?.text {
            typeCode = [domain, codeSource?.descendant("Domn", "Fmly", "Cd")?.text, codeSource?.descendant("Domn", "Fmly", "SubFmlyCd")?.text]
                .compactMap { $0 }.joined(separator: "/")
        } else {
            typeCode = codeSource?.descendant("Prtry", "Cd")?.text
        }
        let refs = details?.child("Refs")
        var customerReference = refs?.child("EndToEndId")?.text
        if customerReference == "NOTPROVIDED" { customerReference = nil }
        customerReference = customerReference ?? details?.descendant("RmtInf", "Strd", "CdtrRefInf", "Ref")?.text ?? entry.child("NtryRef")?.text
        let bankReference = entry.child("AcctSvcrRef")?.text ?? refs?.child("AcctSvcrRef")?.text
        let parties = details?.child("RltdPties")
        let isCredit = sign > 0
        let party = parties?.child(isCredit ? "Dbtr" : "Cdtr")
        let partyName = party?.child("Nm")?.text ?? party?.descendant("Pty", "Nm")?.text
        let partyAccount = parties?.child(isCredit ? "DbtrAcct" : "CdtrAcct").flatMap {
            $0.descendant("Id", "IBAN")?.text ?? $0.descendant("Id", "Othr", "Id")?.text
        }
        let unstructured = details?.child("RmtInf")?.children(named: "Ustrd").compactMap(\.text) ?? []
        let narrative = ([entry.child("AddtlNtryInf")?.text] + unstructured.map { Optional($0) } + [details?.child("AddtlTxInf")?.text])
            .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return ParsedStatementLine(
            bookingDate: bookingDate, valueDate: valueDate, amountMinor: sign * amount, currency: currency, isReversal: reversal == "true",
            bankReference: bankReference, customerReference: customerReference, counterpartyName: partyName,
            counterpartyAccount: partyAccount, transactionTypeCode: typeCode, narrative: narrative, location: path)
    }

    private static func amountOf(_ element: XMLElement, path: String, fileName: String) throws(StatementImportError) -> (Int64, String) {
        guard let amountElement = element.child("Amt"), let text = amountElement.text else {
            throw StatementImportError(fileName: fileName, location: path + "/Amt", reason: "no amount <Amt>")
        }
        guard let currency = amountElement.attributes["Ccy"] else {
            throw StatementImportError(fileName: fileName, location: path + "/Amt", reason: "the amount has no Ccy attribute")
        }
        guard let exponent = ISO4217.exponent(of: currency) else {
            throw StatementImportError(fileName: fileName, location: path + "/Amt", reason: "'\(currency)' is not an ISO 4217 currency code")
        }
        switch ISO4217.minorUnits(Substring(text), separator: ".", exponent: exponent) {
        case .success(let value): return (value, currency)
        case .failure(let error): throw StatementImportError(fileName: fileName, location: path + "/Amt", reason: "amount \(error.reason)")
        }
    }

    private static func signOf(_ element: XMLElement, path: String, fileName: String) throws(StatementImportError) -> Int64 {
        switch element.child("CdtDbtInd")?.text {
        case "CRDT": return 1
        case "DBIT": return -1
        case let other:
            throw StatementImportError(fileName: fileName, location: path + "/CdtDbtInd", reason: "credit/debit indicator is '\(other ?? "missing")', expected CRDT or DBIT")
        }
    }
}

/// A parsed XML element: local name (prefix dropped), attributes, trimmed text and children.
final class XMLElement {
    let name: String
    let attributes: [String: String]
    var children: [XMLElement] = []
    var textBuffer = ""

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    var text: String? {
        let trimmed = textBuffer.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func children(named name: String) -> [XMLElement] { children.filter { $0.name == name } }

    func descendant(_ names: String...) -> XMLElement? {
        var current: XMLElement? = self
        for name in names { current = current?.child(name) }
        return current
    }
}

/// Builds an ``XMLElement`` tree with Foundation's SAX parser, rejecting
/// DTDs and limiting depth and element count.
final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    private var stack: [XMLElement] = []
    private var root: XMLElement?
    private var elementCount = 0
    private var failure: String?
    private weak var parser: XMLParser?

    static func build(_ bytes: [UInt8], fileName: String) throws(StatementImportError) -> XMLElement {
        let doctype = Array("<!DOCTYPE".utf8)
        if let start = bytes.indices.first(where: { bytes[$0...].starts(with: doctype) }) {
            let line = bytes[..<start].filter { $0 == 0x0A }.count + 1
            throw StatementImportError(fileName: fileName, location: "line \(line)",
                                       reason: "document type declarations are not accepted in camt files (they can define entities)")
        }
        let builder = XMLTreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        builder.parser = parser
        let succeeded = parser.parse()
        if let failure = builder.failure {
            throw StatementImportError(fileName: fileName, location: builder.path, reason: failure)
        }
        guard succeeded, parser.parserError == nil, builder.stack.isEmpty, let root = builder.root else {
            let reason = parser.parserError.map { "XML is not well-formed: \($0.localizedDescription)" } ?? "XML is not well-formed"
            throw StatementImportError(fileName: fileName, location: "line \(parser.lineNumber), column \(parser.columnNumber)", reason: reason)
        }
        return root
    }

    private var path: String { stack.map(\.name).joined(separator: "/") }

    private func stop(_ reason: String) {
        if failure == nil { failure = reason }
        parser?.abortParsing()
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                attributes attributeDict: [String: String] = [:]) {
        guard failure == nil else { return }
        elementCount += 1
        guard elementCount <= StatementsLimits.camtElementsMax else { return stop("more than \(StatementsLimits.camtElementsMax) elements") }
        guard stack.count < StatementsLimits.camtDepthMax else { return stop("elements nested deeper than \(StatementsLimits.camtDepthMax)") }
        let localName = elementName.split(separator: ":").last.map(String.init) ?? elementName
        let element = XMLElement(name: localName, attributes: attributeDict)
        if let parent = stack.last {
            parent.children.append(element)
        } else if root == nil {
            root = element
        }
        stack.append(element)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard failure == nil else { return }
        let localName = elementName.split(separator: ":").last.map(String.init) ?? elementName
        guard stack.last?.name == localName else {
            return stop("closing tag </\(localName)> does not match the open element <\(stack.last?.name ?? "none")>")
        }
        _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard failure == nil, let current = stack.last else { return }
        guard current.textBuffer.utf8.count + string.utf8.count <= StatementsLimits.camtElementTextBytesMax else {
            return stop("element text longer than \(StatementsLimits.camtElementTextBytesMax / 1024) KiB")
        }
        current.textBuffer += string
    }

    func parser(_ parser: XMLParser, foundInternalSubsetDeclarationWithName name: String?, externalID: String?, systemID: String?) {
        stop("document type declarations are not accepted")
    }

    func parser(_ parser: XMLParser, foundElementDeclarationWithName elementName: String, model: String) {
        stop("document type declarations are not accepted")
    }

    func parser(_ parser: XMLParser, foundUnparsedEntityDeclarationWithName name: String, publicID: String?, systemID: String?, notationName: String?) {
        stop("entity declarations are not accepted")
    }

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        stop("entity declarations are not accepted")
    }
}
