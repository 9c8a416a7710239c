import Testing
import LedgerCore
import NodeAPI
@testable import Bench

@Suite struct SignedSubmissionTests {
    /// The load senders write the request body themselves; it must be the API's submission request.
    @Test func requestBody_isTheAPIsSubmissionRequest() throws {
        let transaction = Transaction.signed(chainID: "bench", key: try PrivateKey.generate(), nonce: 3, expiresAtMs: 99,
                                             call: ContractCall(contract: "clearing", operation: "post", arguments: [7, 7]))
        let submission = SignedSubmission(transaction)
        #expect(submission.id == transaction.id)
        #expect(try APICoding.decode(SubmissionRequest.self, from: submission.requestBody) == SubmissionRequest(transaction))
        #expect(submission.requestBody == (try APICoding.encode(SubmissionRequest(transaction))))
    }
}
