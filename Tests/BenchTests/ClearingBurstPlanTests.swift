import Testing
@testable import Bench
@testable import Contracts
import Ledger
import LedgerCore
import ConsortTesting

private func expectSuccess(_ receipt: Receipt, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(receipt.isSuccess, "rejected: \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
}

@Suite struct ClearingBurstPlanTests {
    private func plan(count: Int = 600, breaks: Int = 30, seed: UInt64 = 7) -> ClearingBurstPlan {
        ClearingBurstPlan(batchID: "t1", count: count, breakCount: breaks, seed: seed,
                          payerBank: "bankA", payeeBank: "bankB", clearingHouse: "cch", timestampMs: 1_767_225_600_000)
    }

    @Test func plan_injectsTheAskedNumberOfBreaks_eachKindInTurn() {
        let burst = plan()
        #expect(burst.payments.count == 600)
        #expect(burst.payments.filter { $0.injected != nil }.count == 30)
        #expect(burst.injectedCounts.values.allSatisfy { $0 == 5 })
        #expect(burst.payments[0].injected == nil)
        // Two payees short for each missing clearing side, one finding for every other kind.
        #expect(burst.expected.count == 35)
        #expect(Set(burst.payments.map(\.paymentID)).count == 600)
    }

    @Test func plan_isReproducibleFromItsSeed() {
        #expect(plan(seed: 11).payments == plan(seed: 11).payments)
        #expect(plan(seed: 11).payments != plan(seed: 12).payments)
    }

    @Test func plan_neverBreaksMoreThanAllButTheFirstPayment() {
        let burst = plan(count: 4, breaks: 10)
        #expect(burst.payments.filter { $0.injected != nil }.count == 3)
        #expect(burst.payments[0].injected == nil)
        #expect(plan(count: 0, breaks: 5).payments.isEmpty)
    }

    /// The plan's expectations are what the engine finds: commit the burst in
    /// blocks, let a job follow, and compare — no more findings, no fewer, and
    /// nothing resolved.
    @Test(arguments: [3, 19])
    func engine_findsExactlyThePlannedBreaks(seed: UInt64) throws {
        let chain = try ClearingFixture.chain()
        let configuration = try ReconciliationConfiguration(configAnswer: chain.clearingQuery(.config))
        var job = InProcessReconciliationJob(configuration: configuration)
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        let burst = plan(seed: seed)
        let paymentsPerBlock = 12
        for first in stride(from: 0, to: burst.payments.count, by: paymentsPerBlock) {
            var transactions: [Transaction] = []
            for payment in burst.payments[first..<min(first + paymentsPerBlock, burst.payments.count)] {
                if let record = payment.payer { transactions.append(chain.transaction("bankA", ClearingContract.call(.post, record))) }
                if let record = payment.clearing { transactions.append(chain.transaction("cch", ClearingContract.call(.post, record))) }
                if let record = payment.payee { transactions.append(chain.transaction("bankB", ClearingContract.call(.post, record))) }
            }
            try chain.commit(transactions).forEach { expectSuccess($0) }
            try job.catchUp(chain.ledger)
        }
        chain.advanceClock(byMs: configuration.graceMs)
        try chain.commit([])
        try job.catchUp(chain.ledger)

        let found = Set(job.findings.map { ExpectedFinding(paymentID: $0.key.paymentID, kind: $0.key.kind, side: $0.key.side) })
        #expect(job.findings.count == found.count)
        #expect(found.subtracting(burst.expected).sorted() == [])
        #expect(burst.expected.subtracting(found).sorted() == [])
        #expect(job.resolutions.isEmpty)
    }
}
