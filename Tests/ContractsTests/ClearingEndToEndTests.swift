import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

private func label(_ key: FindingKey) -> String { "\(key.paymentID) \(key.kind.rawValue) \(key.side.rawValue)" }

@Suite struct ClearingEndToEndTests {
    /// A short break end to end: a bank records a payment the clearing house
    /// has not; once the grace period passes the job posts a short break;
    /// the clearing record arrives later and the job posts the resolution.
    @Test func shortBreak_isFoundPostedAndThenCleared() throws {
        let configuration = ReconciliationConfiguration(graceMs: 3000, inTransitThresholdMs: 60_000, duplicateWindowMs: 600_000)
        let chain = try ClearingFixture.chain(.object(["graceMs": .integer(3000), "inTransitThresholdMs": .integer(60_000)]))
        #expect(try ReconciliationConfiguration(configAnswer: chain.clearingQuery(.config)) == configuration)
        var job = InProcessReconciliationJob(configuration: configuration)
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try chain.commit([
            chain.transaction("bankA", ClearingContract.call(.post, ClearingFixture.record("P1"))),
            chain.transaction("bankB", ClearingContract.call(.post, ClearingFixture.record("P1", status: .received))),
            chain.transaction("cch", ClearingContract.call(.post, ClearingFixture.record("P1", status: .settled))),
            chain.transaction("bankA", ClearingContract.call(.post, ClearingFixture.record("P2", amount: 4200))),
        ]).forEach { expectSuccess($0) }
        try job.catchUp(chain.ledger)
        #expect(job.findings.isEmpty)

        chain.advanceClock(byMs: 3000)
        try chain.commit([])
        try job.catchUp(chain.ledger)
        #expect(job.findings.map { label($0.key) } == ["P2 short payer"])
        try chain.commit(job.drain(chain, as: "bankC", keyIndex: 1).transactions).forEach { expectSuccess($0) }
        let open = try chain.clearingQuery(.breaks, ["open": "true", "participant": "bankA"]).items
        #expect(open.compactMap { $0["paymentId"]?.stringValue } == ["P2"])
        #expect(open.first?["postedBy"] == .string("bankC"))

        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P2", amount: 4200, status: .settled)))
        try job.catchUp(chain.ledger)
        #expect(job.resolutions.map { label($0.key) } == ["P2 short payer"])
        try chain.commit(job.drain(chain, as: "bankC", keyIndex: 1).transactions).forEach { expectSuccess($0) }
        #expect(try chain.clearingQuery(.breaks, ["open": "true"]).items.isEmpty)
        let all = try chain.clearingQuery(.breaks).items
        #expect(all.count == 1)
        #expect(all.first?["resolution"]?["postedBy"] == .string("bankC"))

        try job.catchUp(chain.ledger)
        #expect(job.queued.isEmpty, "the job's own findings must not make it find more")
    }

    /// A random stream with injected breaks is posted as real transactions;
    /// the job follows the committed blocks, posts what it finds, and the
    /// ledger's breaks equal the injected ones. The cycle's positions equal
    /// a tally of the clearing side's settlements and returns and sum to zero.
    @Test func injectedStream_throughLedger_postsExactlyTheInjectedBreaks() throws {
        let seed = clearingSeeds(count: 1, base: 0xE2E0_0001)[0]
        let stream = InjectedStream(seed: seed, payments: 60)
        let run = try LedgerReplay.run(stream, seed: seed, killSeed: nil)
        let onLedger = Set(run.breaks.map { "\($0.paymentID) \($0.kind) \($0.side)" })
        #expect(run.breaks.count == onLedger.count, "seed \(seed): a break was posted twice")
        #expect(onLedger == stream.expectedFindings, "seed \(seed): missed \(stream.expectedFindings.subtracting(onLedger).sorted()), unexpected \(onLedger.subtracting(stream.expectedFindings).sorted())")
        let open = Set(run.breaks.filter { $0.resolvedAtHeight == nil }.map { "\($0.paymentID) \($0.kind) \($0.side)" })
        #expect(open == stream.expectedFindings.subtracting(stream.expectedResolutions), "seed \(seed)")
        #expect(run.delays.count > 0 && (run.delays.percentile(99) ?? .max) <= 3000, "seed \(seed): findings were posted more than a block late")

        var positions: [String: Int64] = [:]
        for entry in try run.chain.clearingQuery(.position, ["cycle": "C1"])["positions"]?.items ?? [] {
            guard let institution = entry["institution"]?.stringValue, let currency = entry["currency"]?.stringValue,
                  let net = entry["netMinor"]?.integerValue else { continue }
            positions["\(institution)/\(currency)"] = net
        }
        #expect(positions == run.tally, "seed \(seed)")
        let totals = try run.chain.clearingQuery(.position, ["cycle": "C1"])["totals"]
        guard case .object(let perCurrency) = totals else {
            Issue.record("seed \(seed): the position answer has no totals")
            return
        }
        #expect(!perCurrency.isEmpty && perCurrency.values.allSatisfy { $0 == .integer(0) }, "seed \(seed): totals \(perCurrency)")
    }

    /// The job is killed at random points while blocks keep committing:
    /// sometimes after processing blocks but before posting what it found
    /// (those outputs are lost and found again), sometimes after posting but
    /// before saving (they are posted again and ignored). The breaks on the
    /// ledger, with their heights and resolutions, equal those of a job that
    /// never stopped.
    @Test func killedJob_postsTheSameBreaksAsOneThatNeverStopped() throws {
        for seed in clearingSeeds(count: 2, base: 0xE2E0_1001) {
            let stream = InjectedStream(seed: seed, payments: 40)
            let uninterrupted = try LedgerReplay.run(stream, seed: seed, killSeed: nil)
            let killed = try LedgerReplay.run(stream, seed: seed, killSeed: seed ^ 0x4B11)
            #expect(killed.kills > 0 && killed.reposts > 0, "seed \(seed): the job was never killed after posting")
            #expect(!uninterrupted.breaks.isEmpty)
            #expect(killed.breaks == uninterrupted.breaks, "seed \(seed)")
        }
    }
}

/// Replays an ``InjectedStream`` as transactions on a local consortium, with
/// a job that follows the committed blocks and posts its findings back.
enum LedgerReplay {
    /// A break as the ledger reports it, without who posted it or when.
    struct PostedBreak: Hashable, Comparable {
        var paymentID: String
        var kind: String
        var side: String
        var detectedAtHeight: Int64
        var resolvedAtHeight: Int64?

        static func < (lhs: PostedBreak, rhs: PostedBreak) -> Bool {
            (lhs.paymentID, lhs.kind, lhs.side, lhs.detectedAtHeight) < (rhs.paymentID, rhs.kind, rhs.side, rhs.detectedAtHeight)
        }
    }

    struct Result {
        var chain: LocalConsortium
        var breaks: [PostedBreak]
        var tally: [String: Int64]
        var delays: SampleWindow
        var kills: Int
        var reposts: Int
    }

    /// Chain time runs at twice the stream's pace (LocalConsortium blocks are
    /// at least 1 s apart), so every duration of the configuration doubles.
    static func run(_ stream: InjectedStream, seed: UInt64, killSeed: UInt64?) throws -> Result {
        let base = InjectedStream.configuration
        let configuration = ReconciliationConfiguration(graceMs: base.graceMs * 2, inTransitThresholdMs: base.inTransitThresholdMs * 2,
                                                        duplicateWindowMs: base.duplicateWindowMs * 2, retentionMs: base.retentionMs * 2)
        let chain = try ClearingFixture.chain(.object([
            "graceMs": .integer(Int64(configuration.graceMs)), "inTransitThresholdMs": .integer(Int64(configuration.inTransitThresholdMs)),
            "duplicateWindowMs": .integer(Int64(configuration.duplicateWindowMs)), "retentionMs": .integer(Int64(configuration.retentionMs)),
        ]))
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        let startMs = chain.ledger.head.timestampMs + 1000
        var job = InProcessReconciliationJob(configuration: try ReconciliationConfiguration(configAnswer: chain.clearingQuery(.config)))
        var saved = job.engine.canonicalBytes
        var killer = killSeed.map { SplitMix64(seed: $0) }
        var posted: Set<String> = []
        var result = Result(chain: chain, breaks: [], tally: [:], delays: SampleWindow(capacity: 100_000), kills: 0, reposts: 0)

        for block in stream.blocks {
            let (jobTransactions, exposures) = job.drain(chain, as: "cch2", keyIndex: 0)
            var transactions = jobTransactions
            var resubmits: Set<Int> = []
            for change in block.changes {
                let key = "\(change.paymentID)/\(change.side.rawValue)"
                let member = change.side == .clearing ? "cch" : change.postedBy
                if change.version == 1 && posted.contains(key) {
                    resubmits.insert(transactions.count)
                    transactions.append(chain.transaction(member, keyIndex: 1, ClearingContract.call(.post, post(change))))
                    continue
                }
                posted.insert(key)
                let call = change.version == 1
                    ? ClearingContract.call(.post, post(change))
                    : ClearingContract.call(.update, UpdateRecord(paymentID: change.paymentID, status: change.status, participantTimestampMs: change.participantTimestampMs,
                                                                 correctedAmountMinor: change.amountMinor, correctedCurrency: change.currency))
                transactions.append(chain.transaction(member, call))
                let amount = Int64(change.amountMinor)
                if change.side == .clearing && (change.status == .settled || change.status == .returned) {
                    let sign: Int64 = change.status == .settled ? 1 : -1
                    result.tally["\(change.payer.institution)/\(change.currency)", default: 0] -= sign * amount
                    result.tally["\(change.payee.institution)/\(change.currency)", default: 0] += sign * amount
                }
            }
            let target = startMs + block.timeMs * 2
            try #require(target >= chain.nextBlockTimeMs)
            chain.advanceClock(byMs: target - chain.nextBlockTimeMs)
            let receipts = try chain.commit(transactions)
            for (index, receipt) in receipts.enumerated() {
                if resubmits.contains(index) {
                    #expect(!receipt.isSuccess, "seed \(seed): a record posted twice was accepted")
                } else {
                    #expect(receipt.isSuccess, "seed \(seed): \(String(describing: receipt.rejection))")
                }
                if index < exposures.count {
                    result.delays.record(target - exposures[index])
                    if receipt.events.contains(where: { $0.name == "finding_ignored" || $0.name == "resolution_ignored" }) { result.reposts += 1 }
                }
            }
            // Everything the engine found up to its cursor is on the ledger now: a safe moment to save.
            if killer == nil || (killer?.next() ?? 0) % 3 == 0 { saved = job.engine.canonicalBytes }
            try job.catchUp(chain.ledger)
            if var random = killer {
                if random.next() % 8 == 0 {
                    job = InProcessReconciliationJob(engine: try ReconciliationEngine(canonicalBytes: saved))
                    result.kills += 1
                }
                killer = random
            }
        }
        while true {
            try job.catchUp(chain.ledger)
            guard !job.queued.isEmpty else { break }
            try chain.commit(job.drain(chain, as: "cch2", keyIndex: 0).transactions).forEach { expectSuccess($0) }
        }

        for entry in try chain.clearingQuery(.breaks, ["limit": "10000"]).items {
            guard let id = entry["paymentId"]?.stringValue, let kind = entry["kind"]?.stringValue, let side = entry["side"]?.stringValue,
                  let detected = entry["detectedAtHeight"]?.integerValue else {
                Issue.record("seed \(seed): a break answer lacks a field: \(entry)")
                continue
            }
            result.breaks.append(PostedBreak(paymentID: id, kind: kind, side: side, detectedAtHeight: detected,
                                             resolvedAtHeight: entry["resolution"]?["resolvedAtHeight"]?.integerValue))
        }
        result.breaks.sort()
        return result
    }

    private static func post(_ change: ClearingRecordChange) -> PostRecord {
        PostRecord(paymentID: change.paymentID, payer: change.payer, payee: change.payee, amountMinor: change.amountMinor, currency: change.currency,
                   participantTimestampMs: change.participantTimestampMs, channel: change.channel, status: change.status)
    }
}

@Suite struct ClearingBlockExtractionTests {
    @Test func extract_readsRecordEventsOfSuccessfulTransactionsInOrder() throws {
        let chain = try ClearingFixture.chain()
        try chain.commit([
            chain.transaction("bankA", ClearingContract.call(.post, ClearingFixture.record("P1"))),
            chain.transaction("bankC", ClearingContract.call(.post, ClearingFixture.record("P2"))),
            chain.transaction("bankB", ClearingContract.call(.post, ClearingFixture.record("P1", status: .received))),
        ])
        let height = chain.ledger.head.height
        let block = try #require(try chain.ledger.block(at: height))
        let receipts = try #require(try chain.ledger.receipts(at: height))
        let extracted = try ClearingBlock.extract(block: block, receipts: receipts)
        #expect(extracted.height == height)
        #expect(extracted.timeMs == block.header.timestampMs)
        #expect(extracted.changes.map { "\($0.paymentID) \($0.side.rawValue)" } == ["P1 payer", "P1 payee"])
    }

    @Test func extract_receiptsNotMatchingTheBlock_isRefused() throws {
        let chain = try ClearingFixture.chain()
        expectSuccess(try chain.clearing("bankA", .post, ClearingFixture.record("P1")))
        let block = try #require(try chain.ledger.block(at: chain.ledger.head.height))
        #expect(throws: ReconciliationError.receiptsMismatch(height: block.height, transactions: 1, receipts: 0)) {
            try ClearingBlock.extract(block: block, receipts: [])
        }
    }

    @Test func extract_malformedRecordEvent_isRefused() throws {
        let chain = try ClearingFixture.chain()
        let receipt = try chain.clearing("bankA", .post, ClearingFixture.record("P1"))
        let block = try #require(try chain.ledger.block(at: chain.ledger.head.height))
        var damaged = receipt
        damaged.events[0].attributes.removeAll { $0.key == "amountMinor" }
        #expect(throws: ReconciliationError.self) { try ClearingBlock.extract(block: block, receipts: [damaged]) }
        damaged = receipt
        damaged.events[0].attributes = damaged.events[0].attributes.map { $0.key == "status" ? EventAttribute("status", "lost") : $0 }
        #expect(throws: ReconciliationError.self) { try ClearingBlock.extract(block: block, receipts: [damaged]) }
        damaged = receipt
        let longID = String(repeating: "x", count: ClearingLimits.paymentIDBytesMax + 1)
        damaged.events[0].attributes = damaged.events[0].attributes.map { $0.key == "payment" ? EventAttribute("payment", longID) : $0 }
        #expect(throws: ReconciliationError.self) { try ClearingBlock.extract(block: block, receipts: [damaged]) }
        #expect(try ClearingBlock.extract(block: block, receipts: [receipt]).changes.count == 1)
    }
}
