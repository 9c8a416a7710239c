import Contracts
import Foundation
import Ledger
import LedgerCore

/// One figure a benchmark prints.
public struct BenchmarkFigure: Sendable {
    public var name: String
    public var value: Double
    public var unit: String

    public init(_ name: String, _ value: Double, _ unit: String) {
        self.name = name
        self.value = value
        self.unit = unit
    }

    public var line: String {
        let formatted = value >= 100 ? String(format: "%.0f", value) : String(format: "%.2f", value)
        return "\(name.padding(toLength: 68, withPad: " ", startingAt: 0)) \(formatted) \(unit)"
    }
}

/// Measures the ledger on this machine: signature verification, the
/// decode → verify → execute → commit pipeline, and synced LevelDB commits.
public enum LedgerBenchmark {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// secp256k1 verifications per second on one core and on every core.
    public static func signatureVerification(samples: Int = 4000) throws -> [BenchmarkFigure] {
        let key = try PrivateKey.generate()
        let digests = (0..<samples).map { Hash.sha256(Array("message \($0)".utf8)) }
        let signatures = digests.map { key.sign($0) }
        let clock = ContinuousClock()
        var valid = 0
        let single = clock.measure {
            for (digest, signature) in zip(digests, signatures) where key.publicKey.isValidSignature(signature, for: digest) { valid += 1 }
        }
        precondition(valid == samples, "benchmark signatures must verify")
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let perCore = samples
        let parallel = clock.measure {
            DispatchQueue.concurrentPerform(iterations: cores) { _ in
                for index in 0..<perCore { _ = key.publicKey.isValidSignature(signatures[index], for: digests[index]) }
            }
        }
        return [
            BenchmarkFigure("secp256k1 verifications, one core", Double(samples) / seconds(single), "/s"),
            BenchmarkFigure("secp256k1 verifications, all \(cores) cores", Double(cores * perCore) / seconds(parallel), "/s"),
        ]
    }

    /// A consortium of `senders` enterprises, each adding and removing its own second key in turn.
    static func workload(senders: Int, transactions: Int, chainID: String) throws -> (Genesis, [[UInt8]]) {
        var organizations: [Organization] = []
        var keys: [PrivateKey] = []
        for index in 0..<senders {
            let key = try PrivateKey.generate()
            keys.append(key)
            organizations.append(Organization(id: "ent\(index)", name: "Enterprise \(index)", kind: .enterprise, memberKeys: [key.publicKey]))
        }
        let bankKey = try PrivateKey.generate()
        organizations.append(Organization(id: "bank", name: "Bank", kind: .bank, memberKeys: [bankKey.publicKey]))
        let validatorKeys = try (0..<4).map { _ in try PrivateKey.generate() }
        let validators = try ValidatorSet(validatorKeys.enumerated().map {
            Validator(name: "v\($0.offset)", organizationID: "bank", nodeKey: $0.element.publicKey, address: "127.0.0.1:\(9100 + $0.offset)")
        })
        let genesis = try Genesis(chainID: chainID, timestampMs: 1_000, organizations: organizations, validators: validators)
        var extraKeys: [PublicKey] = []
        for _ in 0..<senders { extraKeys.append(try PrivateKey.generate().publicKey) }
        var encoded: [[UInt8]] = []
        encoded.reserveCapacity(transactions)
        var nonces = [UInt64](repeating: 0, count: senders)
        for index in 0..<transactions {
            let sender = index % senders
            let nonce = nonces[sender]
            nonces[sender] += 1
            let extra = extraKeys[sender]
            let operation: GovernanceContract.Operation = nonce % 2 == 0 ? .addMemberKey : .removeMemberKey
            let call = GovernanceContract.call(operation, MemberKeyChange(key: extra))
            encoded.append(Transaction.signed(chainID: chainID, key: keys[sender], nonce: nonce, expiresAtMs: .max, call: call).canonicalBytes)
        }
        return (genesis, encoded)
    }

    /// Transactions decoded, verified, executed and committed per second (memory store),
    /// then blocks committed per second to LevelDB with sync.
    public static func pipeline(transactions: Int = 20_000, blockSize: Int = 2_000, directory: String) throws -> [BenchmarkFigure] {
        let senders = 200
        let chainID = "bench"
        var validatorKeys: [PrivateKey] = []
        let (genesisTemplate, encoded) = try workload(senders: senders, transactions: transactions, chainID: chainID)
        for _ in 0..<4 { validatorKeys.append(try PrivateKey.generate()) }
        let validators = try ValidatorSet(validatorKeys.enumerated().map {
            Validator(name: "v\($0.offset)", organizationID: "bank", nodeKey: $0.element.publicKey, address: "127.0.0.1:\(9100 + $0.offset)")
        })
        let genesis = try Genesis(chainID: chainID, timestampMs: 1_000, organizations: genesisTemplate.organizations, validators: validators)
        func certificate(_ header: BlockHeader) -> CommitCertificate {
            let digest = CommitVote.digest(chainID: chainID, height: header.height, view: 0, blockHash: header.hash)
            return CommitCertificate(height: header.height, view: 0, blockHash: header.hash, signatures: validatorKeys.prefix(3).enumerated().map {
                ValidatorSignature(validatorIndex: UInt32($0.offset), signature: $0.element.sign(digest))
            })
        }
        func nextBlock(_ ledger: Ledger, _ transactions: [Transaction]) -> Block {
            let head = ledger.head
            return Block(header: BlockHeader(
                height: head.height + 1, parentHash: head.blockHash, timestampMs: head.timestampMs + 1000, proposer: validatorKeys[0].publicKey,
                transactionsRoot: MerkleTree.root(of: transactions.map(\.id)), stateHeight: head.height, stateRoot: head.stateRoot,
                validatorSetHash: validators.hash), transactions: transactions)
        }

        let memoryLedger = try Ledger(store: MemoryStore(), genesis: genesis, registry: StandardContracts.registry())
        let clock = ContinuousClock()
        var succeeded = 0
        let pipelineTime = try clock.measure {
            var start = 0
            while start < encoded.count {
                let slice = encoded[start..<min(start + blockSize, encoded.count)]
                let decoded = try slice.map { try Transaction(canonicalBytes: $0) }
                let block = nextBlock(memoryLedger, decoded)
                let executed = try memoryLedger.execute(block)
                try memoryLedger.commit(executed, certificate: certificate(block.header))
                succeeded += executed.receipts.filter(\.isSuccess).count
                start += blockSize
            }
        }
        guard succeeded == encoded.count else {
            throw BenchmarkError("only \(succeeded) of \(encoded.count) benchmark transactions succeeded")
        }

        let store = try LevelDBStore(path: directory + "/bench-ledger")
        let diskLedger = try Ledger(store: store, genesis: genesis, registry: StandardContracts.registry())
        let emptyBlocks = 200
        let emptyTime = try clock.measure {
            for _ in 0..<emptyBlocks {
                let block = nextBlock(diskLedger, [])
                try diskLedger.commit(try diskLedger.execute(block), certificate: certificate(block.header))
            }
        }
        let fullBlocks = min(10, transactions / blockSize)
        let preExecuted = try (0..<fullBlocks).map { index -> [Transaction] in
            try encoded[(index * blockSize)..<((index + 1) * blockSize)].map { try Transaction(canonicalBytes: $0) }
        }
        var commitTime = Duration.zero
        for transactionsOfBlock in preExecuted {
            let block = nextBlock(diskLedger, transactionsOfBlock)
            let executed = try diskLedger.execute(block, signatureAlreadyVerified: { _ in true })
            let started = clock.now
            try diskLedger.commit(executed, certificate: certificate(block.header))
            commitTime += clock.now - started
        }
        return [
            BenchmarkFigure("transactions decoded + verified + executed + committed (memory)", Double(encoded.count) / seconds(pipelineTime), "tx/s"),
            BenchmarkFigure("empty blocks committed to LevelDB with sync", Double(emptyBlocks) / seconds(emptyTime), "blocks/s"),
            BenchmarkFigure("\(blockSize)-transaction blocks written to LevelDB with sync", Double(fullBlocks) / seconds(commitTime), "blocks/s"),
        ]
    }
}

/// A benchmark that could not run as designed.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
