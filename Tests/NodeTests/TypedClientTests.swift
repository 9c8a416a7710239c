import Foundation
import Testing
import Consensus
import ConsortTesting
import Contracts
import Ledger
import LedgerCore
@testable import Node
import NodeAPI
import NodeClient

/// Every route read through the typed client, against the real API server in-process.
@Suite(.serialized) struct TypedClientTests {
    let chain: LocalConsortium
    let backend: LedgerOnlyBackend
    let accepted: Transaction
    let refused: Transaction

    init() throws {
        chain = try LocalConsortium(organizations: [("bankA", .bank), ("acme", .enterprise), ("reg", .regulator)])
        accepted = chain.transaction("acme", ContractCall(contract: "governance", operation: "addMemberKey",
                                                         arguments: MemberKeyChange(key: try PrivateKey.generate().publicKey).canonicalBytes))
        refused = chain.transaction("bankA", ContractCall(contract: "governance", operation: "addOrganization", arguments: []))
        try chain.commit([accepted])
        try chain.commit([refused])
        backend = LedgerOnlyBackend(ledger: chain.ledger)
    }

    /// The block at `height` as the server renders it.
    private func rendered(_ height: UInt64) throws -> BlockAnswer {
        let ledger = chain.ledger
        let block = try #require(try ledger.block(at: height))
        return Render.block(block, certificate: try ledger.certificate(at: height), receipts: try ledger.receipts(at: height),
                            stateRoot: try ledger.stateRoot(at: height))
    }

    @Test func everyRoute_readsAsItsType() async throws {
        let ledger = chain.ledger
        let head = ledger.head.height
        try await withAPIServer(backend) { client in
            #expect(try await client.status() == Render.status(backend.status()))
            #expect(try await client.status().height == head)
            #expect(try await client.genesis() == Render.genesis(chain.genesis))
            #expect(try await client.health() == HealthAnswer(height: head))

            #expect(try await client.block(at: 1) == (try rendered(1)))
            #expect(try await client.latestBlock() == (try rendered(head)))

            let committed = try #require(try await client.transaction(accepted.id).committed)
            let location = try #require(try ledger.transaction(accepted.id))
            #expect(committed.height == location.location.height)
            #expect(committed.index == location.location.index)
            #expect(committed.receipt == Render.receipt(location.receipt))
            #expect(committed.transaction == Render.transaction(accepted))
            let inclusion = try #require(committed.inclusion)
            let header = try BlockHeader(canonicalBytes: inclusion.header.bytes)
            try CommitCertificate(canonicalBytes: inclusion.certificate.bytes)
                .verify(header: header, validators: chain.genesis.validators, chainID: chain.genesis.chainID)
            let rejection = try #require(try await client.transaction(refused.id).committed).receipt
            #expect(rejection.status == .rejected)
            #expect(rejection.error?.code == "not_permitted")

            let acme = chain.member("acme").key.publicKey
            let nextNonce = try ledger.nextNonce(for: acme)
            #expect(try await client.nonces(of: acme) == NonceAnswer(key: acme, nextNonce: nextNonce, pendingNonce: nextNonce, organization: "acme"))
            let stranger = try PrivateKey.generate().publicKey
            #expect(try await client.nonces(of: stranger).organization == nil)

            let organization = try await client.query(contract: "governance", "organization", parameters: ["id": "acme"])
            #expect(organization == QueryAnswer(height: head, result: try ledger.query(contract: "governance", "organization", parameters: ["id": "acme"])))
            let typed = try await client.query(contract: "governance", "organization", parameters: ["id": "acme"], as: OrganizationAnswer.self)
            #expect(typed.kind == .enterprise)
            #expect(typed == OrganizationAnswer(try #require(try ledger.queryView().organization(id: "acme"))))

            let present = try await client.proof(contract: "governance", key: Array("org/acme".utf8))
            let absent = try await client.proof(contract: "governance", key: Array("org/ghost".utf8))
            #expect(present.value != nil)
            #expect(absent.value == nil)
            for answer in [present, absent] {
                let proof = try StateProof(canonicalBytes: answer.proof.bytes)
                #expect(proof.verify(root: answer.stateRoot))
                #expect(proof.value == answer.value?.bytes)
            }

            let fresh = Transaction.signed(chainID: chain.genesis.chainID, key: chain.member("acme").key, nonce: nextNonce,
                                           expiresAtMs: ledger.head.timestampMs + 60_000,
                                           call: ContractCall(contract: "governance", operation: "addMemberKey",
                                                              arguments: MemberKeyChange(key: try PrivateKey.generate().publicKey).canonicalBytes))
            #expect(try await client.submit(fresh) == SubmissionAnswer(id: fresh.id, isNew: true))
            #expect(try await client.transaction(fresh.id) == .pending(id: fresh.id))
            #expect(try await client.nonces(of: acme).pendingNonce == nextNonce + 1)

            let events = EventBox<BlockStreamEvent>()
            try await client.events(from: 1) { event in
                events.append(event)
                return event.height < head
            }
            #expect(events.all == [BlockStreamEvent(block: try rendered(1)), BlockStreamEvent(block: try rendered(head))])

            let unknown = await #expect(throws: NodeClientError.self) { try await client.transaction(Hash.sha256([9])) }
            guard case .api(404, "not_found", _)? = unknown else {
                Issue.record("an unknown transaction gave \(String(describing: unknown))")
                return
            }
        }
    }

    @Test func answerOfAnotherShape_isABadResponseNamingTheField() async throws {
        try await withAPIServer(backend) { client in
            let wrongRoute = await #expect(throws: NodeClientError.self) { try await client.get("/v1/genesis", as: StatusAnswer.self) }
            guard case .badResponse(let missing)? = wrongRoute else {
                Issue.record("a genesis answer read as a status gave \(String(describing: wrongRoute))")
                return
            }
            #expect(missing.contains("GET /v1/genesis"))
            #expect(missing.contains("field 'node' is missing"))

            let raw = try await client.request(.GET, "/v1/status")
            guard case .object(var members) = try APICoding.decode(JSONValue.self, from: raw.body) else {
                Issue.record("the status answer is not an object")
                return
            }
            members["height"] = .string("tall")
            let mistyped = #expect(throws: NodeClientError.self) {
                try NodeClient.decode(StatusAnswer.self, from: (200, try APICoding.encode(JSONValue.object(members))), route: "GET /v1/status")
            }
            #expect(mistyped == .badResponse("GET /v1/status (HTTP 200): field 'height' is not an integer"))
        }
    }

    @Test func queryResultOfAnotherShape_isABadResponseNamingTheQueryAndField() async throws {
        try await withAPIServer(backend) { client in
            let wrongShape = await #expect(throws: NodeClientError.self) {
                try await client.query(contract: "governance", "organizations", as: OrganizationAnswer.self)
            }
            guard case .badResponse(let reason)? = wrongShape else {
                Issue.record("a list read as one organization gave \(String(describing: wrongShape))")
                return
            }
            #expect(reason.contains("governance/organizations"))
            #expect(reason.contains("OrganizationAnswer"))
        }
        let missing: JSONValue = .object(["id": .string("acme"), "name": .string("Acme"), "kind": .string("enterprise"), "status": .string("active")])
        let unread = #expect(throws: NodeClientError.self) {
            try NodeClient.decodeResult(missing, as: OrganizationAnswer.self, contract: "governance", "organization")
        }
        #expect(unread == .badResponse("the result of query governance/organization does not read as OrganizationAnswer: field 'memberKeys' is missing"))
    }

    @Test func errorAnswers_becomeAPIErrors_andOtherBodiesBadResponses() throws {
        let body = try APICoding.encode(ErrorAnswer(code: "busy", message: "the mempool is full"))
        let api = #expect(throws: NodeClientError.self) { try NodeClient.decode(HealthAnswer.self, from: (503, body), route: "GET /health") }
        #expect(api == .api(status: 503, code: "busy", message: "the mempool is full"))
        let proxy = #expect(throws: NodeClientError.self) {
            try NodeClient.decode(HealthAnswer.self, from: (502, Array("<html>bad gateway</html>".utf8)), route: "GET /health")
        }
        guard case .badResponse(let message)? = proxy else {
            Issue.record("a non-JSON error body gave \(String(describing: proxy))")
            return
        }
        #expect(message.contains("HTTP 502"))
    }
}

/// Events whose keys repeat reach a client whole.
@Suite struct RenderedEventTests {
    @Test func aBlacklistMatchWithSeveralEntries_readsBackWithEveryEntry_afterTheAPIsJSON() throws {
        let entries = [#"{"entry":1,"uploader":"bankA"}"#, #"{"entry":2,"uploader":"bankC"}"#, #"{"entry":3,"uploader":"bankD"}"#]
        let events = [
            Event(contract: "blacklist", name: "check_match",
                  attributes: [EventAttribute("subject", "company:91350100M000100Y43"), EventAttribute("matches", "3")]
                      + entries.map { EventAttribute("entry", $0) }),
            Event(contract: "blacklist", name: "check_summary",
                  attributes: [EventAttribute("purposeCode", "loan_review"), EventAttribute("subjects", "1"),
                               EventAttribute("matchedSubjects", "1"), EventAttribute("subjectsChecked", "4"), EventAttribute("allowance", "100")]),
        ]
        let sent = try JSONEncoder().encode(events.map(Render.event))
        let received = try JSONDecoder().decode([APIEvent].self, from: sent)
        #expect(received[0].attributes["entry"] == entries[0])
        #expect(received[0].repeated?["entry"] == entries)
        #expect(received[1].repeated == nil)
        let result = try #require(BlacklistCheckResult(events: received.map(\.event)))
        #expect(result == BlacklistCheckResult(events: events))
        #expect(result.matches.first?.entries == entries)
    }
}
