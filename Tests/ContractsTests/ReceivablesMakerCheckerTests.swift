import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct ReceivablesMakerCheckerTests {
    /// Turns maker–checker on for `organization`.
    func enable(_ fixture: ReceivablesFixture, _ organization: String) throws {
        try succeed(try fixture.submit(organization, .configure, ReceivableSettings(makerChecker: true)))
    }

    @Test func makerChecker_withOneMemberKey_isRejected() throws {
        let fixture = try ReceivablesFixture(keysPerOrganization: 1)
        expectRejected(try fixture.submit("core", .configure, ReceivableSettings(makerChecker: true)), "too_few_keys")
    }

    @Test func issue_underMakerChecker_waitsForSecondKey() throws {
        let fixture = try ReceivablesFixture()
        try enable(fixture, "core")
        let prepared = try fixture.submit("core", .issue, fixture.issueArguments("V1"))
        try succeed(prepared)
        #expect(prepared.events.first?.name == "action_pending")
        #expect(try fixture.chain.ledger.stateValue(contract: "receivables", key: ReceivablesContract.Keys.voucher("V1")) == nil)
        let actions = try fixture.query(.actions, ["organization": "core"])
        #expect(actions["actions"]?.arrayValue?.first?["status"]?.stringValue == "pending")
        try succeed(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1))
        let voucher = try fixture.voucher("V1")
        #expect(voucher.issued.preparedBy?.transactionID == prepared.transactionID)
        #expect(voucher.issued.preparedBy?.signer == fixture.chain.member("core").keys[0].publicKey)
        #expect(voucher.issued.signer == fixture.chain.member("core").keys[1].publicKey)
        #expect(try fixture.query(.actions, ["organization": "core"])["actions"]?.arrayValue?.first?["status"]?.stringValue == "approved")
    }

    @Test func transfer_underMakerChecker_recordsBothSignersInHistory() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try enable(fixture, "s1")
        let prepared = try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2"))
        try succeed(prepared)
        #expect(try fixture.piece(root).status == .active)
        try succeed(try fixture.submit("s1", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1))
        let step = try #require(try fixture.piece(root).history.last)
        #expect(step.action == .transferOffered && step.signing.preparedBy?.transactionID == prepared.transactionID)
    }

    @Test func pendingActions_showWhatTheCheckerWouldApprove() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try enable(fixture, "s1")
        try succeed(try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 400, recipient: "s2")))
        let answer = try fixture.query(.actions, ["organization": "s1"]).decode(ReceivableActionsAnswer.self)
        let pending = answer.actions.filter { $0.status == .pending }
        #expect(pending.map(\.operation) == ["offerTransfer"])
        #expect(pending.first?.details == [.init(name: "piece", value: root.description), .init(name: "amountMinor", value: "400"),
                                          .init(name: "recipient", value: "s2")])
        let freeze = ReceivablePieceRef(piece: root, reason: "court order 17").canonicalBytes
        #expect(ReceivableActionsAnswer.Action.details(operation: "freeze", arguments: freeze).last == .init(name: "reason", value: "court order 17"))
        #expect(ReceivableActionsAnswer.Action.details(operation: "offerTransfer", arguments: [1, 2]).first?.value.hasPrefix("do not decode") == true)
    }

    @Test func approve_withMakersOwnKey_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try enable(fixture, "core")
        let prepared = try fixture.submit("core", .issue, fixture.issueArguments("V1"))
        expectRejected(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID)), "same_key")
    }

    @Test func approve_twice_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try enable(fixture, "core")
        let prepared = try fixture.submit("core", .issue, fixture.issueArguments("V1"))
        try succeed(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1))
        expectRejected(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1), "action_closed")
    }

    @Test func approve_ofUnknownAction_isRejected() throws {
        let fixture = try ReceivablesFixture()
        expectRejected(try fixture.submit("core", .approve, ReceivableActionRef(actionID: Hash.sha256([1]))), "unknown_action")
    }

    @Test func approve_byAnotherOrganization_findsNoAction() throws {
        let fixture = try ReceivablesFixture()
        try enable(fixture, "core")
        let prepared = try fixture.submit("core", .issue, fixture.issueArguments("V1"))
        expectRejected(try fixture.submit("core2", .approve, ReceivableActionRef(actionID: prepared.transactionID)), "unknown_action")
    }

    @Test func discard_closesActionWithoutEffect() throws {
        let fixture = try ReceivablesFixture()
        try enable(fixture, "core")
        let prepared = try fixture.submit("core", .issue, fixture.issueArguments("V1"))
        try succeed(try fixture.submit("core", .discard, ReceivableActionRef(actionID: prepared.transactionID, reason: "wrong amount"), key: 1))
        expectRejected(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1), "action_closed")
        #expect(try fixture.creditLine().used == 0)
        let action = try fixture.query(.actions, ["organization": "core"])["actions"]?.arrayValue?.first
        #expect(action?["status"]?.stringValue == "discarded" && action?["reason"]?.stringValue == "wrong amount")
    }

    @Test func preparingAnInvalidAction_isRejectedAtOnce() throws {
        let fixture = try ReceivablesFixture(creditLimit: 1_000)
        try enable(fixture, "core")
        expectRejected(try fixture.submit("core", .issue, fixture.issueArguments("V1", amount: 5_000)), "credit_line_exceeded")
    }

    @Test func approval_whenStateChangedSincePreparation_isRejectedAndActionStaysPending() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 1_000)
        try enable(fixture, "s1")
        let first = try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s2"))
        let second = try fixture.submit("s1", .offerTransfer, ReceivableTransfer(piece: root, amount: 1_000, recipient: "s3"))
        try succeed(try fixture.submit("s1", .approve, ReceivableActionRef(actionID: first.transactionID), key: 1))
        expectRejected(try fixture.submit("s1", .approve, ReceivableActionRef(actionID: second.transactionID), key: 1), "piece_not_active")
        let statuses = try fixture.query(.actions, ["organization": "s1"])["actions"]?.arrayValue?.compactMap { $0["status"]?.stringValue }
        #expect(statuses?.sorted() == ["approved", "pending"])
    }

    @Test func turningMakerCheckerOff_needsTheSecondKeyToo() throws {
        let fixture = try ReceivablesFixture()
        try enable(fixture, "core")
        let prepared = try fixture.submit("core", .configure, ReceivableSettings(makerChecker: false))
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        #expect(try fixture.chain.ledger.stateValue(contract: "receivables", key: ReceivablesContract.Keys.voucher("V1")) == nil)
        try succeed(try fixture.submit("core", .approve, ReceivableActionRef(actionID: prepared.transactionID), key: 1))
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V2")))
        #expect(try fixture.voucher("V2").status == .pendingAcceptance)
    }
}
