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

    /// True when no checker failed.
    public var passed: Bool { failures.isEmpty }

    public var description: String {
        "seed \(seed): \(passed ? "ok" : "FAILED") height \(committedHeight) view \(viewChanges) ticks \(ticks) "
            + "messages \(messagesDelivered)" + (failures.isEmpty ? "" : "\n  " + failures.prefix(5).joined(separator: "\n  "))
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
final class SimValidator: ProposalValidator {
    let ledger: SimLedger
    let submitted: SubmittedSet

    init(ledger: SimLedger, submitted: SubmittedSet) {
        self.ledger = ledger
        self.submitted = submitted
    }

    func isAcceptable(_ transaction: Transaction) -> Bool {
        submitted.ids.contains(transaction.id) && !ledger.committedIDs.contains(transaction.id)
            && SimulatedVerifier().isValid(transaction.signature, by: transaction.body.sender, for: transaction.id)
    }

    func isValid(block: Block, pendingAncestors: [Block]) -> Bool {
        block.transactions.allSatisfy(isAcceptable)
    }

    func executedStateRoot(at height: UInt64) -> Hash? {
        height < UInt64(ledger.roots.count) ? ledger.roots[Int(height)] : nil
    }
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

    /// Indices of Byzantine validators: the last ones, or the first with ``SimulationOptions/byzantineFirst``.
    public var byzantineIndices: [Int] {
        Simulation.byzantineIndices(options)
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
        for node in nodes { start(node) }
        let client = SimulatedKeys.privateKey("client", 0).publicKey
        let clientSigner = SimulatedSigner(publicKey: client)
        for number in 0..<options.transactionCount {
            let body = TransactionBody(chainID: chainID, sender: client, nonce: UInt64(number), expiresAtMs: UInt64.max,
                                       call: ContractCall(contract: "sim", operation: "op", arguments: [UInt8(number & 0xFF)]))
            let transaction = Transaction(body: body, signature: clientSigner.sign(Transaction.id(of: body)))
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
        let key = signerKeys[node.index]
        let signer = signers[node.index]
        let verifier = makeVerifier()
        let ledger = node.ledger
        let head = ChainHead(committedHeader: ledger.chain.last?.block.header ?? genesisHeader,
                             executedHeight: ledger.height, executedStateRoot: ledger.roots[ledger.roots.count - 1])
        node.replica = Replica(configuration: configuration(for: node.index), signer: signer, verifier: verifier,
                               validator: SimValidator(ledger: ledger, submitted: submitted), head: head, restoring: node.durable)
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
        for (position, node) in nodes.enumerated() where indices.contains(node.index) && node.replica != nil {
            // The second copy of a twin sees only every other request, so the twins' proposals differ.
            if position >= options.validatorCount && number % 2 == 1 { continue }
            apply(node, input: .submit([transaction]))
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
        for node in nodes where node.index == index && node.replica == nil { start(node) }
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

    /// Runs the fault phase, heals, and runs until every transaction has
    /// committed at every honest replica or the liveness bound passes.
    public mutating func run() -> SimulationResult {
        let submitEnd = max(1, options.faultTicks * 2 / 3)
        var pending = transactions
        while now < options.faultTicks && result.passed {
            if !pending.isEmpty && random.chance(Double(pending.count) / Double(max(1, submitEnd - now))) {
                let transaction = pending.removeFirst()
                submit(transaction, copies: 2)
            }
            injectFaults()
            stepOnce()
        }
        for transaction in pending { submit(transaction, copies: 2) }
        heal()
        let deadline = now + options.livenessTicksMax
        while now < deadline && result.passed && !allCommitted() {
            if (now - options.faultTicks) % 200 == 199 {
                for transaction in transactions where !allHonestCommitted(transaction.id) { submit(transaction, copies: nodes.count) }
            }
            stepOnce()
        }
        if result.passed && !allCommitted() {
            let heights = nodes.filter(isHonest).map { "\($0.index):\($0.ledger.height)/v\($0.replica?.view ?? 0)/c\($0.replica?.changingTo.map(String.init) ?? "-")" }
            result.failures.append("liveness: not every transaction committed within \(options.livenessTicksMax) ticks after healing (\(heights.joined(separator: " ")))")
        }
        finish()
        return result
    }

    mutating func finish() {
        result.faults = [:]
        result.dropCounts = [:]
        result.ticks = now
        result.committedHeight = nodes.filter(isHonest).map { $0.ledger.height }.max() ?? 0
        result.viewChanges = nodes.filter(isHonest).compactMap { $0.replica?.view }.max() ?? 0
        for node in nodes {
            if !node.faults.isEmpty { result.faults[node.index, default: []].append(contentsOf: node.faults) }
            if let replica = node.replica {
                for (reason, count) in replica.dropCounts { result.dropCounts[reason, default: 0] += count }
            }
        }
    }

    func allHonestCommitted(_ id: Hash) -> Bool {
        nodes.filter { isHonest($0) && !options.corruptExecution.contains($0.index) }.allSatisfy { $0.ledger.committedIDs.contains(id) }
    }

    func allCommitted() -> Bool {
        transactions.allSatisfy { allHonestCommitted($0.id) }
    }

    /// A client hands a transaction to `copies` random validators.
    mutating func submit(_ transaction: Transaction, copies: Int) {
        submitted.ids.insert(transaction.id)
        var chosen = Set<Int>()
        while chosen.count < min(copies, nodes.count) { chosen.insert(random.below(nodes.count)) }
        for position in chosen.sorted() {
            let node = nodes[position]
            guard node.replica != nil else { continue }
            if node.byzantine == .twins && random.chance(0.5) { continue }
            apply(node, input: .submit([transaction]))
        }
    }

    mutating func heal() {
        healed = true
        partition = nil
        for node in nodes where node.replica == nil {
            start(node)
        }
    }

    /// Partitions come and go; honest replicas crash and restart later.
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
                start(node)
            }
        }
        if options.crashes && random.chance(0.01) {
            let node = nodes[random.below(options.validatorCount)]
            if node.replica != nil && isHonest(node) {
                node.replica = nil
                node.restartAt = now + 5 + random.below(60)
            }
        }
    }

    mutating func stepOnce() {
        now += 1
        var deliveries = inflight.removeValue(forKey: now) ?? []
        deliveries.shuffle(using: &random)
        for delivery in deliveries {
            for node in nodes where node.index == delivery.to {
                guard node.replica != nil else { continue }
                result.messagesDelivered += 1
                switch delivery.payload {
                case .bytes(let bytes):
                    apply(node, input: .messageBytes(bytes))
                case .blocks(let blocks):
                    apply(node, input: .stateTransfer(blocks))
                case .message(let message):
                    if (node.byzantine == .replay || node.byzantine == .garbage) && node.seen.count < 256 {
                        node.seen.append(message.canonicalBytes)
                    }
                    apply(node, input: .message(message))
                }
            }
        }
        for node in nodes where node.replica != nil {
            apply(node, input: .tick(clockMs: 1_000 + UInt64(now) * 10))
            byzantineExtras(node)
        }
    }

    /// Feeds one input and carries out the actions, possibly crashing part way.
    mutating func apply(_ node: SimNode, input: ReplicaInput) {
        guard var replica = node.replica else { return }
        node.replica = nil  // keep the replica's storage uniquely referenced while it steps
        let actions = replica.step(input)
        node.replica = replica
        var cut = actions.count
        if options.crashes && !healed && isHonest(node) && !actions.isEmpty && random.chance(0.002) {
            cut = random.below(actions.count + 1)
        }
        var followUps: [ReplicaInput] = []
        for action in actions.prefix(cut) {
            switch action {
            case .persist(let state):
                node.durable = state
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
        if cut < actions.count {
            node.replica = nil
            node.restartAt = now + 5 + random.below(40)
            return
        }
        for followUp in followUps { apply(node, input: followUp) }
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
        ledger.chain.append(CertifiedBlock(block: block, certificate: certificate))
        for transaction in block.transactions { ledger.committedIDs.insert(transaction.id) }
        var root = Hash.tagged("consort/sim/state", ledger.roots[ledger.roots.count - 1].bytes + block.hash.bytes)
        if options.corruptExecution.contains(node.index) { root = Hash.tagged("consort/sim/corrupt", root.bytes) }
        ledger.roots.append(root)
        return root
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
        if let partition, partition[sender] != partition[recipient] { return }
        if !healed && random.chance(options.messageLossProbability) { return }
        let copies = !healed && random.chance(options.duplicateProbability) ? 2 : 1
        for _ in 0..<copies {
            let delay = 1 + random.below(max(1, options.delayTicksMax))
            inflight[now + delay, default: []].append((recipient, payload))
        }
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
        case .replay, .garbage, .hugeView, .twins:
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
        default:
            return
        }
    }
}
