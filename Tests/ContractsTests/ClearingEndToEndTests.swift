import Testing
@testable import Contracts
import Ledger

/// A reconciliation job in miniature, as the CLI will run it: follows the
/// committed blocks of a ledger from its cursor, feeds the engine and queues
/// the findings and resolutions to post.
struct TestJob {
    var engine: ReconciliationEngine
    var queued: [(call: ContractCall, exposedAtMs: UInt64)] = []
    var findings: [ReconciliationFinding] = []
    var resolutions: [ReconciliationResolution] = []

    init(configuration: ReconciliationConfiguration) {
        engine = ReconciliationEngine(configuration: configuration)
    }

    /// Processes every committed block above the cursor.
    mutating func catchUp(_ ledger: Ledger) throws {
        while engine.cursor < ledger.head.height {
            let height = engine.cursor + 1
            let block = try #require(try ledger.block(at: height))
            let receipts = try #require(try ledger.receipts(at: height))
            let output = try engine.process(try ClearingBlock.extract(block: block, receipts: receipts))
            for resolution in output.resolutions {
                queued.append((ClearingFixture.call(.resolveFinding, resolution.resolveArguments), resolution.exposedAtMs))
            }
            for finding in output.findings {
                queued.append((ClearingFixture.call(.postFinding, finding.postArguments), finding.exposedAtMs))
            }
            findings += output.findings
            resolutions += output.resolutions
        }
    }

    /// Signed transactions for the queued calls, emptying the queue, with
    /// the time of the block that exposed each.
    mutating func drain(_ chain: LocalConsortium, as member: String, keyIndex: Int) -> (transactions: [Transaction], exposedAtMs: [UInt64]) {
        defer { queued = [] }
        return (queued.map { chain.transaction(member, keyIndex: keyIndex, $0.call) }, queued.map(\.exposedAtMs))
    }
}

private func label(_ key: FindingKey) -> String { "\(key.paymentID) \(key.kind.rawValue) \(key.side.rawValue)" }

@Suite struct ClearingEndToEndTests {
    /// The scenario of the issue: a bank records a payment the clearing house
    /// has not; once the grace period passes the job posts a short break;
    /// the clearing record arrives later and the job posts the resolution.
    @Test func shortBreak_isFoundPostedAndThenCleared() throws {
        let configuration = ReconciliationConfiguration(graceMs: 3000, inTransitThresholdMs: 60_000, duplicateWindowMs: 600_000)
        let chain = try ClearingFixture.chain(.object(["graceMs": .integer(3000), "inTransitThresholdMs": .integer(60_000)]))
        #expect(try ReconciliationConfiguration(configAnswer: chain.clearingQuery(.config)) == configuration)
        var job = TestJob(configuration: configuration)
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        try chain.commit([
            chain.transaction("bankA", ClearingFixture.call(.post, ClearingFixture.record("P1"))),
            chain.transaction("bankB", ClearingFixture.call(.post, ClearingFixture.record("P1", status: .received))),
            chain.transaction("cch", ClearingFixture.call(.post, ClearingFixture.record("P1", status: .settled))),
            chain.transaction("bankA", ClearingFixture.call(.post, ClearingFixture.record("P2", amount: 4200))),
        ]).forEach { expectSuccess($0) }
        try job.catchUp(chain.ledger)
        #expect(job.findings.isEmpty)

        chain.advanceClock(byMs: 3000)
        try chain.commit([])
        try job.catchUp(chain.ledger)
        #expect(job.findings.map { label($0.key) } == ["P2 short payer"])
        try chain.commit(job.drain(chain, as: "bankC", keyIndex: 1).transactions).forEach { expectSuccess($0) }
        let open = try chain.clearingQuery(.breaks, ["open": "true", "participant": "bankA"]).arrayValue
        #expect(open.compactMap { $0["paymentId"]?.stringValue } == ["P2"])
        #expect(open.first?["postedBy"] == .string("bankC"))

        expectSuccess(try chain.clearing("cch", .post, ClearingFixture.record("P2", amount: 4200, status: .settled)))
        try job.catchUp(chain.ledger)
        #expect(job.resolutions.map { label($0.key) } == ["P2 short payer"])
        try chain.commit(job.drain(chain, as: "bankC", keyIndex: 1).transactions).forEach { expectSuccess($0) }
        #expect(try chain.clearingQuery(.breaks, ["open": "true"]).arrayValue.isEmpty)
        let all = try chain.clearingQuery(.breaks).arrayValue
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
        // Chain time runs at twice the stream's pace (LocalConsortium blocks are at least 1 s apart), so every duration doubles.
        let base = InjectedStream.configuration
        let configuration = ReconciliationConfiguration(graceMs: base.graceMs * 2, inTransitThresholdMs: base.inTransitThresholdMs * 2,
                                                        duplicateWindowMs: base.duplicateWindowMs * 2)
        let chain = try ClearingFixture.chain(.object([
            "graceMs": .integer(Int64(configuration.graceMs)), "inTransitThresholdMs": .integer(Int64(configuration.inTransitThresholdMs)),
            "duplicateWindowMs": .integer(Int64(configuration.duplicateWindowMs)),
        ]))
        expectSuccess(try chain.clearing("cch", .openCycle, OpenCycle(cycleID: "C1")))
        let startMs = chain.ledger.head.timestampMs + 1000
        var job = TestJob(configuration: configuration)
        var posted: Set<String> = []
        var tally: [String: Int64] = [:]
        var delays = DetectionDelayStats()

        for block in stream.blocks {
            let (jobTransactions, exposures) = job.drain(chain, as: "cch2", keyIndex: 0)
            var transactions = jobTransactions
            var resubmits: Set<Int> = []
            for change in block.changes {
                let key = "\(change.paymentID)/\(change.side.rawValue)"
                let member = change.side == .clearing ? "cch" : change.postedBy
                if change.version == 1 && posted.contains(key) {
                    resubmits.insert(transactions.count)
                    transactions.append(chain.transaction(member, keyIndex: 1, ClearingFixture.call(.post, post(change))))
                    continue
                }
                posted.insert(key)
                let call = change.version == 1
                    ? ClearingFixture.call(.post, post(change))
                    : ClearingFixture.call(.update, UpdateRecord(paymentID: change.paymentID, status: change.status, participantTimestampMs: change.participantTimestampMs,
                                                                 correctedAmountMinor: change.amountMinor, correctedCurrency: change.currency))
                transactions.append(chain.transaction(member, call))
                if change.side == .clearing && change.status == .settled {
                    tally["\(change.payer.institution)/\(change.currency)", default: 0] -= Int64(change.amountMinor)
                    tally["\(change.payee.institution)/\(change.currency)", default: 0] += Int64(change.amountMinor)
                } else if change.side == .clearing && change.status == .returned {
                    tally["\(change.payer.institution)/\(change.currency)", default: 0] += Int64(change.amountMinor)
                    tally["\(change.payee.institution)/\(change.currency)", default: 0] -= Int64(change.amountMinor)
                }
            }
            let target = startMs + block.timeMs * 2
            try #require(target >= chain.nextBlockTimeMs)
            chain.advanceClock(byMs: target - chain.nextBlockTimeMs)
            #expect(chain.nextBlockTimeMs == target)
            let receipts = try chain.commit(transactions)
            for (index, receipt) in receipts.enumerated() {
                if resubmits.contains(index) {
                    #expect(!receipt.isSuccess, "seed \(seed): a record posted twice was accepted")
                } else {
                    #expect(receipt.isSuccess, "seed \(seed): \(String(describing: receipt.rejection))")
                }
                if index < exposures.count { delays.record(target - exposures[index]) }
            }
            try job.catchUp(chain.ledger)
        }
        try chain.commit(job.drain(chain, as: "cch2", keyIndex: 0).transactions).forEach { expectSuccess($0) }

        let breaks = try chain.clearingQuery(.breaks, ["limit": "10000"]).arrayValue
        let onLedger = Set(breaks.compactMap { entry -> String? in
            guard let id = entry["paymentId"]?.stringValue, let kind = entry["kind"]?.stringValue, let side = entry["side"]?.stringValue else { return nil }
            return "\(id) \(kind) \(side)"
        })
        #expect(breaks.count == onLedger.count, "seed \(seed): a break was posted twice")
        #expect(onLedger == stream.expectedFindings, "seed \(seed): missed \(stream.expectedFindings.subtracting(onLedger).sorted()), unexpected \(onLedger.subtracting(stream.expectedFindings).sorted())")
        let open = Set(try chain.clearingQuery(.breaks, ["open": "true", "limit": "10000"]).arrayValue.compactMap { entry -> String? in
            guard let id = entry["paymentId"]?.stringValue, let kind = entry["kind"]?.stringValue, let side = entry["side"]?.stringValue else { return nil }
            return "\(id) \(kind) \(side)"
        })
        #expect(open == stream.expectedFindings.subtracting(stream.expectedResolutions), "seed \(seed)")
        #expect(delays.count > 0 && (delays.percentile(99) ?? .max) <= 3000, "seed \(seed): findings were posted more than a block late")

        var positions: [String: Int64] = [:]
        for entry in try chain.clearingQuery(.position, ["cycle": "C1"])["positions"]?.arrayValue ?? [] {
            guard let institution = entry["institution"]?.stringValue, let currency = entry["currency"]?.stringValue,
                  let net = entry["netMinor"]?.integerValue else { continue }
            positions["\(institution)/\(currency)"] = net
        }
        #expect(positions == tally, "seed \(seed)")
        let totals = try chain.clearingQuery(.position, ["cycle": "C1"])["totals"]
        if case .object(let perCurrency) = totals {
            #expect(!perCurrency.isEmpty && perCurrency.values.allSatisfy { $0 == .integer(0) }, "seed \(seed): totals \(perCurrency)")
        }
    }

    private func post(_ change: ClearingRecordChange) -> PostRecord {
        PostRecord(paymentID: change.paymentID, payer: change.payer, payee: change.payee, amountMinor: change.amountMinor, currency: change.currency,
                   participantTimestampMs: change.participantTimestampMs, channel: change.channel, status: change.status)
    }
}
