import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

@Suite struct ClearingRecordTests {
    private func sides(_ chain: LocalConsortium, _ id: String) throws -> [JSONValue] {
        try chain.clearingQuery(.payment, ["id": id])["sides"]?.items ?? []
    }

    @Test func post_byPayerBank_storesPayerSide() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1")))
        let stored = try sides(chain, "P1")
        #expect(stored.count == 1)
        #expect(stored.first?["side"] == .string("payer"))
        #expect(stored.first?["postedBy"] == .string("bankA"))
        #expect(stored.first?["versions"]?.items.count == 1)
    }

    @Test func post_byPayeeBank_storesPayeeSide() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankB", .post, ClearingFixture.record("P1", status: .received)))
        #expect(try sides(chain, "P1").first?["side"] == .string("payee"))
    }

    @Test func post_byClearingHouse_storesClearingSide() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P1", status: .sent)))
        #expect(try sides(chain, "P1").first?["side"] == .string("clearing"))
    }

    @Test func post_threeSides_allKeptSeparately() throws {
        let chain = try ClearingFixture.chain()
        try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1"))
        let receipts = try chain.commit([
            chain.transaction("bankA", ClearingContract.call(.post, ClearingFixture.record("P1"))),
            chain.transaction("bankB", ClearingContract.call(.post, ClearingFixture.record("P1", status: .received))),
            chain.transaction("cch", ClearingContract.call(.post, ClearingFixture.record("P1", status: .settled))),
        ])
        receipts.forEach { expectSuccess($0) }
        #expect(try sides(chain, "P1").compactMap { $0["side"]?.stringValue } == ["payer", "payee", "clearing"])
    }

    @Test func post_byBankThatIsNoParty_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankC", .post, ClearingFixture.record("P1")), "not_a_party")
    }

    @Test func post_byEnterprise_isNotPermitted() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("acme", .post, ClearingFixture.record("P1")), "not_permitted")
    }

    @Test func post_sameSideTwice_isRejectedAndFirstRecordKept() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", amount: 100)))
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P1", amount: 200)), "side_already_posted")
        #expect(try sides(chain, "P1").first?["amountMinor"] == .integer(100))
    }

    @Test func post_institutionsDifferingFromAnotherSide_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", payee: "bankB")))
        expectRejected(try chain.clearing("bankC", .post, ClearingFixture.record("P1", payee: "bankC", status: .received)), "institutions_differ")
    }

    @Test func post_samePayerAndPayeeInstitution_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P1", payee: "bankA")), "same_institution")
    }

    @Test func post_institutionThatIsNotABank_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P1", payee: "acme")), "unknown_institution")
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P2", payee: "nobody")), "unknown_institution")
    }

    @Test func post_zeroOrExcessiveAmount_isRejected() throws {
        let chain = try ClearingFixture.chain(.object(["amountMinorMax": .integer(1000)]))
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P1", amount: 0)), "bad_amount")
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P2", amount: 1001)), "bad_amount")
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P3", amount: 1000)))
    }

    @Test func post_currencyNotThreeUpperCaseLetters_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P1", currency: "cny")), "bad_currency")
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P2", currency: "C1Y")), "bad_currency")
    }

    @Test func post_currencyLongerThanThreeBytes_isBadArguments() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("P1", currency: "CNYX")), "bad_arguments")
    }

    @Test func post_emptyIdAccountOrChannel_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .post, ClearingFixture.record("")), "bad_payment_id")
        var noAccount = ClearingFixture.record("P1")
        noAccount.payee.account = ""
        expectRejected(try chain.clearing("bankA", .post, noAccount), "bad_account")
        var noChannel = ClearingFixture.record("P2")
        noChannel.channel = ""
        expectRejected(try chain.clearing("bankA", .post, noChannel), "bad_channel")
    }

    @Test func post_truncatedArguments_isBadArguments() throws {
        let chain = try ClearingFixture.chain()
        let bytes = Array(ClearingFixture.record("P1").canonicalBytes.dropLast())
        let receipt = try chain.submit("bankA", ClearingContract.call(.post, encodedArguments: bytes))
        expectRejected(receipt, "bad_arguments")
    }

    @Test func post_paymentIDWithSlash_isKeptApartFromItsPrefix() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("A", amount: 1)))
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("A/payer", amount: 2)))
        #expect(try sides(chain, "A").count == 1)
        #expect(try sides(chain, "A").first?["amountMinor"] == .integer(1))
    }

    @Test func unknownOperation_isRejected() throws {
        let chain = try ClearingFixture.chain()
        let receipt = try chain.submit("bankA", ContractCall(contract: ClearingContract.name, operation: "erase", arguments: []))
        expectRejected(receipt, "unknown_operation")
    }

    @Test func update_keepsEveryVersion() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", status: .sent)))
        expectSuccess(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .timedOut)))
        expectSuccess(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .settled)))
        let side = try #require(try sides(chain, "P1").first)
        #expect(side["status"] == .string("settled"))
        #expect(side["version"] == .integer(3))
        #expect(side["versions"]?.items.compactMap { $0["status"]?.stringValue } == ["sent", "timed_out", "settled"])
    }

    @Test func update_byOrganizationThatDidNotPostTheSide_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1")))
        expectRejected(try chain.clearing("bankB", .update, ClearingFixture.update("P1", .received)), "not_your_record")
        expectRejected(try chain.clearing("cch", .update, ClearingFixture.update("P1", .settled)), "not_your_record")
    }

    @Test func update_ofUnknownPayment_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .update, ClearingFixture.update("P9", .settled)), "unknown_payment")
    }

    @Test func update_toSameStatus_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", status: .sent)))
        expectRejected(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .sent)), "bad_transition")
    }

    @Test func update_afterFinalStatus_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", status: .rejected)))
        expectRejected(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .sent)), "bad_transition")
    }

    @Test func update_settledToAnythingButReturned_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", status: .settled)))
        expectRejected(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .timedOut)), "bad_transition")
        expectSuccess(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .returned)))
    }

    @Test func update_withCorrection_changesAmountAndKeepsOldVersion() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankB", .post, ClearingFixture.record("P1", amount: 999, status: .received)))
        expectSuccess(try chain.clearing("bankB", .update, ClearingFixture.update("P1", .settled, amount: 1000, currency: "USD")))
        let side = try #require(try sides(chain, "P1").first)
        #expect(side["amountMinor"] == .integer(1000))
        #expect(side["currency"] == .string("USD"))
        #expect(side["versions"]?.items.compactMap { $0["amountMinor"]?.integerValue } == [999, 1000])
    }

    @Test func update_withBadCorrection_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankB", .post, ClearingFixture.record("P1", status: .received)))
        expectRejected(try chain.clearing("bankB", .update, ClearingFixture.update("P1", .settled, amount: 0)), "bad_amount")
        expectRejected(try chain.clearing("bankB", .update, ClearingFixture.update("P1", .settled, currency: "usd")), "bad_currency")
    }

    @Test func update_beyondVersionLimit_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", status: .sent)))
        var transactions: [Transaction] = []
        for index in 1..<ClearingLimits.versionsPerSideMax {
            transactions.append(chain.transaction("bankA", ClearingContract.call(.update, ClearingFixture.update("P1", index % 2 == 1 ? .timedOut : .sent))))
        }
        try chain.commit(transactions).forEach { expectSuccess($0) }
        expectRejected(try chain.clearing("bankA", .update, ClearingFixture.update("P1", .settled)), "too_many_versions")
    }

    @Test func update_emitsRecordEventWithFullSnapshot() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1", amount: 77)))
        let receipt = try chain.clearing("bankA", .update, ClearingFixture.update("P1", .settled))
        let event = try #require(receipt.events.first)
        let change = try ClearingRecordChange(event: event)
        #expect(change.side == .payer && change.status == .settled && change.version == 2 && change.amountMinor == 77)
        #expect(event["change"] == "updated")
    }

    @Test func paymentQuery_unknownPayment_isNotFound() throws {
        let chain = try ClearingFixture.chain()
        #expect(throws: QueryError.self) { try chain.clearingQuery(.payment, ["id": "nope"]) }
        #expect(throws: QueryError.missing("id")) { try chain.clearingQuery(.payment) }
    }

    @Test func unknownQuery_isRefused() throws {
        let chain = try ClearingFixture.chain()
        #expect(throws: QueryError.self) { try chain.ledger.query(contract: "clearing", "everything", parameters: [:]) }
    }
}

@Suite struct ClearingGenesisTests {
    @Test func config_absentSection_takesDefaults() throws {
        let chain = try ClearingFixture.chain()
        let config = try chain.clearingQuery(.config)
        #expect(config["amountMinorMax"] == .integer(Int64(ClearingLimits.amountMinorCeiling)))
        #expect(try ReconciliationConfiguration(configAnswer: config) == .defaults)
        #expect(config["reconcilers"] == .array([]))
    }

    @Test func config_givenParameters_areStored() throws {
        let chain = try ClearingFixture.chain(.object([
            "graceMs": .integer(1000), "inTransitThresholdMs": .integer(9000), "duplicateWindowMs": .integer(0),
            "reconcilers": .array([.string("cch"), .string("bankA")]),
        ]))
        let config = try chain.clearingQuery(.config)
        #expect(try ReconciliationConfiguration(configAnswer: config) == ReconciliationConfiguration(graceMs: 1000, inTransitThresholdMs: 9000, duplicateWindowMs: 0))
        #expect(config["reconcilers"] == .array([.string("bankA"), .string("cch")]))
    }

    @Test(arguments: [
        ("graceMs", JSONValue.integer(-1), "graceMs"),
        ("amountMinorMax", JSONValue.string("lots"), "amountMinorMax"),
        ("inTransitThresholdMs", JSONValue.integer(0), "inTransitThresholdMs"),
        ("reconcilers", JSONValue.array([.string("acme")]), "acme"),
        ("reconcilers", JSONValue.array([.string("ghost")]), "ghost"),
        ("graceSeconds", JSONValue.integer(5), "graceSeconds"),
        ("retentionMs", JSONValue.integer(1000), "retentionMs"),
        ("reconcilers", JSONValue.string("cch"), "reconcilers"),
    ])
    func genesis_badParameter_isRefusedNamingIt(field: String, value: JSONValue, named: String) throws {
        do {
            _ = try ClearingFixture.chain(.object([field: value]))
            Issue.record("genesis with \(field) = \(value) was accepted")
        } catch let error as LedgerError {
            guard case .genesis(let genesisError) = error else {
                Issue.record("unexpected ledger error \(error)")
                return
            }
            #expect(genesisError.message.contains(named), "\(genesisError.message)")
        }
    }
}
