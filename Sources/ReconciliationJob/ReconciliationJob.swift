import Contracts
import Foundation
import Ledger
import LedgerCore
import NodeAPI
import NodeClient

/// Why the reconciliation job stopped or retried.
public struct ReconciliationJobError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, for a person.
    public let message: String
    /// True when retrying after a pause may succeed (the node went away, a
    /// post did not commit in time); false when a person must act.
    public let isTransient: Bool

    /// Creates an error.
    public init(_ message: String, transient: Bool) {
        self.message = message
        self.isTransient = transient
    }

    public var description: String { message }

    static func from(_ error: NodeClientError) -> ReconciliationJobError {
        switch error {
        case .unreachable, .timedOut, .badResponse: ReconciliationJobError(error.description, transient: true)
        case .api(let status, _, _) where status >= 500 || status == 429: ReconciliationJobError(error.description, transient: true)
        case .api, .badURL, .badRequest: ReconciliationJobError(error.description, transient: false)
        }
    }
}

/// What the job reports while it runs.
public enum ReconciliationJobEvent: Sendable {
    /// The job has its engine and will take block `cursor + 1` next.
    case started(cursor: UInt64, resumed: Bool)
    /// A finding committed (or, in a dry run, was found); `delayMs` is the
    /// time from the exposing block's time to when the job saw it committed
    /// (nil in a dry run).
    case finding(ReconciliationFinding, transactionID: Hash?, delayMs: UInt64?)
    /// A resolution committed (or, in a dry run, was found).
    case resolution(ReconciliationResolution, transactionID: Hash?)
    /// A block was processed and its outputs submitted (a one-shot run also
    /// waits for them to commit); the state file covers it once they have.
    case processed(height: UInt64)
    /// The stream or a post failed; the job retries after `afterMs`.
    case retrying(reason: String, afterMs: UInt64)
}

/// Detection delays of posted findings, with percentiles.
public struct DelayStatistics: Sendable, Equatable {
    /// Delays in ms, at most ``ReconciliationJobLimits/delaySamplesMax`` of the latest.
    public private(set) var window = SampleWindow(capacity: ReconciliationJobLimits.delaySamplesMax)

    /// An empty record.
    public init() {}

    /// Number of delays ever recorded.
    public var count: Int { window.count }

    /// Records one delay.
    public mutating func record(_ delayMs: UInt64) {
        window.record(delayMs)
    }

    /// The `percent` percentile (nearest rank) of the kept samples, or nil when there are none.
    public func percentile(_ percent: Int) -> UInt64? {
        window.percentile(percent)
    }

    /// `findings N, detection delay p50 X ms, p99 Y ms`.
    public var summary: String {
        guard let p50 = percentile(50), let p99 = percentile(99) else { return "findings 0, detection delay: no findings posted yet" }
        return "findings \(count), detection delay p50 \(p50) ms, p99 \(p99) ms"
    }
}

/// The T+0 reconciliation job (docs/contracts.md, Clearing): follows a node's committed
/// blocks, feeds them in height order to a ``ReconciliationEngine``, posts
/// the engine's resolutions and findings as signed transactions from one
/// key, waits for each to commit, and only then saves the engine with its
/// cursor to the state file.
///
/// Restart guarantee: the state file is replaced atomically after a block's
/// posts have committed. A job killed at any instant restarts from the last
/// saved cursor and re-processes the blocks after it; the engine is
/// deterministic, so it produces the same calls again, and the clearing
/// contract ignores a finding or resolution that is already on the ledger.
/// No block is missed (the cursor only moves past a block once its calls
/// are committed) and none is counted twice (the engine skips heights at or
/// below its cursor).
public actor ReconciliationJob {
    /// How the job runs.
    public struct Options: Sendable {
        /// Where the engine is saved; nil keeps it in memory only (one-shot runs).
        public var statePath: String?
        /// The first height to process when there is no state file (default 1).
        public var fromHeight: UInt64?
        /// Whether to post calls; false only reports them (dry run).
        public var post: Bool
        /// Lifetime of posted transactions.
        public var transactionLifetimeMs: UInt64
        /// How long to wait for a posted transaction to commit before retrying.
        public var commitTimeoutMs: UInt64
        /// First pause after a failure; it doubles up to ``backoffMaxMs``.
        public var backoffMinMs: UInt64
        /// Longest pause between retries.
        public var backoffMaxMs: UInt64
        /// Least time between two saves of the state file while following the
        /// stream; 0 saves after every block. The file holds every payment the
        /// engine remembers, so saving it after each of many small blocks
        /// would cost more than the reconciliation itself; a job restarted
        /// from an older save re-processes a few blocks, and the contract
        /// ignores what it posts again.
        public var saveIntervalMs: UInt64

        /// Creates options; the defaults (``ReconciliationJobDefaults``) suit a job following a live node.
        public init(statePath: String?, fromHeight: UInt64? = nil, post: Bool = true,
                    transactionLifetimeMs: UInt64 = ReconciliationJobDefaults.transactionLifetimeMs,
                    commitTimeoutMs: UInt64 = ReconciliationJobDefaults.commitTimeoutMs,
                    backoffMinMs: UInt64 = ReconciliationJobDefaults.backoffMinMs,
                    backoffMaxMs: UInt64 = ReconciliationJobDefaults.backoffMaxMs,
                    saveIntervalMs: UInt64 = ReconciliationJobDefaults.saveIntervalMs) {
            self.statePath = statePath
            self.fromHeight = fromHeight
            self.post = post
            self.transactionLifetimeMs = transactionLifetimeMs
            self.commitTimeoutMs = commitTimeoutMs
            self.backoffMinMs = backoffMinMs
            self.backoffMaxMs = backoffMaxMs
            self.saveIntervalMs = saveIntervalMs
        }
    }

    private let client: NodeClient
    private let key: PrivateKey?
    private let options: Options
    private let onEvent: @Sendable (ReconciliationJobEvent) -> Void
    private var state: ReconciliationState?
    /// Wall-clock time of the last save of the state file, and its cursor.
    private var lastSaveMs: UInt64 = 0
    private var savedCursor: UInt64?
    /// While watching, blocks whose posts were submitted and not yet seen
    /// committed, oldest first, each with the state from before it: the
    /// state file never gets ahead of the oldest of them.
    private var unconfirmed: [UnconfirmedBlock] = []
    /// The posts of ``unconfirmed`` by transaction id.
    private var pendingPosts: [Hash: PendingPost] = [:]
    /// The job key's next nonce while posts are in flight; nil asks the node.
    private var nextNonce: UInt64?
    /// Detection delays of the findings this job posted.
    public private(set) var delays = DelayStatistics()

    /// A job talking to the node behind `client`, signing with `key` (nil only for dry runs).
    public init(client: NodeClient, key: PrivateKey?, options: Options, onEvent: @escaping @Sendable (ReconciliationJobEvent) -> Void = { _ in }) {
        self.client = client
        self.key = key
        self.options = options
        self.onEvent = onEvent
    }

    /// The height of the last block processed (0 before ``prepare()``).
    public var cursor: UInt64 { state?.engine.cursor ?? 0 }

    /// Loads the state file (or starts a new engine at ``Options/fromHeight``)
    /// and checks it against the node: the chain must be the one the state
    /// was saved for, and the configuration must equal the clearing
    /// contract's `config` answer.
    public func prepare() async throws(ReconciliationJobError) {
        try await prepare(firstHeight: options.fromHeight)
    }

    private func prepare(firstHeight: UInt64?) async throws(ReconciliationJobError) {
        guard state == nil else { return }
        if options.post && key == nil { throw ReconciliationJobError("posting findings needs a signing key", transient: false) }
        let genesis = try await ask { client in try await client.genesis() }
        let chainID = genesis.chainID
        let genesisHash = genesis.hash
        let configQuery = ClearingContract.Query.config.rawValue
        let answer = try await ask { client in try await client.query(contract: ClearingContract.name, configQuery) }
        let configuration: ReconciliationConfiguration
        do {
            let config = try NodeClient.decodeResult(answer.result, as: ClearingConfigAnswer.self, contract: ClearingContract.name, configQuery)
            configuration = try ReconciliationConfiguration(configAnswer: config)
        } catch {
            throw ReconciliationJobError("the clearing contract's config answer is not understood: \(error)", transient: false)
        }
        var loaded: ReconciliationState?
        do throws(ReconciliationStateFileError) {
            if let path = options.statePath { loaded = try ReconciliationState.load(path: path) }
        } catch {
            throw ReconciliationJobError(error.description + "; move it away to start over from a height of your choice", transient: false)
        }
        if let loaded {
            let path = options.statePath ?? ""
            guard loaded.chainID == chainID, loaded.genesisHash == genesisHash else {
                throw ReconciliationJobError("state file \(path) belongs to chain '\(loaded.chainID)' (genesis \(loaded.genesisHash.short)…), "
                                             + "but the node serves chain '\(chainID)' (genesis \(genesisHash.short)…)", transient: false)
            }
            guard loaded.engine.configuration == configuration else {
                throw ReconciliationJobError("state file \(path) was made with reconciliation configuration \(Self.describe(loaded.engine.configuration)), "
                                             + "but the clearing contract now says \(Self.describe(configuration)); its findings would differ "
                                             + "from every other job's, so it is not used", transient: false)
            }
            state = loaded
            savedCursor = loaded.engine.cursor
            onEvent(.started(cursor: loaded.engine.cursor, resumed: true))
        } else {
            let first = max(firstHeight ?? 1, 1)
            state = ReconciliationState(chainID: chainID, genesisHash: genesisHash,
                                        engine: ReconciliationEngine(configuration: configuration, cursor: first - 1))
            onEvent(.started(cursor: first - 1, resumed: false))
        }
    }

    static func describe(_ configuration: ReconciliationConfiguration) -> String {
        "(grace \(configuration.graceMs) ms, in transit \(configuration.inTransitThresholdMs) ms, "
            + "duplicate window \(configuration.duplicateWindowMs) ms, retention \(configuration.retentionMs) ms)"
    }

    // MARK: Following the stream

    /// Prepares the job (see ``prepare()``), then follows the committed-block
    /// stream from the cursor until the task is cancelled or a non-transient
    /// error occurs; retries with back-off while the node is away.
    public func watch() async throws(ReconciliationJobError) {
        // Whatever ends the watch, keep the blocks fully handled so far; a
        // save that fails is reported with the error that ended the watch.
        do throws(ReconciliationJobError) {
            try await followUntilStopped()
        } catch {
            do throws(ReconciliationJobError) { try saveState() } catch let saving {
                throw ReconciliationJobError("\(error.message); and saving the state failed: \(saving.message)", transient: false)
            }
            throw error
        }
        try saveState()
    }

    private func followUntilStopped() async throws(ReconciliationJobError) {
        var backoff = RetryBackoff(minimumMs: options.backoffMinMs, maximumMs: options.backoffMaxMs)
        while !Task.isCancelled {
            let before = cursor
            do throws(ReconciliationJobError) {
                try await prepare()
                try await followStreamOnce()
                if cursor > before { backoff.succeeded() }
            } catch {
                nextNonce = nil
                if Task.isCancelled { return }
                guard error.isTransient else { throw error }
                onEvent(.retrying(reason: error.message, afterMs: backoff.currentMs))
                do { try await Task.sleep(nanoseconds: backoff.currentMs * 1_000_000) } catch { return }
                if cursor > before { backoff.succeeded() } else { backoff.failed() }
            }
        }
    }

    /// One connection to the event stream: processes blocks until the stream
    /// ends, the buffer limit asks for a reconnect, or the task is cancelled.
    private func followStreamOnce() async throws(ReconciliationJobError) {
        let (stream, continuation) = AsyncStream.makeStream(of: StreamItem.self)
        let buffer = StreamBuffer()
        let from = cursor + 1
        let client = self.client
        let reader = Task {
            do throws(NodeClientError) {
                try await client.events(from: from) { event in
                    if buffer.isStopped { return false }
                    if buffer.add() > ReconciliationJobLimits.streamBufferBlocksMax {
                        buffer.stop()
                        continuation.yield(.overflow)
                        return false
                    }
                    continuation.yield(.block(event.block))
                    return true
                }
                continuation.yield(.ended(nil))
            } catch {
                continuation.yield(.ended(ReconciliationJobError.from(error)))
            }
            continuation.finish()
        }
        let ticker = Task {
            while !Task.isCancelled {
                try await Task.sleep(nanoseconds: ReconciliationJobLimits.unconfirmedCheckMs * 1_000_000)
                continuation.yield(.tick)
            }
        }
        defer {
            buffer.stop()
            reader.cancel()
            ticker.cancel()
        }
        for await item in stream {
            if Task.isCancelled { return }
            switch item {
            case .tick:
                try checkUnconfirmedAge()
            case .block(let block):
                buffer.remove()
                try await handle(block: block, pipelined: true)
            case .overflow:
                return
            case .ended(let error):
                if let error { throw error }
                throw ReconciliationJobError("the node closed the event stream", transient: true)
            }
        }
    }

    private enum StreamItem: Sendable {
        case tick
        case block(BlockAnswer)
        case overflow
        case ended(ReconciliationJobError?)
    }

    // MARK: One-shot runs

    /// Processes blocks `from`…`to`, read one by one with `GET /v1/blocks/{h}`,
    /// with a fresh engine starting at `from` (records before `from` are not
    /// known to it), or with the saved engine when its cursor is `from - 1`;
    /// returns the outputs that had something to post.
    public func run(from: UInt64, to: UInt64) async throws(ReconciliationJobError) -> [ReconciliationOutput] {
        guard from >= 1, from <= to else { throw ReconciliationJobError("the range must satisfy 1 ≤ from ≤ to, got \(from)…\(to)", transient: false) }
        try await prepare(firstHeight: from)
        guard cursor + 1 == from else {
            throw ReconciliationJobError("the job's engine takes block \(cursor + 1) next, so a run cannot start at \(from)", transient: false)
        }
        var outputs: [ReconciliationOutput] = []
        for height in from...to {
            let block = try await ask { client in try await client.block(at: height) }
            if let output = try await handle(block: block), !output.isEmpty { outputs.append(output) }
        }
        try saveState()
        return outputs
    }

    // MARK: Processing a block

    /// Feeds one block (as the API gives it) to the engine and posts its
    /// calls. `pipelined` (a watch) goes on without waiting: the block stream
    /// shows the posts committed, and the state file is saved only up to the
    /// oldest block whose posts it has not seen yet. Otherwise (a one-shot
    /// run) it waits for the posts to commit. A block at or below the cursor
    /// is skipped; one above `cursor + 1` is a transient gap.
    @discardableResult
    func handle(block answer: BlockAnswer, pipelined: Bool = false) async throws(ReconciliationJobError) -> ReconciliationOutput? {
        guard var current = state else { throw ReconciliationJobError("the job was not prepared", transient: false) }
        let (block, receipts) = try Self.decodeBlock(answer)
        guard block.height > current.engine.cursor else { return nil }
        guard block.height == current.engine.cursor + 1 else {
            throw ReconciliationJobError("expected block \(current.engine.cursor + 1), the node sent block \(block.height)", transient: true)
        }
        try confirmPosts(in: block, receipts: receipts)
        let before = current
        let output: ReconciliationOutput
        do {
            output = try current.engine.process(try ClearingBlock.extract(block: block, receipts: receipts))
        } catch {
            throw ReconciliationJobError("block \(block.height) cannot be reconciled: \(error)", transient: false)
        }
        if options.post {
            if pipelined {
                try await submit(output, stateBefore: before)
            } else {
                try await post(output)
            }
        } else {
            for resolution in output.resolutions { onEvent(.resolution(resolution, transactionID: nil)) }
            for finding in output.findings { onEvent(.finding(finding, transactionID: nil, delayMs: nil)) }
        }
        if Task.isCancelled { throw ReconciliationJobError("stopped before saving block \(block.height)", transient: false) }
        state = current
        if wallClockMs() >= lastSaveMs + options.saveIntervalMs { try saveState() }
        onEvent(.processed(height: block.height))
        return output
    }

    /// Writes the state file (if the job has one) unless it already holds the current cursor.
    private func saveState() throws(ReconciliationJobError) {
        guard let path = options.statePath, let confirmed = unconfirmed.first?.stateBefore ?? state,
              savedCursor != confirmed.engine.cursor else { return }
        do { try confirmed.save(path: path) } catch { throw ReconciliationJobError(error.description, transient: false) }
        savedCursor = confirmed.engine.cursor
        lastSaveMs = wallClockMs()
    }

    /// The block and receipts of a block from `/v1/blocks/{h}` or `/v1/events`;
    /// event attributes come back sorted by key, as the API keeps one value per key.
    static func decodeBlock(_ answer: BlockAnswer) throws(ReconciliationJobError) -> (Block, [Receipt]) {
        guard let encoded = answer.encoded else {
            throw ReconciliationJobError("a block from the node has no 'encoded' field (the genesis block cannot be reconciled)", transient: false)
        }
        let block: Block
        do { block = try CertifiedBlock(canonicalBytes: encoded.bytes).block } catch {
            throw ReconciliationJobError("a block from the node does not decode: \(error)", transient: false)
        }
        guard let receiptList = answer.receipts else {
            throw ReconciliationJobError("block \(block.height) from the node has no receipts", transient: false)
        }
        let receipts = receiptList.map { item in
            let events = item.events.map { event in
                Event(contract: event.contract, name: event.name,
                      attributes: event.attributes.keys.sorted().map { EventAttribute($0, event.attributes[$0] ?? "") })
            }
            let status: Receipt.Status = item.isSuccess
                ? .success
                : .rejected(Rejection(code: item.error?.code ?? "unknown", message: item.error?.message ?? ""))
            return Receipt(transactionID: item.transactionID, status: status, events: events)
        }
        return (block, receipts)
    }

    // MARK: Posting

    private enum Posted {
        case resolution(ReconciliationResolution)
        case finding(ReconciliationFinding)
    }

    private struct UnconfirmedBlock {
        let height: UInt64
        let stateBefore: ReconciliationState
        let submittedAtMs: UInt64
        var waiting: Set<Hash>
    }

    private struct PendingPost {
        let height: UInt64
        let item: Posted
    }

    /// The calls of an output: resolutions first, then findings.
    private static func items(of output: ReconciliationOutput) -> [(ContractCall, Posted)] {
        output.resolutions.map { (ClearingContract.call(.resolveFinding, $0.resolveArguments), Posted.resolution($0)) }
            + output.findings.map { (ClearingContract.call(.postFinding, $0.postArguments), Posted.finding($0)) }
    }

    /// Signs and submits `items` with consecutive nonces, from the node's
    /// pending nonce when ``nextNonce`` is not known.
    private func submit(_ items: ArraySlice<(ContractCall, Posted)>, height: UInt64) async throws(ReconciliationJobError) -> [Transaction] {
        guard let key else { throw ReconciliationJobError("posting findings needs a signing key", transient: false) }
        guard let chainID = state?.chainID else { throw ReconciliationJobError("the job was not prepared", transient: false) }
        var nonce: UInt64
        if let known = nextNonce {
            nonce = known
        } else {
            let account = try await ask { client in try await client.nonces(of: key.publicKey) }
            guard account.organization != nil else {
                throw ReconciliationJobError("key \(key.publicKey.hex) belongs to no organization of this consortium", transient: false)
            }
            nonce = account.pendingNonce
        }
        let status = try await ask { client in try await client.status() }
        let expiry = max(wallClockMs(), status.lastBlockTimeMs) + options.transactionLifetimeMs
        var transactions: [Transaction] = []
        for item in items {
            transactions.append(Transaction.signed(chainID: chainID, key: key, nonce: nonce, expiresAtMs: expiry, call: item.0))
            nonce += 1
        }
        // A stopped job posts nothing more; what it has not posted, its restart posts.
        if Task.isCancelled { throw ReconciliationJobError("stopped before posting everything for block \(height)", transient: false) }
        // One request, in the binary encoding, for the block's posts.
        let answer: BatchSubmissionAnswer
        do throws(NodeClientError) { answer = try await client.submit(batch: transactions) } catch { throw ReconciliationJobError.from(error) }
        guard answer.results.count == transactions.count else {
            throw ReconciliationJobError("the node answered \(answer.results.count) results for \(transactions.count) transactions", transient: true)
        }
        for (transaction, result) in zip(transactions, answer.results) where result.status != .pending {
            let reason = result.error.map { "\($0.code): \($0.message)" } ?? result.status.rawValue
            throw ReconciliationJobError("the node did not take transaction \(transaction.id.short)… for block \(height): \(reason)",
                                         transient: result.status == .busy)
        }
        nextNonce = nonce
        return transactions
    }

    /// Reports a post seen committed, with the detection delay of a finding.
    private func report(_ item: Posted, transactionID: Hash) {
        switch item {
        case .resolution(let resolution):
            onEvent(.resolution(resolution, transactionID: transactionID))
        case .finding(let finding):
            let now = wallClockMs()
            let delay = now > finding.exposedAtMs ? now - finding.exposedAtMs : 0
            delays.record(delay)
            onEvent(.finding(finding, transactionID: transactionID, delayMs: delay))
        }
    }

    /// Posts resolutions, then findings, in batches, each batch committed before the next.
    private func post(_ output: ReconciliationOutput) async throws(ReconciliationJobError) {
        let items = Self.items(of: output)
        var start = 0
        while start < items.count {
            let batch = items[start..<min(start + ReconciliationJobLimits.postBatchCallsMax, items.count)]
            nextNonce = nil
            let transactions = try await submit(batch, height: output.height)
            for (transaction, item) in zip(transactions, batch) {
                try await waitForCommit(transaction.id)
                report(item.1, transactionID: transaction.id)
            }
            start += batch.count
        }
        nextNonce = nil
    }

    /// Submits an output's calls without waiting for them, keeping at most
    /// ``ReconciliationJobLimits/postsInFlightMax`` unconfirmed.
    private func submit(_ output: ReconciliationOutput, stateBefore: ReconciliationState) async throws(ReconciliationJobError) {
        let items = Self.items(of: output)
        var start = 0
        while start < items.count {
            let room = ReconciliationJobLimits.postsInFlightMax - pendingPosts.count
            guard room > 0 else {
                try await confirmOldestByPolling()
                continue
            }
            let batch = items[start..<min(start + min(room, ReconciliationJobLimits.postBatchCallsMax), items.count)]
            let transactions = try await submit(batch, height: output.height)
            // Registered only with posts to wait for, so the entry is never empty;
            // again if polling above saw all of this block's earlier posts commit.
            if unconfirmed.last?.height != output.height {
                unconfirmed.append(UnconfirmedBlock(height: output.height, stateBefore: stateBefore, submittedAtMs: wallClockMs(), waiting: []))
            }
            for (transaction, item) in zip(transactions, batch) {
                pendingPosts[transaction.id] = PendingPost(height: output.height, item: item.1)
                unconfirmed[unconfirmed.count - 1].waiting.insert(transaction.id)
            }
            start += batch.count
        }
    }

    /// Settles the posts that `block` committed; a rejected one is an error a person must look at.
    private func confirmPosts(in block: Block, receipts: [Receipt]) throws(ReconciliationJobError) {
        guard !pendingPosts.isEmpty else { return }
        for (transaction, receipt) in zip(block.transactions, receipts) {
            guard let pending = pendingPosts[transaction.id] else { continue }
            if let rejection = receipt.rejection {
                throw ReconciliationJobError("the ledger rejected reconciliation transaction \(transaction.id.hex) (\(rejection.code)): \(rejection.message)",
                                             transient: false)
            }
            settle(transaction.id, pending)
        }
    }

    private func settle(_ id: Hash, _ pending: PendingPost) {
        pendingPosts[id] = nil
        if let index = unconfirmed.firstIndex(where: { $0.height == pending.height }) { unconfirmed[index].waiting.remove(id) }
        while let first = unconfirmed.first, first.waiting.isEmpty { unconfirmed.removeFirst() }
        report(pending.item, transactionID: id)
    }

    /// Waits for the oldest block's posts by asking the node, when too many are in flight.
    private func confirmOldestByPolling() async throws(ReconciliationJobError) {
        guard let oldest = unconfirmed.first else { return }
        for id in oldest.waiting.sorted() {
            try await waitForCommit(id)
            if let pending = pendingPosts[id] { settle(id, pending) }
        }
    }

    /// Fails (transiently) when the oldest posts have waited past the commit
    /// timeout: the job then forgets them and goes back to the state before
    /// their block, so that it processes and posts from there again; the
    /// contract ignores whatever of it had committed after all.
    private func checkUnconfirmedAge() throws(ReconciliationJobError) {
        guard let oldest = unconfirmed.first, wallClockMs() > oldest.submittedAtMs + options.commitTimeoutMs else { return }
        state = oldest.stateBefore
        unconfirmed = []
        pendingPosts = [:]
        nextNonce = nil
        throw ReconciliationJobError("the posts for block \(oldest.height) did not commit within \(options.commitTimeoutMs) ms; "
                                     + "processing again from block \(oldest.height)", transient: true)
    }

    /// Waits until `id` commits; a rejected receipt is an error a person must look at.
    private func waitForCommit(_ id: Hash) async throws(ReconciliationJobError) {
        let found: CommittedTransaction?
        do throws(NodeClientError) {
            found = try await client.waitForCommit(id, timeoutMs: options.commitTimeoutMs,
                                                   pollIntervalMs: ReconciliationJobLimits.commitPollIntervalMs)
        } catch {
            throw ReconciliationJobError.from(error)
        }
        if Task.isCancelled { throw ReconciliationJobError("cancelled while waiting for \(id.hex) to commit", transient: false) }
        if let committed = found {
            guard committed.receipt.isSuccess else {
                let error = committed.receipt.error
                throw ReconciliationJobError("the ledger rejected reconciliation transaction \(id.hex) (\(error?.code ?? "?")): "
                                             + (error?.message ?? ""), transient: false)
            }
            return
        }
        throw ReconciliationJobError("transaction \(id.hex) did not commit within \(options.commitTimeoutMs) ms", transient: true)
    }

    /// One typed request to the node, its failure as a job error.
    private func ask<Answer: Sendable>(_ request: (NodeClient) async throws -> Answer) async throws(ReconciliationJobError) -> Answer {
        do {
            return try await request(client)
        } catch let error as NodeClientError {
            throw ReconciliationJobError.from(error)
        } catch {
            throw ReconciliationJobError("a request to the node failed: \(error)", transient: true)
        }
    }
}

/// Counts blocks handed from the stream reader to the job, and lets either side stop the stream.
private final class StreamBuffer: @unchecked Sendable {
    private let lock = Lock()
    private var buffered = 0
    private var stopped = false

    var isStopped: Bool { lock.withLock { stopped } }
    func stop() { lock.withLock { stopped = true } }
    func add() -> Int { lock.withLock { buffered += 1; return buffered } }
    func remove() { lock.withLock { buffered -= 1 } }
}
