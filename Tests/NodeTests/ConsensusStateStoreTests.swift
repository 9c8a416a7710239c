import Foundation
import Testing
import Consensus
import Ledger
import LedgerCore
import ConsortTesting
@testable import Node
import NodeAPI
@testable import NodeClient

@Suite struct ConsensusStateStoreTests {
    private let key: PrivateKey

    init() throws { key = try PrivateKey.generate() }

    private func withStore(_ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "consort-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    /// A prepared certificate for `height` in `view` over a block of `transactions` transactions.
    private func certificate(height: UInt64, view: UInt64, transactions: Int = 3) -> PreparedCertificate {
        let body = (0..<transactions).map { index in
            Transaction.signed(chainID: "c", key: key, nonce: UInt64(index), expiresAtMs: 1_000,
                               call: ContractCall(contract: "governance", operation: "noop", arguments: [UInt8(index)]))
        }
        let header = BlockHeader(height: height, parentHash: .zero, timestampMs: height, proposer: key.publicKey,
                                 transactionsRoot: MerkleTree.root(of: body.map(\.id)), stateHeight: height - 1, stateRoot: .zero,
                                 validatorSetHash: .zero)
        let block = Block(header: header, transactions: body)
        let prePrepare = PrePrepare(view: view, block: block, signature: key.sign(block.hash))
        let prepares = (1...2).map { replica in
            Prepare(view: view, height: height, blockHash: block.hash, replica: UInt32(replica), signature: key.sign(block.hash))
        }
        return PreparedCertificate(prePrepare: prePrepare, prepares: prepares)
    }

    private func state(view: UInt64, prepared: [PreparedCertificate]) -> PersistentState {
        PersistentState(view: view, changingTo: nil, viewChangeAttempts: 0,
                        ownVotes: prepared.map { OwnVote(height: $0.height, blockHash: $0.blockHash, commitSent: true) },
                        prepared: prepared, stableCheckpoint: nil)
    }

    @Test func persistThenLoad_givesTheSameState_acrossReopens() throws {
        try withStore { path in
            let first = state(view: 1, prepared: [certificate(height: 5, view: 1), certificate(height: 6, view: 1)])
            let second = state(view: 2, prepared: [certificate(height: 6, view: 2), certificate(height: 7, view: 2, transactions: 1)])
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                #expect(try store.load() == nil)
                try store.persist(first)
                try store.persist(second)
            }
            let third = state(view: 2, prepared: [])
            do {
                let reopened = ConsensusStateStore(store: try LevelDBStore(path: path))
                #expect(try reopened.load() == second)
                try reopened.persist(third)
            }
            #expect(try ConsensusStateStore(store: try LevelDBStore(path: path)).load() == third)
        }
    }

    @Test func stateWrittenAsOneValue_isReadThenReplaced() throws {
        try withStore { path in
            let legacy = state(view: 3, prepared: [certificate(height: 9, view: 3)])
            do {
                let raw = try LevelDBStore(path: path)
                var batch = WriteBatch()
                // The format of that time, before the new-view message and the view-change view were
                // persisted: the same fields without them (here nil and the view, one byte each).
                batch.put(Array("replica/state".utf8), Array(legacy.canonicalBytes.dropLast(2)))
                try raw.write(batch, sync: true)
            }
            let next = state(view: 4, prepared: [certificate(height: 9, view: 4)])
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                #expect(try store.load() == legacy)
                try store.persist(next)
            }
            let raw = try LevelDBStore(path: path)
            #expect(try raw.get(Array("replica/state".utf8)) == nil)
            #expect(try ConsensusStateStore(store: raw).load() == next)
        }
    }

    @Test func newViewMessage_isStoredOnce_andReadBackWithItsView() throws {
        try withStore { path in
            let digest = Hash.tagged("test/new-view", [])
            let change = ViewChange(newView: 2, replica: 0, checkpoint: nil, prepared: [], signature: key.sign(digest))
            let newView = NewView(view: 2, viewChanges: [change], proposals: [], signature: key.sign(digest))
            var entered = state(view: 2, prepared: [certificate(height: 5, view: 2)])
            entered.newView = newView
            entered.viewChangeSentFor = 3
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                try store.persist(entered)
            }
            #expect(try ConsensusStateStore(store: try LevelDBStore(path: path)).load() == entered)
            var left = entered
            left.view = 3
            left.newView = nil
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                _ = try store.load()
                try store.persist(left)
            }
            let raw = try LevelDBStore(path: path)
            #expect(try raw.get(Array("replica/new-view".utf8)) == nil, "a new view of an earlier view is deleted")
            #expect(try ConsensusStateStore(store: raw).load() == left)
        }
    }

    @Test func stateOfTheFormatBeforeNewViews_isReadThenReplaced() throws {
        try withStore { path in
            let earlier = state(view: 2, prepared: [])
            do {
                // The summary of that format: the record without the new view and the view-change
                // view (nil and 0 here, one byte each), no prepared heights, no body hashes.
                var encoder = CanonicalEncoder()
                encoder.write(fixed: earlier.canonicalBytes.dropLast(2))
                encoder.write(UInt64(0))
                encoder.write([Hash]())
                let raw = try LevelDBStore(path: path)
                var batch = WriteBatch()
                batch.put(Array("replica/state-v2".utf8), encoder.bytes)
                try raw.write(batch, sync: true)
            }
            let next = state(view: 3, prepared: [])
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                #expect(try store.load() == earlier)
                try store.persist(next)
            }
            let raw = try LevelDBStore(path: path)
            #expect(try raw.get(Array("replica/state-v2".utf8)) == nil)
            #expect(try ConsensusStateStore(store: raw).load() == next)
        }
    }

    @Test func missingCertificate_refusesToStart() throws {
        try withStore { path in
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                try store.persist(state(view: 1, prepared: [certificate(height: 5, view: 1)]))
            }
            do {
                let raw = try LevelDBStore(path: path)
                var batch = WriteBatch()
                batch.delete(Array("replica/prepared/00000000000000000005".utf8))
                try raw.write(batch, sync: true)
            }
            let error = #expect(throws: NodeStartError.self) { try ConsensusStateStore(store: try LevelDBStore(path: path)).load() }
            #expect(error?.description.contains("height 5 that is not stored") == true)
        }
    }

    @Test func certificateInTheEarlierWholeBlockFormat_refusesToStart() throws {
        try withStore { path in
            let current = certificate(height: 5, view: 1)
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                try store.persist(state(view: 1, prepared: [current]))
            }
            do {
                // Earlier versions stored (pre-prepare with the whole block, prepares) per height.
                let block = Block(header: current.header, transactions: [])
                var encoder = CanonicalEncoder()
                encoder.write(PrePrepare(view: current.view, block: block, signature: current.signature))
                encoder.write(current.prepares)
                let raw = try LevelDBStore(path: path)
                var batch = WriteBatch()
                batch.put(Array("replica/prepared/00000000000000000005".utf8), encoder.bytes)
                try raw.write(batch, sync: true)
            }
            let error = #expect(throws: NodeStartError.self) { try ConsensusStateStore(store: try LevelDBStore(path: path)).load() }
            #expect(error?.description.contains("refusing to start") == true)
        }
    }

    @Test func retainedBlockBodies_persistOneKeyEach_andAreDeletedWhenDropped() throws {
        try withStore { path in
            let first = certificate(height: 5, view: 1)
            let header = BlockHeader(height: 5, parentHash: .zero, timestampMs: 5, proposer: key.publicKey,
                                     transactionsRoot: MerkleTree.root(of: []), stateHeight: 4, stateRoot: .zero, validatorSetHash: .zero)
            let body = Block(header: header, transactions: [])
            var withBody = state(view: 1, prepared: [first])
            withBody.blockBodies = [body]
            do {
                let store = ConsensusStateStore(store: try LevelDBStore(path: path))
                try store.persist(withBody)
            }
            let raw = try LevelDBStore(path: path)
            #expect(try raw.get(Array("replica/body/\(body.hash.hex)".utf8)) != nil)
            let reopened = ConsensusStateStore(store: raw)
            #expect(try reopened.load() == withBody)
            try reopened.persist(state(view: 1, prepared: [first]))
            #expect(try raw.get(Array("replica/body/\(body.hash.hex)".utf8)) == nil)
            #expect(try ConsensusStateStore(store: raw).load() == state(view: 1, prepared: [first]))
        }
    }

    @Test func corruptState_refusesToStart() throws {
        try withStore { path in
            do {
                let raw = try LevelDBStore(path: path)
                var batch = WriteBatch()
                batch.put(Array("replica/state-v2".utf8), [1, 2, 3])
                try raw.write(batch, sync: true)
            }
            let error = #expect(throws: NodeStartError.self) { try ConsensusStateStore(store: try LevelDBStore(path: path)).load() }
            #expect(error?.description.contains("refusing to start") == true)
        }
    }
}
