import Contracts
import Foundation
import Ledger
import LedgerCore
import NodeClient

/// What one clearing burst does.
public struct ClearingBurstSettings: Sendable {
    /// API URLs; the payer bank, clearing house and payee bank send to them in turn, the first feeds the event stream.
    public let nodes: [String]
    public let payments: Int
    /// Share of payments given an injected break, in percent.
    public let breakPercent: Double
    /// Payments started per second; the three sides of a payment go out together.
    public let paymentsPerSecond: Int
    /// Chooses which payments break.
    public let seed: UInt64
    /// Names the batch: payment ids are `burst-<batch>-<n>`.
    public let batchID: String
    /// How long to wait for the findings after every record has committed.
    public let settleSeconds: Int
    /// A finding posted later than this after the block that exposed it fails the run.
    public let maxDelayMs: Int

    /// Checks every setting; the errors say which option is wrong and why.
    public init(nodes: [String], payments: Int, breakPercent: Double, paymentsPerSecond: Int, seed: UInt64,
                batchID: String, settleSeconds: Int, maxDelayMs: Int) throws(LoadRunError) {
        try checkNodeURLs(nodes)
        guard (1...ClearingBurstLimits.paymentsMax).contains(payments) else {
            throw .badSetting("--payments must be from 1 to \(ClearingBurstLimits.paymentsMax), got \(payments)")
        }
        guard breakPercent.isFinite, (0...ClearingBurstLimits.breakPercentMax).contains(breakPercent) else {
            throw .badSetting("--break-percent must be from 0 to \(ClearingBurstLimits.breakPercentMax), got \(breakPercent)")
        }
        guard (1...ClearingBurstLimits.paymentsPerSecondMax).contains(paymentsPerSecond) else {
            throw .badSetting("--rate must be from 1 to \(ClearingBurstLimits.paymentsPerSecondMax) payments per second, got \(paymentsPerSecond)")
        }
        guard !batchID.isEmpty, batchID.utf8.count <= ClearingBurstLimits.batchIDBytesMax,
              batchID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .badSetting("--batch must be 1 to \(ClearingBurstLimits.batchIDBytesMax) ASCII letters and digits, got '\(batchID)'")
        }
        guard (1...ClearingBurstLimits.settleSecondsMax).contains(settleSeconds) else {
            throw .badSetting("--settle must be from 1 to \(ClearingBurstLimits.settleSecondsMax) seconds, got \(settleSeconds)")
        }
        guard maxDelayMs > 0 else { throw .badSetting("--max-delay must be positive, got \(maxDelayMs)") }
        self.nodes = nodes
        self.payments = payments
        self.breakPercent = breakPercent
        self.paymentsPerSecond = paymentsPerSecond
        self.seed = seed
        self.batchID = batchID
        self.settleSeconds = settleSeconds
        self.maxDelayMs = maxDelayMs
    }

    /// Payments that get a break: the share, rounded to the nearest whole payment.
    public var breakCount: Int { Int((Double(payments) * breakPercent / 100).rounded()) }
}

/// What a clearing burst found.
public struct ClearingBurstReport: Sendable {
    public var paymentPrefix = ""
    public var payments = 0
    public var injected: [InjectedBreak: Int] = [:]
    public var recordsSigned = 0
    public var recordsCommitted = 0
    /// Records committed with a rejected receipt, by code; a clean run has none.
    public var recordsRejected: [String: Int] = [:]
    /// Records refused at admission, by code.
    public var recordsRefused: [String: Int] = [:]
    public var recordsUncommitted = 0
    public var sendingSeconds = 0.0
    public var committedPerSecond = 0.0
    public var commitLatencyP50Ms = 0.0
    public var commitLatencyP99Ms = 0.0
    /// Clean payments posted after the burst so that blocks keep coming while breaks become due.
    public var trailingPayments = 0
    public var graceMs = 0
    public var expected = 0
    public var found = 0
    public var missing: [ExpectedFinding] = []
    public var unexpected: [ExpectedFinding] = []
    /// Findings of the batch that a later record resolved (none of the injected breaks is ever cleared).
    public var resolved: [ExpectedFinding] = []
    /// Block time of the block holding the finding minus that of the block that exposed the break.
    public var delayP50Ms = 0.0
    public var delayP99Ms = 0.0
    public var delayMaxMs = 0.0
    public var maxDelayMs = 0
    public var delaysOverLimit = 0

    /// True when every injected break was found, nothing else was, no record was rejected and no finding came late.
    public var passed: Bool {
        missing.isEmpty && unexpected.isEmpty && resolved.isEmpty && recordsRejected.isEmpty && recordsRefused.isEmpty
            && recordsUncommitted == 0 && delaysOverLimit == 0
    }

    /// The figures as lines for a person.
    public var lines: [String] {
        func counts<Key>(_ values: [Key: Int], _ name: (Key) -> String) -> String {
            values.isEmpty ? "none" : values.map { "\(name($0.key)) \($0.value)" }.sorted().joined(separator: ", ")
        }
        func listed(_ findings: [ExpectedFinding]) -> [String] {
            findings.prefix(ClearingBurstLimits.listedFindingsMax).map { "    \($0)" }
                + (findings.count > ClearingBurstLimits.listedFindingsMax ? ["    … and \(findings.count - ClearingBurstLimits.listedFindingsMax) more"] : [])
        }
        var result = [
            "batch \(paymentPrefix)*: \(payments) payments, \(injected.values.reduce(0, +)) with an injected break (\(counts(injected, \.rawValue)))",
            "records: \(recordsSigned) signed, \(recordsCommitted) committed, rejected: \(counts(recordsRejected, { $0 })), "
                + "refused: \(counts(recordsRefused, { $0 })), not committed: \(recordsUncommitted)",
            String(format: "throughput: %.1f records/s committed over %.1f s of sending; commit latency p50 %.0f ms, p99 %.0f ms",
                   committedPerSecond, sendingSeconds, commitLatencyP50Ms, commitLatencyP99Ms),
            "trailing clean payments while waiting for due breaks (grace \(graceMs) ms): \(trailingPayments)",
            "findings: \(expected) expected, \(found) posted, \(missing.count) missing, \(unexpected.count) unexpected, \(resolved.count) resolved",
        ]
        if !missing.isEmpty { result += ["  missing:"] + listed(missing) }
        if !unexpected.isEmpty { result += ["  unexpected:"] + listed(unexpected) }
        if !resolved.isEmpty { result += ["  resolved:"] + listed(resolved) }
        result.append(String(format: "detection delay on the ledger (finding's block time - exposing block's time): p50 %.0f ms, p99 %.0f ms, max %.0f ms; over %d ms: %d",
                             delayP50Ms, delayP99Ms, delayMaxMs, maxDelayMs, delaysOverLimit))
        result.append(passed ? "result: PASS" : "result: FAIL")
        return result
    }

    /// The figures for scripts.
    public var dictionary: [String: Any] {
        [
            "paymentPrefix": paymentPrefix, "payments": payments,
            "injected": Dictionary(uniqueKeysWithValues: injected.map { ($0.key.rawValue, $0.value) }),
            "recordsSigned": recordsSigned, "recordsCommitted": recordsCommitted, "recordsRejected": recordsRejected,
            "recordsRefused": recordsRefused, "recordsUncommitted": recordsUncommitted,
            "sendingSeconds": sendingSeconds, "committedPerSecond": committedPerSecond,
            "commitLatencyP50Ms": commitLatencyP50Ms, "commitLatencyP99Ms": commitLatencyP99Ms,
            "trailingPayments": trailingPayments, "graceMs": graceMs,
            "expected": expected, "found": found,
            "missing": missing.map(\.description), "unexpected": unexpected.map(\.description), "resolved": resolved.map(\.description),
            "delayP50Ms": delayP50Ms, "delayP99Ms": delayP99Ms, "delayMaxMs": delayMaxMs,
            "maxDelayMs": maxDelayMs, "delaysOverLimit": delaysOverLimit, "passed": passed,
        ]
    }
}

/// Posts a burst of payments between two banks through a clearing house, a
/// share of them broken on purpose (``ClearingBurstPlan``), and checks what
/// the reconciliation job following the chain posts: every injected break
/// and nothing else, each within the delay limit of the block that exposed it.
///
/// The job runs separately (`consort reconcile watch`); the burst reads the
/// job's findings from the ledger. It needs a key of each participant, and
/// opens a settlement cycle for the clearing house if it has none.
public enum ClearingBurst {
    /// The participants' keys: payer bank, payee bank, clearing house.
    public struct Keys: Sendable {
        public let payerBank: PrivateKey
        public let payeeBank: PrivateKey
        public let clearingHouse: PrivateKey

        public init(payerBank: PrivateKey, payeeBank: PrivateKey, clearingHouse: PrivateKey) {
            self.payerBank = payerBank
            self.payeeBank = payeeBank
            self.clearingHouse = clearingHouse
        }
    }

    /// Runs the burst; `progress` receives one line per phase.
    public static func run(_ settings: ClearingBurstSettings, keys: Keys,
                           progress: @escaping @Sendable (String) -> Void) async throws(LoadRunError) -> ClearingBurstReport {
        try await asLoadRunError { try await BurstRun(settings: settings, keys: keys, progress: progress).execute() }
    }
}

private struct BurstRun: Sendable {
    let settings: ClearingBurstSettings
    let keys: ClearingBurst.Keys
    let progress: @Sendable (String) -> Void
    let clients: [NodeClient]

    init(settings: ClearingBurstSettings, keys: ClearingBurst.Keys, progress: @escaping @Sendable (String) -> Void) throws {
        self.settings = settings
        self.keys = keys
        self.progress = progress
        clients = try settings.nodes.map { try NodeClient(baseURL: $0) }
    }

    var primary: NodeClient { clients[0] }

    /// Senders in the order payer bank, clearing house, payee bank.
    var senderKeys: [PrivateKey] { [keys.payerBank, keys.clearingHouse, keys.payeeBank] }

    func execute() async throws -> ClearingBurstReport {
        let chainID = try await primary.genesis().chainID
        let (payerBank, payeeBank, clearingHouse) = try await participants()
        let graceMs = try await reconciliationGraceMs()
        try await ensureOpenCycle(clearingHouse: clearingHouse, chainID: chainID)

        let plan = ClearingBurstPlan(batchID: settings.batchID, count: settings.payments, breakCount: settings.breakCount,
                                     seed: settings.seed, payerBank: payerBank, payeeBank: payeeBank,
                                     clearingHouse: clearingHouse, timestampMs: wallClockMs())
        var report = ClearingBurstReport()
        report.paymentPrefix = plan.paymentPrefix
        report.payments = settings.payments
        report.injected = plan.injectedCounts
        report.graceMs = Int(graceMs)
        report.maxDelayMs = settings.maxDelayMs
        let expected = plan.expected
        report.expected = expected.count
        guard try await findings(prefix: plan.paymentPrefix).isEmpty else {
            throw LoadRunError.setupFailed("batch '\(settings.batchID)' already has findings on the ledger; choose another --batch")
        }

        var nextNonces: [UInt64] = []
        for key in senderKeys { nextNonces.append(try await primary.nonces(of: key.publicKey).pendingNonce) }
        progress("signing the records of \(settings.payments) payments (\(settings.breakCount) with an injected break)")
        let (runs, paymentIndexes) = sign(plan, chainID: chainID, startNonces: nextNonces)
        for (sender, run) in runs.enumerated() { nextNonces[sender] += UInt64(run.count) }
        report.recordsSigned = runs.reduce(0) { $0 + $1.count }

        let tracker = BenchTracker(ids: runs.flatMap { $0.map(\.id) })
        let fromHeight = try await primary.status().height + 1
        let stream = try await tracker.follow(primary, from: fromHeight)

        progress("posting at \(settings.paymentsPerSecond) payments/s to \(clients.count) node(s)")
        let start = ContinuousClock.now
        let sendingSecondsPlanned = Double(settings.payments) / Double(settings.paymentsPerSecond)
        let sendEnd = start + .seconds(sendingSecondsPlanned + Double(NetworkBenchLimits.drainSecondsMax) * 10)
        let rate = Double(settings.paymentsPerSecond)
        await withTaskGroup(of: Void.self) { group in
            for (sender, run) in runs.enumerated() {
                let loader = LoadSender(client: clients[sender % clients.count], tracker: tracker)
                let indexes = paymentIndexes[sender]
                group.addTask {
                    await loader.send(run, start: start, sendEnd: sendEnd) { position in Double(indexes[position]) / rate }
                }
            }
        }
        let sendingStopped = ContinuousClock.now
        progress("every record sent; waiting for the last commits")
        let drainEnd = sendingStopped + .seconds(NetworkBenchLimits.drainSecondsMax)
        while tracker.outstanding > 0, ContinuousClock.now < drainEnd, tracker.isStreaming {
            try await Task.sleep(for: .milliseconds(50))
        }
        tracker.stop()
        stream.cancel()
        let figures = tracker.snapshot()
        report.recordsCommitted = figures.committed
        report.recordsRejected = figures.committedRejected
        report.recordsRefused = figures.refused
        report.recordsUncommitted = report.recordsSigned - figures.committed - figures.committedRejected.values.reduce(0, +)
            - figures.refused.values.reduce(0, +)
        report.sendingSeconds = (sendingStopped - start).inSeconds
        if let last = figures.lastCommit {
            let measured = (last - start).inSeconds
            report.committedPerSecond = measured > 0 ? Double(figures.committed) / measured : 0
        }
        let latencies = figures.latenciesMs.sorted()
        report.commitLatencyP50Ms = percentile(latencies, 0.50)
        report.commitLatencyP99Ms = percentile(latencies, 0.99)

        progress("waiting up to \(settings.settleSeconds) s for the job's findings")
        let (posted, trailing) = try await settle(plan, expected: expected, graceMs: graceMs, chainID: chainID, nonces: nextNonces)
        report.trailingPayments = trailing
        let found = Set(posted.map(\.finding))
        report.found = posted.count
        report.missing = expected.subtracting(found).sorted()
        report.unexpected = posted.map(\.finding).filter { !expected.contains($0) }.sorted()
        report.resolved = posted.filter { !$0.open }.map(\.finding).sorted()

        progress("reading block times for \(posted.count) findings")
        var blockTimes: [UInt64: UInt64] = [:]
        var delays: [Double] = []
        for finding in posted {
            let exposed = try await blockTime(finding.detectedAtHeight, cache: &blockTimes)
            let recorded = try await blockTime(finding.postedAtHeight, cache: &blockTimes)
            delays.append(Double(recorded > exposed ? recorded - exposed : 0))
        }
        delays.sort()
        report.delayP50Ms = percentile(delays, 0.50)
        report.delayP99Ms = percentile(delays, 0.99)
        report.delayMaxMs = delays.last ?? 0
        report.delaysOverLimit = delays.filter { $0 > Double(settings.maxDelayMs) }.count
        return report
    }

    // MARK: Phases

    /// Signs each participant's records in payment order; returns per sender
    /// the submissions and the payment number of each.
    private func sign(_ plan: ClearingBurstPlan, chainID: String, startNonces: [UInt64]) -> ([[SignedSubmission]], [[Int]]) {
        let expiresAtMs = wallClockMs() + UInt64(Double(settings.payments) / Double(settings.paymentsPerSecond) * 1000)
            + UInt64(NetworkBenchLimits.drainSecondsMax + settings.settleSeconds + 600) * 1000
        let keys = senderKeys
        let signed = perSenderConcurrently(keys.count) { sender in
            var run: [SignedSubmission] = []
            var indexes: [Int] = []
            var nonce = startNonces[sender]
            for (index, payment) in plan.payments.enumerated() {
                guard let record = Self.record(of: payment, sender: sender) else { continue }
                let transaction = Transaction.signed(chainID: chainID, key: keys[sender], nonce: nonce, expiresAtMs: expiresAtMs,
                                                     call: ClearingContract.call(.post, record))
                run.append(SignedSubmission(transaction))
                indexes.append(index)
                nonce += 1
            }
            return (run, indexes)
        }
        return (signed.map(\.0), signed.map(\.1))
    }

    /// The record sender `sender` posts for `payment` (see ``senderKeys``).
    private static func record(of payment: PlannedPayment, sender: Int) -> PostRecord? {
        switch sender {
        case 0: payment.payer
        case 1: payment.clearing
        default: payment.payee
        }
    }

    /// Polls the batch's findings until every expected one is posted and one
    /// more grace period has passed (so a spurious break would show), posting
    /// one clean trailing payment a round so that blocks keep coming.
    private func settle(_ plan: ClearingBurstPlan, expected: Set<ExpectedFinding>, graceMs: UInt64, chainID: String,
                        nonces: [UInt64]) async throws -> ([PostedFinding], Int) {
        let deadline = ContinuousClock.now + .seconds(settings.settleSeconds)
        var nextNonces = nonces
        var trailing = 0
        var completeAt: ContinuousClock.Instant?
        var posted: [PostedFinding] = []
        while ContinuousClock.now < deadline {
            let payment = plan.clean(plan.payments.count + trailing)
            var sent = true
            for (sender, key) in senderKeys.enumerated() {
                guard let record = Self.record(of: payment, sender: sender) else { continue }
                let transaction = Transaction.signed(chainID: chainID, key: key, nonce: nextNonces[sender],
                                                     expiresAtMs: wallClockMs() + 600_000, call: ClearingContract.call(.post, record))
                do {
                    _ = try await clients[sender % clients.count].submit(transaction)
                    nextNonces[sender] += 1
                } catch {
                    // Busy or out of step: take fresh nonces and try again next round.
                    nextNonces[sender] = try await primary.nonces(of: key.publicKey).pendingNonce
                    sent = false
                }
            }
            if sent { trailing += 1 }
            posted = try await findings(prefix: plan.paymentPrefix)
            if completeAt == nil, expected.isSubset(of: Set(posted.map(\.finding))) {
                completeAt = ContinuousClock.now
                progress("every expected finding is posted; watching one more grace period for others")
            }
            if let completeAt, ContinuousClock.now - completeAt >= .milliseconds(Int64(graceMs) + 2 * Int64(ClearingBurstLimits.settleRoundMs)) {
                break
            }
            try await Task.sleep(for: .milliseconds(ClearingBurstLimits.settleRoundMs))
        }
        return (posted, trailing)
    }

    // MARK: Reads

    /// The organizations of the three keys, checked to be two distinct banks and a clearing house.
    private func participants() async throws -> (String, String, String) {
        let organizations = try await primary.organizations()
        func organization(of key: PrivateKey, _ role: String, kind: OrganizationKind) async throws -> String {
            guard let id = try await primary.nonces(of: key.publicKey).organization else {
                throw LoadRunError.setupFailed("the \(role) key \(key.publicKey.hex) belongs to no organization of this consortium")
            }
            let listed = organizations.first { $0.id == id }
            guard listed?.kind == kind else {
                throw LoadRunError.setupFailed("the \(role) key belongs to '\(id)', a \(listed?.kind.rawValue ?? "?"), not a \(kind.rawValue)")
            }
            return id
        }
        let payer = try await organization(of: keys.payerBank, "payer bank", kind: .bank)
        let payee = try await organization(of: keys.payeeBank, "payee bank", kind: .bank)
        let clearing = try await organization(of: keys.clearingHouse, "clearing house", kind: .clearingHouse)
        guard payer != payee else { throw LoadRunError.setupFailed("the payer and payee bank keys both belong to '\(payer)'; give two banks") }
        return (payer, payee, clearing)
    }

    private func reconciliationGraceMs() async throws -> UInt64 {
        let answer = try await primary.query(contract: ClearingContract.name, ClearingContract.Query.config.rawValue, as: ClearingConfigAnswer.self)
        guard answer.reconciliation.graceMs >= 0 else {
            throw LoadRunError.setupFailed("\(primary.baseURL) reported a negative reconciliation grace period")
        }
        return UInt64(answer.reconciliation.graceMs)
    }

    /// Opens a settlement cycle for the clearing house unless it has one: settled records need one.
    private func ensureOpenCycle(clearingHouse: String, chainID: String) async throws {
        do {
            _ = try await primary.query(contract: ClearingContract.name, "openCycle", parameters: ["clearingHouse": clearingHouse])
            return
        } catch {
            guard case .api(404, _, _) = error else { throw error }
        }
        let cycleID = "burst-\(settings.batchID)"
        progress("opening settlement cycle \(cycleID) for '\(clearingHouse)'")
        let nonce = try await primary.nonces(of: keys.clearingHouse.publicKey).pendingNonce
        let transaction = Transaction.signed(chainID: chainID, key: keys.clearingHouse, nonce: nonce, expiresAtMs: wallClockMs() + 600_000,
                                             call: ClearingContract.call(.openCycle, OpenCycle(cycleID: cycleID)))
        let id = try await primary.submit(transaction).id
        guard let receipt = try await primary.receipt(of: id, until: ContinuousClock.now + .seconds(NetworkBenchLimits.setupSecondsMax)) else {
            throw LoadRunError.setupFailed("opening cycle \(cycleID) did not commit within \(NetworkBenchLimits.setupSecondsMax) s")
        }
        if let reason = rejectionMessage(receipt) { throw LoadRunError.setupFailed("opening cycle \(cycleID) was rejected: \(reason)") }
    }

    /// The findings on the ledger for payments of the batch.
    private func findings(prefix: String) async throws -> [PostedFinding] {
        let findings = try await primary.query(contract: ClearingContract.name, ClearingContract.Query.breaks.rawValue,
                                               parameters: ["paymentPrefix": prefix, "limit": String(ClearingLimits.queryResultsMax)],
                                               as: [ClearingFindingAnswer].self)
        return try findings.map { finding in
            guard finding.detectedAtHeight >= 0, finding.postedAtHeight >= 0 else {
                throw LoadRunError.setupFailed("\(primary.baseURL) answered the breaks query with a negative height for \(finding.paymentID)")
            }
            return PostedFinding(finding: ExpectedFinding(paymentID: finding.paymentID, kind: finding.kind, side: finding.side),
                                 detectedAtHeight: UInt64(finding.detectedAtHeight), postedAtHeight: UInt64(finding.postedAtHeight),
                                 open: finding.open)
        }
    }

    private func blockTime(_ height: UInt64, cache: inout [UInt64: UInt64]) async throws -> UInt64 {
        if let known = cache[height] { return known }
        let time = try await primary.block(at: height).header.timestampMs
        cache[height] = time
        return time
    }
}

/// A finding of the batch as the ledger holds it.
private struct PostedFinding {
    var finding: ExpectedFinding
    var detectedAtHeight: UInt64
    var postedAtHeight: UInt64
    var open: Bool
}
