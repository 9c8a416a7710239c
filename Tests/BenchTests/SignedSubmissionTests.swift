import Testing
import LedgerCore
import NodeAPI
@testable import Bench

@Suite struct SignedSubmissionTests {
    /// The load senders encode transactions ahead of time; a batch of them must be the API's batch request.
    @Test func encodedSubmissions_makeTheAPIsBatchRequest() throws {
        let key = try PrivateKey.generate()
        let transactions = (0..<3).map { nonce in
            Transaction.signed(chainID: "bench", key: key, nonce: UInt64(nonce), expiresAtMs: 99,
                               call: ContractCall(contract: "clearing", operation: "post", arguments: [7, UInt8(nonce)]))
        }
        let submissions = transactions.map(SignedSubmission.init)
        #expect(submissions.map(\.id) == transactions.map(\.id))
        let batch = TransactionBatchRequest(encoded: submissions.map(\.encoded))
        #expect(batch == TransactionBatchRequest(transactions))
        let decoded = try TransactionBatchRequest(canonicalBytes: batch.canonicalBytes)
        #expect(try decoded.transactions.map { try Transaction(canonicalBytes: $0) } == transactions)
    }

    /// A sender's batch is one the API takes whole.
    @Test func aSendersBatch_fitsTheAPIsBatchLimits() {
        #expect(NetworkBenchLimits.batchTransactionsMax <= APILimits.batchTransactionsMax)
        // Each transaction carries a length of at most 10 bytes, the batch its count.
        let overhead = 10 * (NetworkBenchLimits.batchTransactionsMax + 1)
        #expect(NetworkBenchLimits.batchBytesMax + overhead <= APILimits.batchBodyBytesMax)
        #expect(Limits.transactionBytesMax + 20 <= APILimits.batchBodyBytesMax, "a single transaction of the largest size goes alone")
    }
}
