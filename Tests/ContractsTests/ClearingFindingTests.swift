import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

@Suite struct ClearingFindingTests {
    private func key(_ id: String = "P1", _ kind: BreakKind = .short, _ side: ClearingSide = .payer, at height: UInt64 = 1) -> FindingKey {
        FindingKey(paymentID: id, kind: kind, side: side, detectedAtHeight: height)
    }

    private func chainWithPayment() throws -> LocalConsortium {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1")))
        return chain
    }

    @Test func postFinding_isListedAsOpenBreak() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankB", .postFinding, PostFinding(key: key(), details: "no clearing record")))
        let breaks = try chain.clearingQuery(.breaks, ["open": "true"]).items
        #expect(breaks.count == 1)
        #expect(breaks.first?["kind"] == .string("short"))
        #expect(breaks.first?["postedBy"] == .string("bankB"))
        #expect(breaks.first?["participants"] == .array([.string("bankA"), .string("bankB")]))
        #expect(breaks.first?["open"] == .bool(true))
    }

    @Test func breaks_byPaymentPrefix_listOnlyThatBatchsPayments() throws {
        let chain = try ClearingFixture.chain()
        for id in ["batch7-1", "batch7-2", "batch70-1", "other-1"] {
            expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record(id)))
        }
        for id in ["batch7-1", "batch7-2", "batch70-1", "other-1"] {
            expectSuccess(try chain.clearing("cch", .postFinding, PostFinding(key: key(id), details: "no clearing record")))
        }
        expectSuccess(try chain.clearing("cch", .resolveFinding, ResolveFinding(key: key("batch7-2"), resolvedAtHeight: 5, details: "arrived")))
        let batch = try chain.clearingQuery(.breaks, ["paymentPrefix": "batch7-"]).items.map { $0["paymentId"] }
        #expect(batch == [.string("batch7-1"), .string("batch7-2")])
        let open = try chain.clearingQuery(.breaks, ["paymentPrefix": "batch7", "open": "true"]).items.map { $0["paymentId"] }
        #expect(open == [.string("batch7-1"), .string("batch70-1")])
        #expect(try chain.clearingQuery(.breaks, ["paymentPrefix": "batch7", "participant": "bankC"]).items.isEmpty)
        #expect(try chain.clearingQuery(.breaks, ["paymentPrefix": "batch7", "participant": "bankB"]).items.count == 3)
        #expect(throws: QueryError.self) { try chain.clearingQuery(.breaks, ["paymentPrefix": ""]) }
    }

    @Test func postFinding_byEnterprise_isNotPermitted() throws {
        let chain = try chainWithPayment()
        expectRejected(try chain.clearing("acme", .postFinding, PostFinding(key: key(), details: "")), "not_permitted")
    }

    @Test func postFinding_sameFindingTwice_isIgnored() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(), details: "x")))
        let again = try chain.clearing("cch", .postFinding, PostFinding(key: key(), details: "other words"))
        expectSuccess(again)
        #expect(again.events.map(\.name) == ["finding_ignored"])
        #expect(again.events.first?["reason"] == "already_posted")
        let breaks = try chain.clearingQuery(.breaks).items
        #expect(breaks.count == 1)
        #expect(breaks.first?["postedBy"] == .string("bankA"))
        #expect(breaks.first?["details"] == .string("x"))
    }

    @Test func postFinding_ignored_keepsTheRestOfTheSendersBlock() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankC", .postFinding, PostFinding(key: key(), details: "x")))
        let receipts = try chain.commit([
            chain.transaction("bankC", ClearingContract.call(.postFinding, PostFinding(key: key(), details: "x"))),
            chain.transaction("bankC", ClearingContract.call(.postFinding, PostFinding(key: key("P1", .short, .payee), details: "y"))),
        ])
        receipts.forEach { expectSuccess($0) }
        #expect(try chain.clearingQuery(.breaks).items.count == 2)
    }

    @Test func postFinding_sameBreakAtAnotherHeightWhileOpen_isIgnored() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: 1), details: "x")))
        let again = try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: 2), details: "x"))
        #expect(again.events.first?["reason"] == "open_finding_exists")
        #expect(try chain.clearingQuery(.breaks).items.count == 1)
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key("P1", .short, .payee, at: 2), details: "x")))
    }

    @Test func postFinding_forUnknownPayment_isRejected() throws {
        let chain = try chainWithPayment()
        expectRejected(try chain.clearing("bankA", .postFinding, PostFinding(key: key("P9"), details: "")), "unknown_payment")
    }

    @Test func postFinding_detectedAtOrAboveItsOwnBlock_isRejected() throws {
        let chain = try chainWithPayment()
        let next = chain.ledger.head.height + 1
        expectRejected(try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: next), details: "")), "bad_height")
    }

    @Test func postFinding_byOrganizationOutsideReconcilers_isRejected() throws {
        let chain = try ClearingFixture.chain(.object(["reconcilers": .array([.string("cch")])]))
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1")))
        expectRejected(try chain.clearing("bankA", .postFinding, PostFinding(key: key(), details: "")), "not_a_reconciler")
        expectSuccess(try chain.clearing("cch", .postFinding, PostFinding(key: key(), details: "")))
        expectRejected(try chain.clearing("bankA", .resolveFinding, ResolveFinding(key: key(), resolvedAtHeight: 2, details: "")), "not_a_reconciler")
    }

    @Test func resolveFinding_closesTheBreakAndKeepsTheFinding() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(), details: "x")))
        expectSuccess(try chain.clearing("cch", .resolveFinding, ResolveFinding(key: key(), resolvedAtHeight: 2, details: "clearing record arrived")))
        #expect(try chain.clearingQuery(.breaks, ["open": "true"]).items.isEmpty)
        let all = try chain.clearingQuery(.breaks).items
        #expect(all.count == 1)
        #expect(all.first?["open"] == .bool(false))
        #expect(all.first?["resolution"]?["resolvedAtHeight"] == .integer(2))
        #expect(all.first?["resolution"]?["postedBy"] == .string("cch"))
    }

    @Test func resolveFinding_twice_isIgnored() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(), details: "x")))
        expectSuccess(try chain.clearing("bankA", .resolveFinding, ResolveFinding(key: key(), resolvedAtHeight: 2, details: "first")))
        let again = try chain.clearing("bankB", .resolveFinding, ResolveFinding(key: key(), resolvedAtHeight: 3, details: "second"))
        expectSuccess(again)
        #expect(again.events.first?.name == "resolution_ignored")
        let resolution = try chain.clearingQuery(.breaks).items.first?["resolution"]
        #expect(resolution?["details"] == .string("first"))
        #expect(resolution?["resolvedAtHeight"] == .integer(2))
    }

    @Test func resolveFinding_unknown_isRejected() throws {
        let chain = try chainWithPayment()
        expectRejected(try chain.clearing("bankA", .resolveFinding, ResolveFinding(key: key(), resolvedAtHeight: 2, details: "")), "finding_not_found")
    }

    @Test func resolveFinding_heightOutsideRange_isRejected() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: 1), details: "x")))
        let next = chain.ledger.head.height + 1
        expectRejected(try chain.clearing("bankA", .resolveFinding, ResolveFinding(key: key(at: 1), resolvedAtHeight: next, details: "")), "bad_height")
        expectRejected(try chain.clearing("bankA", .resolveFinding, ResolveFinding(key: key(at: 1), resolvedAtHeight: 0, details: "")), "bad_height")
    }

    @Test func resolvedBreak_canBeFoundAgainAtALaterHeight() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: 1), details: "x")))
        expectSuccess(try chain.clearing("bankA", .resolveFinding, ResolveFinding(key: key(at: 1), resolvedAtHeight: 2, details: "")))
        #expect(try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: 1), details: "x")).events.first?.name == "finding_ignored")
        #expect(try chain.clearing("bankA", .postFinding, PostFinding(key: key(at: 3), details: "again")).events.first?.name == "finding_posted")
        #expect(try chain.clearingQuery(.breaks, ["open": "true"]).items.count == 1)
        #expect(try chain.clearingQuery(.breaks).items.count == 2)
    }

    @Test func breaksQuery_filtersByParticipant() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", payer: "bankA", payee: "bankB")))
        expectSuccess(try chain.clearing("bankC", .post, ClearingFixture.record("P2", payer: "bankC", payee: "bankB")))
        expectSuccess(try chain.clearing("cch", .postFinding, PostFinding(key: key("P1"), details: "")))
        expectSuccess(try chain.clearing("cch", .postFinding, PostFinding(key: key("P2"), details: "")))
        let forA = try chain.clearingQuery(.breaks, ["participant": "bankA"]).items.compactMap { $0["paymentId"]?.stringValue }
        let forB = try chain.clearingQuery(.breaks, ["participant": "bankB"]).items.compactMap { $0["paymentId"]?.stringValue }
        let forC = try chain.clearingQuery(.breaks, ["participant": "bankC", "open": "true"]).items.compactMap { $0["paymentId"]?.stringValue }
        #expect(forA == ["P1"])
        #expect(forB == ["P1", "P2"])
        #expect(forC == ["P2"])
        #expect(try chain.clearingQuery(.breaks, ["limit": "1"]).items.count == 1)
    }

    @Test func breaksQuery_badParameters_areRefused() throws {
        let chain = try ClearingFixture.chain()
        #expect(throws: QueryError.self) { try chain.clearingQuery(.breaks, ["open": "yes"]) }
        #expect(throws: QueryError.self) { try chain.clearingQuery(.breaks, ["limit": "0"]) }
        #expect(throws: QueryError.self) { try chain.clearingQuery(.breaks, ["limit": "100001"]) }
    }

    @Test func paymentQuery_listsFindingsOfThePayment() throws {
        let chain = try chainWithPayment()
        expectSuccess(try chain.clearing("bankA", .postFinding, PostFinding(key: key(), details: "x")))
        let findings = try chain.clearingQuery(.payment, ["id": "P1"])["findings"]?.items ?? []
        #expect(findings.count == 1)
    }
}
