import Consensus
import LedgerCore

/// How a Byzantine validator misbehaves. Each one runs the honest replica and
/// rewrites its output (or adds to it); honest code is never special-cased.
public enum ByzantineBehavior: String, CaseIterable, Sendable {
    /// Sends no messages at all, forever.
    case silent
    /// As primary, sends a different block to half of the replicas.
    case equivocate
    /// Sends prepares and commits for a random other block to half of the replicas.
    case conflictingVotes
    /// Adds messages that claim to come from other validators, and messages with broken signatures.
    case forgeSignatures
    /// Replays old messages it has seen to random replicas.
    case replay
    /// Sends random bytes and corrupted encodings.
    case garbage
    /// As primary, withholds its proposals and new-view messages.
    case withholdProposals
    /// As primary, sends headers the ledger would refuse: a proposer key other
    /// than its own, or a state claim at a height nobody has executed yet with a made-up root.
    case forgeHeaders
    /// Asks for view numbers far beyond the current one (up to the overflow edge).
    case hugeView
    /// Runs two honest copies with the same key (twins), fed different requests.
    case twins
    /// As a new primary, sends NEW-VIEW messages whose O is wrong: a different
    /// header at one height for some backups, the honest O for the others.
    case badNewView
    /// As primary, never proposes the transactions of one client (the run's
    /// censored sender); honest backups forward them and must get them ordered.
    case censor
    /// Accuses every primary: reports suspecting it in status messages and
    /// asks for the next view, while otherwise taking part honestly. f such
    /// validators must move no view with an honest primary.
    case falseSuspicion
}

/// What a node does when its durable record is torn (unreadable) at restart.
public enum TornWriteModel: String, Sendable {
    /// The store keeps the previous record beside the new one (two slots,
    /// each checked on read) and restarts from it. Safe under the persist
    /// contract: the torn write's step sent nothing, and the previous record
    /// covers every message sent before it.
    case restorePrevious
    /// The node refuses to start and stays down for good (an operator must
    /// recover it); it then counts against f.
    case refuseToStart
}

/// Everything that shapes one simulated run; a run is a pure function of it.
public struct SimulationOptions: Sendable {
    /// The seed the whole run derives from.
    public var seed: UInt64
    /// Number of validators (n).
    public var validatorCount: Int
    /// Behaviours of the Byzantine validators (at most f).
    public var byzantine: [ByzantineBehavior]
    /// Transactions clients submit during the run.
    public var transactionCount = 6
    /// Ticks of the phase with faults; then the network heals.
    public var faultTicks = 120
    /// Ticks after healing by which every transaction must commit everywhere.
    public var livenessTicksMax = 3000
    /// Chance that a message is lost before healing.
    public var messageLossProbability = 0.05
    /// Chance that a message is delivered twice before healing.
    public var duplicateProbability = 0.05
    /// Longest delivery delay; random delays reorder messages.
    public var delayTicksMax = 4
    /// Whether partitions come and go before healing.
    public var partitions = true
    /// Whether honest replicas crash (mid-step) and restart before healing.
    public var crashes = true
    /// Sign with secp256k1 instead of simulated signatures.
    public var realKeys = false
    /// K, heights between checkpoints.
    public var checkpointIntervalBlocks = 4
    /// High minus low watermark.
    public var watermarkWindowBlocks = 8
    /// Most transactions per block.
    public var blockTransactionsMax = 3
    /// Timers in ticks.
    public var timing = ReplicaTiming(batchTicks: 2, viewChangeTimeoutTicks: 20, retransmitTicks: 6,
                                      timestampDriftMsMax: 60_000, viewChangeBackoffDoublingsMax: 3)
    /// Validators whose execution computes a wrong state root (they must detect it).
    public var corruptExecution: Set<Int> = []
    /// Put the Byzantine validators first (so one is the primary of view 0) instead of last.
    public var byzantineFirst = false
    /// Clients that sign the transactions, in turn; a censoring primary ignores one of them.
    public var clientCount = 2
    /// Bytes of each transaction's call argument; large ones fill blocks towards the frame limit.
    public var transactionArgumentBytes = 1
    /// Whether clients submit every transaction at the first tick (a burst
    /// that fills blocks) instead of spreading them over the run.
    public var submitAllAtStart = false
    /// Fault rounds: each has `faultTicks` of faults then `healTicks` without
    /// them (partitions end, crashed and paused replicas come back); clients
    /// submit over all rounds. Liveness is checked after the last fault phase.
    public var rounds = 1
    /// Ticks without faults between two fault phases.
    public var healTicks = 150
    /// Honest validators that run slow for the whole run: they see only every
    /// `slowTickInterval`-th tick and their inputs arrive up to that many ticks late.
    public var slowReplicas: Set<Int> = []
    /// How much slower a slow replica is.
    public var slowTickInterval = 3
    /// Whether honest replicas pause in fault phases: they take no input for a
    /// while (messages wait for them, ticks are lost), then resume with their state.
    public var pauses = false
    /// A validator whose messages, sent and received, are held in fault phases
    /// until just after the receiver's view-change timer would fire.
    public var lateDeliveryReplica: Int?
    /// Largest clock offset (ms, either way) of a replica's clock from the
    /// reference; each replica draws its own from the seed.
    public var clockSkewMsMax: UInt64 = 0
    /// Whether a crash in the middle of a step may hit the disk: the step's
    /// persist completes but is lost (restart from the previous record), or is torn.
    public var diskFaults = false
    /// What a node does with a torn record.
    public var tornWriteModel = TornWriteModel.restorePrevious
    /// Largest encoded message the peer layer carries; larger ones are dropped
    /// (the real peer layer drops the connection) and counted.
    public var frameBytesMax = ConsensusLimits.messageBytesMax
    /// If set, the censored client's transactions must commit within this
    /// many ticks of submission (rule 9: a primary that never orders a request is suspected).
    public var censoredWaitTicksMax: Int?
    /// Ticks after liveness within which every running honest replica must be
    /// in the same view with no view change under way (twice the longest
    /// backed-off view-change timeout of the default timing).
    public var viewSettleTicksMax = 320
    /// Prints one line per step that did something (tick, replica, its view
    /// and heights, the input, the actions), to follow one seed by hand.
    public var trace = false

    /// True when nothing goes wrong in the run: no Byzantine validator, no
    /// loss, duplication, partition, crash, pause, slow or late replica, skew
    /// or disk fault, and delays well under the view-change timer.
    public var isFaultFree: Bool {
        byzantine.isEmpty && hasHonestNetworkAndReplicas
    }

    /// True when the run must stay in view 0: nothing goes wrong but false
    /// accusations from Byzantine validators, none of which leads view 0.
    public var mustKeepFirstView: Bool {
        hasHonestNetworkAndReplicas && byzantine.allSatisfy { $0 == .falseSuspicion } && (byzantine.isEmpty || !byzantineFirst)
    }

    var hasHonestNetworkAndReplicas: Bool {
        messageLossProbability == 0 && duplicateProbability == 0 && !partitions && !crashes
            && !pauses && slowReplicas.isEmpty && lateDeliveryReplica == nil && clockSkewMsMax == 0 && !diskFaults
            && corruptExecution.isEmpty && delayTicksMax * 4 < timing.viewChangeTimeoutTicks
    }

    /// Creates a value from its parts.
    public init(seed: UInt64, validatorCount: Int, byzantine: [ByzantineBehavior] = []) {
        self.seed = seed
        self.validatorCount = validatorCount
        self.byzantine = byzantine
    }
}

/// What a run found.
public struct SimulationResult: Sendable, CustomStringConvertible {
    /// The seed the whole run derives from.
    public var seed: UInt64
    /// What the checkers found; empty when the run passed.
    public var failures: [String] = []
    /// Highest height the sender has committed.
    public var committedHeight: UInt64 = 0
    /// Messages delivered to replicas.
    public var messagesDelivered = 0
    /// Highest view an honest replica reached.
    public var viewChanges: UInt64 = 0
    /// Faults reported, by validator index.
    public var faults: [Int: [ReplicaFault]] = [:]
    /// Inputs ignored, summed over replicas, by reason.
    public var dropCounts: [DropReason: Int] = [:]
    /// Ticks the run took.
    public var ticks = 0
    /// Lowest height an honest replica that is running has committed.
    public var lowestCommittedHeight: UInt64 = 0
    /// Messages the network dropped because their encoding exceeded the frame limit.
    public var oversizedMessages = 0
    /// Largest encoded message an honest replica sent.
    public var largestMessageBytes = 0
    /// Crashes whose last write was lost.
    public var lostWrites = 0
    /// Crashes that tore the record being written.
    public var tornWrites = 0
    /// Honest validators down for good (a torn record they refused to start from).
    public var deadReplicas: [Int] = []
    /// Pauses injected.
    public var pauses = 0
    /// Most transactions in one committed block.
    public var largestBlockTransactions = 0
    /// Longest time from a transaction's first submission to its first commit at an honest replica, in ticks.
    public var longestCommitWaitTicks = 0
    /// The same for the censored client's transactions, in runs with a censoring validator.
    public var longestCensoredWaitTicks = 0

    /// True when no checker failed.
    public var passed: Bool { failures.isEmpty }

    public var description: String {
        "seed \(seed): \(passed ? "ok" : "FAILED") height \(committedHeight) view \(viewChanges) ticks \(ticks) "
            + "messages \(messagesDelivered) oversized \(oversizedMessages) lost/torn writes \(lostWrites)/\(tornWrites)" + (failures.isEmpty ? "" : "\n  " + failures.prefix(5).joined(separator: "\n  "))
    }
}

/// The simulated ledger of one node: its committed chain (durable), the
/// state root of each executed height, and the transactions it committed.
final class SimLedger {
    var chain: [CertifiedBlock] = []
    var roots: [Hash]
    var committedIDs = Set<Hash>()

    init(genesisRoot: Hash) {
        roots = [genesisRoot]
    }

    var height: UInt64 { UInt64(chain.count) }
}

/// The shell's content check in the simulator: a transaction is valid when a
/// client submitted it, its signature verifies, and this node has not committed it.
/// It also checks, for an honest node, that every block the replica asks about
/// follows its parent by the ledger's header rule, and notes a violation if not.
final class SimValidator: ProposalValidator {
    let ledger: SimLedger
    let submitted: SubmittedSet
    let validators: ValidatorSet
    let genesisHeader: BlockHeader
    /// Where violations go; nil for a Byzantine node.
    let violations: ViolationLog?
    /// A sender whose transactions this node never proposes (a censoring primary).
    let censoredSender: PublicKey?

    init(ledger: SimLedger, submitted: SubmittedSet, validators: ValidatorSet, genesisHeader: BlockHeader,
         violations: ViolationLog?, censoredSender: PublicKey?) {
        self.ledger = ledger
        self.submitted = submitted
        self.validators = validators
        self.genesisHeader = genesisHeader
        self.violations = violations
        self.censoredSender = censoredSender
    }

    func isAcceptable(_ transaction: Transaction) -> Bool {
        submitted.ids.contains(transaction.id) && !ledger.committedIDs.contains(transaction.id)
            && SimulatedVerifier().isValid(transaction.signature, by: transaction.body.sender, for: transaction.id)
    }

    func isValid(block: Block, pendingAncestors: [Block]) -> Bool {
        if let violations { checkExecutable(block, pendingAncestors: pendingAncestors, violations: violations) }
        return block.transactions.allSatisfy(isAcceptable)
    }

    /// The ledger's own rule: a block the replica is about to vote for must
    /// follow its parent (the last pending ancestor, or the committed block
    /// below it) with a state claim this node has executed and agrees with.
    func checkExecutable(_ block: Block, pendingAncestors: [Block], violations: ViolationLog) {
        let parent: BlockHeader
        if let last = pendingAncestors.last {
            parent = last.header
        } else if block.height == 1 {
            parent = genesisHeader
        } else if block.height >= 2, block.height - 1 <= ledger.height {
            parent = ledger.chain[Int(block.height - 2)].block.header
        } else {
            return  // the parent committed in this step; the shell has not appended it yet
        }
        let stateHeight = Int(clamping: block.header.stateHeight)
        let localRoot = stateHeight < ledger.roots.count ? ledger.roots[stateHeight] : nil
        do {
            try block.header.checkFollows(parent, validators: validators, proposer: nil, localStateRoot: localRoot)
        } catch {
            violations.entries.append("replica asked to validate a block at height \(block.height) that cannot execute: \(error)")
        }
    }

    func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int) -> [Transaction] {
        var batch: [Transaction] = []
        for transaction in candidates where batch.count < limit && !transaction.body.isExpired(atMs: blockTimestampMs) {
            if let censoredSender, transaction.body.sender == censoredSender { continue }
            if isAcceptable(transaction) { batch.append(transaction) }
        }
        return batch
    }

    func executedStateRoot(at height: UInt64) -> Hash? {
        height < UInt64(ledger.roots.count) ? ledger.roots[Int(height)] : nil
    }
}

/// Violations found by the validators while a replica steps, collected by the run.
final class ViolationLog {
    var entries: [String] = []
}

final class SubmittedSet {
    var ids = Set<Hash>()
}

/// What travels on the simulated wire: bytes (rewritten, replayed or garbage,
/// decoded by the receiving replica) or an honest message that was encoded
/// and decoded once per send, and checked to round-trip.
enum Payload {
    case bytes([UInt8])
    case message(ConsensusMessage)
    /// A state-transfer answer from the shell of a peer.
    case blocks([CertifiedBlock])
}

struct SignedSlot: Hashable {
    var replica: Int
    var view: UInt64
    var height: UInt64
}

/// One validator slot in the simulation (two instances for twins).
final class SimNode {
    let index: Int
    let ledger: SimLedger
    var replica: Replica?
    var durable: PersistentState?
    var byzantine: ByzantineBehavior?
    var faults: [ReplicaFault] = []
    var seen: [[UInt8]] = []
    var restartAt: Int?
    /// The bytes on disk when the last write was torn (unreadable).
    var tornRecord: [UInt8]?
    /// Down for good: it refused to start from a torn record.
    var dead = false
    /// Paused until this tick: inputs wait in `backlog`, ticks are lost.
    var pausedUntil: Int?
    var backlog: [ReplicaInput] = []
    /// This node's clock offset from the reference clock, in ms.
    var clockOffsetMs: Int64 = 0
    /// Execution reports not yet given to the replica, oldest first: like
    /// the node's executor, the shell reports executed blocks in height order.
    var executionReports: [ReplicaInput] = []
    /// True while the shell is handing `executionReports` to the replica.
    var reportingExecution = false

    init(index: Int, ledger: SimLedger) {
        self.index = index
        self.ledger = ledger
    }
}

/// A deterministic simulation of n replicas in one process: a seeded network
/// with delay, loss, duplication, reordering and partitions; crashes with
/// restart from persisted state (losing what was not yet durable); Byzantine
/// validators; and checkers for agreement, validity, no double commit,
/// certificate validity and liveness after healing.
public struct Simulation {
    /// The options this run was built from.
    public let options: SimulationOptions
    var random: SplitMix64
    let chainID = "consort-sim"
    let validators: ValidatorSet
    let signerKeys: [PrivateKey]
    let genesisHeader: BlockHeader
    let genesisRoot = Hash.tagged("consort/sim/genesis-state", [])
    var nodes: [SimNode] = []
    let submitted = SubmittedSet()
    var transactions: [Transaction] = []
    var inflight: [Int: [(to: Int, payload: Payload)]] = [:]
    var partition: [Int]? = nil
    var now = 0
    var agreed: [UInt64: Hash] = [:]
    var result: SimulationResult
    var healed = false
    /// Every (replica, view, height) an honest replica signed a block for, across restarts.
    var signedBlocks: [SignedSlot: Hash] = [:]
    /// Violations the honest validators found.
    let violationLog = ViolationLog()
    /// The client a censoring primary ignores.
    public let censoredSender: PublicKey
    /// The tick each transaction was first handed to a validator.
    var submittedAt: [Hash: Int] = [:]

    /// Indices of Byzantine validators: the last ones, or the first with ``SimulationOptions/byzantineFirst``.
    public var byzantineIndices: [Int] {
        Simulation.byzantineIndices(options)
    }

    /// Indices the Byzantine validators of `options` take.
    public static func byzantineIndices(of options: SimulationOptions) -> [Int] {
        byzantineIndices(options)
    }

    static func byzantineIndices(_ options: SimulationOptions) -> [Int] {
        let count = options.byzantine.count
        if options.byzantineFirst { return Array(0..<count) }
        return Array((options.validatorCount - count)..<options.validatorCount)
    }

    /// Creates a value from its parts.
    public init(options: SimulationOptions) {
        precondition(options.validatorCount >= 4, "at least four validators")
        precondition(options.byzantine.count <= (options.validatorCount - 1) / 3, "at most f Byzantine validators")
        self.options = options
        random = SplitMix64(seed: options.seed)
        result = SimulationResult(seed: options.seed)
        signerKeys = (0..<options.validatorCount).map { SimulatedKeys.privateKey("validator", $0) }
        let members = signerKeys.enumerated().map { index, key in
            Validator(name: "v\(index)", organizationID: "org\(index)", nodeKey: key.publicKey, address: "sim:\(index)")
        }
        guard let set = try? ValidatorSet(members) else { preconditionFailure("simulated validators are distinct") }
        validators = set
        signers = signerKeys.map { key -> any ConsensusSigner in
            if options.realKeys { return Secp256k1Signer(key: key) }
            return SimulatedSigner(publicKey: key.publicKey)
        }
        genesisHeader = BlockHeader(
            height: 0, parentHash: .zero, timestampMs: 1_000, proposer: signerKeys[0].publicKey, transactionsRoot: .zero,
            stateHeight: 0, stateRoot: Hash.tagged("consort/sim/genesis-state", []), validatorSetHash: set.hash)
        for index in 0..<options.validatorCount {
            let node = SimNode(index: index, ledger: SimLedger(genesisRoot: genesisRoot))
            nodes.append(node)
        }
        for (offset, behavior) in options.byzantine.enumerated() {
            let index = Simulation.byzantineIndices(options)[offset]
            nodes[index].byzantine = behavior
            if behavior == .twins {
                let twin = SimNode(index: index, ledger: SimLedger(genesisRoot: genesisRoot))
                twin.byzantine = .twins
                nodes.append(twin)
            }
        }
        let clients = (0..<max(1, options.clientCount)).map { SimulatedKeys.privateKey("client", $0).publicKey }
        var setup = SplitMix64(seed: options.seed ^ 0x5EED_C105_C0FF_EE00)
        censoredSender = clients[setup.below(clients.count)]
        for node in nodes where options.clockSkewMsMax > 0 {
            let span = options.clockSkewMsMax * 2 + 1
            node.clockOffsetMs = Int64(setup.next(below: span)) - Int64(options.clockSkewMsMax)
        }
        for node in nodes { start(node) }
        for number in 0..<options.transactionCount {
            let client = clients[number % clients.count]
            var arguments = [UInt8](repeating: 0, count: max(1, options.transactionArgumentBytes))
            arguments[0] = UInt8(number & 0xFF)
            if arguments.count > 1 { arguments[1] = UInt8((number >> 8) & 0xFF) }
            let body = TransactionBody(chainID: chainID, sender: client, nonce: UInt64(number / clients.count), expiresAtMs: UInt64.max,
                                       call: ContractCall(contract: "sim", operation: "op", arguments: arguments))
            let transaction = Transaction(body: body, signature: SimulatedSigner(publicKey: client).sign(Transaction.id(of: body)))
            transactions.append(transaction)
        }
    }

    func isHonest(_ node: SimNode) -> Bool { node.byzantine == nil }

    func configuration(for index: Int) -> ReplicaConfiguration {
        var parameters = ChainParameters.defaults
        parameters.checkpointIntervalBlocks = options.checkpointIntervalBlocks
        parameters.watermarkWindowBlocks = options.watermarkWindowBlocks
        parameters.blockTransactionsMax = options.blockTransactionsMax
        return ReplicaConfiguration(chainID: chainID, validators: validators, replicaIndex: index, parameters: parameters,
                                    genesisHeader: genesisHeader, genesisStateRoot: genesisRoot, timing: options.timing)
    }

    func start(_ node: SimNode) {
        let signer = signers[node.index]
        let verifier = makeVerifier()
        let ledger = node.ledger
        let head = ChainHead(committedHeader: ledger.chain.last?.block.header ?? genesisHeader,
                             executedHeight: ledger.height, executedStateRoot: ledger.roots[ledger.roots.count - 1])
        let validator = SimValidator(ledger: ledger, submitted: submitted, validators: validators, genesisHeader: genesisHeader,
                                     violations: isHonest(node) && !options.corruptExecution.contains(node.index) ? violationLog : nil,
                                     censoredSender: node.byzantine == .censor ? censoredSender : nil)
        node.replica = Replica(configuration: configuration(for: node.index), signer: signer, verifier: verifier,
                               validator: validator, head: head, restoring: node.durable)
    }

    /// Restarts a node from what its disk holds: a torn record is unreadable,
    /// and the node either falls back to its previous record or stays down
    /// (``SimulationOptions/tornWriteModel``).
    mutating func restartFromDisk(_ node: SimNode) {
        guard !node.dead else { return }
        if let torn = node.tornRecord {
            node.tornRecord = nil
            if (try? PersistentState(canonicalBytes: torn)) != nil {
                result.failures.append("a torn record of replica \(node.index) decodes as a valid record")
            }
            switch options.tornWriteModel {
            case .restorePrevious:
                break  // `durable` still holds the last complete record, from the other slot
            case .refuseToStart:
                node.dead = true
                node.restartAt = nil
                return
            }
        }
        start(node)
    }

    /// Whether one more honest validator may go down for good: the Byzantine
    /// ones and the dead ones together stay within f.
    func mayLoseReplicaForGood() -> Bool {
        options.byzantine.count + nodes.filter(\.dead).count < (options.validatorCount - 1) / 3
    }

    let signers: [any ConsensusSigner]

    func makeVerifier() -> any SignatureVerifier {
        if options.realKeys { return Secp256k1Verifier() }
        return SimulatedVerifier()
    }

    // MARK: Scenario control

    /// The transactions of this run, in submission order.
    public var allTransactions: [Transaction] { transactions }
    /// Current simulated tick.
    public var tick: Int { now }

    /// Hands transaction number `number` to the given validators (a twin's
    /// second copy gets only the even-numbered ones).
    public mutating func submit(number: Int, to indices: [Int]) {
        let transaction = transactions[number]
        submitted.ids.insert(transaction.id)
        if submittedAt[transaction.id] == nil { submittedAt[transaction.id] = now }
        for (position, node) in nodes.enumerated() where indices.contains(node.index) && node.replica != nil {
            // The second copy of a twin sees only every other request, so the twins' proposals differ.
            if position >= options.validatorCount && number % 2 == 1 { continue }
            feed(node, input: .submit([transaction]))
        }
    }

    /// Stops a validator; its durable state survives.
    public mutating func crash(_ index: Int) {
        for node in nodes where node.index == index {
            node.replica = nil
            node.restartAt = nil
        }
    }

    /// Restarts a crashed validator from its ledger and persisted record.
    public mutating func restart(_ index: Int) {
        for node in nodes where node.index == index && node.replica == nil { restartFromDisk(node) }
    }

    /// Splits the network: validators in `group` reach only each other.
    public mutating func isolate(_ group: [Int]) {
        partition = (0..<options.validatorCount).map { group.contains($0) ? 1 : 0 }
    }

    /// Removes any partition.
    public mutating func reconnect() {
        partition = nil
    }

    /// Runs `count` ticks with no random fault injection (only the options'
    /// loss, duplication and delay); stops early if a checker fails.
    public mutating func runTicks(_ count: Int) {
        for _ in 0..<count where result.passed { stepOnce() }
    }

    /// Runs until `condition` holds or `limit` ticks pass; true if it held.
    public mutating func run(until limit: Int, _ condition: (Simulation) -> Bool) -> Bool {
        for _ in 0..<limit {
            if condition(self) { return true }
            guard result.passed else { return false }
            stepOnce()
        }
        return condition(self)
    }

    /// Committed height of validator `index` (its first instance).
    public func committedHeight(of index: Int) -> UInt64 {
        nodes.first { $0.index == index }?.ledger.height ?? 0
    }

    /// The replica of validator `index`, if it is running.
    public func replica(_ index: Int) -> Replica? {
        nodes.first { $0.index == index }?.replica
    }

    /// The last record validator `index` made durable.
    public func persisted(_ index: Int) -> PersistentState? {
        nodes.first { $0.index == index }?.durable
    }

    /// Whether every transaction in `numbers` committed at every honest validator in `indices`.
    public func committed(_ numbers: [Int], at indices: [Int]) -> Bool {
        numbers.allSatisfy { number in
            indices.allSatisfy { index in
                nodes.first { $0.index == index }?.ledger.committedIDs.contains(transactions[number].id) ?? false
            }
        }
    }

    /// The checkers' findings so far, with the drop counts and faults collected.
    public mutating func report() -> SimulationResult {
        finish()
        return result
    }

    // MARK: Running

    /// Ticks from the start to the end of the last fault phase.
    var faultsEnd: Int { options.rounds * (options.faultTicks + options.healTicks) - options.healTicks }

    /// Whether tick `tick` lies in a fault phase.
    func inFaultPhase(_ tick: Int) -> Bool {
        tick < faultsEnd && tick % (options.faultTicks + options.healTicks) < options.faultTicks
    }

    /// Runs the fault phases (with healed phases between them), heals, and
    /// runs until every transaction has committed at every honest replica or
    /// the liveness bound passes; then checks that the views settle.
    public mutating func run() -> SimulationResult {
        // One round keeps clients to the first two thirds of the fault phase;
        // longer runs spread the load over every round.
        var submitEnd = options.rounds == 1 ? max(1, options.faultTicks * 2 / 3) : max(1, faultsEnd - options.faultTicks / 3)
        if options.submitAllAtStart { submitEnd = 1 }
        var pending = transactions[...]
        while now < faultsEnd && result.passed {
            let remaining = max(1, submitEnd - now)
            var due = pending.count / remaining
            if random.chance(Double(pending.count % remaining) / Double(remaining)) { due += 1 }
            for _ in 0..<min(due, pending.count) {
                if let transaction = pending.popFirst() { submit(transaction, copies: 2) }
            }
            if inFaultPhase(now) {
                healed = false
                injectFaults()
            } else if !healed {
                heal()
            }
            stepOnce()
        }
        for transaction in pending { submit(transaction, copies: 2) }
        heal()
        let healedAt = now
        let deadline = now + options.livenessTicksMax
        while now < deadline && result.passed && !allCommitted() {
            if (now - healedAt) % 200 == 199 {
                for transaction in transactions where !allHonestCommitted(transaction.id) { submit(transaction, copies: nodes.count) }
            }
            stepOnce()
        }
        if result.passed && !allCommitted() {
            let heights = liveHonestNodes.map { "\($0.index):\($0.ledger.height)/v\($0.replica?.view ?? 0)/c\($0.replica?.changingTo.map(String.init) ?? "-")" }
            result.failures.append("liveness: not every transaction committed within \(options.livenessTicksMax) ticks after healing (\(heights.joined(separator: " ")))")
        }
        if result.passed { checkViewsSettle() }
        if result.passed && options.mustKeepFirstView {
            let views = liveHonestNodes.compactMap { $0.replica?.view }
            if views.contains(where: { $0 > 0 }) || liveHonestNodes.contains(where: { $0.replica?.changingTo != nil }) {
                result.failures.append("view changes in a run without faults\(options.byzantine.isEmpty ? "" : " but false accusations"): views \(views)")
            }
        }
        finish()
        return result
    }

    /// Honest nodes that run (not down for good), with a correct execution.
    var liveHonestNodes: [SimNode] {
        nodes.filter { isHonest($0) && !$0.dead && !options.corruptExecution.contains($0.index) }
    }

    /// After healing and liveness, every running honest replica must reach
    /// one view with no view change under way, within the settle bound.
    mutating func checkViewsSettle() {
        func settled(_ simulation: Simulation) -> Bool {
            let replicas = simulation.liveHonestNodes.compactMap(\.replica)
            guard replicas.count == simulation.liveHonestNodes.count, let first = replicas.first else { return true }
            return replicas.allSatisfy { $0.view == first.view && $0.changingTo == nil }
        }
        if !run(until: options.viewSettleTicksMax, settled) && result.passed {
            let views = liveHonestNodes.map { "\($0.index):v\($0.replica?.view ?? 0)/c\($0.replica?.changingTo.map(String.init) ?? "-")/h\($0.ledger.height)" }
            result.failures.append("views: honest replicas do not settle in one view within \(options.viewSettleTicksMax) ticks after liveness (\(views.joined(separator: " ")))")
        }
    }

    mutating func finish() {
        result.faults = [:]
        result.dropCounts = [:]
        result.ticks = now
        let live = liveHonestNodes
        result.committedHeight = live.map { $0.ledger.height }.max() ?? 0
        result.lowestCommittedHeight = live.map { $0.ledger.height }.min() ?? 0
        result.viewChanges = live.compactMap { $0.replica?.view }.max() ?? 0
        result.deadReplicas = nodes.filter(\.dead).map(\.index)
        for node in nodes {
            if !node.faults.isEmpty { result.faults[node.index, default: []].append(contentsOf: node.faults) }
            if let replica = node.replica {
                for (reason, count) in replica.dropCounts { result.dropCounts[reason, default: 0] += count }
            }
        }
    }

    func allHonestCommitted(_ id: Hash) -> Bool {
        liveHonestNodes.allSatisfy { $0.ledger.committedIDs.contains(id) }
    }

    func allCommitted() -> Bool {
        let live = liveHonestNodes
        return transactions.allSatisfy { transaction in live.allSatisfy { $0.ledger.committedIDs.contains(transaction.id) } }
    }

    /// A client hands a transaction to `copies` random validators.
    mutating func submit(_ transaction: Transaction, copies: Int) {
        submitted.ids.insert(transaction.id)
        if submittedAt[transaction.id] == nil { submittedAt[transaction.id] = now }
        var chosen = Set<Int>()
        while chosen.count < min(copies, nodes.count) { chosen.insert(random.below(nodes.count)) }
        for position in chosen.sorted() {
            let node = nodes[position]
            guard node.replica != nil else { continue }
            if node.byzantine == .twins && random.chance(0.5) { continue }
            feed(node, input: .submit([transaction]))
        }
    }

    /// Ends the faults: partitions go, crashed replicas restart, paused ones resume.
    mutating func heal() {
        healed = true
        partition = nil
        for node in nodes where node.pausedUntil != nil { resume(node) }
        for node in nodes where node.replica == nil {
            node.restartAt = nil
            restartFromDisk(node)
        }
    }

    /// Partitions come and go; honest replicas crash and restart later, and pause and resume.
    mutating func injectFaults() {
        if options.partitions {
            if partition == nil && random.chance(0.01) {
                partition = (0..<options.validatorCount).map { _ in random.below(2) }
            } else if partition != nil && random.chance(0.03) {
                partition = nil
            }
        }
        for node in nodes where node.replica == nil {
            if let at = node.restartAt, at <= now {
                node.restartAt = nil
                restartFromDisk(node)
            }
        }
        if options.crashes && random.chance(0.01) {
            let node = nodes[random.below(options.validatorCount)]
            if node.replica != nil && isHonest(node) {
                node.replica = nil
                node.pausedUntil = nil
                node.backlog = []
                node.restartAt = now + 5 + random.below(60)
            }
        }
        if options.pauses && random.chance(0.008) {
            let node = nodes[random.below(options.validatorCount)]
            if node.replica != nil && node.pausedUntil == nil && isHonest(node) {
                node.pausedUntil = now + 10 + random.below(2 * options.timing.viewChangeTimeoutTicks)
                result.pauses += 1
            }
        }
    }

    /// Hands an input to a node, or keeps it for later while the node is paused.
    mutating func feed(_ node: SimNode, input: ReplicaInput) {
        if node.pausedUntil != nil {
            node.backlog.append(input)
        } else {
            apply(node, input: input)
        }
    }

    /// A paused node takes the inputs that waited for it, in arrival order.
    mutating func resume(_ node: SimNode) {
        node.pausedUntil = nil
        let backlog = node.backlog
        node.backlog = []
        for input in backlog where node.replica != nil && node.pausedUntil == nil { apply(node, input: input) }
    }

    /// The clock a node's shell reads at the current tick (reference plus its skew).
    func clockMs(of node: SimNode) -> UInt64 {
        UInt64(clamping: 1_000_000 + Int64(now) * 10 + node.clockOffsetMs)
    }

    mutating func stepOnce() {
        now += 1
        for node in nodes {
            if let until = node.pausedUntil, until <= now { resume(node) }
        }
        var deliveries = inflight.removeValue(forKey: now) ?? []
        deliveries.shuffle(using: &random)
        for delivery in deliveries {
            for node in nodes where node.index == delivery.to {
                guard node.replica != nil else { continue }
                result.messagesDelivered += 1
                switch delivery.payload {
                case .bytes(let bytes):
                    feed(node, input: .messageBytes(bytes))
                case .blocks(let blocks):
                    feed(node, input: .stateTransfer(blocks))
                case .message(let message):
                    if (node.byzantine == .replay || node.byzantine == .garbage) && node.seen.count < 256 {
                        node.seen.append(message.canonicalBytes)
                    }
                    feed(node, input: .message(message))
                }
            }
        }
        for node in nodes where node.replica != nil && node.pausedUntil == nil {
            if options.slowReplicas.contains(node.index) && (now + node.index) % max(1, options.slowTickInterval) != 0 { continue }
            apply(node, input: .tick(clockMs: clockMs(of: node)))
            byzantineExtras(node)
        }
    }

    /// Feeds one input and carries out the actions, possibly crashing part way
    /// (and, with disk faults, losing or tearing the step's persisted record).
    mutating func apply(_ node: SimNode, input: ReplicaInput) {
        guard var replica = node.replica else { return }
        node.replica = nil  // keep the replica's storage uniquely referenced while it steps
        let actions = replica.step(input)
        node.replica = replica
        if options.trace { trace(node, replica: replica, input: input, actions: actions) }
        if !violationLog.entries.isEmpty {
            result.failures.append(contentsOf: violationLog.entries.map { "replica \(node.index): \($0)" })
            violationLog.entries = []
        }
        var cut = actions.count
        var lostWrite = false
        var tornWrite = false
        if options.crashes && !healed && isHonest(node) && !actions.isEmpty && random.chance(0.002) {
            cut = random.below(actions.count + 1)
            let persists = actions.indices.filter { if case .persist = actions[$0] { return true } else { return false } }
            if options.diskFaults, !persists.isEmpty, random.chance(0.6) {
                // The crash hits the write itself: the persist "completes" in
                // the replica's eyes, but the sends that depend on it (the
                // rest of the step) never leave, since they wait for the write.
                cut = persists[random.below(persists.count)] + 1
                if random.chance(0.5) && (options.tornWriteModel == .restorePrevious || mayLoseReplicaForGood()) {
                    tornWrite = true
                } else {
                    lostWrite = true
                }
            }
        }
        var followUps: [ReplicaInput] = []
        for (position, action) in actions.prefix(cut).enumerated() {
            switch action {
            case .persist(let state):
                if position == cut - 1 && (lostWrite || tornWrite) {
                    if tornWrite {
                        let bytes = state.canonicalBytes
                        node.tornRecord = Array(bytes.prefix(random.below(max(1, bytes.count))))
                        result.tornWrites += 1
                    } else {
                        result.lostWrites += 1
                    }
                    continue
                }
                node.durable = state
                node.tornRecord = nil
                // Persisted bytes must decode back to the same record.
                if random.chance(0.05), (try? PersistentState(canonicalBytes: state.canonicalBytes)) != state {
                    result.failures.append("persisted state of replica \(node.index) does not round-trip")
                }
            case .send(let message, let destination):
                send(message, from: node, to: destination)
            case .commit(let block, let certificate):
                if let root = commit(block, certificate: certificate, at: node) {
                    followUps.append(.executed(header: block.header, stateRoot: root))
                }
            case .requestStateTransfer(let from, let to):
                serveStateTransfer(to: node, from: from, through: to)
            case .fault(let fault):
                node.faults.append(fault)
                if isHonest(node) && !options.corruptExecution.contains(node.index) {
                    result.failures.append("honest replica \(node.index) reported a fault: \(fault)")
                }
            }
        }
        if cut < actions.count || lostWrite || tornWrite {
            node.replica = nil
            node.pausedUntil = nil
            node.backlog = []
            node.restartAt = now + 5 + random.below(40)
            node.executionReports = []
            return
        }
        // A report applied here may commit and execute more blocks; their
        // reports queue behind the ones already waiting, never before them.
        node.executionReports.append(contentsOf: followUps)
        guard !node.reportingExecution else { return }
        node.reportingExecution = true
        while node.replica != nil, !node.executionReports.isEmpty {
            apply(node, input: node.executionReports.removeFirst())
        }
        node.reportingExecution = false
    }

    func trace(_ node: SimNode, replica: Replica, input: ReplicaInput, actions: [ReplicaAction]) {
        if case .tick = input, actions.isEmpty { return }
        let state = "v\(replica.view)\(replica.changingTo.map { "->\($0)" } ?? "") c\(replica.committedHeight)"
        let done = actions.map(Self.traceSummary).joined(separator: ", ")
        print("[trace] t=\(now) r\(node.index) \(state) <- \(Self.traceSummary(input)) -> [\(done)]")
    }

    static func traceSummary(_ input: ReplicaInput) -> String {
        switch input {
        case .message(let message): return traceSummary(message)
        case .messageBytes(let bytes): return "bytes(\(bytes.count))"
        case .tick: return "tick"
        case .submit(let transactions): return "submit(\(transactions.count))"
        case .executed(let header, _): return "executed(h\(header.height))"
        case .stateTransfer(let blocks): return "stateTransfer(\(blocks.first?.block.height ?? 0)...\(blocks.last?.block.height ?? 0))"
        }
    }

    static func traceSummary(_ action: ReplicaAction) -> String {
        switch action {
        case .persist(let state): return "persist(v\(state.view))"
        case .send(let message, let destination): return "send \(traceSummary(message)) to \(destination)"
        case .commit(let block, let certificate): return "commit(h\(block.height) v\(certificate.view) \(block.hash.hex.prefix(8)))"
        case .requestStateTransfer(let from, let to): return "stateTransfer(\(from)...\(to))"
        case .fault(let fault): return "fault(\(fault))"
        }
    }

    static func traceSummary(_ message: ConsensusMessage) -> String {
        switch message {
        case .prePrepare(let m): return "prePrepare(v\(m.view) h\(m.block.height) \(m.blockHash.hex.prefix(8)) parent \(m.block.header.parentHash.hex.prefix(8)))"
        case .prepare(let m): return "prepare(r\(m.replica) v\(m.view) h\(m.height) \(m.blockHash.hex.prefix(8)))"
        case .commit(let m): return "commit(r\(m.replica) v\(m.view) h\(m.height) \(m.blockHash.hex.prefix(8)))"
        case .checkpoint(let m): return "checkpoint(r\(m.replica) h\(m.header.height))"
        case .viewChange(let m): return "viewChange(r\(m.replica) to v\(m.newView) prepared \(m.prepared.map { "h\($0.height)v\($0.view)" }))"
        case .newView(let m): return "newView(v\(m.view) O \(m.proposals.map { "h\($0.height) \($0.blockHash.hex.prefix(8))" }))"
        case .forward(let m): return "forward(\(m.transactions.count))"
        case .status(let m): return "status(r\(m.replica))"
        case .blockRequest(let m): return "blockRequest(r\(m.replica) \(m.hashes.count))"
        case .blockResponse(let m): return "blockResponse(\(m.blocks.count))"
        }
    }

    /// The shell's commit: append to the durable chain, check the global
    /// invariants, execute, and return the state root.
    mutating func commit(_ block: Block, certificate: CommitCertificate, at node: SimNode) -> Hash? {
        let ledger = node.ledger
        guard block.height == ledger.height + 1 else {
            result.failures.append("replica \(node.index) committed height \(block.height) after \(ledger.height)")
            return nil
        }
        if isHonest(node) {
            if let known = agreed[block.height], known != block.hash {
                result.failures.append("agreement: height \(block.height) has two committed blocks (replica \(node.index))")
            }
            if agreed[block.height] == nil { recordCommitWaits(block) }
            agreed[block.height] = block.hash
            // A certified block must be one the ledger executes: the header
            // rules the backups prepare by are the ledger's.
            let parent = ledger.chain.last?.block.header ?? genesisHeader
            let stateHeight = Int(clamping: block.header.stateHeight)
            let localRoot = stateHeight < ledger.roots.count ? ledger.roots[stateHeight] : nil
            if !options.corruptExecution.contains(node.index) {
                do {
                    try block.header.checkFollows(parent, validators: validators, proposer: nil, localStateRoot: localRoot)
                } catch {
                    result.failures.append("certified block at height \(block.height) cannot execute at replica \(node.index): \(error)")
                }
            }
            let verifier = makeVerifier()
            do {
                try certificate.verify(blockHash: block.hash, validators: validators, chainID: chainID, verifier: verifier)
                if options.realKeys {
                    try certificate.verify(header: block.header, validators: validators, chainID: chainID)
                }
            } catch {
                result.failures.append("certificate for height \(block.height) at replica \(node.index) does not verify: \(error)")
            }
            for transaction in block.transactions {
                if !submitted.ids.contains(transaction.id) {
                    result.failures.append("validity: height \(block.height) commits a transaction nobody submitted")
                }
                if ledger.committedIDs.contains(transaction.id) {
                    result.failures.append("transaction \(transaction.id.short) committed twice at replica \(node.index)")
                }
            }
        }
        result.largestBlockTransactions = max(result.largestBlockTransactions, block.transactions.count)
        ledger.chain.append(CertifiedBlock(block: block, certificate: certificate))
        for transaction in block.transactions { ledger.committedIDs.insert(transaction.id) }
        var root = Hash.tagged("consort/sim/state", ledger.roots[ledger.roots.count - 1].bytes + block.hash.bytes)
        if options.corruptExecution.contains(node.index) { root = Hash.tagged("consort/sim/corrupt", root.bytes) }
        ledger.roots.append(root)
        return root
    }

    /// Notes how long the transactions of a block, committed for the first time, waited.
    mutating func recordCommitWaits(_ block: Block) {
        let censoring = options.byzantine.contains(.censor)
        for transaction in block.transactions {
            guard let at = submittedAt[transaction.id] else { continue }
            let wait = now - at
            result.longestCommitWaitTicks = max(result.longestCommitWaitTicks, wait)
            if censoring && transaction.body.sender == censoredSender {
                result.longestCensoredWaitTicks = max(result.longestCensoredWaitTicks, wait)
                if let bound = options.censoredWaitTicksMax, wait > bound {
                    result.failures.append("censorship: a transaction of the censored client committed \(wait) ticks after submission (bound \(bound))")
                }
            }
        }
    }

    /// The shell's state transfer: blocks from a random other node's chain
    /// (a Byzantine server may corrupt a certificate), delivered later.
    mutating func serveStateTransfer(to node: SimNode, from: UInt64, through: UInt64) {
        let peers = nodes.filter { $0 !== node && $0.index != node.index }
        guard !peers.isEmpty else { return }
        let server = peers[random.below(peers.count)]
        guard from >= 1, from <= server.ledger.height else { return }
        let last = min(through, server.ledger.height, from + 63)
        var blocks = Array(server.ledger.chain[Int(from - 1)..<Int(last)])
        if server.byzantine != nil, !blocks.isEmpty, random.chance(0.5) {
            blocks[0].certificate.view &+= 1
        }
        let decoded = blocks.compactMap { try? CertifiedBlock(canonicalBytes: $0.canonicalBytes) }
        if decoded.count != blocks.count {
            result.failures.append("codec: a certified block does not round-trip")
        }
        inflight[now + 1 + random.below(3), default: []].append((node.index, .blocks(decoded)))
    }

    // MARK: Network

    /// Checks that an honest replica never signs two blocks for one (view, height), even across restarts.
    mutating func checkSignedOnce(_ message: ConsensusMessage, from node: SimNode) {
        guard isHonest(node) else { return }
        let signed: (UInt64, UInt64, Hash)
        switch message {
        case .prePrepare(let m): signed = (m.view, m.height, m.blockHash)
        case .newView(let m):
            // Each entry of O is a pre-prepare signature of the new view, by its
            // primary (other replicas only pass the primary's message on).
            guard Int(m.view % UInt64(options.validatorCount)) == node.index else { return }
            for proposal in m.proposals {
                let key = SignedSlot(replica: node.index, view: m.view, height: proposal.height)
                if let earlier = signedBlocks[key], earlier != proposal.blockHash {
                    result.failures.append("replica \(node.index) signed two blocks for view \(m.view) height \(proposal.height)")
                }
                signedBlocks[key] = proposal.blockHash
            }
            return
        case .prepare(let m): signed = (m.view, m.height, m.blockHash)
        case .commit(let m): signed = (m.view, m.height, m.blockHash)
        default: return
        }
        let key = SignedSlot(replica: node.index, view: signed.0, height: signed.1)
        if let earlier = signedBlocks[key], earlier != signed.2 {
            result.failures.append("replica \(node.index) signed two blocks for view \(signed.0) height \(signed.1)")
        }
        signedBlocks[key] = signed.2
    }

    mutating func send(_ message: ConsensusMessage, from node: SimNode, to destination: Destination) {
        checkSignedOnce(message, from: node)
        let recipients: [Int]
        switch destination {
        case .all: recipients = (0..<options.validatorCount).filter { $0 != node.index }
        case .replica(let index): recipients = index == node.index ? [] : [index]
        }
        let bytes = message.canonicalBytes
        if isHonest(node) { result.largestMessageBytes = max(result.largestMessageBytes, bytes.count) }
        if bytes.count > options.frameBytesMax {
            // The peer layer refuses the frame (the real one drops the connection).
            result.oversizedMessages += recipients.count
            return
        }
        let decoded: ConsensusMessage
        do {
            decoded = try ConsensusMessage.decode(wire: bytes)
        } catch {
            result.failures.append("codec: replica \(node.index) sent a message that does not decode: \(error)")
            return
        }
        if decoded != message {
            result.failures.append("codec: a message from replica \(node.index) does not round-trip")
        }
        for recipient in recipients {
            if let behavior = node.byzantine {
                guard let rewritten = rewrite(message, bytes: bytes, behavior: behavior, from: node, to: recipient) else { continue }
                if rewritten != bytes {
                    transmit(rewritten, from: node.index, to: recipient)
                    continue
                }
            }
            transmit(.message(decoded), from: node.index, to: recipient)
        }
    }

    mutating func transmit(_ bytes: [UInt8], from sender: Int, to recipient: Int) {
        transmit(.bytes(bytes), from: sender, to: recipient)
    }

    mutating func transmit(_ payload: Payload, from sender: Int, to recipient: Int) {
        if case .bytes(let bytes) = payload, bytes.count > options.frameBytesMax {
            result.oversizedMessages += 1
            return
        }
        if let partition, partition[sender] != partition[recipient] { return }
        if !healed && random.chance(options.messageLossProbability) { return }
        let copies = !healed && random.chance(options.duplicateProbability) ? 2 : 1
        for _ in 0..<copies {
            var delay = 1 + random.below(max(1, options.delayTicksMax))
            if options.slowReplicas.contains(recipient) { delay += random.below(max(1, options.slowTickInterval) + 1) }
            if !healed, let late = options.lateDeliveryReplica, sender == late || recipient == late {
                delay = max(delay, viewChangeTimeoutTicks(at: recipient) + 1 + random.below(2))
            }
            inflight[now + delay, default: []].append((recipient, payload))
        }
    }

    /// The view-change timeout validator `index` runs now, in simulated
    /// ticks: with its back-off, stretched for a slow replica.
    func viewChangeTimeoutTicks(at index: Int) -> Int {
        let attempts = nodes.first { $0.index == index }?.replica?.persistentState.viewChangeAttempts ?? 0
        let doublings = min(Int(attempts), options.timing.viewChangeBackoffDoublingsMax)
        var ticks = options.timing.viewChangeTimeoutTicks << doublings
        if options.slowReplicas.contains(index) { ticks *= max(1, options.slowTickInterval) }
        return ticks
    }

    // MARK: Byzantine behaviour

    /// Rewrites one outgoing message of a Byzantine node; nil drops it.
    mutating func rewrite(_ message: ConsensusMessage, bytes: [UInt8], behavior: ByzantineBehavior, from node: SimNode, to recipient: Int) -> [UInt8]? {
        let signer = signers[node.index]
        switch behavior {
        case .silent:
            return nil
        case .withholdProposals:
            switch message {
            case .prePrepare, .newView: return nil
            default: return bytes
            }
        case .forgeHeaders:
            guard case .prePrepare(let prePrepare) = message, prePrepare.height > 1 else { return bytes }
            var header = prePrepare.block.header
            if prePrepare.height % 2 == 0 {
                header.proposer = validators[(node.index + 1) % options.validatorCount].nodeKey
            } else {
                header.stateHeight = header.height - 1
                header.stateRoot = Hash.tagged("consort/sim/made-up-root", [UInt8(truncatingIfNeeded: header.height)])
            }
            let block = Block(header: header, transactions: prePrepare.block.transactions)
            let digest = PrePrepare.signingDigest(chainID: chainID, view: prePrepare.view, height: block.height, blockHash: block.hash)
            return ConsensusMessage.prePrepare(PrePrepare(view: prePrepare.view, block: block, signature: signer.sign(digest))).canonicalBytes
        case .equivocate:
            guard case .prePrepare(let prePrepare) = message, recipient % 2 == 0 else { return bytes }
            var transactions = prePrepare.block.transactions
            if transactions.isEmpty { return bytes }
            transactions.removeLast()
            var header = prePrepare.block.header
            header.transactionsRoot = MerkleTree.root(of: transactions.map(\.id))
            header.timestampMs += 1
            let block = Block(header: header, transactions: transactions)
            let digest = PrePrepare.signingDigest(chainID: chainID, view: prePrepare.view, height: block.height, blockHash: block.hash)
            return ConsensusMessage.prePrepare(PrePrepare(view: prePrepare.view, block: block, signature: signer.sign(digest))).canonicalBytes
        case .conflictingVotes:
            guard recipient % 2 == 0 else { return bytes }
            let other = Hash.tagged("consort/sim/other-block", [UInt8(truncatingIfNeeded: random.next())])
            switch message {
            case .prepare(var prepare):
                prepare.blockHash = other
                prepare.signature = signer.sign(prepare.signingDigest(chainID: chainID))
                return ConsensusMessage.prepare(prepare).canonicalBytes
            case .commit(var commit):
                commit.blockHash = other
                commit.signature = signer.sign(commit.signingDigest(chainID: chainID))
                return ConsensusMessage.commit(commit).canonicalBytes
            default:
                return bytes
            }
        case .forgeSignatures:
            switch message {
            case .prepare(var prepare):
                prepare.replica = UInt32((node.index + 1) % options.validatorCount)
                transmit(ConsensusMessage.prepare(prepare).canonicalBytes, from: node.index, to: recipient)
            case .commit(var commit):
                commit.replica = UInt32((node.index + 1) % options.validatorCount)
                transmit(ConsensusMessage.commit(commit).canonicalBytes, from: node.index, to: recipient)
            case .viewChange(var change):
                change.newView += 1
                transmit(ConsensusMessage.viewChange(change).canonicalBytes, from: node.index, to: recipient)
            default:
                break
            }
            return bytes
        case .badNewView:
            guard case .newView(let newView) = message, (newView.view + UInt64(recipient)) % 2 == 0 else { return bytes }
            return ConsensusMessage.newView(wrongNewView(newView, signer: signer)).canonicalBytes
        case .replay, .garbage, .hugeView, .twins, .censor, .falseSuspicion:
            return bytes
        }
    }

    /// The new-view message with O changed at one height: the last entry's
    /// header gets a later timestamp (or, for an empty O, a made-up entry is
    /// added), signed by the primary as if it were right.
    func wrongNewView(_ newView: NewView, signer: any ConsensusSigner) -> NewView {
        var proposals = newView.proposals
        var header: BlockHeader
        if let last = proposals.popLast() {
            header = last.header
            header.timestampMs &+= 1
        } else {
            header = Replica.nullBlock(after: genesisHeader, newView: newView.view, configuration: configuration(for: 0)).header
        }
        let digest = PrePrepare.signingDigest(chainID: chainID, view: newView.view, height: header.height, blockHash: header.hash)
        proposals.append(NewViewProposal(header: header, signature: signer.sign(digest)))
        let signature = signer.sign(NewView.signingDigest(chainID: chainID, view: newView.view, viewChanges: newView.viewChanges,
                                                          proposals: proposals))
        return NewView(view: newView.view, viewChanges: newView.viewChanges, proposals: proposals, signature: signature)
    }

    /// Extra traffic a Byzantine node makes up on its own each tick.
    mutating func byzantineExtras(_ node: SimNode) {
        guard let behavior = node.byzantine, let replica = node.replica else { return }
        let recipient = random.below(options.validatorCount)
        guard recipient != node.index else { return }
        switch behavior {
        case .replay:
            if !node.seen.isEmpty && random.chance(0.3) {
                transmit(node.seen[random.below(node.seen.count)], from: node.index, to: recipient)
            }
        case .garbage:
            guard random.chance(0.3) else { return }
            var bytes: [UInt8]
            if let old = node.seen.last, random.chance(0.5) {
                bytes = old
                switch random.below(3) {
                case 0: if !bytes.isEmpty { bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8)) }
                case 1: bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
                default: bytes.append(UInt8(truncatingIfNeeded: random.next()))
                }
            } else {
                bytes = (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            transmit(bytes, from: node.index, to: recipient)
        case .hugeView:
            guard random.chance(0.1) else { return }
            let views: [UInt64] = [UInt64.max, UInt64.max - 1, ConsensusLimits.viewNumberMax, replica.view + 1_000_000]
            let newView = views[random.below(views.count)]
            let signer = signers[node.index]
            let digest = ViewChange.signingDigest(chainID: chainID, newView: newView, replica: UInt32(node.index), checkpoint: nil, prepared: [])
            let change = ViewChange(newView: newView, replica: UInt32(node.index), checkpoint: nil, prepared: [], signature: signer.sign(digest))
            transmit(ConsensusMessage.viewChange(change).canonicalBytes, from: node.index, to: recipient)
        case .falseSuspicion:
            guard random.chance(0.2) else { return }
            let signer = signers[node.index]
            let me = UInt32(node.index)
            let digest = Status.signingDigest(chainID: chainID, replica: me, view: replica.view, committedHeight: replica.committedHeight,
                                              suspectsPrimary: true)
            let status = Status(replica: me, view: replica.view, committedHeight: replica.committedHeight, suspectsPrimary: true,
                                signature: signer.sign(digest))
            transmit(ConsensusMessage.status(status).canonicalBytes, from: node.index, to: recipient)
            if random.chance(0.25) {
                let next = replica.view + 1
                let changeDigest = ViewChange.signingDigest(chainID: chainID, newView: next, replica: me, checkpoint: nil, prepared: [])
                let change = ViewChange(newView: next, replica: me, checkpoint: nil, prepared: [], signature: signer.sign(changeDigest))
                transmit(ConsensusMessage.viewChange(change).canonicalBytes, from: node.index, to: recipient)
            }
        default:
            return
        }
    }
}
