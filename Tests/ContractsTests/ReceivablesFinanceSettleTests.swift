import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct ReceivablesDiscountTests {
    @Test func discount_exactFee_isPrincipalTimesRateTimesDaysOver3600000() throws {
        let result = try #require(ReceivableFinancing.discount(principal: 1_000_000, rateBps: 365, days: 180))
        #expect(result.fee == 18_250 && result.paidOut == 981_750)
    }

    @Test func discount_halfMinorUnit_roundsUp() throws {
        #expect(ReceivableFinancing.discount(principal: 1_800_000, rateBps: 1, days: 1)?.fee == 1)
        #expect(ReceivableFinancing.discount(principal: 1_799_999, rateBps: 1, days: 1)?.fee == 0)
    }

    @Test func discount_largePrincipal_doesNotOverflow() throws {
        let result = try #require(ReceivableFinancing.discount(principal: ReceivablesLimits.amountMax, rateBps: 10_000, days: 180))
        #expect(result.fee == ReceivablesLimits.amountMax / 2)
    }

    @Test func discount_feeReachingPrincipal_isRefused() {
        #expect(ReceivableFinancing.discount(principal: 1_000, rateBps: 10_000, days: 360) == nil)
    }
}

@Suite struct ReceivablesFinanceTests {
    @Test func acceptFinancing_movesPieceToBankWithComputedTerms() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000_000, months: 6)
        let due = try fixture.voucher("V1").dueDate
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 400_000, bank: "bankB",
                                                                                      discountRateBps: 350, recourse: .withoutRecourse)))
        let financedID = ReceivablePieceID(voucherID: "V1", first: 1, last: 400_000)
        #expect(try fixture.query(.holdings, ["organization": "bankB"])["incoming"]?.arrayValue?.count == 1)
        let today = fixture.today
        try succeed(try fixture.submit("bankB", .acceptFinancing, ReceivableFinanceAccept(piece: financedID, registrationNumber: "ZD-2026-001")))
        let piece = try fixture.piece(financedID)
        let financing = try #require(piece.financing)
        let days = due.daysSinceEpoch - today.daysSinceEpoch
        let expected = try #require(ReceivableFinancing.discount(principal: 400_000, rateBps: 350, days: days))
        #expect(piece.holder == "bankB" && piece.status == .financed)
        #expect(financing.days == days && financing.fee == expected.fee && financing.paidOut == expected.paidOut)
        #expect(financing.seller == "s1" && financing.recourse == .withoutRecourse && financing.registrationNumber == "ZD-2026-001")
        #expect(try fixture.piece(ReceivablePieceID(voucherID: "V1", first: 400_001, last: 1_000_000)).holder == "s1")
    }

    @Test func offerFinancing_ofFinancedPiece_isRejectedAsDoubleFinancing() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA",
                                                                                      discountRateBps: 300, recourse: .withRecourse)))
        try succeed(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: root)))
        expectRejected(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankB",
                                                                                         discountRateBps: 300, recourse: .withRecourse)), "already_financed")
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")), "not_holder")
        expectRejected(try fixture.submit("bankA", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")), "not_permitted")
    }

    @Test func financingOffersToTwoBanksInOneBlock_onlyFirstApplies() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let receipts = try fixture.chain.commit([
            fixture.transaction("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)),
            fixture.transaction("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankB", discountRateBps: 300, recourse: .withRecourse), key: 1),
        ])
        try succeed(receipts[0])
        expectRejected(receipts[1], "piece_not_active")
        expectRejected(try fixture.submit("bankB", .acceptFinancing, ReceivableFinanceAccept(piece: root)), "not_recipient")
    }

    @Test func declineFinancing_returnsPieceToSeller() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)))
        try succeed(try fixture.submit("bankA", .declineFinancing, ReceivablePieceRef(piece: root, reason: "issuer risk")))
        let piece = try fixture.piece(root)
        #expect(piece.status == .active && piece.holder == "s1" && piece.financing == nil)
        #expect(piece.history.last?.action == .financingDeclined)
    }

    @Test func declineFinancing_ofTransferOffer_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        expectRejected(try fixture.submit("bankA", .declineFinancing, ReceivablePieceRef(piece: root)), "no_offer")
    }

    @Test func offerFinancing_toNonBank_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "s2", discountRateBps: 300, recourse: .withRecourse)), "bad_bank")
    }

    @Test(arguments: [UInt32(0), 10_001])
    func offerFinancing_withRateOutOfRange_isRejected(_ rate: UInt32) throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: rate, recourse: .withRecourse)), "bad_rate")
    }

    @Test func acceptFinancing_whenFeeConsumesPrincipal_isRejected() throws {
        let fixture = try ReceivablesFixture(parameters: .object(["dueMonthsMax": .integer(12)]))
        let root = try fixture.issueAccepted("V1", amount: 1_000, months: 12)
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 10_000, recourse: .withRecourse)))
        expectRejected(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: root)), "fee_exceeds_principal")
    }

    @Test func acceptFinancing_withEmptyRegistration_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)))
        expectRejected(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: root, registrationNumber: "")), "bad_registration")
    }

    @Test func acceptFinancing_ofFrozenPiece_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)))
        try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "court order 9")))
        expectRejected(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: root)), "piece_frozen")
    }

    @Test func acceptFinancing_afterDueDate_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000, months: 1)
        try succeed(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)))
        fixture.advance(to: try fixture.voucher("V1").dueDate)
        expectRejected(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: root)), "voucher_due")
    }
}

@Suite struct ReceivablesSettlementTests {
    @Test func settle_atDueDate_paysEveryOutstandingPieceToItsHolder() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let toS2 = try fixture.transfer(root, amount: 600, from: "s1", to: "s2")
        let toS3 = try fixture.transfer(toS2, amount: 200, from: "s2", to: "s3")
        let financed = ReceivablePieceID(voucherID: "V1", first: 201, last: 600)
        try succeed(try fixture.submit("s2", .offerFinancing, ReceivableFinanceOffer(piece: financed, amount: 400, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)))
        try succeed(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: financed)))
        let kept = ReceivablePieceID(voucherID: "V1", first: 601, last: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: kept, amount: 400, recipient: "s4")))
        fixture.advance(to: try fixture.voucher("V1").dueDate)
        let receipt = try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1"))
        try succeed(receipt)
        let voucher = try fixture.voucher("V1")
        let settlement = try #require(voucher.settlement)
        #expect(voucher.status == .settled && !settlement.early)
        #expect(settlement.lines == [ReceivableClearingLine(holder: "bankA", amount: 400, pieces: 1),
                                     ReceivableClearingLine(holder: "s1", amount: 400, pieces: 1),
                                     ReceivableClearingLine(holder: "s3", amount: 200, pieces: 1)])
        for id in [toS3, financed, kept] { #expect(try fixture.piece(id).status == .settled) }
        #expect(try fixture.piece(kept).offer == nil)
        #expect(try fixture.creditLine().used == 0)
        let disclosure = try fixture.query(.disclosure, ["issuer": "core"])
        #expect(disclosure["currencies", "CNY", "outstandingAmount"]?.intValue == 0)
        #expect(disclosure["currencies", "CNY", "settledAmount"]?.intValue == 1_000)
        #expect(try fixture.query(.holdings, ["organization": "s4"])["incoming"]?.arrayValue?.isEmpty == true)
    }

    @Test func settle_beforeDueDateWithoutEarlyFlag_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1")), "not_due")
    }

    @Test func settle_earlyWhenMarked_closesAndRecordsEarly() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1")
        try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1", early: true)))
        #expect(try fixture.voucher("V1").settlement?.early == true)
    }

    @Test func settle_byOtherCoreEnterprise_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("core2", .settle, ReceivableSettle(voucherID: "V1", early: true)), "not_issuer")
    }

    @Test func settle_ofPendingOrSettledVoucher_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        expectRejected(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1", early: true)), "voucher_not_active")
        try fixture.issueAccepted("V2")
        try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V2", early: true)))
        expectRejected(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V2", early: true)), "voucher_not_active")
    }

    @Test func settle_withFrozenPiece_isRejectedUntilUnfrozen() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1")
        try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "court order 10")))
        expectRejected(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1", early: true)), "frozen_pieces")
        try succeed(try fixture.submit("reg", .unfreeze, ReceivablePieceRef(piece: root, reason: "order lifted")))
        // A second key: the same call signed again with the unused nonce would be the rejected transaction itself.
        try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1", early: true), key: 1))
    }

    @Test func overdueVoucher_isListedAndBlocksIssuanceUntilSettled() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1", months: 1)
        let due = try fixture.voucher("V1").dueDate
        fixture.advance(to: due)
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V2")))
        #expect(try fixture.query(.overdue, ["issuer": "core"])["vouchers"]?.arrayValue?.isEmpty == true)
        fixture.advance(to: ReceivableDay(daysSinceEpoch: due.daysSinceEpoch + 3))
        expectRejected(try fixture.submit("core", .issue, fixture.issueArguments("V3")), "too_many_overdue")
        let overdue = try fixture.query(.overdue, [:])
        #expect(overdue["vouchers"]?.arrayValue?.first?["voucher"]?.stringValue == "V1")
        #expect(overdue["vouchers"]?.arrayValue?.first?["daysOverdue"]?.intValue == 3)
        let disclosure = try fixture.query(.disclosure, ["issuer": "core"])
        #expect(disclosure["currencies", "CNY", "overdueCount"]?.intValue == 1)
        #expect(disclosure["currencies", "CNY", "overdueAmount"]?.intValue == 1_000_000)
        try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1")))
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V3")))
    }

    @Test func overdueAllowance_fromGenesis_permitsThatManyOverdue() throws {
        let fixture = try ReceivablesFixture(parameters: .object(["overdueVouchersMax": .integer(1)]))
        try fixture.issueAccepted("V1", months: 1)
        try fixture.issueAccepted("V2", months: 1)
        fixture.advance(to: ReceivableDay(daysSinceEpoch: try fixture.voucher("V1").dueDate.daysSinceEpoch + 1))
        expectRejected(try fixture.submit("core", .issue, fixture.issueArguments("V3")), "too_many_overdue")
        try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1")))
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V3")))
    }
}

@Suite struct ReceivablesFreezeTests {
    @Test func freeze_blocksMovesAndUnfreezeRestoresThem() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "court order 11")))
        #expect(try fixture.piece(root).freeze?.reason == "court order 11")
        #expect(try fixture.query(.holdings, ["organization": "s1"])["totals", "CNY", "frozen", "amount"]?.intValue == 1_000)
        expectRejected(try fixture.submit("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 1_000, bank: "bankA", discountRateBps: 300, recourse: .withRecourse)), "piece_frozen")
        try succeed(try fixture.submit("reg", .unfreeze, ReceivablePieceRef(piece: root, reason: "order lifted")))
        try fixture.transfer(root, amount: 500, from: "s1", to: "s2")
        #expect(try fixture.piece(root).history.map(\.action) == [.issued, .frozen, .unfrozen, .splitInto])
    }

    @Test func freeze_withoutReason_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root)), "missing_reason")
        expectRejected(try fixture.submit("reg", .unfreeze, ReceivablePieceRef(piece: root, reason: "")), "missing_reason")
    }

    @Test func freeze_twice_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1")
        try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "a")))
        expectRejected(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "b")), "already_frozen")
    }

    @Test func unfreeze_ofUnfrozenPiece_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("reg", .unfreeze, ReceivablePieceRef(piece: root, reason: "x")), "not_frozen")
    }

    @Test func freeze_ofSplitPiece_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try fixture.transfer(root, amount: 500, from: "s1", to: "s2")
        expectRejected(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "x")), "piece_closed")
    }

    @Test func freeze_byNonRegulator_isNotPermitted() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("bankA", .freeze, ReceivablePieceRef(piece: root, reason: "x")), "not_permitted")
    }
}
