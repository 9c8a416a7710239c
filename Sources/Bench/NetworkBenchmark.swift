import Contracts
import Foundation
import Ledger
import LedgerCore
import NodeClient

/// What one run of the network benchmark does.
public struct NetworkBenchSettings: Sendable {
    /// API URLs of the nodes; senders are spread over them, the first also feeds the event stream.
    public let nodes: [String]
    /// Fresh member keys added to the bank; each sends its own run of nonces.
    public let senders: Int
    /// Transactions per second offered, or 0 for as fast as the nodes accept them.
    public let ratePerSecond: Int
    /// Length of the sending phase.
    public let durationSeconds: Int

    /// Checks every setting; the errors say which option is wrong and why.
    public init(nodes: [String], senders: Int, ratePerSecond: Int, durationSeconds: Int) throws(LoadRunError) {
        try checkNodeURLs(nodes)
        guard (1...NetworkBenchLimits.durationSecondsMax).contains(durationSeconds) else {
            throw .badSetting("--duration must be from 1 to \(NetworkBenchLimits.durationSecondsMax) seconds, got \(durationSeconds)")
        }
        guard (0...NetworkBenchLimits.ratePerSecondMax).contains(ratePerSecond) else {
            throw .badSetting("--rate must be from 0 (as fast as possible) to \(NetworkBenchLimits.ratePerSecondMax) transactions per second, got \(ratePerSecond)")
        }
        guard (1...NetworkBenchLimits.sendersMax).contains(senders) else {
            throw .badSetting("--senders must be from 1 to \(NetworkBenchLimits.sendersMax), got \(senders)")
        }
        self.nodes = nodes
        self.senders = senders
        self.ratePerSecond = ratePerSecond
        self.durationSeconds = durationSeconds
    }
}

/// The figures of one network benchmark run.
public struct NetworkBenchReport: Sendable {
    public var nodes = 0
    public var senders = 0
    public var ratePerSecondRequested = 0
    public var durationSeconds = 0
    /// Transactions signed before the timed phase.
    public var presigned = 0
    /// Transactions offered to a node at least once.
    public var submitted = 0
    /// Transactions a node admitted to its mempool.
    public var accepted = 0
    /// `busy` (HTTP 503) answers, each followed by a back-off and a retry.
    public var busyAnswers = 0
    /// `nonce_too_far_ahead` answers (the sender's nonce window was full), also retried.
    public var windowFullAnswers = 0
    /// Requests that failed in transport (timeout, refused connection), retried.
    public var transportErrors = 0
    /// Transactions refused at admission for another reason, by code.
    public var refused: [String: Int] = [:]
    /// Transactions of this run committed with a successful receipt.
    public var committed = 0
    /// Transactions of this run committed with a rejected receipt, by code.
    public var committedRejected: [String: Int] = [:]
    /// Admitted transactions not seen committed when the run stopped.
    public var uncommitted = 0
    /// Blocks seen on the event stream during the run, and the largest one.
    public var blocks = 0
    public var largestBlockTransactions = 0
    /// Wall time of the sending phase.
    public var sendingSeconds = 0.0
    /// From the first submission to the last commit of this run.
    public var measuredSeconds = 0.0
    public var latencyP50Ms = 0.0
    public var latencyP99Ms = 0.0
    public var latencyMaxMs = 0.0
    public var latencySamples = 0
    /// From the first attempt to admission (back-off on `busy` and full nonce windows).
    public var admissionWaitP50Ms = 0.0
    public var admissionWaitP99Ms = 0.0
    public var cores = 0
    public var verificationsPerSecondOneCore = 0.0
    public var verificationsPerSecondAllCores = 0.0
    /// True when the run stopped at its hard limit with commits outstanding.
    public var hardStopped = false
    /// Each node's view when sending started and when the run ended (nil: it did not answer).
    public var viewsAtStart: [UInt64?] = []
    public var viewsAtEnd: [UInt64?] = []
    /// The longest wait between two blocks carrying this run's transactions, in ms.
    public var longestCommitPauseMs = 0.0
    /// Each node's CPU time (its `consort_process_cpu_seconds` metric) when
    /// sending started and stopped (nil: it did not answer).
    public var cpuSecondsAtStart: [Double?] = []
    public var cpuSecondsAtStop: [Double?] = []

    /// Each node's share of one core while sending, in percent (nil: not measured).
    public var cpuPercents: [Double?] {
        zip(cpuSecondsAtStart, cpuSecondsAtStop).map { start, stop in
            guard let start, let stop, sendingSeconds > 0 else { return nil }
            return 100 * (stop - start) / sendingSeconds
        }
    }

    /// View changes the consortium went through during the run: the highest
    /// view any node reports at the end above the highest at the start.
    public var viewChanges: Int {
        let before = viewsAtStart.compactMap { $0 }.max() ?? 0
        let after = viewsAtEnd.compactMap { $0 }.max() ?? before
        return Int(after > before ? after - before : 0)
    }

    /// The value of `consort_process_cpu_seconds` in a node's metrics text; nil when absent.
    static func cpuSeconds(inMetrics text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("consort_process_cpu_seconds ") {
            return Double(line.dropFirst("consort_process_cpu_seconds ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Successful commits per second over ``measuredSeconds``.
    public var committedPerSecond: Double { measuredSeconds > 0 ? Double(committed) / measuredSeconds : 0 }
    /// Admissions per second over the sending phase.
    public var acceptedPerSecond: Double { sendingSeconds > 0 ? Double(accepted) / sendingSeconds : 0 }
    /// Each transaction is verified once on each of the 4 validators, all sharing this machine.
    public var signatureLimitPerSecond: Double { verificationsPerSecondAllCores / 4 }
    /// Throughput as a percentage of ``signatureLimitPerSecond``.
    public var percentOfSignatureLimit: Double { signatureLimitPerSecond > 0 ? 100 * committedPerSecond / signatureLimitPerSecond : 0 }

    /// The figures as lines for a person.
    public var figures: [BenchmarkFigure] {
        var lines = [
            BenchmarkFigure("transactions signed ahead", Double(presigned), "tx"),
            BenchmarkFigure("transactions submitted / admitted", Double(submitted), "/ \(accepted) tx"),
            BenchmarkFigure("admitted per second while sending (\(String(format: "%.1f", sendingSeconds)) s)", acceptedPerSecond, "tx/s"),
            BenchmarkFigure("committed with success", Double(committed), "tx"),
            BenchmarkFigure("committed transactions per second", committedPerSecond, "tx/s"),
            BenchmarkFigure("wait for admission p50 / p99 (back-off on busy)", admissionWaitP50Ms, "/ \(Int(admissionWaitP99Ms)) ms"),
            BenchmarkFigure("commit latency from admission p50 (\(latencySamples) samples)", latencyP50Ms, "ms"),
            BenchmarkFigure("commit latency p99", latencyP99Ms, "ms"),
            BenchmarkFigure("commit latency max", latencyMaxMs, "ms"),
            BenchmarkFigure("blocks seen (largest \(largestBlockTransactions) tx)", Double(blocks), "blocks"),
            BenchmarkFigure("longest pause between commits", longestCommitPauseMs, "ms"),
            BenchmarkFigure("nodes' CPU while sending, % of one core (\(describe(cpuPercents)))",
                            cpuPercents.compactMap { $0 }.reduce(0, +), "% in all"),
            BenchmarkFigure("view changes during the run (views \(describe(viewsAtStart)) → \(describe(viewsAtEnd)))", Double(viewChanges), ""),
            BenchmarkFigure("busy answers (backed off and retried)", Double(busyAnswers), ""),
            BenchmarkFigure("nonce-window-full answers (backed off and retried)", Double(windowFullAnswers), ""),
            BenchmarkFigure("transport errors (retried)", Double(transportErrors), ""),
            BenchmarkFigure("refused at admission", Double(refused.values.reduce(0, +)), describe(refused)),
            BenchmarkFigure("committed with a rejected receipt", Double(committedRejected.values.reduce(0, +)), describe(committedRejected)),
            BenchmarkFigure("admitted but not committed at the end", Double(uncommitted), hardStopped ? "(hard stop)" : ""),
            BenchmarkFigure("secp256k1 verifications, one core", verificationsPerSecondOneCore, "/s"),
            BenchmarkFigure("secp256k1 verifications, all \(cores) cores", verificationsPerSecondAllCores, "/s"),
            BenchmarkFigure("signature limit (all-core verifications / 4 validators)", signatureLimitPerSecond, "tx/s"),
            BenchmarkFigure("throughput as a share of the signature limit", percentOfSignatureLimit, "%"),
        ]
        if ratePerSecondRequested > 0 {
            lines.insert(BenchmarkFigure("requested rate", Double(ratePerSecondRequested), "tx/s"), at: 0)
        }
        return lines
    }

    /// The figures for scripts.
    public var dictionary: [String: Any] {
        [
            "nodes": nodes, "senders": senders, "ratePerSecondRequested": ratePerSecondRequested, "durationSeconds": durationSeconds,
            "presigned": presigned, "submitted": submitted, "accepted": accepted, "acceptedPerSecond": acceptedPerSecond,
            "busyAnswers": busyAnswers, "windowFullAnswers": windowFullAnswers, "transportErrors": transportErrors,
            "refused": refused, "committed": committed, "committedRejected": committedRejected, "uncommitted": uncommitted,
            "blocks": blocks, "largestBlockTransactions": largestBlockTransactions,
            "sendingSeconds": sendingSeconds, "measuredSeconds": measuredSeconds, "committedPerSecond": committedPerSecond,
            "latencyP50Ms": latencyP50Ms, "latencyP99Ms": latencyP99Ms, "latencyMaxMs": latencyMaxMs, "latencySamples": latencySamples,
            "admissionWaitP50Ms": admissionWaitP50Ms, "admissionWaitP99Ms": admissionWaitP99Ms,
            "cores": cores, "verificationsPerSecondOneCore": verificationsPerSecondOneCore,
            "verificationsPerSecondAllCores": verificationsPerSecondAllCores, "signatureLimitPerSecond": signatureLimitPerSecond,
            "percentOfSignatureLimit": percentOfSignatureLimit, "hardStopped": hardStopped,
            "viewChanges": viewChanges, "viewsAtStart": viewsAtStart.map { $0.map(Int.init) ?? -1 },
            "viewsAtEnd": viewsAtEnd.map { $0.map(Int.init) ?? -1 }, "longestCommitPauseMs": longestCommitPauseMs,
            "cpuPercents": cpuPercents.map { $0 ?? -1 },
        ]
    }

    /// Views as `0/0/0/0`, `-` for a node that did not answer.
    private func describe(_ views: [UInt64?]) -> String {
        views.map { $0.map(String.init) ?? "-" }.joined(separator: "/")
    }

    /// Percentages as `52/44/45/44`, `-` for a node not measured.
    private func describe(_ percents: [Double?]) -> String {
        percents.map { $0.map { String(Int($0.rounded())) } ?? "-" }.joined(separator: "/")
    }

    private func describe(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "" : "(" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
    }
}

/// Drives a running consortium with `clearing.post` records and measures
/// committed throughput and commit latency from the committed-block stream,
/// next to this machine's signature verification rate.
///
/// The run: add fresh sender keys to the bank (`governance.addMemberKey`),
/// measure signature verification, sign every transaction, subscribe to
/// `/v1/events` on the first node, send for the given duration (paced, or as
/// fast as the nodes admit), wait for outstanding commits, and remove the
/// sender keys again.
public enum NetworkBenchmark {
    /// Runs the benchmark with `bankKey`, a member key of a bank; `progress` receives one line per phase.
    public static func run(_ settings: NetworkBenchSettings, bankKey: PrivateKey,
                           progress: @escaping @Sendable (String) -> Void) async throws(LoadRunError) -> NetworkBenchReport {
        try await asLoadRunError { try await Run(settings: settings, bankKey: bankKey, progress: progress).execute() }
    }
}

private struct Run: Sendable {
    let settings: NetworkBenchSettings
    let bankKey: PrivateKey
    let progress: @Sendable (String) -> Void
    let clients: [NodeClient]

    init(settings: NetworkBenchSettings, bankKey: PrivateKey, progress: @escaping @Sendable (String) -> Void) throws {
        self.settings = settings
        self.bankKey = bankKey
        self.progress = progress
        clients = try settings.nodes.map { try NodeClient(baseURL: $0) }
    }

    var primary: NodeClient { clients[0] }

    func execute() async throws -> NetworkBenchReport {
        let chainID = try await primary.genesis().chainID
        let (bankID, payeeBankID, bankKeyCount) = try await banks()
        guard bankKeyCount + settings.senders <= Limits.memberKeysMax else {
            throw LoadRunError.setupFailed(
                "bank '\(bankID)' already has \(bankKeyCount) member keys; adding \(settings.senders) would pass the limit of \(Limits.memberKeysMax); lower --senders")
        }
        let senderKeys = try (0..<settings.senders).map { _ in try PrivateKey.generate() }
        progress("adding \(settings.senders) sender keys to bank '\(bankID)' (payee bank '\(payeeBankID)')")
        try await changeMemberKeys(senderKeys.map(\.publicKey), operation: .addMemberKey, chainID: chainID, require: true)
        do {
            let report = try await measure(chainID: chainID, bankID: bankID, payeeBankID: payeeBankID, senderKeys: senderKeys)
            // The figures stand even if a node is gone by now (one may have been stopped during the run).
            do {
                try await removeSenderKeys(senderKeys, chainID: chainID)
            } catch {
                progress("the sender keys were not all removed (\(error)); remove them with governance.removeMemberKey")
            }
            return report
        } catch {
            try? await removeSenderKeys(senderKeys, chainID: chainID)
            throw error
        }
    }

    /// Each node's current view; nil for a node that does not answer (one
    /// may have been stopped during the run).
    /// Each node's CPU seconds so far, from its metrics.
    private func cpuSeconds() async -> [Double?] {
        var seconds: [Double?] = []
        for client in clients {
            do {
                let response = try await client.request(.GET, "/metrics")
                seconds.append(NetworkBenchReport.cpuSeconds(inMetrics: String(decoding: response.body, as: UTF8.self)))
            } catch {
                progress("\(client.baseURL) did not report its CPU time: \(error)")
                seconds.append(nil)
            }
        }
        return seconds
    }

    private func views() async -> [UInt64?] {
        var views: [UInt64?] = []
        for client in clients {
            do {
                views.append(try await client.status().view)
            } catch {
                progress("\(client.baseURL) did not report its view: \(error)")
                views.append(nil)
            }
        }
        return views
    }

    private func removeSenderKeys(_ keys: [PrivateKey], chainID: String) async throws {
        progress("removing the \(keys.count) sender keys from the bank")
        try await changeMemberKeys(keys.map(\.publicKey), operation: .removeMemberKey, chainID: chainID, require: false)
    }

    private func measure(chainID: String, bankID: String, payeeBankID: String, senderKeys: [PrivateKey]) async throws -> NetworkBenchReport {
        var report = NetworkBenchReport()
        report.nodes = clients.count
        report.senders = settings.senders
        report.ratePerSecondRequested = settings.ratePerSecond
        report.durationSeconds = settings.durationSeconds

        progress("measuring secp256k1 verification on this machine")
        let verification = try LedgerBenchmark.signatureVerification()
        guard verification.count == 2 else { throw LoadRunError.setupFailed("the verification benchmark returned \(verification.count) figures, expected 2") }
        report.cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        report.verificationsPerSecondOneCore = verification[0].value
        report.verificationsPerSecondAllCores = verification[1].value

        let total: Int
        if settings.ratePerSecond > 0 {
            total = min(NetworkBenchLimits.transactionsMax, settings.ratePerSecond * settings.durationSeconds)
        } else {
            let expected = report.signatureLimitPerSecond * Double(settings.durationSeconds)
            total = min(NetworkBenchLimits.transactionsMax, max(settings.senders, Int(expected.rounded(.up))))
        }
        var startNonces: [UInt64] = []
        for key in senderKeys { startNonces.append(try await primary.nonces(of: key.publicKey).nextNonce) }
        progress("signing \(total) clearing.post transactions")
        let signed = sign(total: total, chainID: chainID, bankID: bankID, payeeBankID: payeeBankID, senderKeys: senderKeys, startNonces: startNonces)
        report.presigned = total

        let tracker = BenchTracker(ids: signed.flatMap { $0.map(\.id) })
        let fromHeight = try await primary.status().height + 1
        let stream = try await tracker.follow(primary, from: fromHeight)

        progress(settings.ratePerSecond > 0
                 ? "sending at \(settings.ratePerSecond) tx/s for \(settings.durationSeconds) s to \(clients.count) node(s)"
                 : "sending as fast as the nodes admit for \(settings.durationSeconds) s to \(clients.count) node(s)")
        report.viewsAtStart = await views()
        report.cpuSecondsAtStart = await cpuSeconds()
        let start = ContinuousClock.now
        let sendEnd = start + .seconds(settings.durationSeconds)
        let hardStop = sendEnd + .seconds(NetworkBenchLimits.drainSecondsMax)
        await withTaskGroup(of: Void.self) { group in
            for (index, submissions) in signed.enumerated() {
                let client = clients[index % clients.count]
                let sender = LoadSender(client: client, tracker: tracker)
                let rate = settings.ratePerSecond, senders = settings.senders
                group.addTask {
                    await sender.send(submissions, start: start, sendEnd: sendEnd) { position in
                        rate > 0 ? Double(position * senders + index) / Double(rate) : nil
                    }
                }
            }
        }
        let sendingStopped = ContinuousClock.now
        report.cpuSecondsAtStop = await cpuSeconds()
        progress("sending stopped; waiting up to \(NetworkBenchLimits.drainSecondsMax) s for outstanding commits")
        while tracker.outstanding > 0, ContinuousClock.now < hardStop, tracker.isStreaming {
            try await Task.sleep(for: .milliseconds(50))
        }
        tracker.stop()
        stream.cancel()
        report.viewsAtEnd = await views()
        if case .failure(let error) = await stream.result, tracker.snapshot().committed == 0 {
            throw error
        }

        let figures = tracker.snapshot()
        report.hardStopped = figures.outstanding > 0
        report.submitted = figures.submitted
        report.accepted = figures.accepted
        report.busyAnswers = figures.busy
        report.windowFullAnswers = figures.windowFull
        report.transportErrors = figures.transport
        report.refused = figures.refused
        report.committed = figures.committed
        report.committedRejected = figures.committedRejected
        report.uncommitted = figures.outstanding
        report.blocks = figures.blocks
        report.largestBlockTransactions = figures.largestBlock
        report.sendingSeconds = (sendingStopped - start).inSeconds
        if let last = figures.lastCommit { report.measuredSeconds = (last - start).inSeconds }
        let latencies = figures.latenciesMs.sorted()
        report.latencySamples = latencies.count
        report.latencyP50Ms = percentile(latencies, 0.50)
        report.latencyP99Ms = percentile(latencies, 0.99)
        report.latencyMaxMs = latencies.last ?? 0
        let waits = figures.admissionWaitsMs.sorted()
        report.admissionWaitP50Ms = percentile(waits, 0.50)
        report.admissionWaitP99Ms = percentile(waits, 0.99)
        report.longestCommitPauseMs = figures.longestCommitPause.inMilliseconds
        return report
    }

    /// Signs `total` clearing.post records, spread evenly over the senders; signs on every core.
    private func sign(total: Int, chainID: String, bankID: String, payeeBankID: String,
                      senderKeys: [PrivateKey], startNonces: [UInt64]) -> [[SignedSubmission]] {
        let senders = senderKeys.count
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        let expiresAtMs = wallClockMs() + UInt64(settings.durationSeconds + 600) * 1000
        let nowMs = wallClockMs()
        return perSenderConcurrently(senders) { sender in
            let count = total / senders + (sender < total % senders ? 1 : 0)
            var run: [SignedSubmission] = []
            run.reserveCapacity(count)
            for position in 0..<count {
                let nonce = startNonces[sender] + UInt64(position)
                let record = PostRecord(
                    paymentID: "bench-\(runID)-\(sender)-\(position)",
                    payer: AccountRef(institution: bankID, account: "BENCH-PAYER-\(sender)"),
                    payee: AccountRef(institution: payeeBankID, account: "BENCH-PAYEE-\(position % 997)"),
                    amountMinor: UInt64(1 + (position * 7919 + sender) % 1_000_000), currency: "CNY",
                    participantTimestampMs: nowMs, channel: "IBPS", status: .sent)
                let transaction = Transaction.signed(chainID: chainID, key: senderKeys[sender], nonce: nonce, expiresAtMs: expiresAtMs,
                                                     call: ClearingContract.call(.post, record))
                run.append(SignedSubmission(transaction))
            }
            return run
        }
    }

    // MARK: Setup

    /// The key's bank, another active bank to be the payee, and how many keys the key's bank has.
    private func banks() async throws -> (String, String, Int) {
        guard let organizationID = try await primary.nonces(of: bankKey.publicKey).organization else {
            throw LoadRunError.setupFailed("key \(bankKey.publicKey.hex) belongs to no organization of this consortium")
        }
        let organizations = try await primary.organizations()
        guard let own = organizations.first(where: { $0.id == organizationID }) else {
            throw LoadRunError.setupFailed("organization '\(organizationID)' is missing from the governance list")
        }
        guard own.kind == .bank else {
            throw LoadRunError.setupFailed("the key belongs to '\(organizationID)', a \(own.kind.rawValue), not a bank; clearing.post needs a bank's key")
        }
        let payee = organizations.first { $0.kind == .bank && $0.id != organizationID && $0.status == .active }
        guard let payeeID = payee?.id else {
            throw LoadRunError.setupFailed("the consortium has no second active bank to be the payee of the benchmark's payments")
        }
        return (organizationID, payeeID, own.memberKeys.count)
    }

    /// Adds or removes member keys of the bank, signed by the bank key, and waits
    /// until every change has committed on every node. With `require`, a rejected
    /// change or a timeout is an error.
    private func changeMemberKeys(_ keys: [PublicKey], operation: GovernanceContract.Operation, chainID: String, require: Bool) async throws {
        let first = try await primary.nonces(of: bankKey.publicKey).pendingNonce
        let expiresAtMs = wallClockMs() + UInt64(NetworkBenchLimits.setupSecondsMax + 600) * 1000
        let transactions = keys.enumerated().map { index, key in
            Transaction.signed(chainID: chainID, key: bankKey, nonce: first + UInt64(index), expiresAtMs: expiresAtMs,
                               call: GovernanceContract.call(operation, MemberKeyChange(key: key)))
        }
        let deadline = ContinuousClock.now + .seconds(NetworkBenchLimits.setupSecondsMax)
        for transaction in transactions {
            var backoff = RetryBackoff(minimumMs: NetworkBenchLimits.backoffMsMin, maximumMs: NetworkBenchLimits.backoffMsMax)
            while true {
                do {
                    try await primary.submit(transaction)
                    break
                } catch {
                    guard case .api(503, _, _) = error, ContinuousClock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(backoff.currentMs))
                    backoff.failed()
                }
            }
        }
        for transaction in transactions {
            guard let receipt = try await primary.receipt(of: transaction.id, until: deadline) else {
                if require { throw LoadRunError.setupFailed("governance.\(operation.rawValue) did not commit within \(NetworkBenchLimits.setupSecondsMax) s") }
                return
            }
            if require, let reason = rejectionMessage(receipt) {
                throw LoadRunError.setupFailed("governance.\(operation.rawValue) was rejected: \(reason)")
            }
        }
        let target = first + UInt64(transactions.count)
        for client in clients.dropFirst() {
            do {
                while try await client.nonces(of: bankKey.publicKey).nextNonce < target {
                    guard ContinuousClock.now < deadline else {
                        if require { throw LoadRunError.setupFailed("\(client.baseURL) did not reach the sender keys' block within \(NetworkBenchLimits.setupSecondsMax) s") }
                        return
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
            } catch {
                // Removing the keys again need not wait for a node that has gone away.
                if require { throw error }
                progress("\(client.baseURL) did not answer while the keys were removed: \(error)")
            }
        }
    }
}
