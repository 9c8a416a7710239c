import Foundation
import Testing
import Consensus
import Contracts
import Ledger
import ConsortTesting
import LedgerCore
@testable import Node
@testable import ReconciliationJob
import NodeAPI
@testable import NodeClient

/// Cancels a job's task once it has reported a number of events: a kill at an exact point of its work.
final class KillSwitch: @unchecked Sendable {
    private let lock = Lock()
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


/// Waits until the job has processed every committed block (then it has nothing left to post).
func waitUntilCaughtUp(_ job: ReconciliationJob, _ backend: CommittingBackend, roundsMax: Int = 600) async throws -> Bool {
    for _ in 0..<roundsMax {
        if await job.cursor == backend.ledger.head.height { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return false
}

/// A node that loses one sender's transactions until told to stop: it
/// answers "added" and never commits them, as a node that restarts loses its mempool.
final class LosingBackend: NodeBackend, @unchecked Sendable {
    let inner: CommittingBackend
    private let sender: PublicKey
    private let lock = Lock()
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

    @Test func delayStatistics_percentilesUseNearestRank() {
        var statistics = DelayStatistics()
        #expect(statistics.percentile(50) == nil)
        for value in 1...100 { statistics.record(UInt64(value)) }
        #expect(statistics.percentile(50) == 50)
        #expect(statistics.percentile(99) == 99)
        #expect(statistics.count == 100)
    }
}
