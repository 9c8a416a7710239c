import Consensus
import Ledger
import LedgerCore
import NodeAPI
import Testing
@testable import Node

/// How the limits of the layers relate: whatever one layer may produce, the
/// next one down must be able to carry, and every pool is bounded in bytes.
@Suite struct LimitsTests {
    /// A transaction whose strings and arguments are as long as the limits allow.
    private func largestTransaction() throws -> Transaction {
        let key = try PrivateKey.generate()
        let arguments = [UInt8](repeating: 0xAB, count: Limits.callArgumentsBytesMax)
        let call = ContractCall(contract: String(repeating: "c", count: Limits.contractNameBytesMax),
                                operation: String(repeating: "o", count: Limits.operationNameBytesMax), arguments: arguments)
        return Transaction.signed(chainID: String(repeating: "x", count: Limits.chainIDBytesMax), key: key,
                                  nonce: .max, expiresAtMs: .max, call: call)
    }

    /// A certificate signed by as many validators as a set may have.
    private func largestCertificate() throws -> CommitCertificate {
        let key = try PrivateKey.generate()
        let signature = key.sign(Hash.sha256([1]))
        let signatures = (0..<Limits.validatorsMax).map { ValidatorSignature(validatorIndex: UInt32($0), signature: signature) }
        return CommitCertificate(height: .max, view: .max, blockHash: Hash.sha256([2]), signatures: signatures)
    }

    @Test func transactions_fitTheirLimit_andTheirByteBoundIsAnUpperBound() throws {
        let largest = try largestTransaction()
        #expect(largest.canonicalBytes.count <= Limits.transactionBytesMax)
        #expect(largest.encodedBytesBound >= largest.canonicalBytes.count)
        let small = Transaction.signed(chainID: "c", key: try PrivateKey.generate(), nonce: 0, expiresAtMs: 0,
                                       call: ContractCall(contract: "g", operation: "o", arguments: []))
        #expect(small.encodedBytesBound >= small.canonicalBytes.count)
        #expect(Limits.transactionBytesMax <= Limits.blockBytesMax)
    }

    @Test func blockHeaderBound_holdsTheHeaderAndTheLargestTransactionCount() throws {
        let key = try PrivateKey.generate().publicKey
        let header = BlockHeader(height: .max, parentHash: .zero, timestampMs: .max, proposer: key, transactionsRoot: .zero,
                                 stateHeight: .max, stateRoot: .zero, validatorSetHash: .zero)
        let empty = Block(header: header, transactions: [])
        // A longer count prefix than the empty block's takes at most 8 bytes more.
        #expect(empty.canonicalBytes.count + 8 <= Limits.blockHeaderBytesBound)
        let full = Block(header: header, transactions: [try largestTransaction(), try largestTransaction()])
        #expect(full.encodedBytesBound >= full.canonicalBytes.count)
        let certificate = try largestCertificate()
        #expect(certificate.encodedBytesBound >= certificate.canonicalBytes.count)
        let certified = CertifiedBlock(block: full, certificate: certificate)
        #expect(certified.encodedBytesBound >= certified.canonicalBytes.count)
    }

    @Test func syncResponses_holdOneLargestCertifiedBlock_andStayWithinAFrame() throws {
        let certificate = try largestCertificate().encodedBytesBound
        #expect(Limits.blockBytesMax + certificate + PeerLimits.frameEnvelopeBytesMax <= PeerLimits.frameBytesMax)
        #expect(PeerLimits.syncResponseBytesMax + PeerLimits.frameEnvelopeBytesMax <= PeerLimits.frameBytesMax)
    }

    @Test func consensusMessages_holdTheLargestBlockWithItsCertificate() throws {
        let certificate = try largestCertificate().canonicalBytes.count
        #expect(Limits.blockBytesMax + certificate + 1024 <= ConsensusLimits.messageBytesMax)
    }

    @Test func peerFrames_holdTheLargestMessage_andQueuesTheLargestFrame() {
        #expect(ConsensusLimits.messageBytesMax + PeerLimits.frameEnvelopeBytesMax <= PeerLimits.frameBytesMax)
        #expect(PeerLimits.frameBytesMax <= PeerLimits.sendQueueBytesMax)
        #expect(Limits.transactionBytesMax <= PeerLimits.gossipBatchBytesMax)
        #expect(PeerLimits.gossipBatchBytesMax + PeerLimits.frameEnvelopeBytesMax <= PeerLimits.frameBytesMax)
        #expect(NodeTiming.gossipBatchMax <= PeerLimits.gossipTransactionsMax)
    }

    @Test func thePool_isBoundedInBytes() {
        let mempool = MempoolLimits()
        #expect(mempool.transactionsMax == ConsensusLimits.pendingTransactionsMax)
        #expect(mempool.bytesMax == ConsensusLimits.pendingTransactionBytesMax)
        #expect(ConsensusLimits.pendingTransactionBytesMax >= Limits.transactionBytesMax)
        #expect(ConsensusLimits.pendingTransactionBytesMax < 1 << 31, "a pool stays well inside the machine's memory")
        #expect(PeerLimits.sendQueueBytesMax < 1 << 31)
    }

    @Test func theConsensusInbox_holdsTwoLargestMessagesPerSource_andTheCachesCoverThePool() {
        #expect(NodeTiming.inboxBytesPerSourceMax >= 2 * ConsensusLimits.messageBytesMax)
        #expect(NodeTiming.inboxBytesPerSourceMax < 1 << 31, "one source's queue stays well inside the machine's memory")
        #expect(NodeTiming.submittedBufferBytesMax <= NodeTiming.inboxBytesPerSourceMax, "a tick's admitted transactions fit the inbox")
        #expect(NodeTiming.submittedBufferBytesMax >= Limits.transactionBytesMax && NodeTiming.gossipBufferBytesMax >= PeerLimits.gossipBatchBytesMax)
        #expect(NodeTiming.verifiedCacheEntriesMax >= ConsensusLimits.pendingTransactionsMax,
                "every pooled transaction's signature stays remembered until it commits")
        #expect(AdmissionBacklogLimits().floorTransactions <= ConsensusLimits.pendingTransactionsMax)
        #expect(AdmissionBacklogLimits().retryAfterMsMin <= AdmissionBacklogLimits().retryAfterMsMax)
    }

    @Test func theAPI_takesTheLargestTransaction_andClientsTakeTheLargestBlock() {
        let wrapper = #"{"transaction":""}"#.utf8.count
        #expect(2 * Limits.transactionBytesMax + wrapper <= APILimits.requestBodyBytesMax)
        // A block is rendered with its transactions and its canonical bytes, each hex-encoded.
        #expect(4 * Limits.blockBytesMax <= APILimits.responseBodyBytesMax)
    }
}
