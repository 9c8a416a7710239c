import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

@Suite struct ClearingCycleTests {
    private func positions(_ chain: LocalConsortium, _ cycle: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for entry in try chain.clearingQuery(.position, ["cycle": cycle])["positions"]?.items ?? [] {
            guard let institution = entry["institution"]?.stringValue, let currency = entry["currency"]?.stringValue,
                  let net = entry["netMinor"]?.integerValue else { continue }
            result["\(institution)/\(currency)"] = net
        }
        return result
    }

    private func hash(_ chain: LocalConsortium, _ cycle: String) throws -> Hash {
        try Hash(hex: try #require(try chain.clearingQuery(.position, ["cycle": cycle])["positionsHash"]?.stringValue))
    }

    private func settle(_ chain: LocalConsortium, _ id: String, payer: String, payee: String, amount: UInt64, currency: String = "CNY") throws {
        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record(id, payer: payer, payee: payee, amount: amount, currency: currency, status: .settled)))
    }

    @Test func settlement_withoutOpenCycle_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("cch", .post, ClearingFixture.record("P1", status: .settled)), "no_open_cycle")
        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P1", status: .sent)))
        expectRejected(try chain.clearing("cch", .update, ClearingFixture.update("P1", .settled)), "no_open_cycle")
    }

    @Test func settlement_goesIntoOpenCycle_andNetsPositions() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        try settle(chain, "P2", payer: "bankB", payee: "bankC", amount: 200)
        try settle(chain, "P3", payer: "bankC", payee: "bankA", amount: 50, currency: "USD")
        #expect(try positions(chain, "C1") == ["bankA/CNY": -500, "bankB/CNY": 300, "bankC/CNY": 200, "bankA/USD": 50, "bankC/USD": -50])
        let answer = try chain.clearingQuery(.position, ["cycle": "C1"])
        #expect(answer["totals"] == .object(["CNY": .integer(0), "USD": .integer(0)]))
        let side = try chain.clearingQuery(.payment, ["id": "P1"])["sides"]?.items.first
        #expect(side?["settledInCycle"] == .string("C1"))
    }

    @Test func settlementByUpdate_goesIntoCycleOpenAtThatMoment() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P1", amount: 70, status: .sent)))
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectSuccess(try chain.clearing("cch", .update, ClearingFixture.update("P1", .settled)))
        #expect(try positions(chain, "C1") == ["bankA/CNY": -70, "bankB/CNY": 70])
    }

    @Test func returnOfSettledPayment_isReversedInTheOpenCycle() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        expectRejected(try chain.clearing("cch", .update, ClearingFixture.update("P1", .returned)), "no_open_cycle")
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C2")))
        expectSuccess(try chain.clearing("cch", .update, ClearingFixture.update("P1", .returned)))
        #expect(try positions(chain, "C1") == ["bankA/CNY": -500, "bankB/CNY": 500])
        #expect(try positions(chain, "C2") == ["bankA/CNY": 500, "bankB/CNY": -500])
        let side = try chain.clearingQuery(.payment, ["id": "P1"])["sides"]?.items.first
        #expect(side?["returnedInCycle"] == .string("C2"))
    }

    @Test func settledClearingRecord_cannotCorrectItsAmount() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectRejected(try chain.clearing("cch", .update, ClearingFixture.update("P1", .returned, amount: 400)), "settled_record_fixed")
    }

    @Test func openCycle_byBank_isNotPermitted() throws {
        let chain = try ClearingFixture.chain()
        expectRejected(try chain.clearing("bankA", .openCycle, OpenCycle(cycleID: "C1")), "not_permitted")
    }

    @Test func openCycle_existingId_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectRejected(try chain.clearing("cch2", .openCycle, OpenCycle(cycleID: "C1")), "cycle_exists")
        expectRejected(try chain.clearing("cch2", .openCycle, OpenCycle(cycleID: "")), "bad_cycle_id")
    }

    @Test func openCycle_whileAnotherIsOpen_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectRejected(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C2")), "cycle_already_open")
        expectSuccess(try chain.clearing("cch2", .openCycle, OpenCycle(cycleID: "D1")))
        #expect(try chain.clearingQuery(.openCycle, ["clearingHouse": "cch"])["cycle"] == .string("C1"))
    }

    @Test func closeCycle_byAnotherClearingHouse_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectRejected(try chain.clearing("cch2", .closeCycle, CloseCycle(cycleID: "C1")), "not_your_cycle")
        expectRejected(try chain.clearing("cch2", .closeCycle, CloseCycle(cycleID: "C9")), "unknown_cycle")
    }

    @Test func closeCycle_withoutParticipants_closesAtOnce() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        #expect(try chain.clearingQuery(.cycle, ["id": "C1"])["status"] == .string("closed"))
        expectRejected(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")), "cycle_closed")
    }

    @Test func closeCycle_freezesUntilEveryParticipantSigns() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        var cycle = try chain.clearingQuery(.cycle, ["id": "C1"])
        #expect(cycle["status"] == .string("closing"))
        #expect(cycle["awaiting"] == .array([.string("bankA"), .string("bankB")]))
        expectRejected(try chain.clearing("cch", .post, ClearingFixture.record("P2", status: .settled)), "no_open_cycle")
        let positionsHash = try hash(chain, "C1")
        expectSuccess(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C1", positionsHash: positionsHash)))
        #expect(try chain.clearingQuery(.cycle, ["id": "C1"])["status"] == .string("closing"))
        expectSuccess(try chain.clearing("bankB", .signCycle, SignCycle(cycleID: "C1", positionsHash: positionsHash)))
        cycle = try chain.clearingQuery(.cycle, ["id": "C1"])
        #expect(cycle["status"] == .string("closed"))
        #expect(cycle["unsigned"] == .array([]))
        #expect(cycle["signed"]?.items.count == 2)
    }

    @Test func closeCycle_awaitingSignaturesWithoutForce_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        expectRejected(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")), "awaiting_signatures")
    }

    @Test func closeCycle_withForce_recordsWhoHasNotSigned() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        expectSuccess(try chain.clearing("bankB", .signCycle, SignCycle(cycleID: "C1", positionsHash: try hash(chain, "C1"))))
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1", force: true)))
        let cycle = try chain.clearingQuery(.cycle, ["id": "C1"])
        #expect(cycle["status"] == .string("closed"))
        #expect(cycle["unsigned"] == .array([.string("bankA")]))
        expectRejected(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C1", positionsHash: try hash(chain, "C1"))), "cycle_closed")
    }

    @Test func closeCycle_openWithForce_freezesAndClosesAtOnce() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1", force: true)))
        let cycle = try chain.clearingQuery(.cycle, ["id": "C1"])
        #expect(cycle["status"] == .string("closed"))
        #expect(cycle["unsigned"] == .array([.string("bankA"), .string("bankB")]))
        #expect(cycle["frozenAtHeight"] == cycle["closedAtHeight"])
    }

    @Test func settlements_goIntoTheCycleOfTheRecordingClearingHouse() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectSuccess(try chain.clearing("cch2", .openCycle, OpenCycle(cycleID: "D1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectSuccess(try chain.clearing("cch2", .post, ClearingFixture.record("P2", payer: "bankB", payee: "bankC", amount: 7, status: .settled)))
        #expect(try positions(chain, "C1") == ["bankA/CNY": -500, "bankB/CNY": 500])
        #expect(try positions(chain, "D1") == ["bankB/CNY": -7, "bankC/CNY": 7])
    }

    @Test func clearingSide_postedByOneClearingHouse_isClosedToAnother() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P1", status: .sent)))
        expectRejected(try chain.clearing("cch2", .post, ClearingFixture.record("P1", status: .sent)), "side_already_posted")
        expectRejected(try chain.clearing("cch2", .update, ClearingFixture.update("P1", .rejected)), "not_your_record")
    }

    @Test func signCycle_whileOpen_isRejected() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        expectRejected(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C1", positionsHash: try hash(chain, "C1"))), "cycle_open")
    }

    @Test func signCycle_rules_refuseOutsidersWrongHashAndRepeats() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try settle(chain, "P1", payer: "bankA", payee: "bankB", amount: 500)
        try settle(chain, "P2", payer: "bankA", payee: "bankC", amount: 1)
        expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        let positionsHash = try hash(chain, "C1")
        expectRejected(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C9", positionsHash: positionsHash)), "unknown_cycle")
        expectRejected(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C1", positionsHash: .zero)), "positions_differ")
        expectSuccess(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C1", positionsHash: positionsHash)))
        expectRejected(try chain.clearing("bankA", .signCycle, SignCycle(cycleID: "C1", positionsHash: positionsHash)), "already_signed")
        expectRejected(try chain.clearing("cch", .signCycle, SignCycle(cycleID: "C1", positionsHash: positionsHash)), "not_permitted")
        let outsider = try ClearingFixture.chain()
        expectSuccess(try outsider.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        expectSuccess(try outsider.clearing("cch", .post, ClearingFixture.record("P1", payer: "bankA", payee: "bankB", status: .settled)))
        expectSuccess(try outsider.clearing("cch", .closeCycle, CloseCycle(cycleID: "C1")))
        expectRejected(try outsider.clearing("bankC", .signCycle, SignCycle(cycleID: "C1", positionsHash: try hash(outsider, "C1"))), "not_a_participant")
    }

    @Test func positionQuery_unknownCycle_isNotFound() throws {
        let chain = try ClearingFixture.chain()
        #expect(throws: QueryError.self) { try chain.clearingQuery(.position, ["cycle": "nope"]) }
        #expect(throws: QueryError.missing("cycle")) { try chain.clearingQuery(.position) }
    }

    /// Random settlements and returns over several cycles: each cycle's
    /// positions equal an independent tally and sum to zero per currency.
    @Test func randomSettlements_positionsMatchTallyAndSumToZero() throws {
        for seed in clearingSeeds(count: 3, base: 0xC1EA) {
            var random = SplitMix64(seed: seed)
            let chain = try ClearingFixture.chain()
            let banks = ["bankA", "bankB", "bankC"]
            var tally: [String: [String: Int64]] = [:]
            var settledIn: [String: (payer: String, payee: String, amount: Int64, currency: String)] = [:]
            for cycleNumber in 0..<3 {
                let cycle = "C\(cycleNumber)"
                expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: cycle)))
                var transactions: [Transaction] = []
                for index in 0..<12 {
                    let id = "S\(cycleNumber)-\(index)"
                    let payerIndex = Int(random.next() % 3)
                    let payer = banks[payerIndex]
                    let payee = banks[(payerIndex + 1 + Int(random.next() % 2)) % 3]
                    let amount = Int64(1 + random.next() % 1_000_000)
                    let currency = random.next() % 3 == 0 ? "USD" : "CNY"
                    transactions.append(chain.transaction("cch", ClearingContract.call(.post, ClearingFixture.record(
                        id, payer: payer, payee: payee, amount: UInt64(amount), currency: currency, status: .settled))))
                    tally[cycle, default: [:]]["\(payer)/\(currency)", default: 0] -= amount
                    tally[cycle, default: [:]]["\(payee)/\(currency)", default: 0] += amount
                    settledIn[id] = (payer, payee, amount, currency)
                }
                for id in settledIn.keys.sorted() where random.next() % 6 == 0 {
                    guard let payment = settledIn.removeValue(forKey: id) else { continue }
                    transactions.append(chain.transaction("cch", ClearingContract.call(.update, ClearingFixture.update(id, .returned))))
                    tally[cycle, default: [:]]["\(payment.payer)/\(payment.currency)", default: 0] += payment.amount
                    tally[cycle, default: [:]]["\(payment.payee)/\(payment.currency)", default: 0] -= payment.amount
                }
                try chain.commit(transactions).forEach { expectSuccess($0) }
                expectSuccess(try chain.clearing("cch", .closeCycle, CloseCycle(cycleID: cycle, force: true)))
            }
            for (cycle, expected) in tally {
                #expect(try positions(chain, cycle) == expected, "seed \(seed), cycle \(cycle)")
                let totals = try chain.clearingQuery(.position, ["cycle": cycle])["totals"]
                if case .object(let perCurrency) = totals {
                    #expect(perCurrency.values.allSatisfy { $0 == .integer(0) }, "seed \(seed), cycle \(cycle): totals \(perCurrency)")
                } else {
                    Issue.record("seed \(seed): no totals for cycle \(cycle)")
                }
            }
        }
    }
}
