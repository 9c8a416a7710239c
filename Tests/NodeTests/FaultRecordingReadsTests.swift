import ConsortTesting
import Ledger
import LedgerCore
import Testing
@testable import Node

/// A store whose reads fail once told to, as a damaged disk's would.
private final class FailingReadsStore: KeyValueStore, @unchecked Sendable {
    let inner = MemoryStore()
    var failing = false

    func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        if failing { throw .readFailed(reason: "injected: the disk returned an I/O error") }
        return try inner.get(key)
    }

    func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) { try inner.write(batch, sync: sync) }

    func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        if failing { throw .readFailed(reason: "injected: the disk returned an I/O error") }
        return try inner.scan(prefix: prefix, start: start, limit: limit)
    }
}

/// The faults a test's reads recorded.
private final class RecordedFaults {
    var messages: [String] = []
}

/// A storage error in the shell's reads is a fault, never an answer.
@Suite struct FaultRecordingReadsTests {
    @Test func unreadableStorage_recordsAFault_andGivesTheCautiousAnswer() throws {
        let store = FailingReadsStore()
        let chain = try LocalConsortium(organizations: [("bankA", .bank)], store: store)
        let faults = RecordedFaults()
        let reads = FaultRecordingReads(ledger: chain.ledger) { faults.messages.append($0) }
        let key = chain.member("bankA").key.publicKey
        #expect(reads.committedNextNonce(of: key) == 0)
        #expect(reads.appliedStateRoot(at: 0) != nil)
        try chain.commit([])
        #expect(reads.certifiedBlock(at: 1)?.block.height == 1)
        #expect(faults.messages.isEmpty, "readable storage records nothing")

        store.failing = true
        #expect(reads.isCommittedOrUnreadable(Hash.sha256([1])), "an unreadable index counts as committed")
        #expect(reads.committedNextNonce(of: key) == nil)
        #expect(reads.appliedStateRoot(at: 0) == nil)
        #expect(reads.certifiedBlock(at: 1) == nil, "a committed block that cannot be read is not served")
        #expect(faults.messages.count == 4, "each failed read records a fault")
        #expect(faults.messages.allSatisfy { $0.contains("injected") }, "the fault says what storage said")
    }
}
