import TestSupport
import Testing
@testable import Ledger
import LedgerCore

@Suite struct StateTreeTests {
    private struct MemoryNodes: StateNodeSource {
        var nodes: [Hash: StateTreeNode] = [:]
        func node(_ hash: Hash) throws(StorageError) -> StateTreeNode? { nodes[hash] }
    }

    private func root(of entries: [[UInt8]: [UInt8]]) throws -> Hash {
        var updater = StateTreeUpdater(source: MemoryNodes())
        let updates = entries.map { (path: Hash.sha256($0.key), valueHash: Optional(Hash.sha256($0.value))) }.sorted { $0.path < $1.path }
        return try updater.apply(root: .zero, updates: updates)
    }

    @Test func root_dependsOnContentNotOnWriteOrder() throws {
        var generator = SplitMix64(seed: 7)
        var entries: [[UInt8]: [UInt8]] = [:]
        for index in 0..<500 { entries[Array("key-\(index)".utf8)] = [UInt8(truncatingIfNeeded: generator.next())] }
        let allAtOnce = try root(of: entries)

        var nodes = MemoryNodes()
        var current = Hash.zero
        let keys = entries.keys.shuffled(using: &generator)
        var index = 0
        while index < keys.count {
            let chunk = keys[index..<min(index + 37, keys.count)]
            var updater = StateTreeUpdater(source: nodes)
            let updates = chunk.map { (path: Hash.sha256($0), valueHash: Optional(Hash.sha256(entries[$0] ?? []))) }.sorted { $0.path < $1.path }
            current = try updater.apply(root: current, updates: updates)
            nodes.nodes.merge(updater.created) { old, _ in old }
            index += 37
        }
        #expect(current == allAtOnce)
    }

    @Test func batchedRoot_equalsThePerKeyRoot_onRandomWorkloads() throws {
        for seed in UInt64(1)...20 {
            var generator = SplitMix64(seed: seed)
            var batchedNodes = MemoryNodes()
            var batchedRoot = Hash.zero
            var perKeyRoot = Hash.zero
            var perKey = StateTreeUpdater(source: MemoryNodes())
            var live: [Hash] = []
            for _ in 0..<8 {
                // A block: fresh keys, rewrites and deletions of live ones, in one sorted batch.
                var updates: [Hash: Hash?] = [:]
                for _ in 0..<Int(generator.next() % 120) {
                    let choice = generator.next() % 4
                    if choice == 0, !live.isEmpty {
                        updates[live[Int(generator.next() % UInt64(live.count))]] = .some(nil)
                    } else if choice == 1, !live.isEmpty {
                        updates[live[Int(generator.next() % UInt64(live.count))]] = Hash.sha256(Array("v\(generator.next())".utf8))
                    } else {
                        updates[Hash.sha256(Array("k\(generator.next())".utf8))] = Hash.sha256(Array("v\(generator.next())".utf8))
                    }
                }
                let sorted = updates.map { (path: $0.key, valueHash: $0.value) }.sorted { $0.path < $1.path }
                var batched = StateTreeUpdater(source: batchedNodes)
                batchedRoot = try batched.apply(root: batchedRoot, updates: sorted)
                batchedNodes.nodes.merge(batched.created) { old, _ in old }
                for update in sorted.shuffled(using: &generator) { perKeyRoot = try perKey.apply(root: perKeyRoot, updates: [update]) }
                #expect(batchedRoot == perKeyRoot, "seed \(seed)")
                for update in sorted {
                    if update.valueHash == nil { live.removeAll { $0 == update.path } } else if !live.contains(update.path) { live.append(update.path) }
                }
            }
        }
    }

    @Test func deletingEverything_returnsTheEmptyRoot_andPartialDeleteMatchesRebuild() throws {
        let entries = Dictionary(uniqueKeysWithValues: (0..<50).map { (Array("k\($0)".utf8), [UInt8($0)]) })
        var nodes = MemoryNodes()
        var updater = StateTreeUpdater(source: nodes)
        let inserts = entries.map { (path: Hash.sha256($0.key), valueHash: Optional(Hash.sha256($0.value))) }.sorted { $0.path < $1.path }
        let full = try updater.apply(root: .zero, updates: inserts)
        nodes.nodes = updater.created

        let removed = entries.keys.filter { $0.last.map { $0 % 2 == 0 } ?? false }
        var deleter = StateTreeUpdater(source: nodes)
        let deletions = removed.map { (path: Hash.sha256($0), valueHash: Hash?.none) }.sorted { $0.path < $1.path }
        let partial = try deleter.apply(root: full, updates: deletions)
        let remaining = entries.filter { !removed.contains($0.key) }
        #expect(partial == (try root(of: remaining)))

        var wiper = StateTreeUpdater(source: nodes)
        let wipe = entries.keys.map { (path: Hash.sha256($0), valueHash: Hash?.none) }.sorted { $0.path < $1.path }
        #expect(try wiper.apply(root: full, updates: wipe) == .zero)
    }

    @Test func proofs_ofPresentAndAbsentKeys_verifyAgainstTheRoot_andTamperedOnesDoNot() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        var transactions: [Transaction] = []
        for index in 0..<200 {
            transactions.append(chain.transaction(sender: index % 4, nonce: UInt64(index / 4), ScratchContract.put(Array("k\(index)".utf8), Array("v\(index)".utf8))))
        }
        try chain.commit(ledger, transactions)

        let present = try ledger.proof(contract: "scratch", key: Array("k17".utf8))
        #expect(present.proof.value == Array("v17".utf8))
        #expect(present.proof.verify(root: ledger.head.stateRoot))
        #expect(try StateProof(canonicalBytes: present.proof.canonicalBytes).verify(root: present.root))

        let absent = try ledger.proof(contract: "scratch", key: Array("missing".utf8))
        #expect(absent.proof.value == nil)
        #expect(absent.proof.verify(root: ledger.head.stateRoot))

        var wrongValue = present.proof
        wrongValue.value = Array("v18".utf8)
        #expect(!wrongValue.verify(root: ledger.head.stateRoot))

        var claimsAbsent = present.proof
        claimsAbsent.value = nil
        #expect(!claimsAbsent.verify(root: ledger.head.stateRoot))

        var wrongSibling = present.proof
        wrongSibling.siblings[0] = Hash.sha256([1])
        #expect(!wrongSibling.verify(root: ledger.head.stateRoot))

        var shortened = present.proof
        shortened.siblings.removeLast()
        #expect(!shortened.verify(root: ledger.head.stateRoot))

        var otherKey = present.proof
        otherKey.key = Array("k18".utf8)
        #expect(!otherKey.verify(root: ledger.head.stateRoot))

        #expect(!present.proof.verify(root: Hash.sha256([5])))
    }

    /// The same 100,000 transactions executed twice into fresh stores give the
    /// same state root after every block.
    @Test func stateRoot_isDeterministicOver100000Transactions() async throws {
        try await onComputeThread {
            let chain = try DeterministicChain(senderCount: 10)
            let transactionCount = 100_000
            let perBlock = 2_000
            var transactions: [Transaction] = []
            transactions.reserveCapacity(transactionCount)
            for index in 0..<transactionCount {
                let sender = index % 10
                let call = index % 11 == 10
                    ? ScratchContract.call(.delete, key: Array("key-\(index / 2)".utf8))
                    : ScratchContract.put(Array("key-\(index)".utf8), Array("value-\(index &* 2654435761)".utf8))
                transactions.append(chain.transaction(sender: sender, nonce: UInt64(index / 10), call))
            }
            func run() throws -> [Hash] {
                let ledger = try chain.openLedger(MemoryStore())
                var roots: [Hash] = []
                var start = 0
                while start < transactions.count {
                    let executed = try chain.commit(ledger, Array(transactions[start..<min(start + perBlock, transactions.count)]))
                    #expect(executed.receipts.allSatisfy { $0.isSuccess })
                    roots.append(executed.stateRoot)
                    start += perBlock
                }
                return roots
            }
            let first = try run()
            let second = try run()
            #expect(first.count == transactionCount / perBlock)
            #expect(first == second)
            #expect(Set(first).count == first.count)
        }
    }

    @Test func randomGarbage_neverTrapsTheProofDecoder() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let length = Int(generator.next() % 200)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? StateProof(canonicalBytes: bytes)
        }
    }
}

/// The ledger's node cache keeps what is used, in two bounded generations.
@Suite struct StateNodeCacheTests {
    private func leaf(_ number: UInt8) -> (Hash, StateTreeNode) {
        let node = StateTreeNode.leaf(path: Hash.sha256([number]), valueHash: Hash.sha256([number, number]))
        return (node.hash, node)
    }

    @Test func aNodeInUse_survivesTheGenerations_andTheCacheStaysBounded() {
        let cache = StateNodeCache(generationEntriesMax: 3)
        let nodes = (0..<10).map { leaf(UInt8($0)) }
        cache.insert(Dictionary(uniqueKeysWithValues: nodes.prefix(3).map { ($0.0, $0.1) }))
        #expect(cache.count == 3)
        cache.insert([nodes[3].0: nodes[3].1])
        #expect(cache.count == 4, "the full generation became the older one")
        #expect(cache.node(nodes[0].0) == nodes[0].1, "found in the older generation, it moves to the recent one")
        for index in 4..<8 { cache.insert([nodes[index].0: nodes[index].1]) }
        #expect(cache.count <= 6)
        #expect(cache.node(nodes[1].0) == nil, "one not used for two generations is gone")
        #expect(cache.node(nodes[7].0) == nodes[7].1)
        let off = StateNodeCache(generationEntriesMax: 0)
        off.insert([nodes[0].0: nodes[0].1])
        #expect(off.node(nodes[0].0) == nil && off.count == 0)
    }
}
