import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct ReceivablesTransferTests {
    @Test func partialTransfer_splitsIntoOfferedAndRetainedChildren() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 300, recipient: "s2")))
        let parent = try fixture.piece(root)
        #expect(parent.status == .split)
        let moved = try fixture.piece(ReceivablePieceID(voucherID: "V1", first: 1, last: 300))
        let kept = try fixture.piece(ReceivablePieceID(voucherID: "V1", first: 301, last: 1_000))
        #expect(moved.status == .transferOffered && moved.holder == "s1" && moved.offer?.counterparty == "s2" && moved.parent == root)
        #expect(kept.status == .active && kept.holder == "s1")
        #expect(try fixture.voucher("V1").pieceRecords == 3)
    }

    @Test func acceptTransfer_movesPieceToRecipient() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let moved = try fixture.transfer(root, amount: 300, from: "s1", to: "s2")
        let piece = try fixture.piece(moved)
        #expect(piece.holder == "s2" && piece.status == .active && piece.offer == nil)
        #expect(piece.history.map(\.action) == [.splitFrom, .transferOffered, .transferred])
        let holdings = try fixture.query(.holdings, ["organization": "s2"])
        #expect(holdings["totals", "CNY", "active", "amount"]?.intValue == 300)
    }

    @Test func wholeTransfer_keepsTheRange() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let moved = try fixture.transfer(root, amount: 1_000, from: "s1", to: "s2")
        #expect(moved == root)
        #expect(try fixture.piece(root).holder == "s2")
        #expect(try fixture.voucher("V1").pieceRecords == 1)
    }

    @Test func transfer_toAutoAcceptingRecipient_completesAtOnce() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("s2", .configure, ReceivableSettings(autoAcceptTransfers: true)))
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 400, recipient: "s2")))
        let piece = try fixture.piece(ReceivablePieceID(voucherID: "V1", first: 1, last: 400))
        #expect(piece.holder == "s2" && piece.status == .active)
        let incoming = try fixture.query(.holdings, ["organization": "s2"])["incoming"]?.arrayValue
        #expect(incoming?.isEmpty == true)
    }

    @Test func declineTransfer_returnsPieceToHolder() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        #expect(try fixture.query(.holdings, ["organization": "s2"])["incoming"]?.arrayValue?.count == 1)
        try succeed(try fixture.submit("s2", .declineTransfer, ReceivablePieceRef(piece: root, reason: "not ours")))
        let piece = try fixture.piece(root)
        #expect(piece.holder == "s1" && piece.status == .active && piece.offer == nil)
        #expect(try fixture.query(.holdings, ["organization": "s2"])["incoming"]?.arrayValue?.isEmpty == true)
    }

    @Test func withdrawOffer_returnsPieceToActive() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        try succeed(try fixture.submit("s1", .withdrawOffer, ReceivablePieceRef(piece: root)))
        #expect(try fixture.piece(root).status == .active)
        expectRejected(try fixture.submit("s2", .acceptTransfer, ReceivablePieceRef(piece: root)), "no_offer")
    }

    @Test func transfer_ofUnknownPiece_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let wrong = ReceivablePieceID(voucherID: "V1", first: 2, last: 1_000)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: wrong, amount: 10, recipient: "s2")), "unknown_piece")
        _ = root
    }

    @Test func transfer_byNonHolder_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s2", .offerTransfer, ReceivableTransfer(piece: root, amount: 100, recipient: "s3")), "not_holder")
    }

    @Test func transfer_byPreviousHolderAfterTransfer_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try fixture.transfer(root, amount: 1_000, from: "s1", to: "s2")
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s3")), "not_holder")
    }

    @Test func transfer_ofSplitParent_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try fixture.transfer(root, amount: 500, from: "s1", to: "s2")
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 100, recipient: "s3")), "piece_not_active")
    }

    @Test func conflictingTransfersInOneBlock_onlyFirstApplies() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let receipts = try fixture.chain.commit([
            fixture.transaction("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")),
            fixture.transaction("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s3"), key: 1),
            fixture.transaction("s1", .offerFinancing, ReceivableFinanceOffer(piece: root, amount: 500, bank: "bankA", discountRateBps: 300,
                                                                                recourse: .withRecourse)),
        ])
        try succeed(receipts[0])
        expectRejected(receipts[1], "piece_not_active")
        expectRejected(receipts[2], "piece_not_active")
        #expect(try fixture.piece(root).offer?.counterparty == "s2")
    }

    @Test func transfer_ofFrozenPiece_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "court order 7")))
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivablePieceRef(piece: root).transfer(100, to: "s2")), "piece_frozen")
    }

    @Test func transfer_ofNonTransferableVoucher_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000, transferable: false)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 100, recipient: "s2")), "not_transferable")
    }

    @Test func transfer_onOrAfterDueDate_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000, months: 1)
        fixture.advance(to: try fixture.voucher("V1").dueDate)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 100, recipient: "s2")), "voucher_due")
    }

    @Test(arguments: [UInt64(0), 1_001])
    func transfer_ofAmountOutsidePiece_isRejected(_ amount: UInt64) throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: amount, recipient: "s2")), "bad_amount")
    }

    @Test(arguments: [UInt64(99), 901])
    func transfer_leavingLessThanMinimumSplit_isRejected(_ amount: UInt64) throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: amount, recipient: "s2")), "split_below_minimum")
    }

    @Test func transfer_beyondPieceRecordLimit_isRejected() throws {
        let fixture = try ReceivablesFixture(parameters: .object(["pieceRecordsPerVoucherMax": .integer(3)]))
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        let moved = try fixture.transfer(root, amount: 500, from: "s1", to: "s2")
        expectRejected(try fixture.submit("s2", .offerTransfer, ReceivableTransfer(piece: moved, amount: 200, recipient: "s3")), "too_many_pieces")
        try succeed(try fixture.submit("s2", .offerTransfer, ReceivableTransfer(piece: moved, amount: 500, recipient: "s3")))
    }

    @Test(arguments: ["s1", "core", "bankA"])
    func transfer_toHolderIssuerOrBank_isRejected(_ recipient: String) throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 100, recipient: recipient)), "bad_recipient")
    }

    @Test func transfer_toUnknownOrganization_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 100, recipient: "ghost")), "unknown_organization")
    }

    @Test func acceptTransfer_byOtherThanRecipient_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        expectRejected(try fixture.submit("s3", .acceptTransfer, ReceivablePieceRef(piece: root)), "not_recipient")
        expectRejected(try fixture.submit("s3", .declineTransfer, ReceivablePieceRef(piece: root)), "not_recipient")
    }

    @Test func acceptTransfer_ofFrozenOffer_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        try succeed(try fixture.submit("reg", .freeze, ReceivablePieceRef(piece: root, reason: "court order 8")))
        expectRejected(try fixture.submit("s2", .acceptTransfer, ReceivablePieceRef(piece: root)), "piece_frozen")
    }

    @Test func acceptTransfer_afterDueDate_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000, months: 1)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        fixture.advance(to: try fixture.voucher("V1").dueDate)
        expectRejected(try fixture.submit("s2", .acceptTransfer, ReceivablePieceRef(piece: root)), "voucher_due")
    }

    @Test func withdrawOffer_withoutOffer_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        expectRejected(try fixture.submit("s1", .withdrawOffer, ReceivablePieceRef(piece: root)), "no_offer")
    }

    @Test func withdrawOffer_byNonHolder_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
        expectRejected(try fixture.submit("s2", .withdrawOffer, ReceivablePieceRef(piece: root)), "not_holder")
    }

    @Test func pieceHistory_whenFull_refusesFurtherSteps() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        var transactions: [Transaction] = []
        for _ in 0..<((ReceivablesLimits.pieceHistoryMax - 2) / 2) {
            transactions.append(fixture.transaction("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")))
            transactions.append(fixture.transaction("s1", .withdrawOffer, ReceivablePieceRef(piece: root)))
        }
        for receipt in try fixture.chain.commit(transactions) { try succeed(receipt) }
        expectRejected(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2")), "piece_history_full")
        fixture.advance(to: try fixture.voucher("V1").dueDate)
        try succeed(try fixture.submit("core", .settle, ReceivableSettle(voucherID: "V1")))
        #expect(try fixture.piece(root).history.count == ReceivablesLimits.pieceHistoryMax)
    }
}

extension ReceivablePieceRef {
    /// A transfer of `amount` of this piece, for terse tests.
    func transfer(_ amount: UInt64, to recipient: String) -> ReceivableTransfer {
        ReceivableTransfer(piece: piece, amount: amount, recipient: recipient)
    }
}

@Suite struct ReceivablesArgumentTests {
    @Test func pieceWithMalformedVoucherID_isBadArguments() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1", amount: 1_000)
        var encoder = CanonicalEncoder()
        encoder.write("V1/x")
        encoder.write(UInt64(1))
        encoder.write(UInt64(1_000))
        encoder.write(UInt64(0))
        let receipt = try fixture.chain.submit("s2", ReceivablesContract.call(.acceptTransfer, encodedArguments: encoder.bytes))
        expectRejected(receipt, "bad_arguments")
    }

    @Test func pieceWithInvertedRange_isBadArguments() throws {
        let fixture = try ReceivablesFixture()
        var encoder = CanonicalEncoder()
        encoder.write("V1")
        encoder.write(UInt64(10))
        encoder.write(UInt64(5))
        encoder.write(UInt64(0))
        let receipt = try fixture.chain.submit("s2", ReceivablesContract.call(.acceptTransfer, encodedArguments: encoder.bytes))
        expectRejected(receipt, "bad_arguments")
    }
}
