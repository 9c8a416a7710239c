import Contracts
import ConsortTesting
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
            BenchmarkFigure("secp256k1 verifications, one core", Double(samples) / single.inSeconds, "/s"),
            BenchmarkFigure("secp256k1 verifications, all \(cores) cores", Double(cores * perCore) / parallel.inSeconds, "/s"),
        ]
    }

    /// A consortium of `senders` enterprises and a bank, and `transactions`
    /// encoded calls: each enterprise adds and removes its own second key in turn.
    static func workload(senders: Int, transactions: Int, chainID: String) throws -> (LocalConsortium, [[UInt8]]) {
        let chain = try LocalConsortium(
            chainID: chainID, organizations: (0..<senders).map { ("ent\($0)", OrganizationKind.enterprise) } + [("bank", .bank)],
            keysPerOrganization: 1, genesisTimestampMs: 1_000)
        let extraKeys = try (0..<senders).map { _ in try PrivateKey.generate().publicKey }
        var encoded: [[UInt8]] = []
        encoded.reserveCapacity(transactions)
        for index in 0..<transactions {
            let sender = index % senders
            let operation: GovernanceContract.Operation = (index / senders) % 2 == 0 ? .addMemberKey : .removeMemberKey
            let call = GovernanceContract.call(operation, MemberKeyChange(key: extraKeys[sender]))
            encoded.append(chain.transaction("ent\(sender)", call).canonicalBytes)
        }
        return (chain, encoded)
    }

    /// Transactions decoded, verified, executed and committed per second (memory store),
    /// then blocks committed per second to LevelDB with sync.
    public static func pipeline(transactions: Int = 20_000, blockSize: Int = 2_000, directory: String) throws -> [BenchmarkFigure] {
        let (chain, encoded) = try workload(senders: 200, transactions: transactions, chainID: "bench")
        func nextBlock(_ ledger: Ledger, _ transactions: [Transaction]) -> Block {
            chain.block(after: ledger.head, timestampMs: ledger.head.timestampMs + 1000, transactions)
        }
        func certificate(_ header: BlockHeader) -> CommitCertificate { chain.certificate(for: header) }

        let memoryLedger = chain.ledger
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
        let diskLedger = try Ledger(store: store, genesis: chain.genesis, registry: StandardContracts.registry())
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
            BenchmarkFigure("transactions decoded + verified + executed + committed (memory)", Double(encoded.count) / pipelineTime.inSeconds, "tx/s"),
            BenchmarkFigure("empty blocks committed to LevelDB with sync", Double(emptyBlocks) / emptyTime.inSeconds, "blocks/s"),
            BenchmarkFigure("\(blockSize)-transaction blocks written to LevelDB with sync", Double(fullBlocks) / commitTime.inSeconds, "blocks/s"),
        ]
    }
}

extension LedgerBenchmark {
    /// The per-transaction cost of executing blocks of `blockSize` with their
    /// state root (memory store, signatures already checked), and the root's
    /// own share computed both ways on the same writes: one batched walk
    /// over the block's sorted changed keys, as execution does, and one walk
    /// per key. Each recomputed root is checked against the executed one.
    public static func stateRoot(blocks: Int = 20, blockSize: Int = 500) throws -> [BenchmarkFigure] {
        let (chain, encoded) = try workload(senders: 200, transactions: blocks * blockSize, chainID: "bench-root")
        let ledger = chain.ledger
        let clock = ContinuousClock()
        var execution = Duration.zero
        var batched = Duration.zero
        var perKey = Duration.zero
        var writes = 0
        for index in 0..<blocks {
            let transactions = try encoded[(index * blockSize)..<((index + 1) * blockSize)].map { try Transaction(canonicalBytes: $0) }
            let block = chain.block(after: ledger.head, timestampMs: ledger.head.timestampMs + 1000, transactions)
            var executed: ExecutedBlock?
            execution += try clock.measure { executed = try ledger.execute(block, signatureAlreadyVerified: { _ in true }) }
            guard let executed else { throw BenchmarkError("block \(block.height) did not execute") }
            var roots: [Hash] = []
            batched += try clock.measure { roots.append(try ledger.recomputedStateRoot(of: executed, batched: true)) }
            perKey += try clock.measure { roots.append(try ledger.recomputedStateRoot(of: executed, batched: false)) }
            guard roots.allSatisfy({ $0 == executed.stateRoot }) else {
                throw BenchmarkError("block \(block.height): a recomputed state root differs from the executed one")
            }
            writes += executed.stateWriteCount
            try ledger.commit(executed, certificate: chain.certificate(for: block.header))
        }
        let count = Double(blocks * blockSize)
        let executionMicros = execution.inSeconds * 1e6 / count
        let batchedMicros = batched.inSeconds * 1e6 / count
        let perKeyMicros = perKey.inSeconds * 1e6 / count
        // Execution without its root; on a short, noisy run the separately
        // timed root can exceed what it is part of, so the rest is at least 0.
        let restMicros = max(0, executionMicros - batchedMicros)
        return [
            BenchmarkFigure("state writes per transaction", Double(writes) / count, "writes"),
            BenchmarkFigure("execution with the batched state root (blocks of \(blockSize))", executionMicros, "µs/tx"),
            BenchmarkFigure("execution with a per-key state root (blocks of \(blockSize), derived)", restMicros + perKeyMicros, "µs/tx"),
            BenchmarkFigure("state root alone, batched over the block's sorted keys", batchedMicros, "µs/tx"),
            BenchmarkFigure("state root alone, one tree walk per key", perKeyMicros, "µs/tx"),
        ]
    }
}

/// A benchmark that could not run as designed.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
