import NIOHTTP1
import Foundation
import Testing
import Consensus
import Ledger
import ConsortTesting
import LedgerCore
import Contracts
@testable import Node
import NodeAPI
@testable import NodeClient

/// The code of an error answer, or nil when the answer is not one.
private func errorCode(_ response: (status: Int, body: [UInt8])) -> String? {
    guard response.status >= 400 else { return nil }
    do {
        return try APICoding.decode(ErrorAnswer.self, from: response.body).error.code
    } catch {
        return nil
    }
}

/// A successful answer read as `Answer`.
private func answer<Answer: Decodable>(_ type: Answer.Type, _ response: (status: Int, body: [UInt8])) throws -> Answer {
    try NodeClient.decode(type, from: response, route: "test")
}

private func submissionBody(_ transaction: Transaction) throws -> [UInt8] {
    try APICoding.encode(SubmissionRequest(transaction))
}

@Suite(.serialized) struct APITests {
    let chain: LocalConsortium
    let backend: LedgerOnlyBackend
    let committed: Transaction

    init() throws {
        chain = try LocalConsortium(organizations: [("bankA", .bank), ("acme", .enterprise), ("reg", .regulator)])
        let newKey = try PrivateKey.generate()
        committed = chain.transaction("acme", GovernanceContract.call(.addMemberKey, MemberKeyChange(key: newKey.publicKey)))
        try chain.commit([committed])
        backend = LedgerOnlyBackend(ledger: chain.ledger, limits: MempoolLimits(transactionsMax: 2))
    }

    private func addKeyCall() throws -> ContractCall {
        GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey))
    }

    @Test func submit_badBodies_get4xxWithJSONErrors() async throws {
        try await withAPIServer(backend) { client in
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: [])) == "empty_body")
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: Array("not json".utf8))) == "bad_json")
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: Array("{\"tx\":1}".utf8))) == "bad_request")
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: Array("{\"transaction\":\"zz\"}".utf8))) == "bad_hex")
            let malformed = try await client.request(.POST, "/v1/transactions", body: Array("{\"transaction\":\"0102\"}".utf8))
            #expect(malformed.status == 400)
            #expect(errorCode(malformed) == "malformed")
            let huge = try await client.request(.POST, "/v1/transactions", body: [UInt8](repeating: 0x20, count: APILimits.requestBodyBytesMax + 10))
            #expect(huge.status == 413)
        }
    }

    @Test func submit_transactionsTheLedgerWouldRefuse_get422WithTheReason() async throws {
        try await withAPIServer(backend) { client in
            let wrongNonce = Transaction.signed(chainID: chain.genesis.chainID, key: chain.member("acme").key, nonce: 0,
                                                expiresAtMs: chain.ledger.head.timestampMs + 60_000, call: try addKeyCall())
            let response = try await client.request(.POST, "/v1/transactions", body: submissionBody(wrongNonce))
            #expect(response.status == 422)
            #expect(errorCode(response) == "nonce_too_low")
            let stranger = Transaction.signed(chainID: chain.genesis.chainID, key: try PrivateKey.generate(), nonce: 0,
                                              expiresAtMs: chain.ledger.head.timestampMs + 60_000, call: try addKeyCall())
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: submissionBody(stranger))) == "unknown_sender")
            let forbidden = Transaction.signed(chainID: chain.genesis.chainID, key: chain.member("acme").key, nonce: 1,
                                               expiresAtMs: chain.ledger.head.timestampMs + 60_000,
                                               call: GovernanceContract.call(.addOrganization, encodedArguments: []))
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: submissionBody(forbidden))) == "not_permitted")
            let expired = Transaction.signed(chainID: chain.genesis.chainID, key: chain.member("acme").key, nonce: 1,
                                             expiresAtMs: 5, call: try addKeyCall())
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: submissionBody(expired))) == "expired")
            let wrongChain = Transaction.signed(chainID: "elsewhere", key: chain.member("acme").key, nonce: 1,
                                                expiresAtMs: chain.ledger.head.timestampMs + 60_000, call: try addKeyCall())
            #expect(errorCode(try await client.request(.POST, "/v1/transactions", body: submissionBody(wrongChain))) == "wrong_chain")
        }
    }

    @Test func submit_valid_isPending_thenDuplicateIsNotNew_thenFullPoolIsBusy() async throws {
        try await withAPIServer(backend) { client in
            let expiry = chain.ledger.head.timestampMs + 60_000
            let key = chain.member("bankA").key
            let first = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: 0, expiresAtMs: expiry, call: try addKeyCall())
            let accepted = try await client.request(.POST, "/v1/transactions", body: submissionBody(first))
            #expect(accepted.status == 202)
            #expect(try answer(SubmissionAnswer.self, accepted) == SubmissionAnswer(id: first.id, isNew: true))
            let again = try await client.submit(first)
            #expect(again == SubmissionAnswer(id: first.id, isNew: false))
            #expect(try await client.transaction(first.id) == .pending(id: first.id))
            let nonce = try await client.nonces(of: key.publicKey)
            #expect(nonce.nextNonce == 0)
            #expect(nonce.pendingNonce == 1)
            let second = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: 1, expiresAtMs: expiry, call: try addKeyCall())
            #expect(try await client.request(.POST, "/v1/transactions", body: submissionBody(second)).status == 202)
            let third = Transaction.signed(chainID: chain.genesis.chainID, key: key, nonce: 2, expiresAtMs: expiry, call: try addKeyCall())
            let busy = try await client.request(.POST, "/v1/transactions", body: submissionBody(third))
            #expect(busy.status == 503)
            #expect(errorCode(busy) == "busy")
        }
    }

    /// The binary batch route: bad bodies get a reason, each transaction an answer in order.
    @Test func batchSubmission_badBodies_andAnAnswerPerTransaction() async throws {
        try await withAPIServer(backend) { client in
            let path = "/v1/transactions/batch"
            let asJSON = try await client.request(.POST, path, body: Array("{}".utf8))
            #expect(asJSON.status == 415 && errorCode(asJSON) == "unsupported_media_type")
            let octets = "application/octet-stream"
            #expect(errorCode(try await client.request(.POST, path, body: [5, 1], contentType: octets)) == "malformed_batch")
            var tooMany = CanonicalEncoder()
            tooMany.write(UInt64(APILimits.batchTransactionsMax + 1))
            #expect(errorCode(try await client.request(.POST, path, body: tooMany.bytes, contentType: octets)) == "malformed_batch")
            var trailing = TransactionBatchRequest(encoded: []).canonicalBytes
            trailing.append(0)
            #expect(errorCode(try await client.request(.POST, path, body: trailing, contentType: octets)) == "malformed_batch")
            let huge = try await client.request(.POST, path, body: [UInt8](repeating: 0, count: APILimits.batchBodyBytesMax + 10), contentType: octets)
            #expect(huge.status == 413)

            let expiry = chain.ledger.head.timestampMs + 60_000
            let acme = chain.member("acme").key
            let good = Transaction.signed(chainID: chain.genesis.chainID, key: acme, nonce: 1, expiresAtMs: expiry, call: try addKeyCall())
            let used = Transaction.signed(chainID: chain.genesis.chainID, key: acme, nonce: 0, expiresAtMs: expiry, call: try addKeyCall())
            let answer = try await client.submit(batch: TransactionBatchRequest(encoded: [good.canonicalBytes, [1, 2, 3], used.canonicalBytes]))
            #expect(answer.results.map(\.status) == [.pending, .refused, .refused])
            #expect(answer.results[0] == BatchSubmissionResult(id: good.id, status: .pending, isNew: true))
            #expect(answer.results[1].id == nil && answer.results[1].error?.code == "malformed")
            #expect(answer.results[2].id == used.id && answer.results[2].error?.code == "nonce_too_low")
            #expect(answer.retryAfterMs == nil)
            #expect(try await client.submit(batch: [good]).results == [BatchSubmissionResult(id: good.id, status: .pending, isNew: false)])

            // The pool holds two: the third is busy, and a batch of only busy ones is answered 503.
            let second = Transaction.signed(chainID: chain.genesis.chainID, key: acme, nonce: 2, expiresAtMs: expiry, call: try addKeyCall())
            let third = Transaction.signed(chainID: chain.genesis.chainID, key: acme, nonce: 3, expiresAtMs: expiry, call: try addKeyCall())
            let full = try await client.submit(batch: [second, third])
            #expect(full.results.map(\.status) == [.pending, .busy])
            #expect(full.retryAfterMs != nil)
            let busy = try await client.request(.POST, path, body: TransactionBatchRequest([third]).canonicalBytes, contentType: octets)
            #expect(busy.status == 503)
            #expect(try APICoding.decode(BatchSubmissionAnswer.self, from: busy.body).results.map(\.status) == [.busy])
            #expect(try await client.submit(batch: [third]).results.first?.error?.code == "busy")
        }
    }

    @Test func transactionStatus_badAndUnknownIds_and_committedReceipt() async throws {
        try await withAPIServer(backend) { client in
            #expect(errorCode(try await client.request(.GET, "/v1/transactions/xyz")) == "bad_parameter")
            let unknown = try await client.request(.GET, "/v1/transactions/\(Hash.sha256([1]).hex)")
            #expect(unknown.status == 404)
            let found = try #require(try await client.transaction(committed.id).committed)
            #expect(found.height == 1)
            #expect(found.receipt.status == .success)
            let inclusion = try #require(found.inclusion)
            let header = try BlockHeader(canonicalBytes: inclusion.header.bytes)
            let certificate = try CommitCertificate(canonicalBytes: inclusion.certificate.bytes)
            try certificate.verify(header: header, validators: chain.genesis.validators, chainID: chain.genesis.chainID)
            var decoder = CanonicalDecoder(inclusion.merkleProof.bytes)
            let steps = try decoder.readArray(MerkleStep.self, "proof", limit: 64)
            #expect(MerkleTree.verify(leaf: committed.id, proof: steps, root: header.transactionsRoot))
        }
    }

    @Test func blocks_badAndMissingHeights_and_certifiedBlockVerifies() async throws {
        try await withAPIServer(backend) { client in
            #expect(errorCode(try await client.request(.GET, "/v1/blocks/abc")) == "bad_parameter")
            #expect(try await client.request(.GET, "/v1/blocks/99999").status == 404)
            let block = try await client.block(at: 1)
            let encoded = try #require(block.encoded)
            let certified = try CertifiedBlock(canonicalBytes: encoded.bytes)
            try certified.certificate.verify(header: certified.block.header, validators: chain.genesis.validators, chainID: chain.genesis.chainID)
            #expect(try await client.latestBlock().header.height == 1)
        }
    }

    @Test func queriesAndProofs_badInputs_and_answers() async throws {
        try await withAPIServer(backend) { client in
            #expect(errorCode(try await client.request(.GET, "/v1/query/nope/x")) == "unknown_query")
            #expect(errorCode(try await client.request(.GET, "/v1/query/governance/organization")) == "bad_parameter")
            #expect(try await client.request(.GET, "/v1/query/governance/organization?id=ghost").status == 404)
            let found = try await client.query(contract: "governance", "organization", parameters: ["id": "acme"])
            #expect(found.result["kind"]?.stringValue == "enterprise")
            #expect(errorCode(try await client.request(.GET, "/v1/accounts/abc/nonce")) == "bad_parameter")
            #expect(try await client.request(.GET, "/v1/proof/nope?key=00").status == 404)
            #expect(errorCode(try await client.request(.GET, "/v1/proof/governance?key=zz")) == "bad_parameter")
            let proofAnswer = try await client.proof(contract: "governance", key: Array("org/acme".utf8))
            let proof = try StateProof(canonicalBytes: proofAnswer.proof.bytes)
            #expect(proof.verify(root: proofAnswer.stateRoot))
            #expect(proof.value != nil)
            #expect(proofAnswer.value?.bytes == proof.value)
        }
    }

    @Test func unknownRoutesAndMethods_getJSONErrors_andHealthAndMetricsAnswer() async throws {
        try await withAPIServer(backend) { client in
            let missing = try await client.request(.GET, "/v2/nothing")
            #expect(missing.status == 404)
            #expect(errorCode(missing) == "not_found")
            #expect(try await client.health() == HealthAnswer(status: "ok", height: 1))
            let metrics = String(decoding: try await client.request(.GET, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("consort_api_errors_total"))
            #expect(metrics.contains(#"consort_api_request_duration_seconds_count{route="unmatched",status="4xx"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"consort_api_request_duration_seconds_count{route="/health",status="2xx"} 1"#), "\(metrics)")
            #expect(try await client.genesis().chainID == chain.genesis.chainID)
        }
    }

    @Test func eventStream_badStart_isRefused_andStreamsCommittedBlocks() async throws {
        try await withAPIServer(backend) { client in
            #expect(errorCode(try await client.request(.GET, "/v1/events?from=0")) == "bad_parameter")
            #expect(errorCode(try await client.request(.GET, "/v1/events?from=x")) == "bad_parameter")
            let lines = LineBox()
            try await client.streamLines("/v1/events?from=1") { line in
                lines.append(line)
                return !line.hasPrefix("data:")
            }
            #expect(lines.all.contains("id: 1"))
            #expect(lines.all.contains { $0.hasPrefix("data: {") })
        }
    }

    /// The stream in the binary encoding carries the same block, receipts and
    /// state root as the JSON one, and the block's certificate verifies.
    @Test func eventStream_inTheBinaryEncoding_carriesTheCertifiedBlock() async throws {
        try await withAPIServer(backend) { client in
            #expect(errorCode(try await client.request(.GET, "/v1/events?from=1&encoding=xml")) == "bad_parameter")
            let box = EventBox<EncodedBlockEvent>()
            try await client.encodedEvents(from: 1) { event in
                box.append(event)
                return false
            }
            let event = try #require(box.all.first)
            #expect(event.height == 1)
            #expect(event.certified.block == (try chain.ledger.block(at: 1)))
            #expect(event.receipts == (try chain.ledger.receipts(at: 1)))
            #expect(event.receipts.map(\.transactionID) == [committed.id])
            #expect(event.stateRoot == (try chain.ledger.stateRoot(at: 1)))
            try event.certified.certificate.verify(header: event.certified.block.header, validators: chain.genesis.validators, chainID: chain.genesis.chainID)
            #expect(try EncodedBlockEvent(event.serverSentEvent) == event)
            // The stream passes the stored records on undecoded; that is this value's canonical encoding.
            let stored = try #require(try chain.ledger.storedRecords(at: 1))
            #expect(EncodedBlockEvent.serverSentEvent(height: 1, block: stored.block, certificate: stored.certificate, receipts: stored.receipts,
                                                      stateRoot: stored.stateRoot) == event.serverSentEvent)
            #expect(try chain.ledger.storedRecords(at: 0) == nil, "genesis has no certificate and is not streamed")
            #expect(try chain.ledger.storedRecords(at: chain.ledger.head.height + 1) == nil)
            var wrongID = event.serverSentEvent
            wrongID.id = "7"
            #expect(throws: ServerSentEventError.self) { try EncodedBlockEvent(wrongID) }
            var notHex = event.serverSentEvent
            notHex.data = "zz"
            #expect(throws: ServerSentEventError.self) { try EncodedBlockEvent(notHex) }
        }
    }
}

/// Thread-safe list of the block events a stream delivered.
final class EventBox<Event: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var events: [Event] = []
    func append(_ event: Event) { lock.withLock { events.append(event) } }
    var all: [Event] { lock.withLock { events } }
}

final class LineBox: @unchecked Sendable {
    private let lock = Lock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Suite struct APIPrivacyTests {
    /// A person's identifier is hashed on the client; no answer of the API,
    /// for blocks, transactions, events or queries, ever contains it.
    @Test func personIdentifier_neverAppearsInAPIResponses() async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank), ("bankB", .bank), ("reg", .regulator)])
        let identifier = "110101199003070011"
        let consortiumKey = Array("consortium-shared-secret-key-0001".utf8)
        let subject = try BlacklistSubject.person(identifier: identifier, consortiumKey: consortiumKey)
        let evidence = Hash.sha256(Array("evidence".utf8))
        try chain.commit([chain.transaction("bankA", BlacklistContract.call(.add, AddBlacklistEntry(subject: subject, reasonCode: "fraud", evidenceHash: evidence)))])
        let check = chain.transaction("bankB", BlacklistContract.call(.check, CheckBlacklistSubject(subject: subject, purposeCode: "loan_review")))
        try chain.commit([check])
        let backend = LedgerOnlyBackend(ledger: chain.ledger)
        try await withAPIServer(backend) { client in
            var bodies: [String] = []
            for path in ["/v1/blocks/1", "/v1/blocks/2", "/v1/transactions/\(check.id.hex)", "/v1/query/blacklist/entry?id=1",
                         "/v1/query/blacklist/provenance?id=1", "/v1/query/blacklist/subject?subject=\(subject.text)",
                         "/v1/query/blacklist/report?organization=bankB", "/metrics", "/v1/status"] {
                let response = try await client.request(.GET, path)
                #expect(response.status == 200, "\(path) answered \(response.status)")
                bodies.append(String(decoding: response.body, as: UTF8.self))
            }
            let lines = LineBox()
            try await client.streamLines("/v1/events?from=1") { line in
                lines.append(line)
                return !line.hasPrefix("id: 2")
            }
            bodies.append(contentsOf: lines.all)
            let everything = bodies.joined(separator: "\n")
            #expect(everything.contains(subject.text), "the subject hash itself is what the API shows")
            #expect(!everything.contains(identifier))
            #expect(!everything.contains(Hex.encode(Array(identifier.utf8))))
        }
    }
}
