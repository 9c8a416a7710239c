import Testing
@testable import Ledger
import LedgerCore
import LedgerTesting

/// A store that fails a chosen write, to simulate a crash or a full disk mid-commit.
final class FaultInjectingStore: KeyValueStore, @unchecked Sendable {
    let inner: MemoryStore
    var failWriteNumber: Int?
    private(set) var writes = 0

    init(inner: MemoryStore = MemoryStore()) { self.inner = inner }

    func get(_ key: [UInt8]) throws(StorageError) -> [UInt8]? { try inner.get(key) }

    func write(_ batch: WriteBatch, sync: Bool) throws(StorageError) {
        writes += 1
        if writes == failWriteNumber { throw .writeFailed(reason: "injected fault: device lost power") }
        try inner.write(batch, sync: sync)
    }

    func scan(prefix: [UInt8], start: [UInt8]?, limit: Int) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        try inner.scan(prefix: prefix, start: start, limit: limit)
    }
}

@Suite struct LedgerCommitTests {
    @Test func commit_failingMidBlock_leavesNothingHalfWritten_andReopensAtLastBlock() throws {
        let chain = try DeterministicChain()
        let store = FaultInjectingStore()
        let ledger = try chain.openLedger(store)
        try chain.commit(ledger, [chain.transaction(sender: 0, nonce: 0, ScratchContract.put([1], [1]))])
        let afterFirst = ledger.head
        let storedBefore = store.inner.count

        store.failWriteNumber = store.writes + 1
        let second = chain.transaction(sender: 0, nonce: 1, ScratchContract.put([2], [2]))
        let block = chain.block(on: ledger, [second])
        #expect(throws: LedgerError.self) { try ledger.apply(block, certificate: chain.certificate(block.header)) }
        #expect(ledger.head == afterFirst)
        #expect(store.inner.count == storedBefore)

        let reopened = try chain.openLedger(store.inner.snapshot())
        #expect(reopened.head == afterFirst)
        #expect(try reopened.block(at: 2) == nil)
        #expect(try reopened.transaction(second.id) == nil)
        #expect(try reopened.stateValue(contract: "scratch", key: [2]) == nil)

        store.failWriteNumber = nil
        try ledger.apply(block, certificate: chain.certificate(block.header))
        #expect(ledger.head.height == 2)
        #expect(try ledger.stateValue(contract: "scratch", key: [2]) == [2])
    }

    @Test func commit_writesEachBlockInExactlyOneBatch() throws {
        let chain = try DeterministicChain()
        let store = FaultInjectingStore()
        let ledger = try chain.openLedger(store)
        let before = store.writes
        for nonce in 0..<5 as Range<UInt64> {
            try chain.commit(ledger, [chain.transaction(sender: 1, nonce: nonce, ScratchContract.put([UInt8(nonce)], [9]))])
        }
        #expect(store.writes - before == 5)
    }

    @Test func leveldbLedger_reopensAtItsHead_withSameRoot() throws {
        let directory = try TemporaryDirectory()
        let chain = try DeterministicChain()
        let head: LedgerHead
        do {
            let ledger = try chain.openLedger(try LevelDBStore(path: directory.path + "/ledger"))
            for nonce in 0..<3 as Range<UInt64> {
                try chain.commit(ledger, [chain.transaction(sender: 0, nonce: nonce, ScratchContract.put([UInt8(nonce)], [1]))])
            }
            head = ledger.head
        }
        let reopened = try chain.openLedger(try LevelDBStore(path: directory.path + "/ledger"))
        #expect(reopened.head == head)
        #expect(try reopened.stateRoot(at: 3) == head.stateRoot)
        #expect(try reopened.nextNonce(for: chain.senders[0].publicKey) == 3)
    }

    @Test func open_storeOfAnotherGenesis_isRefusedAsForeign() throws {
        let chain = try DeterministicChain()
        let store = MemoryStore()
        _ = try chain.openLedger(store)
        let other = try DeterministicChain(senderCount: 2)
        #expect(throws: LedgerError.storage(.foreign(reason: "it was created from a different genesis (chain id or members differ)"))) {
            try other.openLedger(store)
        }
    }

    @Test func open_storeWithOtherData_isRefusedAsForeign() throws {
        let store = MemoryStore()
        var batch = WriteBatch()
        batch.put(Array("someone else's".utf8), [1])
        try store.write(batch, sync: true)
        #expect(throws: LedgerError.self) { try DeterministicChain().openLedger(store) }
    }

    @Test func open_damagedHeadRecord_isReportedAsCorruption() throws {
        let chain = try DeterministicChain()
        let store = MemoryStore()
        _ = try chain.openLedger(store)
        var batch = WriteBatch()
        batch.put(StoreKey.head, [1, 2, 3])
        try store.write(batch, sync: true)
        do {
            _ = try chain.openLedger(store)
            Issue.record("a damaged head must not open")
        } catch let error as LedgerError {
            guard case .storage(.corrupted) = error else { Issue.record("expected corruption, got \(error)"); return }
        }
    }

    @Test func commit_certificateWithTooFewOrBadSignatures_isRefused() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        let block = chain.block(on: ledger, [])
        let executed = try ledger.execute(block)
        #expect(throws: LedgerError.certificate(.tooFewSignatures(got: 2, needed: 3))) {
            try ledger.commit(executed, certificate: chain.certificate(block.header, signers: 2))
        }
        var forged = chain.certificate(block.header)
        forged.signatures[1].signature = chain.validatorKeys[1].sign(Hash.sha256([0]))
        #expect(throws: LedgerError.certificate(.badSignature(index: 1))) { try ledger.commit(executed, certificate: forged) }
        var unknown = chain.certificate(block.header)
        unknown.signatures[2].validatorIndex = 9
        #expect(throws: LedgerError.certificate(.unknownValidator(index: 9))) { try ledger.commit(executed, certificate: unknown) }
        let otherBlock = chain.block(on: ledger, [], timestampMs: 50_000)
        #expect(throws: LedgerError.self) { try ledger.commit(executed, certificate: chain.certificate(otherBlock.header)) }
        #expect(ledger.head.height == 0)
    }

    @Test func execute_blockNotExtendingHead_isRefused() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        var block = chain.block(on: ledger, [])
        block.header.parentHash = Hash.sha256([1])
        #expect(throws: LedgerError.self) { try ledger.execute(block) }
        var stale = chain.block(on: ledger, [], timestampMs: 1)
        stale.header.timestampMs = 1
        #expect(throws: LedgerError.self) { try ledger.execute(stale) }
    }

    @Test func execute_headerClaimingAnotherStateRoot_isAStateRootMismatch() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        var block = chain.block(on: ledger, [])
        block.header.stateRoot = Hash.sha256([42])
        do {
            _ = try ledger.execute(block)
            Issue.record("a wrong state root must be refused")
        } catch {
            guard case .stateRootMismatch = error else { Issue.record("expected a state root mismatch, got \(error)"); return }
        }
    }
}

extension LedgerCommitTests {
    @Test func execute_blockWithBadTransactionContent_givesRejectedReceiptsWithoutThrowing() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        let put = ScratchContract.put([1], [1])
        let forged = Transaction(body: chain.transaction(sender: 1, nonce: 0, put).body, signature: chain.senders[2].sign(Hash.sha256([1])))
        let transactions = [
            chain.transaction(sender: 0, nonce: 0, ScratchContract.call(.crash, key: [9])),
            forged,
            chain.transaction(sender: 2, nonce: 7, put),
            chain.transaction(sender: 3, nonce: 0, ContractCall(contract: "nope", operation: "x", arguments: [])),
            chain.transaction(sender: 0, nonce: 0, put),
        ]
        let before = ledger.head.stateRoot
        let block = chain.block(on: ledger, transactions)
        let executed = try ledger.execute(block)
        #expect(executed.receipts.map { $0.rejection?.code } == ["contract_failed", "bad_signature", "bad_nonce", "unknown_contract", nil])
        try ledger.commit(executed, certificate: chain.certificate(block.header))
        #expect(ledger.head.stateRoot != before)
        #expect(try ledger.stateValue(contract: ScratchContract.name, key: [9]) == nil)
        #expect(try ledger.nextNonce(for: chain.senders[0].publicKey) == 1)
    }

    @Test func checkHeader_usesTheRulesBackupsPrepareBy() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        try chain.commit(ledger, [])
        try chain.commit(ledger, [])
        var foreign = chain.block(on: ledger, [])
        foreign.header.proposer = chain.senders[0].publicKey
        var backwards = chain.block(on: ledger, [])
        backwards.header.stateHeight = 0
        backwards.header.stateRoot = try #require(try ledger.stateRoot(at: 0))
        for (block, expected) in [(foreign, HeaderError.proposerNotValidator(chain.senders[0].publicKey)),
                                  (backwards, .stateHeightOutOfRange(stateHeight: 0, parentStateHeight: 1, height: 3))] {
            do {
                _ = try ledger.execute(block)
                Issue.record("header \(block.header) must be refused")
            } catch {
                #expect(error == .invalidHeader(height: 3, expected))
            }
        }
    }
}

@Suite struct LedgerRejectionTests {
    private func receipt(_ chain: DeterministicChain, _ ledger: Ledger, _ transaction: Transaction, timestampMs: UInt64? = nil) throws -> Receipt {
        let block = chain.block(on: ledger, [transaction], timestampMs: timestampMs)
        let executed = try ledger.apply(block, certificate: chain.certificate(block.header))
        return executed.receipts[0]
    }

    @Test func rejectedTransaction_leavesStateRootUnchanged() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        try chain.commit(ledger, [chain.transaction(sender: 0, nonce: 0, ScratchContract.put([1], [1]))])
        let before = ledger.head.stateRoot
        let failing = chain.transaction(sender: 0, nonce: 1, ScratchContract.call(.putThenFail, key: [5]))
        let result = try receipt(chain, ledger, failing)
        #expect(result.rejection?.code == "asked_to_fail")
        #expect(ledger.head.stateRoot == before)
        #expect(try ledger.stateValue(contract: "scratch", key: [5]) == nil)
        #expect(try ledger.nextNonce(for: chain.senders[0].publicKey) == 1)
        #expect(try ledger.transaction(failing.id)?.receipt.rejection?.code == "asked_to_fail")
    }

    @Test func expiredTransaction_consumesNoNonce_soTheNextOneAtThatNonceRuns() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        let block = chain.block(on: ledger, [], timestampMs: ledger.head.timestampMs + 1000)
        let expired = chain.transaction(sender: 0, nonce: 0, ScratchContract.put([1], [1]), expiresAtMs: block.header.timestampMs - 1)
        let followUp = chain.transaction(sender: 0, nonce: 1, ScratchContract.put([2], [2]))
        let replacement = chain.transaction(sender: 0, nonce: 0, ScratchContract.put([3], [3]))
        let executed = try chain.commit(ledger, [expired, followUp, replacement])
        #expect(executed.receipts.map { $0.rejection?.code } == ["expired", "bad_nonce", nil])
        #expect(try ledger.nextNonce(for: chain.senders[0].publicKey) == 1)
    }

    @Test func everyLedgerRejection_saysWhy() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        let put = ScratchContract.put([1], [1])

        let badSignature = Transaction(body: chain.transaction(sender: 0, nonce: 0, put).body,
                                       signature: chain.senders[1].sign(Hash.sha256([1])))
        #expect(try receipt(chain, ledger, badSignature).rejection?.code == "bad_signature")

        let wrongChain = Transaction.signed(chainID: "other", key: chain.senders[0], nonce: 0, expiresAtMs: .max, call: put)
        #expect(try receipt(chain, ledger, wrongChain).rejection?.code == "wrong_chain")

        #expect(try receipt(chain, ledger, chain.transaction(sender: 0, nonce: 5, put)).rejection?.code == "bad_nonce")

        let expired = chain.transaction(sender: 0, nonce: 0, put, expiresAtMs: 10)
        #expect(try receipt(chain, ledger, expired).rejection?.code == "expired")

        let stranger = try PrivateKey.generate()
        let unknown = Transaction.signed(chainID: chain.genesis.chainID, key: stranger, nonce: 0, expiresAtMs: .max, call: put)
        #expect(try receipt(chain, ledger, unknown).rejection?.code == "unknown_sender")

        let noContract = chain.transaction(sender: 0, nonce: 0, ContractCall(contract: "nope", operation: "x", arguments: []))
        #expect(try receipt(chain, ledger, noContract).rejection?.code == "unknown_contract")

        let noOperation = chain.transaction(sender: 0, nonce: 0, ContractCall(contract: ScratchContract.name, operation: "nope", arguments: []))
        #expect(try receipt(chain, ledger, noOperation).rejection?.code == "unknown_operation")

        let badArguments = chain.transaction(sender: 0, nonce: 0, ScratchContract.call(.put, encodedArguments: [0xFF]))
        #expect(try receipt(chain, ledger, badArguments).rejection?.code == "bad_arguments")

        let forbidden = chain.transaction(sender: 0, nonce: 0, GovernanceContract.call(.addOrganization, encodedArguments: []))
        #expect(try receipt(chain, ledger, forbidden).rejection?.code == "not_permitted")

        let good = chain.transaction(sender: 0, nonce: 0, put)
        #expect(try receipt(chain, ledger, good).isSuccess)
        #expect(try receipt(chain, ledger, good).rejection?.code == "duplicate_transaction")
        #expect(try ledger.transaction(good.id)?.receipt.isSuccess == true)
    }

    @Test func forgedCopyOfATransaction_doesNotBlockTheGenuineOne() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        let genuine = chain.transaction(sender: 0, nonce: 0, ScratchContract.put([1], [1]))
        let forged = Transaction(body: genuine.body, signature: chain.senders[2].sign(genuine.id))
        #expect(forged.id == genuine.id)
        let executed = try chain.commit(ledger, [forged, genuine])
        #expect(executed.receipts[0].rejection?.code == "bad_signature")
        #expect(executed.receipts[1].isSuccess)
        #expect(try ledger.transaction(genuine.id)?.location.index == 1)
    }

    @Test func sameTransactionTwiceInOneBlock_executesOnce() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        let transaction = chain.transaction(sender: 0, nonce: 0, ScratchContract.put([1], [1]))
        let executed = try chain.commit(ledger, [transaction, transaction])
        #expect(executed.receipts[0].isSuccess)
        #expect(executed.receipts[1].rejection?.code == "duplicate_transaction")
        #expect(try ledger.transaction(transaction.id)?.location.index == 0)
    }

    @Test func suspendedOrganization_isRefused() throws {
        let regulatorKey = try PrivateKey.generate()
        let chain = try DeterministicChain()
        var organizations = chain.genesis.organizations
        organizations.append(Organization(id: "reg", name: "Regulator", kind: .regulator, memberKeys: [regulatorKey.publicKey]))
        let genesis = try Genesis(chainID: "suspend", timestampMs: 1, organizations: organizations, validators: chain.genesis.validators)
        let ledger = try Ledger(store: MemoryStore(), genesis: genesis, registry: DeterministicChain.registry())
        let validators = LocalValidators(keys: chain.validatorKeys, genesis: genesis)
        func commit(_ transaction: Transaction) throws -> Receipt {
            let block = validators.block(after: ledger.head, timestampMs: ledger.head.timestampMs + 1000, [transaction])
            return try ledger.apply(block, certificate: validators.certificate(for: block.header)).receipts[0]
        }
        let suspend = Transaction.signed(chainID: genesis.chainID, key: regulatorKey, nonce: 0, expiresAtMs: .max, call: GovernanceContract.call(
            .setOrganizationStatus, SetOrganizationStatus(organizationID: "acme", status: .suspended)))
        #expect(try commit(suspend).isSuccess)
        let put = Transaction.signed(chainID: genesis.chainID, key: chain.senders[0], nonce: 0, expiresAtMs: .max, call: ScratchContract.put([1], [1]))
        #expect(try commit(put).rejection?.code == "organization_suspended")
    }

    @Test func contractIndexes_areWrittenWithTheBlock() throws {
        let chain = try DeterministicChain()
        let ledger = try chain.openLedger(MemoryStore())
        try chain.commit(ledger, [chain.transaction(sender: 0, nonce: 0, ScratchContract.call(.index, key: [3, 4]))])
        let entries = try ledger.queryView().scanIndex(contract: "scratch", index: "by-key", prefix: [3], start: nil, limit: 10)
        #expect(entries.count == 1)
        #expect(entries.first?.key == [3, 4])
        #expect(entries.first?.value == [7])
    }
}
