import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// Feeds an engine one block at a time with rising heights.
struct EngineHarness {
    var engine: ReconciliationEngine
    var height: UInt64 = 0

    init(graceMs: UInt64 = 5000, inTransitThresholdMs: UInt64 = 60_000, duplicateWindowMs: UInt64 = 600_000,
         retentionMs: UInt64 = ReconciliationConfiguration.retentionMsDefault) {
        engine = ReconciliationEngine(configuration: ReconciliationConfiguration(
            graceMs: graceMs, inTransitThresholdMs: inTransitThresholdMs, duplicateWindowMs: duplicateWindowMs, retentionMs: retentionMs))
    }

    @discardableResult
    mutating func block(at timeMs: UInt64, _ changes: [ClearingRecordChange] = []) throws -> ReconciliationOutput {
        height += 1
        return try engine.process(ClearingBlock(height: height, timeMs: timeMs, changes: changes))
    }
}

func change(_ id: String, _ side: ClearingSide, _ status: PaymentStatus, amount: UInt64 = 1000, currency: String = "CNY",
            version: UInt32 = 1, account: String? = nil, timestampMs: UInt64 = 0) -> ClearingRecordChange {
    let poster = side == .payer ? "bankA" : side == .payee ? "bankB" : "cch"
    return ClearingRecordChange(
        paymentID: id, side: side, postedBy: poster, payer: AccountRef(institution: "bankA", account: account ?? "A-\(id)"),
        payee: AccountRef(institution: "bankB", account: account.map { "\($0)-B" } ?? "B-\(id)"), amountMinor: amount, currency: currency,
        participantTimestampMs: timestampMs, channel: "IBPS", status: status, version: version)
}

private func kinds(_ output: ReconciliationOutput) -> [String] {
    output.findings.map { "\($0.key.paymentID) \($0.key.kind.rawValue) \($0.key.side.rawValue)" }
}

private func resolved(_ output: ReconciliationOutput) -> [String] {
    output.resolutions.map { "\($0.key.paymentID) \($0.key.kind.rawValue) \($0.key.side.rawValue)" }
}

@Suite struct ReconciliationEngineTests {
    @Test func matchingSides_produceNoBreaks() throws {
        var harness = EngineHarness()
        #expect(try harness.block(at: 1000, [change("P1", .payer, .sent), change("P1", .clearing, .settled)]).isEmpty)
        #expect(try harness.block(at: 2000, [change("P1", .payee, .received)]).isEmpty)
        #expect(try harness.block(at: 100_000).isEmpty)
        #expect(harness.engine.openBreaks.isEmpty)
    }

    @Test func short_isReportedOnlyOnceGraceHasPassed() throws {
        var harness = EngineHarness(graceMs: 5000)
        #expect(try harness.block(at: 1000, [change("P1", .payer, .sent)]).isEmpty)
        #expect(try harness.block(at: 5999).isEmpty)
        let output = try harness.block(at: 6000)
        #expect(kinds(output) == ["P1 short payer"])
        #expect(output.findings.first?.key.detectedAtHeight == 3)
        #expect(output.findings.first?.dueAtMs == 6000)
        #expect(output.findings.first?.exposedAtMs == 6000)
    }

    @Test func short_isResolvedWhenTheClearingRecordArrives() throws {
        var harness = EngineHarness(graceMs: 5000)
        try harness.block(at: 1000, [change("P1", .payer, .sent)])
        #expect(kinds(try harness.block(at: 7000)) == ["P1 short payer"])
        let output = try harness.block(at: 8000, [change("P1", .clearing, .settled)])
        #expect(resolved(output) == ["P1 short payer"])
        #expect(output.resolutions.first?.key.detectedAtHeight == 2)
        #expect(output.resolutions.first?.resolvedAtHeight == 3)
    }

    @Test func failedBankRecordWithoutClearing_isNoBreak() throws {
        var harness = EngineHarness(graceMs: 5000)
        try harness.block(at: 1000, [change("P1", .payer, .rejected)])
        #expect(try harness.block(at: 100_000).isEmpty)
    }

    @Test func long_isReportedAfterGraceForEachMissingBankSide() throws {
        var harness = EngineHarness(graceMs: 5000)
        #expect(try harness.block(at: 1000, [change("P1", .clearing, .settled)]).isEmpty)
        #expect(kinds(try harness.block(at: 6000)) == ["P1 long payer", "P1 long payee"])
        #expect(resolved(try harness.block(at: 7000, [change("P1", .payee, .received)])) == ["P1 long payee"])
    }

    @Test func clearingNotSettled_withMissingBankSide_isNotLong() throws {
        var harness = EngineHarness(graceMs: 5000, inTransitThresholdMs: 1_000_000)
        try harness.block(at: 1000, [change("P1", .clearing, .sent)])
        #expect(try harness.block(at: 100_000).isEmpty)
    }

    @Test func amountMismatch_isReportedAtOnce_andResolvedByCorrection() throws {
        var harness = EngineHarness()
        let output = try harness.block(at: 1000, [change("P1", .clearing, .settled, amount: 1000), change("P1", .payee, .received, amount: 900)])
        #expect(kinds(output) == ["P1 amount_mismatch payee"])
        #expect(output.findings.first?.details.contains("payee amount 900, clearing 1000") == true)
        let fixed = try harness.block(at: 2000, [change("P1", .payee, .settled, amount: 1000, version: 2)])
        #expect(resolved(fixed) == ["P1 amount_mismatch payee"])
    }

    @Test func currencyMismatch_isReportedInsteadOfAmountMismatch() throws {
        var harness = EngineHarness()
        let output = try harness.block(at: 1000, [change("P1", .clearing, .settled, amount: 1000), change("P1", .payer, .sent, amount: 5, currency: "USD")])
        #expect(kinds(output) == ["P1 currency_mismatch payer"])
    }

    @Test func statusMismatch_isReportedAfterGraceFromTheLaterStatus() throws {
        var harness = EngineHarness(graceMs: 5000)
        try harness.block(at: 1000, [change("P1", .clearing, .settled), change("P1", .payee, .received), change("P1", .payer, .sent)])
        #expect(try harness.block(at: 10_000, [change("P1", .clearing, .returned, version: 2)]).isEmpty)
        #expect(try harness.block(at: 12_000, [change("P1", .payer, .returned, version: 2)]).isEmpty)
        #expect(kinds(try harness.block(at: 15_000)) == ["P1 status_mismatch payee"])
        #expect(resolved(try harness.block(at: 20_000, [change("P1", .payee, .returned, version: 2)])) == ["P1 status_mismatch payee"])
    }

    @Test func inTransit_isReportedAfterThreshold_andResolvedBySettlement() throws {
        var harness = EngineHarness(graceMs: 5000, inTransitThresholdMs: 60_000)
        try harness.block(at: 1000, [change("P1", .payer, .sent), change("P1", .clearing, .sent), change("P1", .payee, .received)])
        #expect(try harness.block(at: 60_999).isEmpty)
        #expect(kinds(try harness.block(at: 61_000)) == ["P1 in_transit clearing"])
        #expect(resolved(try harness.block(at: 62_000, [change("P1", .clearing, .settled, version: 2)])) == ["P1 in_transit clearing"])
    }

    @Test func duplicate_isReportedOnTheLaterPaymentOnly_andClearedWhenItFails() throws {
        var harness = EngineHarness(graceMs: 5000)
        try harness.block(at: 1000, [change("P1", .payer, .sent, account: "same", timestampMs: 100)])
        let output = try harness.block(at: 2000, [change("P2", .payer, .sent, amount: 1000, account: "same", timestampMs: 200)])
        #expect(kinds(output) == ["P2 duplicate payer"])
        #expect(kinds(try harness.block(at: 20_000)) == ["P1 short payer"])
        #expect(resolved(try harness.block(at: 21_000, [change("P2", .payer, .rejected, version: 2, account: "same")])) == ["P2 duplicate payer"])
    }

    @Test func paymentSentAgainAfterTheFirstFailed_isNoDuplicate() throws {
        var harness = EngineHarness(graceMs: 5000)
        try harness.block(at: 1000, [change("P1", .payer, .sent, account: "same")])
        try harness.block(at: 2000, [change("P1", .payer, .rejected, version: 2, account: "same")])
        #expect(try harness.block(at: 3000, [change("P2", .payer, .sent, account: "same"), change("P2", .clearing, .settled, account: "same"),
                                             change("P2", .payee, .received, account: "same")]).isEmpty)
        #expect(try harness.block(at: 100_000).isEmpty)
    }

    @Test func longDetails_areClippedToTheContractLimit() {
        let long = String(repeating: "长", count: 2000)
        let clipped = ReconciliationEngine.clipped(long)
        #expect(clipped.utf8.count <= ClearingLimits.detailsBytesMax)
        #expect(clipped.utf8.count > ClearingLimits.detailsBytesMax - 3)
        #expect(ReconciliationEngine.clipped("short") == "short")
    }

    @Test func sameContentOutsideDuplicateWindow_isNoDuplicate() throws {
        var harness = EngineHarness(duplicateWindowMs: 1000)
        try harness.block(at: 1000, [change("P1", .clearing, .sent, account: "same", timestampMs: 0)])
        #expect(try harness.block(at: 2000, [change("P2", .clearing, .sent, account: "same", timestampMs: 1001)]).isEmpty)
    }

    @Test func matchedPayment_isDroppedAfterRetention_andLaterUpdatesAreIgnored() throws {
        var harness = EngineHarness(graceMs: 5000, retentionMs: 60_000)
        try harness.block(at: 1000, [change("P1", .payer, .sent), change("P1", .clearing, .settled), change("P1", .payee, .received)])
        #expect(harness.engine.trackedPayments == 1)
        try harness.block(at: 60_999)
        #expect(harness.engine.trackedPayments == 1)
        try harness.block(at: 61_000)
        #expect(harness.engine.trackedPayments == 0)
        #expect(try harness.block(at: 62_000, [change("P1", .clearing, .returned, version: 2)]).isEmpty)
        #expect(try harness.block(at: 200_000).isEmpty)
        #expect(harness.engine.trackedPayments == 0)
    }

    @Test func paymentWithOpenBreak_isKeptPastRetention() throws {
        var harness = EngineHarness(graceMs: 5000, retentionMs: 60_000)
        try harness.block(at: 1000, [change("P1", .payer, .sent)])
        #expect(kinds(try harness.block(at: 10_000)) == ["P1 short payer"])
        try harness.block(at: 500_000)
        #expect(harness.engine.trackedPayments == 1)
        #expect(resolved(try harness.block(at: 501_000, [change("P1", .clearing, .settled)])) == ["P1 short payer"])
    }

    @Test func refedBlock_isIgnoredAndLeavesStateUnchanged() throws {
        var harness = EngineHarness()
        let block = ClearingBlock(height: 1, timeMs: 1000, changes: [change("P1", .clearing, .settled), change("P1", .payer, .sent, amount: 1)])
        let first = try harness.engine.process(block)
        #expect(kinds(first) == ["P1 amount_mismatch payer"])
        let before = harness.engine.canonicalBytes
        #expect(try harness.engine.process(block).isEmpty)
        #expect(harness.engine.canonicalBytes == before)
    }

    @Test func skippedHeight_isRefusedAndLeavesStateUnchanged() throws {
        var harness = EngineHarness()
        try harness.block(at: 1000, [change("P1", .payer, .sent)])
        let before = harness.engine.canonicalBytes
        #expect(throws: ReconciliationError.gap(expected: 2, got: 3)) {
            try harness.engine.process(ClearingBlock(height: 3, timeMs: 3000, changes: [change("P2", .payer, .sent)]))
        }
        #expect(harness.engine.canonicalBytes == before)
    }

    @Test func blockTimeGoingBackwards_isRefused() throws {
        var harness = EngineHarness()
        try harness.block(at: 5000)
        #expect(throws: ReconciliationError.self) { try harness.engine.process(ClearingBlock(height: 2, timeMs: 4000, changes: [])) }
    }

    @Test func staleVersion_isIgnored() throws {
        var harness = EngineHarness()
        try harness.block(at: 1000, [change("P1", .clearing, .settled), change("P1", .payee, .received), change("P1", .payer, .sent),
                                     change("P1", .payer, .settled, version: 2)])
        #expect(try harness.block(at: 2000, [change("P1", .payer, .rejected, version: 1)]).isEmpty)
        #expect(try harness.block(at: 100_000).isEmpty)
    }

    @Test func canonicalForm_roundTripsToTheSameBytesAndBehaviour() throws {
        var harness = EngineHarness()
        try harness.block(at: 1000, [change("P1", .payer, .sent), change("P2", .clearing, .sent), change("P3", .payee, .received, amount: 3),
                                     change("P3", .clearing, .settled), change("P4", .payer, .sent, account: "x"), change("P5", .payer, .sent, account: "x")])
        let bytes = harness.engine.canonicalBytes
        var restored = try ReconciliationEngine(canonicalBytes: bytes)
        #expect(restored == harness.engine)
        #expect(restored.canonicalBytes == bytes)
        let next = ClearingBlock(height: 2, timeMs: 90_000, changes: [])
        #expect(try restored.process(next) == harness.engine.process(next))
    }

    @Test func canonicalForm_withTrailingOrTruncatedBytes_isRefused() throws {
        var harness = EngineHarness()
        try harness.block(at: 1000, [change("P1", .payer, .sent)])
        let bytes = harness.engine.canonicalBytes
        #expect(throws: CodecError.self) { try ReconciliationEngine(canonicalBytes: bytes + [0]) }
        #expect(throws: CodecError.self) { try ReconciliationEngine(canonicalBytes: Array(bytes.dropLast())) }
    }

    @Test func findingAndResolution_convertToContractArguments() throws {
        var harness = EngineHarness(graceMs: 0)
        let found = try harness.block(at: 1000, [change("P1", .payer, .sent)])
        let finding = try #require(found.findings.first)
        #expect(finding.postArguments.key == finding.key)
        let cleared = try harness.block(at: 2000, [change("P1", .clearing, .settled)])
        let resolution = try #require(cleared.resolutions.first)
        #expect(resolution.resolveArguments.key == finding.key)
        #expect(resolution.resolveArguments.resolvedAtHeight == 2)
    }

    @Test func deadlineQueue_popsEveryDueEntryInOrderAndKeepsTheRest() {
        var random = SplitMix64(seed: 42)
        var queue = DeadlineQueue()
        var all: [(UInt64, String)] = []
        for index in 0..<500 {
            let due = random.next() % 1000
            queue.push(due, "P\(index)")
            all.append((due, "P\(index)"))
        }
        let popped = queue.popDue(atOrBefore: 499)
        let expected = all.filter { $0.0 <= 499 }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        #expect(popped.map(\.dueMs) == expected.map(\.0))
        #expect(popped.map(\.id) == expected.map(\.1))
        #expect(queue.count == all.count - expected.count)
        #expect(queue.popDue(atOrBefore: 499).isEmpty)
        #expect(queue.popDue(atOrBefore: .max).count == all.count - expected.count)
    }

    @Test func outputCalls_putResolutionsBeforeFindings() throws {
        var harness = EngineHarness()
        try harness.block(at: 1000, [change("P2", .clearing, .settled), change("P2", .payee, .received), change("P2", .payer, .sent, amount: 1)])
        let output = try harness.block(at: 2000, [change("P1", .clearing, .settled), change("P1", .payee, .received), change("P1", .payer, .sent, amount: 1),
                                                  change("P2", .payer, .settled, version: 2)])
        #expect(output.calls.map(\.operation) == [ClearingContract.Operation.resolveFinding, .postFinding].map(\.rawValue))
        #expect(output.calls.allSatisfy { $0.contract == "clearing" })
        #expect(try ResolveFinding(canonicalBytes: output.calls[0].arguments).key.paymentID == "P2")
        #expect(try PostFinding(canonicalBytes: output.calls[1].arguments).key.paymentID == "P1")
    }
}
