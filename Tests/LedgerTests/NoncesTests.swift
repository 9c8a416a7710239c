import Testing
@testable import Ledger
import LedgerCore

@Suite struct NoncesTests {
    let chain: DeterministicChain
    init() throws { chain = try DeterministicChain(senderCount: 2) }

    private func transaction(_ sender: Int, _ nonce: UInt64) -> Transaction {
        chain.transaction(sender: sender, nonce: nonce, ScratchContract.put([UInt8(sender)], [UInt8(truncatingIfNeeded: nonce)]))
    }

    private func order(_ candidates: [Transaction], after ancestors: [Block] = [], blockTimestampMs: UInt64 = 0, limit: Int = 100,
                       committed: [Int: UInt64] = [:], acceptable: (Transaction) -> Bool = { _ in true }) -> [String] {
        let keys = chain.senders.map(\.publicKey)
        return Nonces.orderBatch(candidates, after: ancestors, blockTimestampMs: blockTimestampMs, limit: limit,
                                 committedNextNonce: { key in keys.firstIndex(of: key).map { committed[$0] ?? 0 } },
                                 isAcceptable: acceptable)
            .map { "\(keys.firstIndex(of: $0.body.sender) ?? -1):\($0.body.nonce)" }
    }

    @Test func orderBatch_outOfOrderArrivals_goInNonceOrder_andAGapWaits() {
        #expect(order([transaction(0, 2), transaction(0, 1), transaction(0, 5), transaction(0, 0)]) == ["0:0", "0:1", "0:2"])
    }

    @Test func orderBatch_continuesAfterTheBlocksAhead_andFromTheCommittedNonce() throws {
        let ahead = chain.block(on: try chain.openLedger(MemoryStore()), [transaction(0, 0), transaction(0, 1)])
        #expect(order([transaction(0, 3), transaction(0, 2), transaction(1, 7), transaction(1, 8)], after: [ahead], committed: [1: 8])
                == ["0:2", "1:8", "0:3"])
    }

    @Test func orderBatch_keepsTheLimit_andSkipsWhatIsNotAcceptable() {
        let refused = transaction(1, 0)
        #expect(order([transaction(0, 0), refused, transaction(0, 1), transaction(0, 2)], limit: 2,
                      acceptable: { $0.id != refused.id }) == ["0:0", "0:1"])
    }

    /// An expired transaction would be rejected and leave its nonce unused, so
    /// it is never proposed, and the sender's later nonces wait behind it.
    @Test func orderBatch_neverTakesAnExpiredTransaction_andItsFollowUpsWait() {
        let expired = chain.transaction(sender: 0, nonce: 1, ScratchContract.put([0], [1]), expiresAtMs: 4_999)
        let atTheLimit = chain.transaction(sender: 1, nonce: 0, ScratchContract.put([1], [0]), expiresAtMs: 5_000)
        #expect(order([transaction(0, 0), expired, transaction(0, 2), atTheLimit], blockTimestampMs: 5_000) == ["0:0", "1:0"])
        #expect(order([transaction(0, 0), expired, transaction(0, 2)], blockTimestampMs: 4_999) == ["0:0", "0:1", "0:2"])
    }

    @Test func orderBatch_anExpiredTransactionAhead_doesNotMoveTheNonce() throws {
        let ledger = try chain.openLedger(MemoryStore())
        let lapsed = chain.transaction(sender: 0, nonce: 0, ScratchContract.put([0], [0]), expiresAtMs: 10)
        let ahead = chain.block(on: ledger, [lapsed], timestampMs: 1_000)
        #expect(order([transaction(0, 1), transaction(0, 0)], after: [ahead], blockTimestampMs: 2_000) == ["0:0", "0:1"])
    }

    @Test func orderBatch_withoutANonceRule_takesPoolOrder() {
        let keys = chain.senders.map(\.publicKey)
        let batch = Nonces.orderBatch([transaction(0, 9), transaction(0, 3)], after: [], blockTimestampMs: 0, limit: 10,
                                      committedNextNonce: { _ in nil }, isAcceptable: { _ in true })
        #expect(batch.map(\.body.nonce) == [9, 3])
        #expect(batch.allSatisfy { $0.body.sender == keys[0] })
    }

    @Test func admission_takesTheWindowFromTheCommittedNonce() {
        #expect(Nonces.admission(of: 4, next: 5, window: 10) == .tooLow)
        #expect(Nonces.admission(of: 5, next: 5, window: 10) == .admissible)
        #expect(Nonces.admission(of: 14, next: 5, window: 10) == .admissible)
        #expect(Nonces.admission(of: 15, next: 5, window: 10) == .tooFarAhead)
    }
}
