import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// The receivables queries' JSON keys, pinned (an optional field is absent,
/// never null, when it has no value), and their typed answers, decoded and
/// checked against the records in state.
@Suite struct ReceivablesAnswerTests {
    static let signingKeys = ["height", "organization", "signer", "timeMs", "transaction"]
    static let preparationKeys = ["height", "signer", "timeMs", "transaction"]
    static let voucherKeys = ["amount", "contractHash", "creditBank", "currency", "dueDate", "id", "invoices", "issueDate", "issued", "issuer",
                              "pieceRecords", "rootPiece", "status", "supplier", "transferable"]
    static let pieceKeys = ["amount", "first", "frozen", "history", "holder", "last", "piece", "status", "voucher"]
    static let financingKeys = ["bank", "days", "discountRateBps", "fee", "paidOut", "principal", "recourse", "rounding", "seller", "signing"]
    static let traceKeys = ["ancestors", "descendants", "height", "issuance", "piece", "truncated"]

    /// V1 (100 000, s1) split into every piece state the answers show, V2
    /// settled early, V3 rejected with a reason, V4 issued under maker–checker.
    struct Scenario {
        let fixture: ReceivablesFixture
        let financed = ReceivablePieceID(voucherID: "V1", first: 1, last: 20_000)
        let transferOffered = ReceivablePieceID(voucherID: "V1", first: 20_001, last: 30_000)
        let frozen = ReceivablePieceID(voucherID: "V1", first: 30_001, last: 60_000)
        let financingOffered = ReceivablePieceID(voucherID: "V1", first: 60_001, last: 100_000)

        init() throws {
            fixture = try ReceivablesFixture()
            let root = try fixture.issueAccepted("V1", amount: 100_000)
            let tier2 = try fixture.transfer(root, amount: 60_000, from: "s1", to: "s2")
            try succeed(try fixture.submit("s2", .offerFinancing, ReceivableFinanceOffer(piece: tier2, amount: 20_000, bank: "bankA",
                                                                                          discountRateBps: 400, recourse: .withRecourse)))
            try succeed(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: financed, registrationNumber: "ZD-1")))
            try succeed(try fixture.submit("s2", .offerTransfer, ReceivableTransfer(
                piece: ReceivablePieceID(voucherID: "V1", first: 20_001, last: 60_000), amount: 10_000, recipient: "s3")))
            try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: frozen, reason: "court order 7")))
            try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: financingOffered, amount: 40_000, bank: "bankB",
                                                                                          discountRateBps: 350, recourse: .withoutRecourse)))
            try fixture.issueAccepted("V2", amount: 1_000)
            try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V2", early: true)))
            var unnoted = fixture.issueArguments("V3")
            unnoted.note = nil
            try succeed(try fixture.submit("core", .issue, unnoted))
            try succeed(try fixture.submit("s1", .rejectVoucher, ReceivableVoucherRef(voucherID: "V3", reason: "wrong goods")))
            try succeed(try fixture.submit("core", .configure, ReceivableSettings(makerChecker: true)))
            let prepared = try fixture.submit("core", .issue, fixture.issueArguments("V4"))
            try succeed(prepared)
            try succeed(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1))
        }
    }

    /// The keys a step of `step`'s record must have.
    static func stepKeys(_ step: ReceivableStep) -> [String] {
        (["action", "amount", "signing"] + (step.counterparty == nil ? [] : ["counterparty"]) + (step.detail == nil ? [] : ["detail"])).sorted()
    }

    /// Expects `json` to be `piece`'s answer key for key, with every optional member present exactly when the record has it.
    static func expectPieceKeys(_ json: JSONValue?, _ piece: ReceivablePiece, offerKeys: [String]? = nil, financing: [String]? = nil,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        var expected = pieceKeys
        if piece.parent != nil { expected.append("parent") }
        if piece.offer != nil { expected.append("offer") }
        if piece.financing != nil { expected.append("financing") }
        if piece.freeze != nil { expected.append("freeze") }
        #expect(keys(json) == expected.sorted(), sourceLocation: sourceLocation)
        let steps = json?["history"]?.arrayValue ?? []
        #expect(steps.count == piece.history.count, sourceLocation: sourceLocation)
        for (step, record) in zip(steps, piece.history) {
            #expect(keys(step) == stepKeys(record), sourceLocation: sourceLocation)
            #expect(keys(step["signing"]) == signingKeys, sourceLocation: sourceLocation)
        }
        if let offerKeys { #expect(keys(json?["offer"]) == offerKeys, sourceLocation: sourceLocation) }
        if let financing { #expect(keys(json?["financing"]) == financing, sourceLocation: sourceLocation) }
    }

    @Test func voucher_keysAndTypedValues_followTheRecord() throws {
        let scenario = try Scenario()
        let fixture = scenario.fixture

        let active = try fixture.query(.voucher, ["voucher": "V1"])
        #expect(keys(active) == (Self.voucherKeys + ["decided", "note"]).sorted())
        #expect(keys(active["issued"]) == Self.signingKeys)
        #expect(keys(active["decided"]) == Self.signingKeys)
        #expect(keys(active["invoices"]?.arrayValue?.first) == ["amount", "date", "hash", "number"])
        let record = try fixture.voucher("V1")
        let voucher = try roundTrip(active, as: ReceivableVoucherAnswer.self)
        #expect(voucher.id == "V1" && voucher.issuer == "core" && voucher.supplier == "s1" && voucher.creditBank == "bankA")
        #expect(voucher.amount == 100_000 && voucher.currency == "CNY" && voucher.transferable)
        #expect(voucher.issueDate == record.issueDate && voucher.dueDate == record.dueDate)
        #expect(active["dueDate"] == .string(record.dueDate.iso))
        #expect(voucher.contractHash == Hash.sha256(Array("contract-V1".utf8)))
        #expect(voucher.invoices == [ReceivableVoucherAnswer.Invoice(record.invoices[0])])
        #expect(voucher.invoices.first?.number == "INV-V1" && voucher.invoices.first?.amount == 100_000)
        #expect(voucher.invoices.first?.hash == Hash.sha256(Array("invoice-V1".utf8)))
        #expect(voucher.status == .active && active["status"] == .string("active"))
        #expect(voucher.issued.organization == "core" && voucher.issued.signer == fixture.chain.member("core").keys[0].publicKey)
        #expect(voucher.issued.transaction == record.issued.transactionID && voucher.issued.height == Int64(record.issued.height))
        #expect(voucher.issued.preparedBy == nil)
        #expect(voucher.decided?.organization == "s1")
        #expect(voucher.rootPiece == ReceivablePieceID(voucherID: "V1", first: 1, last: 100_000) && active["rootPiece"] == .string("V1:1-100000"))
        #expect(voucher.pieceRecords == Int64(record.pieceRecords) && voucher.pieceRecords == 7)
        #expect(voucher.note == "goods for V1")
        #expect(voucher.decisionReason == nil && voucher.settlement == nil)

        let settledJSON = try fixture.query(.voucher, ["voucher": "V2"])
        #expect(keys(settledJSON) == (Self.voucherKeys + ["decided", "note", "settlement"]).sorted())
        #expect(keys(settledJSON["settlement"]) == ["clearing", "early", "signing"])
        #expect(keys(settledJSON["settlement", "clearing"]?.arrayValue?.first) == ["amount", "holder", "pieces"])
        let settled = try roundTrip(settledJSON, as: ReceivableVoucherAnswer.self)
        #expect(settled.status == .settled && settledJSON["status"] == .string("settled"))
        #expect(settled.settlement?.early == true && settled.settlement?.signing.organization == "core")
        #expect(settled.settlement?.clearing.map(\.holder) == ["s1"])
        #expect(settled.settlement?.clearing.map(\.amount) == [1_000] && settled.settlement?.clearing.map(\.pieces) == [1])

        let rejectedJSON = try fixture.query(.voucher, ["voucher": "V3"])
        #expect(keys(rejectedJSON) == (Self.voucherKeys + ["decided", "decisionReason"]).sorted())
        let rejected = try roundTrip(rejectedJSON, as: ReceivableVoucherAnswer.self)
        #expect(rejected.status == .rejected && rejected.decisionReason == "wrong goods" && rejected.note == nil)
        #expect(rejected.decided?.organization == "s1")

        let checkedJSON = try fixture.query(.voucher, ["voucher": "V4"])
        #expect(keys(checkedJSON) == (Self.voucherKeys + ["note"]).sorted())
        #expect(keys(checkedJSON["issued"]) == (Self.signingKeys + ["preparedBy"]).sorted())
        #expect(keys(checkedJSON["issued", "preparedBy"]) == Self.preparationKeys)
        let checked = try roundTrip(checkedJSON, as: ReceivableVoucherAnswer.self)
        #expect(checked.status == .pendingAcceptance && checkedJSON["status"] == .string("pending_acceptance"))
        #expect(checked.issued.signer == fixture.chain.member("core").keys[1].publicKey)
        #expect(checked.issued.preparedBy?.signer == fixture.chain.member("core").keys[0].publicKey)
        #expect(checked.issued.preparedBy?.transaction == (try fixture.voucher("V4")).issued.preparedBy?.transactionID)
    }

    @Test func piece_keysAndTypedValues_followTheRecord() throws {
        let scenario = try Scenario()
        let fixture = scenario.fixture
        let rateKeys = ["discountRateBps", "recourse", "signing", "to"]

        let rootID = ReceivablePieceID(voucherID: "V1", first: 1, last: 100_000)
        let rootJSON = try fixture.query(.piece, ["piece": rootID.description])
        Self.expectPieceKeys(rootJSON, try fixture.piece(rootID))
        let root = try roundTrip(rootJSON, as: ReceivablePieceAnswer.self)
        #expect(root.piece == rootID && root.voucher == "V1" && root.first == 1 && root.last == 100_000 && root.amount == 100_000)
        #expect(root.status == .split && root.holder == "s1" && !root.frozen && root.parent == nil)
        #expect(root.history.first?.action == .issued && root.history.first?.counterparty == "core" && root.history.first?.detail == nil)
        #expect(root.history.last?.action == .splitInto && root.history.last?.counterparty == nil && root.history.last?.detail != nil)
        #expect(rootJSON["history"]?.arrayValue?.first?["action"] == .string("issued"))

        let financedRecord = try fixture.piece(scenario.financed)
        let financedJSON = try fixture.query(.piece, ["piece": scenario.financed.description])
        Self.expectPieceKeys(financedJSON, financedRecord, financing: (Self.financingKeys + ["registrationNumber"]).sorted())
        let financed = try roundTrip(financedJSON, as: ReceivablePieceAnswer.self)
        let terms = try #require(financedRecord.financing)
        #expect(financed.status == .financed && financed.holder == "bankA" && financedJSON["status"] == .string("financed"))
        #expect(financed.parent == ReceivablePieceID(voucherID: "V1", first: 1, last: 60_000) && financedJSON["parent"] == .string("V1:1-60000"))
        #expect(financed.financing == ReceivablePieceAnswer.Financing(terms))
        #expect(financed.financing?.bank == "bankA" && financed.financing?.seller == "s2" && financed.financing?.principal == 20_000)
        #expect(financed.financing?.discountRateBps == 400 && financed.financing?.days == Int64(terms.days))
        #expect(financed.financing?.fee == Int64(terms.fee) && financed.financing?.paidOut == Int64(terms.paidOut))
        #expect(financed.financing?.recourse == .withRecourse && financedJSON["financing", "recourse"] == .string("with_recourse"))
        #expect(financed.financing?.rounding == "fee = principal × rateBps × days / 3 600 000, half up")
        #expect(financed.financing?.registrationNumber == "ZD-1" && financed.financing?.signing.organization == "bankA")
        #expect(financed.offer == nil && financed.freeze == nil)

        let offeredJSON = try fixture.query(.piece, ["piece": scenario.transferOffered.description])
        Self.expectPieceKeys(offeredJSON, try fixture.piece(scenario.transferOffered), offerKeys: ["signing", "to"])
        let offered = try roundTrip(offeredJSON, as: ReceivablePieceAnswer.self)
        #expect(offered.status == .transferOffered && offered.holder == "s2")
        #expect(offered.offer?.to == "s3" && offered.offer?.discountRateBps == nil && offered.offer?.recourse == nil)
        #expect(offered.offer?.signing.organization == "s2")

        let financingJSON = try fixture.query(.piece, ["piece": scenario.financingOffered.description])
        Self.expectPieceKeys(financingJSON, try fixture.piece(scenario.financingOffered), offerKeys: rateKeys)
        let financing = try roundTrip(financingJSON, as: ReceivablePieceAnswer.self)
        #expect(financing.status == .financingOffered && financing.offer?.to == "bankB")
        #expect(financing.offer?.discountRateBps == 350 && financing.offer?.recourse == .withoutRecourse)
        #expect(financing.parent == rootID)

        let frozenJSON = try fixture.query(.piece, ["piece": scenario.frozen.description])
        Self.expectPieceKeys(frozenJSON, try fixture.piece(scenario.frozen))
        #expect(keys(frozenJSON["freeze"]) == ["reason", "signing"])
        let frozen = try roundTrip(frozenJSON, as: ReceivablePieceAnswer.self)
        #expect(frozen.frozen && frozen.status == .active && frozen.freeze?.reason == "court order 7" && frozen.freeze?.signing.organization == "reg")

        let settledPiece = try roundTrip(try fixture.query(.piece, ["piece": "V2:1-1000"]), as: ReceivablePieceAnswer.self)
        #expect(settledPiece.status == .settled && settledPiece.history.last?.action == .settled)
    }

    @Test func trace_keysAndTypedValues_withAndWithoutCertificates() throws {
        let scenario = try Scenario()
        let fixture = scenario.fixture
        let tier2 = ReceivablePieceID(voucherID: "V1", first: 1, last: 60_000)

        let plainJSON = try fixture.query(.trace, ["piece": tier2.description])
        #expect(keys(plainJSON) == Self.traceKeys)
        #expect(keys(plainJSON["issuance"]) == (Self.voucherKeys + ["decided", "note"]).sorted())
        Self.expectPieceKeys(plainJSON["piece"], try fixture.piece(tier2))
        for json in (plainJSON["ancestors"]?.arrayValue ?? []) + (plainJSON["descendants"]?.arrayValue ?? []) {
            let id = try #require(json["piece"]?.stringValue.flatMap { ReceivablePieceID($0) })
            Self.expectPieceKeys(json, try fixture.piece(id))
        }
        let plain = try roundTrip(plainJSON, as: ReceivableTraceAnswer.self)
        #expect(plain.issuance == ReceivableVoucherAnswer(try fixture.voucher("V1")))
        #expect(plain.ancestors.map(\.piece) == [ReceivablePieceID(voucherID: "V1", first: 1, last: 100_000)])
        #expect(plain.piece == ReceivablePieceAnswer(try fixture.piece(tier2)))
        #expect(plain.descendants.map(\.piece.description) == ["V1:1-20000", "V1:20001-30000", "V1:20001-60000", "V1:30001-60000"])
        #expect(!plain.truncated && plain.height == Int64(fixture.chain.ledger.queryView().height))
        #expect(plain.transactions == nil && plain.certificates == nil)

        let cut = try roundTrip(try fixture.query(.trace, ["piece": tier2.description, "limit": "1"]), as: ReceivableTraceAnswer.self)
        #expect(cut.truncated && cut.descendants.map(\.piece.description) == ["V1:1-20000"])

        let certifiedJSON = try fixture.query(.trace, ["piece": tier2.description, "certificates": "true"])
        #expect(keys(certifiedJSON) == (Self.traceKeys + ["certificates", "transactions"]).sorted())
        let firstLocation = certifiedJSON["transactions"]?.objectValue?.values.first
        #expect(keys(firstLocation) == ["height", "index"])
        #expect(keys(certifiedJSON["certificates"]?.arrayValue?.first) == ["blockHash", "height", "signatures", "timestampMs", "transactionsRoot", "view"])
        #expect(keys(certifiedJSON["certificates"]?.arrayValue?.first?["signatures"]?.arrayValue?.first) == ["signature", "validator"])
        let certified = try roundTrip(certifiedJSON, as: ReceivableTraceAnswer.self)
        let transactions = try #require(certified.transactions)
        let certificates = try #require(certified.certificates)
        #expect(certificates.map(\.height) == Set(transactions.values.map(\.height)).sorted())
        for step in certified.piece.history {
            let location = try #require(transactions[step.signing.transaction.hex])
            let block = try #require(try fixture.chain.ledger.block(at: UInt64(location.height)))
            #expect(block.transactions[Int(location.index)].id == step.signing.transaction)
        }
        for entry in certificates {
            let certificate = try #require(try fixture.chain.ledger.certificate(at: UInt64(entry.height)))
            let block = try #require(try fixture.chain.ledger.block(at: UInt64(entry.height)))
            #expect(entry.blockHash == certificate.blockHash && entry.view == Int64(certificate.view))
            #expect(entry.timestampMs == Int64(block.header.timestampMs) && entry.transactionsRoot == block.header.transactionsRoot)
            #expect(entry.signatures.map(\.validator) == certificate.signatures.map { Int64($0.validatorIndex) })
            #expect(entry.signatures.map(\.signature) == certificate.signatures.map(\.signature))
        }
        #expect(certified.issuance == plain.issuance && certified.descendants == plain.descendants)
    }

    @Test func tree_holdingsCreditLineDisclosureActions_decodeIntoTheirAnswers() throws {
        let scenario = try Scenario()
        let fixture = scenario.fixture

        let treeJSON = try fixture.query(.tree, ["voucher": "V1"])
        #expect(keys(treeJSON) == ["pieces", "truncated", "voucher"])
        let tree = try roundTrip(treeJSON, as: ReceivableTreeAnswer.self)
        #expect(tree.voucher.id == "V1" && !tree.truncated)
        #expect(tree.pieces == (try fixture.pieces(of: "V1")).map(ReceivablePieceAnswer.init))

        let s2JSON = try fixture.query(.holdings, ["organization": "s2"])
        #expect(keys(s2JSON) == ["incoming", "organization", "pieces", "totals", "truncated", "vouchersAwaitingAcceptance"])
        #expect(keys(s2JSON["pieces"]?.arrayValue?.first) == ["amount", "currency", "frozen", "piece", "status"])
        let s2 = try roundTrip(s2JSON, as: ReceivableHoldingsAnswer.self)
        #expect(s2.organization == "s2" && !s2.truncated)
        #expect(Set(s2.pieces.map(\.piece)) == [scenario.transferOffered, scenario.frozen])
        #expect(s2.totals["CNY"]?["active"] == .init(count: 1, amount: 30_000))
        #expect(s2.totals["CNY"]?["frozen"] == .init(count: 1, amount: 30_000))
        #expect(s2.totals["CNY"]?["transfer_offered"] == .init(count: 1, amount: 10_000))

        let s3JSON = try fixture.query(.holdings, ["organization": "s3"])
        #expect(keys(s3JSON["incoming"]?.arrayValue?.first) == ["amount", "currency", "from", "frozen", "piece", "status"])
        let s3 = try roundTrip(s3JSON, as: ReceivableHoldingsAnswer.self)
        #expect(s3.incoming.map(\.piece) == [scenario.transferOffered] && s3.incoming.first?.from == "s2")

        let bankBJSON = try fixture.query(.holdings, ["organization": "bankB"])
        #expect(keys(bankBJSON["incoming"]?.arrayValue?.first)
                == ["amount", "currency", "discountRateBps", "from", "frozen", "piece", "recourse", "status"])
        let bankB = try roundTrip(bankBJSON, as: ReceivableHoldingsAnswer.self)
        #expect(bankB.incoming.first?.discountRateBps == 350 && bankB.incoming.first?.recourse == .withoutRecourse)

        let awaitingJSON = try fixture.query(.holdings, ["organization": "s1"])
        #expect(keys(awaitingJSON["vouchersAwaitingAcceptance"]?.arrayValue?.first) == ["amount", "currency", "dueDate", "issuer", "voucher"])
        let awaiting = try roundTrip(awaitingJSON, as: ReceivableHoldingsAnswer.self)
        #expect(awaiting.vouchersAwaitingAcceptance.map(\.voucher) == ["V4"])
        #expect(awaiting.vouchersAwaitingAcceptance.first?.dueDate == (try fixture.voucher("V4")).dueDate)

        let lineJSON = try fixture.query(.creditLine, ["issuer": "core", "bank": "bankA"])
        #expect(keys(lineJSON) == ["bank", "currency", "issuer", "limit", "signing", "unused", "used"])
        let line = try roundTrip(lineJSON, as: ReceivableCreditLineAnswer.self)
        #expect(line == ReceivableCreditLineAnswer(try fixture.creditLine()))
        #expect(line.limit == 100_000_000 && line.unused == line.limit - line.used)

        let disclosureJSON = try fixture.query(.disclosure, ["issuer": "core"])
        #expect(keys(disclosureJSON) == ["asOfMs", "creditLines", "currencies", "issuer"])
        let disclosure = try roundTrip(disclosureJSON, as: ReceivableDisclosureAnswer.self)
        #expect(disclosure.issuer == "core" && disclosure.creditLines == [line])
        #expect(disclosure.currencies["CNY"]?.settledAmount == 1_000 && disclosure.currencies["CNY"]?.overdueCount == 0)

        let actionsJSON = try fixture.query(.actions, ["organization": "core"])
        #expect(keys(actionsJSON) == ["actions", "settings"])
        #expect(keys(actionsJSON["actions"]?.arrayValue?.first) == ["decided", "details", "id", "operation", "organization", "prepared", "status"])
        let actions = try roundTrip(actionsJSON, as: ReceivableActionsAnswer.self)
        #expect(actions.settings == .init(autoAcceptTransfers: false, makerChecker: true))
        #expect(actions.actions.map(\.status) == [.approved] && actions.actions.first?.operation == "issue")
        #expect(actions.actions.first?.decided?.signer == fixture.chain.member("core").keys[1].publicKey)
    }

    @Test func overdue_decodesIntoItsAnswer_withDaysOverdue() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1", amount: 1_000)
        let due = try fixture.voucher("V1").dueDate
        fixture.advance(to: ReceivableDay(daysSinceEpoch: due.daysSinceEpoch + 2))
        try succeed(try fixture.submit("s5", .configure, ReceivableSettings(autoAcceptTransfers: true)))
        let json = try fixture.query(.overdue, [:])
        #expect(keys(json) == ["asOf", "truncated", "vouchers"])
        #expect(keys(json["vouchers"]?.arrayValue?.first) == ["amount", "currency", "daysOverdue", "dueDate", "issuer", "voucher"])
        let overdue = try roundTrip(json, as: ReceivableOverdueAnswer.self)
        #expect(overdue.asOf == ReceivableDay(daysSinceEpoch: due.daysSinceEpoch + 2) && !overdue.truncated)
        #expect(overdue.vouchers == [.init(voucher: "V1", issuer: "core", amount: 1_000, currency: "CNY", dueDate: due, daysOverdue: 2)])
        let disclosure = try roundTrip(try fixture.query(.disclosure, ["issuer": "core"]), as: ReceivableDisclosureAnswer.self)
        #expect(disclosure.currencies["CNY"]?.overdueCount == 1 && disclosure.currencies["CNY"]?.overdueAmount == 1_000)
    }

    @Test func answers_refuseMalformedDatesAndPieces() throws {
        #expect(throws: DecodingError.self) { try JSONValue.string("2026-02-30").decode(ReceivableDay.self) }
        #expect(throws: DecodingError.self) { try JSONValue.string("V1:5-4").decode(ReceivablePieceID.self) }
        #expect(throws: DecodingError.self) { try JSONValue.string("paid").decode(ReceivablePieceStatus.self) }
        #expect(try JSONValue.string("V1:1-5").decode(ReceivablePieceID.self) == ReceivablePieceID(voucherID: "V1", first: 1, last: 5))
    }
}
