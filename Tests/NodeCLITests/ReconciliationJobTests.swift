import Foundation
import Testing
import Consensus
import Contracts
import Ledger
@testable import Node

/// A backend whose `submit` commits the transaction at once, in a new
/// certified block of a ``LocalConsortium``, and wakes the event stream.
final class CommittingBackend: NodeBackend, @unchecked Sendable {
    let chain: LocalConsortium
    let mempool: Mempool
    let metrics = NodeMetrics()
    let commits: CommitNotifier
    private let lock = NSLock()

    var ledger: Ledger { chain.ledger }

    init(chain: LocalConsortium) {
        self.chain = chain
        self.mempool = Mempool(ledger: chain.ledger)
        self.commits = CommitNotifier(height: chain.ledger.head.height)
    }

    func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission {
        lock.lock()
        defer { lock.unlock() }
        let admission = try mempool.add(transaction, nowMs: wallClockMs())
        guard admission == .added else { return admission }
        do {
            try commitLocked(mempool.proposal(limit: 10_000))
        } catch {
            throw .storage("\(error)")
        }
        return admission
    }

    /// Commits `transactions` (signed by the test) in one block.
    @discardableResult
    func commit(_ transactions: [Transaction]) throws -> [Receipt] {
        lock.lock()
        defer { lock.unlock() }
        return try commitLocked(transactions)
    }

    /// Signs calls as their members and commits them in one block.
    @discardableResult
    func commit(calls: [(member: String, call: ContractCall)]) throws -> [Receipt] {
        lock.lock()
        defer { lock.unlock() }
        return try commitLocked(calls.map { chain.transaction($0.member, $0.call) })
    }

    /// Signs and commits one call as `member`.
    @discardableResult
    func commit(_ member: String, _ call: ContractCall) throws -> Receipt {
        lock.lock()
        defer { lock.unlock() }
        let receipts = try commitLocked([chain.transaction(member, call)])
        return receipts[0]
    }

    @discardableResult
    private func commitLocked(_ transactions: [Transaction]) throws -> [Receipt] {
        let receipts = try chain.commit(transactions)
        let height = chain.ledger.head.height
        if let block = try chain.ledger.block(at: height) { mempool.removeCommitted(block) }
        commits.committed(height: height)
        return receipts
    }

    func status() -> NodeStatus {
        NodeStatus(nodeName: "test", role: "observer", head: ledger.head, view: 0, primary: nil, validators: [],
                   mempoolSize: mempool.count, syncing: false, fault: nil)
    }
}

/// Cancels a job's task once it has reported a number of events: a kill at an exact point of its work.
final class KillSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var task: Task<Void, any Error>?
    private(set) var fired = false

    init(afterEvents: Int) { remaining = afterEvents }

    func arm(_ task: Task<Void, any Error>) {
        let fireNow = lock.withLock { () -> Bool in
            self.task = task
            return remaining <= 0
        }
        if fireNow { task.cancel() }
    }

    func count() {
        let target = lock.withLock { () -> Task<Void, any Error>? in
            remaining -= 1
            guard remaining == 0 else { return nil }
            fired = true
            return task
        }
        target?.cancel()
    }
}

/// A finding as the ledger shows it, without the height, to compare runs whose block layouts differ.
struct PostedBreak: Hashable, Comparable, CustomStringConvertible {
    let payment: String
    let kind: String
    let side: String
    let open: Bool
    static func < (lhs: PostedBreak, rhs: PostedBreak) -> Bool { lhs.description < rhs.description }
    var description: String { "\(payment) \(kind) \(side)\(open ? " open" : " resolved")" }
}

/// One scripted clearing scenario with injected breaks.
enum ClearingScript {
    static let organizations: [(id: String, kind: OrganizationKind)] = [("bankA", .bank), ("bankB", .bank), ("ch", .clearingHouse)]
    /// A short grace so that missing sides are found a few blocks later.
    static let contracts: [String: JSONValue] = ["clearing": .object(["graceMs": .integer(2000), "inTransitThresholdMs": .integer(3_600_000)])]

    /// The breaks the script injects, as the job must report them once the script and its tick blocks are committed.
    static let expected: Set<PostedBreak> = [
        PostedBreak(payment: "P2", kind: "amount_mismatch", side: "payee", open: true),
        PostedBreak(payment: "P3", kind: "long", side: "payee", open: true),
        PostedBreak(payment: "P4", kind: "short", side: "payer", open: true),
        PostedBreak(payment: "P5", kind: "status_mismatch", side: "payee", open: true),
        PostedBreak(payment: "P6", kind: "currency_mismatch", side: "payer", open: true),
        PostedBreak(payment: "P7", kind: "long", side: "payee", open: false),
    ]

    /// A record of payment `id` ("P<n>"); each payment has its own default amount so that none duplicates another.
    static func record(_ id: String, amount: UInt64? = nil, currency: String = "CNY", status: PaymentStatus) -> PostRecord {
        let number = UInt64(id.dropFirst()) ?? 0
        return PostRecord(paymentID: id, payer: AccountRef(institution: "bankA", account: "A-001"), payee: AccountRef(institution: "bankB", account: "B-002"),
                          amountMinor: amount ?? 10_000 + 100 * number, currency: currency, participantTimestampMs: 1_000 * number, channel: "IBPS",
                          status: status)
    }

    /// The script's steps: each is one block of records (member, record).
    static var steps: [[(String, PostRecord)]] {
        [
            [("bankA", record("P1", status: .settled)), ("ch", record("P1", status: .settled)), ("bankB", record("P1", status: .settled))],
            [("bankA", record("P2", status: .settled)), ("ch", record("P2", status: .settled)), ("bankB", record("P2", amount: 12_000, status: .settled))],
            [("bankA", record("P3", status: .settled)), ("ch", record("P3", status: .settled))],
            [("bankA", record("P4", status: .sent))],
            [("bankA", record("P5", status: .settled)), ("ch", record("P5", status: .settled)), ("bankB", record("P5", status: .rejected))],
            [("bankA", record("P6", currency: "USD", status: .settled)), ("ch", record("P6", status: .settled)), ("bankB", record("P6", status: .settled))],
            [("bankA", record("P7", status: .settled)), ("ch", record("P7", status: .settled))],
            [], [], [], [], [],
            [("bankB", record("P7", status: .settled))],
        ]
    }

    /// Opens the cycle, then commits the script's blocks, then `tickBlocks` empty blocks, pausing between blocks.
    static func play(on backend: CommittingBackend, pauseMs: UInt64, tickBlocks: Int = 6) async throws {
        try expectSuccess(backend.commit("ch", ClearingContract.call(.openCycle, OpenCycle(cycleID: "C1"))))
        for step in steps {
            let calls = step.map { member, record in (member: member, call: ClearingContract.call(.post, record)) }
            for receipt in try backend.commit(calls: calls) { try expectSuccess(receipt) }
            try await Task.sleep(nanoseconds: pauseMs * 1_000_000)
        }
        for _ in 0..<tickBlocks {
            try backend.commit([])
            try await Task.sleep(nanoseconds: pauseMs * 1_000_000)
        }
    }

    static func expectSuccess(_ receipt: Receipt) throws {
        guard receipt.isSuccess else { throw ReconciliationJobError("script record rejected: \(receipt.rejection?.description ?? "?")", transient: false) }
    }

    static func makeBackend() throws -> CommittingBackend {
        let chain = try LocalConsortium(organizations: organizations, contracts: contracts, genesisTimestampMs: wallClockMs())
        return CommittingBackend(chain: chain)
    }

    /// The breaks on the ledger, from the `breaks` query.
    static func posted(_ client: NodeClient) async throws -> [PostedBreak] {
        let answer = try await client.getJSON("/v1/query/clearing/breaks?limit=1000") as? [String: Any]
        let findings = answer?["result"] as? [[String: Any]] ?? []
        return findings.map {
            PostedBreak(payment: $0["paymentId"] as? String ?? "", kind: $0["kind"] as? String ?? "", side: $0["side"] as? String ?? "", open: $0["open"] as? Bool ?? false)
        }.sorted()
    }

    /// The finding keys on the ledger with their heights.
    static func postedKeys(_ ledger: Ledger) throws -> Set<FindingKey> {
        var keys = Set<FindingKey>()
        for height in 1...ledger.head.height {
            guard let block = try ledger.block(at: height) else { continue }
            let receipts = try ledger.receipts(at: height) ?? []
            for (transaction, receipt) in zip(block.transactions, receipts) where receipt.isSuccess && transaction.body.call.operation == "postFinding" {
                guard !receipt.events.contains(where: { $0.name == "finding_ignored" }) else { continue }
                keys.insert(try PostFinding(canonicalBytes: transaction.body.call.arguments).key)
            }
        }
        return keys
    }

    /// What an engine that never stopped finds over the whole final chain.
    static func replayedKeys(_ ledger: Ledger, configuration: ReconciliationConfiguration) throws -> Set<FindingKey> {
        var engine = ReconciliationEngine(configuration: configuration)
        var keys = Set<FindingKey>()
        for height in 1...ledger.head.height {
            guard let block = try ledger.block(at: height) else { continue }
            let output = try engine.process(ClearingBlock.extract(block: block, receipts: try ledger.receipts(at: height) ?? []))
            for finding in output.findings { keys.insert(finding.key) }
        }
        return keys
    }
}

/// Waits until the job has processed every committed block (then it has nothing left to post).
func waitUntilCaughtUp(_ job: ReconciliationJob, _ backend: CommittingBackend, roundsMax: Int = 600) async throws -> Bool {
    for _ in 0..<roundsMax {
        if await job.cursor == backend.ledger.head.height { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return false
}

func temporaryStatePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("recon-\(UUID().uuidString).state").path
}

/// A node that loses one sender's transactions until told to stop: it
/// answers "added" and never commits them, as a node that restarts loses its mempool.
final class LosingBackend: NodeBackend, @unchecked Sendable {
    let inner: CommittingBackend
    private let sender: PublicKey
    private let lock = NSLock()
    private var losing = true
    private var lost = 0

    init(_ inner: CommittingBackend, losingFrom sender: PublicKey) {
        self.inner = inner
        self.sender = sender
    }

    var ledger: Ledger { inner.ledger }
    var mempool: Mempool { inner.mempool }
    var metrics: NodeMetrics { inner.metrics }
    var commits: CommitNotifier { inner.commits }
    var lostCount: Int { lock.withLock { lost } }

    func stopLosing() { lock.withLock { losing = false } }

    func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission {
        let lose = lock.withLock { () -> Bool in
            guard transaction.body.sender == sender, losing else { return false }
            lost += 1
            return true
        }
        if lose { return .added }
        return try inner.submit(transaction)
    }

    func status() -> NodeStatus { inner.status() }
}

@Suite(.serialized) struct ReconciliationJobTests {
    /// While watching, the job goes on to the next blocks without waiting for
    /// its posts; when the node loses them, the job sees they did not commit
    /// in time, goes back to the block before them and posts again.
    @Test func watch_postsLostByTheNode_arePostedAgainAfterTheCommitTimeout() async throws {
        let backend = try ClearingScript.makeBackend()
        let member = backend.chain.member("ch")
        let losing = LosingBackend(backend, losingFrom: member.keys[1].publicKey)
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        let retries = PortBox()
        try await withAPIServer(losing) { client in
            let options = ReconciliationJob.Options(statePath: statePath, commitTimeoutMs: 400, backoffMinMs: 20, backoffMaxMs: 100)
            let job = ReconciliationJob(client: client, key: member.keys[1], options: options) { event in
                if case .retrying(let reason, _) = event, reason.contains("did not commit within") {
                    retries.set(1)
                    losing.stopLosing()
                }
            }
            let watcher = Task { try await job.watch() }
            try await ClearingScript.play(on: backend, pauseMs: 60)
            for _ in 0..<600 where retries.get() == 0 { try await Task.sleep(nanoseconds: 50_000_000) }
            // A few more blocks, so that breaks waiting out their grace become due after the job went back.
            for _ in 0..<6 {
                try backend.commit([])
                try await Task.sleep(nanoseconds: 60_000_000)
            }
            #expect(try await waitUntilCaughtUp(job, backend))
            watcher.cancel()
            _ = await watcher.result
            #expect(losing.lostCount > 0, "the node lost nothing")
            #expect(retries.get() == 1, "the job never noticed its posts were lost")
            #expect(Set(try await ClearingScript.posted(client)) == ClearingScript.expected)
        }
    }

    @Test func watch_scriptedBreaks_postsExactlyTheInjectedBreaks() async throws {
        let backend = try ClearingScript.makeBackend()
        let member = backend.chain.member("ch")
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        try await withAPIServer(backend) { client in
            let job = ReconciliationJob(client: client, key: member.keys[1], options: .init(statePath: statePath, backoffMinMs: 20, backoffMaxMs: 200))
            let watcher = Task { try await job.watch() }
            try await ClearingScript.play(on: backend, pauseMs: 20)
            #expect(try await waitUntilCaughtUp(job, backend))
            watcher.cancel()
            _ = await watcher.result
            #expect(Set(try await ClearingScript.posted(client)) == ClearingScript.expected)
            let configuration = try #require(try ReconciliationState.load(path: statePath)).engine.configuration
            #expect(try ClearingScript.postedKeys(backend.ledger) == ClearingScript.replayedKeys(backend.ledger, configuration: configuration))
            #expect(await job.delays.count == ClearingScript.expected.count)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func watch_killedAtRandomPoints_postsTheSameBreaksAsAnUninterruptedRun(seed: UInt64) async throws {
        let backend = try ClearingScript.makeBackend()
        let member = backend.chain.member("ch")
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        var random = SplitMix64(seed: seed)
        var restarts = 0
        try await withAPIServer(backend) { client in
            let options = ReconciliationJob.Options(statePath: statePath, backoffMinMs: 20, backoffMaxMs: 200, saveIntervalMs: 50)
            let done = PortBox()
            let script = Task {
                defer { done.set(1) }
                try await ClearingScript.play(on: backend, pauseMs: 30)
            }
            while done.get() == 0 && restarts < 200 {
                let job = ReconciliationJob(client: client, key: member.keys[1], options: options)
                let watcher = Task { try await job.watch() }
                try await Task.sleep(nanoseconds: (random.next() % 150) * 1_000_000)
                watcher.cancel()
                _ = await watcher.result
                restarts += 1
            }
            try await script.value
            let job = ReconciliationJob(client: client, key: member.keys[1], options: options)
            let watcher = Task { try await job.watch() }
            #expect(try await waitUntilCaughtUp(job, backend))
            watcher.cancel()
            _ = await watcher.result
            #expect(restarts > 1, "the job was never killed")
            #expect(Set(try await ClearingScript.posted(client)) == ClearingScript.expected, "seed \(seed)")
            let configuration = try #require(try ReconciliationState.load(path: statePath)).engine.configuration
            #expect(try ClearingScript.postedKeys(backend.ledger) == ClearingScript.replayedKeys(backend.ledger, configuration: configuration), "seed \(seed)")
        }
    }

    @Test(arguments: [UInt64(11), 12, 13, 14])
    func watch_killedAtEventBoundaries_postsTheSameBreaksAsAnUninterruptedRun(seed: UInt64) async throws {
        let backend = try ClearingScript.makeBackend()
        let member = backend.chain.member("ch")
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        try await ClearingScript.play(on: backend, pauseMs: 0)
        var random = SplitMix64(seed: seed)
        var kills = 0
        try await withAPIServer(backend) { client in
            let options = ReconciliationJob.Options(statePath: statePath, backoffMinMs: 20, backoffMaxMs: 200, saveIntervalMs: 0)
            for _ in 0..<40 {
                let killer = KillSwitch(afterEvents: Int(random.next() % 6) + 1)
                let job = ReconciliationJob(client: client, key: member.keys[1], options: options) { event in
                    if case .retrying = event { return }
                    killer.count()
                }
                let watcher = Task { try await job.watch() }
                killer.arm(watcher)
                let stopper = Task {
                    _ = try await waitUntilCaughtUp(job, backend)
                    watcher.cancel()
                }
                _ = await watcher.result
                stopper.cancel()
                if killer.fired { kills += 1 }
                if backend.ledger.head.height == (await job.cursor) { break }
            }
            let job = ReconciliationJob(client: client, key: member.keys[1], options: options)
            let watcher = Task { try await job.watch() }
            #expect(try await waitUntilCaughtUp(job, backend))
            watcher.cancel()
            _ = await watcher.result
            #expect(kills > 1, "the job was never killed")
            #expect(Set(try await ClearingScript.posted(client)) == ClearingScript.expected, "seed \(seed)")
            let configuration = try #require(try ReconciliationState.load(path: statePath)).engine.configuration
            #expect(try ClearingScript.postedKeys(backend.ledger) == ClearingScript.replayedKeys(backend.ledger, configuration: configuration), "seed \(seed)")
        }
    }

    @Test func watch_nodeGoesAwayAndComesBack_reconnectsAndMissesNoBlock() async throws {
        let backend = try ClearingScript.makeBackend()
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        let portBox = PortBox()
        let first = Task { try await APIServer(backend: backend).run(host: "127.0.0.1", port: 0) { port in portBox.set(port) } }
        for _ in 0..<200 where portBox.get() == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        let port = portBox.get()
        try #require(port != 0)
        let client = try NodeClient(baseURL: "http://127.0.0.1:\(port)")
        let job = ReconciliationJob(client: client, key: backend.chain.member("ch").keys[1],
                                    options: .init(statePath: statePath, backoffMinMs: 20, backoffMaxMs: 100))
        let watcher = Task { try await job.watch() }
        try backend.commit([])
        #expect(try await waitUntilCaughtUp(job, backend))
        first.cancel()
        // A commit wakes the open event stream, which then sees the shutdown instead of waiting for its keep-alive.
        try backend.commit([])
        _ = await first.result
        try await ClearingScript.play(on: backend, pauseMs: 0)
        let second = Task { try await APIServer(backend: backend).run(host: "127.0.0.1", port: port) }
        defer { second.cancel() }
        #expect(try await waitUntilCaughtUp(job, backend))
        watcher.cancel()
        _ = await watcher.result
        #expect(Set(try await ClearingScript.posted(client)) == ClearingScript.expected)
    }

    @Test func prepare_stateFileWithAnotherConfiguration_isRefused() async throws {
        let backend = try ClearingScript.makeBackend()
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        let genesis = backend.chain.genesis
        let other = ReconciliationEngine(configuration: ReconciliationConfiguration(graceMs: 1, inTransitThresholdMs: 2, duplicateWindowMs: 3))
        try ReconciliationState(chainID: genesis.chainID, genesisHash: genesis.hash, engine: other).save(path: statePath)
        try await withAPIServer(backend) { client in
            let job = ReconciliationJob(client: client, key: backend.chain.member("ch").key, options: .init(statePath: statePath))
            let error = await #expect(throws: ReconciliationJobError.self) { try await job.prepare() }
            #expect(error?.message.contains("configuration") == true)
            #expect(error?.isTransient == false)
        }
    }

    @Test func prepare_stateFileOfAnotherChain_isRefused() async throws {
        let backend = try ClearingScript.makeBackend()
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        let engine = ReconciliationEngine(configuration: .defaults)
        try ReconciliationState(chainID: "another-chain", genesisHash: Hash.sha256([1]), engine: engine).save(path: statePath)
        try await withAPIServer(backend) { client in
            let job = ReconciliationJob(client: client, key: backend.chain.member("ch").key, options: .init(statePath: statePath))
            let error = await #expect(throws: ReconciliationJobError.self) { try await job.prepare() }
            #expect(error?.message.contains("another-chain") == true)
        }
    }

    @Test func stateFile_corruptOrForeignBytes_areRefusedWithTheReason() throws {
        let state = ReconciliationState(chainID: "c", genesisHash: Hash.sha256([2]), engine: ReconciliationEngine(configuration: .defaults, cursor: 41))
        var bytes = state.fileBytes
        #expect(try ReconciliationState(fileBytes: bytes, path: "s").engine.cursor == 41)
        bytes[bytes.count / 2] ^= 0xFF
        #expect(throws: ReconciliationStateFileError.self) { try ReconciliationState(fileBytes: bytes, path: "s") }
        let foreign = Array(repeating: UInt8(ascii: "x"), count: 100)
        let error = #expect(throws: ReconciliationStateFileError.self) { try ReconciliationState(fileBytes: foreign, path: "s") }
        #expect(error?.description.contains("state file s") == true)
    }

    @Test func stateFile_save_replacesTheFileAndLeavesNoTemporary() throws {
        let path = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        for cursor in [UInt64(3), 9] {
            try ReconciliationState(chainID: "c", genesisHash: Hash.sha256([3]), engine: ReconciliationEngine(configuration: .defaults, cursor: cursor)).save(path: path)
        }
        #expect(try ReconciliationState.load(path: path)?.engine.cursor == 9)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test func run_dryRunOverARange_reportsBreaksAndPostsNothing() async throws {
        let backend = try ClearingScript.makeBackend()
        try await ClearingScript.play(on: backend, pauseMs: 0)
        let head = backend.ledger.head.height
        try await withAPIServer(backend) { client in
            let job = ReconciliationJob(client: client, key: nil, options: .init(statePath: nil, post: false))
            let outputs = try await job.run(from: 1, to: head)
            let found = Set(outputs.flatMap(\.findings).map { "\($0.key.paymentID) \($0.key.kind.rawValue) \($0.key.side.rawValue)" })
            #expect(found == Set(ClearingScript.expected.map { "\($0.payment) \($0.kind) \($0.side)" }))
            #expect(backend.ledger.head.height == head)
            let later = ReconciliationJob(client: client, key: nil, options: .init(statePath: nil, post: false))
            let outputsFromMiddle = try await later.run(from: 3, to: head)
            #expect(outputsFromMiddle.allSatisfy { $0.height >= 3 })
            let second = await #expect(throws: ReconciliationJobError.self) { try await later.run(from: 1, to: 2) }
            #expect(second?.message.contains("takes block") == true)
        }
    }

    @Test func serverSentEventParser_joinsDataLinesAndSkipsComments() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(": keep-alive") == nil)
        #expect(parser.feed("") == nil)
        #expect(parser.feed("id: 7") == nil)
        #expect(parser.feed("event: block") == nil)
        #expect(parser.feed("data: {\"a\":1}") == nil)
        #expect(parser.feed("") == "{\"a\":1}")
        #expect(parser.feed("event: other") == nil)
        #expect(parser.feed("data: x") == nil)
        #expect(parser.feed("") == nil)
    }

    @Test func delayStatistics_percentilesUseNearestRank() {
        var statistics = DelayStatistics()
        #expect(statistics.percentile(50) == nil)
        for value in 1...100 { statistics.record(UInt64(value)) }
        #expect(statistics.percentile(50) == 50)
        #expect(statistics.percentile(99) == 99)
        #expect(statistics.count == 100)
    }
}
