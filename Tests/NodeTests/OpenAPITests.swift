import Foundation
import NIOHTTP1
import Testing
import Consensus
import Ledger
import ConsortTesting
import LedgerCore
import Contracts
@testable import Node
import NodeAPI
@testable import NodeClient

/// The OpenAPI document (`GET /v1/openapi.json`) is true of the server: it
/// describes exactly the routes the router has, and every answer the routes
/// give here, successes and errors, has a status the document lists for its
/// route and matches the schema it gives for that status.
@Suite(.serialized) struct OpenAPITests {
    let chain: LocalConsortium
    let backend: LedgerOnlyBackend
    let committed: Transaction
    let document: JSONValue

    init() throws {
        chain = try LocalConsortium(organizations: [("bankA", .bank), ("acme", .enterprise), ("reg", .regulator)])
        committed = chain.transaction("acme", GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)))
        try chain.commit([committed])
        backend = LedgerOnlyBackend(ledger: chain.ledger, limits: MempoolLimits(transactionsMax: 2))
        document = try APICoding.decode(JSONValue.self, from: Array(OpenAPIDocument.json(version: NodeMetrics.version).utf8))
    }

    private var paths: [String: JSONValue] { document["paths"]?.objectValue ?? [:] }

    @Test func document_describesExactlyTheRoutesTheServerHas() throws {
        #expect(document["openapi"]?.stringValue == "3.1.0")
        #expect(document["info"]?["version"]?.stringValue == NodeMetrics.version)
        let served = Set(APIServer(backend: backend).makeRouter().routes.map { "\($0.method.rawValue) \($0.path)" })
        var described: Set<String> = []
        for (path, operations) in paths {
            for method in (operations.objectValue ?? [:]).keys { described.insert("\(method.uppercased()) \(path)") }
        }
        #expect(served == described, "served only: \(served.subtracting(described).sorted()); described only: \(described.subtracting(served).sorted())")
        #expect(served.count >= 15)
    }

    @Test func everyReferenceResolves_andEveryOperationIsNamedOnce() throws {
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let target = members["$ref"]?.stringValue { references.append(target) }
                members.values.forEach(collect)
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        collect(document)
        #expect(!references.isEmpty)
        for reference in references { #expect(try resolve(reference) != nil, "\(reference)") }
        let names = paths.values.flatMap { ($0.objectValue ?? [:]).values.compactMap { $0["operationId"]?.stringValue } }
        #expect(names.count == Set(names).count && names.count == paths.values.reduce(0) { $0 + ($1.objectValue?.count ?? 0) })
    }

    /// Each case is a request and the status it must get; the body is checked against the document.
    @Test func everyAnswerMatchesTheDocumentedSchemaForItsStatus() async throws {
        let expiry = chain.ledger.head.timestampMs + 60_000
        let acme = chain.member("acme").key
        func signed(_ nonce: UInt64) throws -> Transaction {
            Transaction.signed(chainID: chain.genesis.chainID, key: acme, nonce: nonce, expiresAtMs: expiry,
                               call: GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)))
        }
        let pending = try signed(1), second = try signed(2), third = try signed(3)
        let octets = "application/octet-stream"
        let submit = "/v1/transactions", batch = "/v1/transactions/batch"
        let key = acme.publicKey.hex
        let cases: [(method: HTTPMethod, path: String, body: [UInt8]?, contentType: String, status: Int)] = [
            (.GET, "/health/live", nil, "", 200),
            (.GET, "/health/ready", nil, "", 200),
            (.GET, "/health", nil, "", 200),
            (.GET, "/metrics", nil, "", 200),
            (.GET, "/v1/openapi.json", nil, "", 200),
            (.GET, "/v1/status", nil, "", 200),
            (.GET, "/v1/genesis", nil, "", 200),
            (.POST, submit, try APICoding.encode(SubmissionRequest(pending)), "application/json", 202),
            (.POST, submit, [], "application/json", 400),
            (.POST, submit, [UInt8](repeating: 0x20, count: APILimits.requestBodyBytesMax + 10), "application/json", 413),
            (.POST, submit, try APICoding.encode(SubmissionRequest(committed)), "application/json", 422),
            (.POST, batch, Array("{}".utf8), "application/json", 415),
            (.POST, batch, [5, 1], octets, 400),
            (.POST, batch, [UInt8](repeating: 0, count: APILimits.batchBodyBytesMax + 10), octets, 413),
            (.POST, batch, TransactionBatchRequest([second, committed]).canonicalBytes, octets, 200),
            (.POST, batch, TransactionBatchRequest([third]).canonicalBytes, octets, 503),
            (.POST, submit, try APICoding.encode(SubmissionRequest(third)), "application/json", 503),
            (.GET, "/v1/transactions/\(committed.id.hex)", nil, "", 200),
            (.GET, "/v1/transactions/\(pending.id.hex)", nil, "", 200),
            (.GET, "/v1/transactions/zz", nil, "", 400),
            (.GET, "/v1/transactions/\(Hash.sha256([9]).hex)", nil, "", 404),
            (.GET, "/v1/blocks/1", nil, "", 200),
            (.GET, "/v1/blocks/latest", nil, "", 200),
            (.GET, "/v1/blocks/x", nil, "", 400),
            (.GET, "/v1/blocks/999", nil, "", 404),
            (.GET, "/v1/accounts/\(key)/nonce", nil, "", 200),
            (.GET, "/v1/accounts/abc/nonce", nil, "", 400),
            (.GET, "/v1/query/governance/organization?id=acme", nil, "", 200),
            (.GET, "/v1/query/nope/x", nil, "", 400),
            (.GET, "/v1/query/governance/organization?id=ghost", nil, "", 404),
            (.GET, "/v1/proof/governance?key=\(Hex.encode(Array("org/acme".utf8)))", nil, "", 200),
            (.GET, "/v1/proof/governance?key=\(Hex.encode(Array("org/nobody".utf8)))", nil, "", 200),
            (.GET, "/v1/proof/governance?key=zz", nil, "", 400),
            (.GET, "/v1/proof/nope?key=00", nil, "", 404),
            (.GET, "/v1/events?from=0", nil, "", 400),
            (.GET, "/v1/events?encoding=xml", nil, "", 400),
        ]
        var exercised: Set<String> = []
        try await withAPIServer(backend) { client in
            for request in cases {
                let answer = try await client.request(request.method, request.path, body: request.body,
                                                      contentType: request.contentType.isEmpty ? "application/json" : request.contentType)
                let label = "\(request.method) \(request.path.prefix(90))"
                #expect(answer.status == request.status, "\(label): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
                let (template, operation) = try #require(self.operation(request.method, request.path), "\(label) is not described")
                let responses = try #require(operation["responses"]?.objectValue)
                let described = try #require(responses[String(answer.status)] ?? responses["default"], "\(label): status \(answer.status) is not described")
                exercised.insert("\(request.method) \(template) \(answer.status)")
                guard let schema = described["content"]?["application/json"]?["schema"] else { continue }
                let body = try APICoding.decode(JSONValue.self, from: answer.body)
                let problems = try validate(body, against: schema, at: "$")
                #expect(problems.isEmpty, "\(label) \(answer.status): \(problems)")
                if request.path == "/v1/openapi.json" { #expect(body == document) }
            }
            // The stream's answer is endless: its first event is read, not its body.
            let lines = LineBox()
            try await client.streamLines("/v1/events?from=1") { line in
                lines.append(line)
                return !line.hasPrefix("data:")
            }
            #expect(lines.all.contains("id: 1"))
            exercised.insert("GET /v1/events 200")
            // Outside the described routes and methods: 404, with the error body every route uses.
            for (method, path, status) in [(HTTPMethod.GET, "/v2/nothing", 404), (.DELETE, "/v1/status", 404)] {
                let answer = try await client.request(method, path)
                #expect(answer.status == status)
                let problems = try validate(try APICoding.decode(JSONValue.self, from: answer.body), against: .object(["$ref": .string("#/components/schemas/ErrorAnswer")]), at: "$")
                #expect(problems.isEmpty, "\(method) \(path): \(problems)")
            }
        }
        // Every described status is exercised, except those this backend cannot be brought to give.
        let unreachable: Set<String> = ["GET /health/ready 503", "GET /health 503", "GET /v1/query/{contract}/{name} 403"]
        var missing: [String] = []
        for (path, operations) in paths {
            for (method, operation) in operations.objectValue ?? [:] {
                for status in (operation["responses"]?.objectValue ?? [:]).keys where status != "500" {
                    let name = "\(method.uppercased()) \(path) \(status)"
                    if !exercised.contains(name) && !unreachable.contains(name) { missing.append(name) }
                }
            }
        }
        #expect(missing.isEmpty, "described but not exercised: \(missing.sorted())")
    }

    /// The schema checker itself refuses what it should.
    @Test func schemaChecker_refusesWrongShapes() throws {
        let status = JSONValue.object(["$ref": .string("#/components/schemas/SubmissionAnswer")])
        let good = JSONValue.object(["id": .string(Hash.sha256([1]).hex), "status": .string("pending"), "new": .bool(true)])
        #expect(try validate(good, against: status, at: "$").isEmpty)
        var extra = good.objectValue ?? [:]
        extra["more"] = .integer(1)
        #expect(!(try validate(.object(extra), against: status, at: "$")).isEmpty)
        var missing = good.objectValue ?? [:]
        missing["new"] = nil
        #expect(!(try validate(.object(missing), against: status, at: "$")).isEmpty)
        var badEnum = good.objectValue ?? [:]
        badEnum["status"] = .string("lost")
        #expect(!(try validate(.object(badEnum), against: status, at: "$")).isEmpty)
        var badHash = good.objectValue ?? [:]
        badHash["id"] = .string("ABC")
        #expect(!(try validate(.object(badHash), against: status, at: "$")).isEmpty)
        #expect(!(try validate(.integer(-1), against: .object(["type": .string("integer"), "minimum": .integer(0)]), at: "$")).isEmpty)
        #expect(!(try validate(.null, against: .object(["type": .string("string")]), at: "$")).isEmpty)
        #expect(try validate(.null, against: .object(["type": .array([.string("string"), .string("null")])]), at: "$").isEmpty)
        #expect(!(try validate(.string("x"), against: .object(["oneOf": .array([.object(["type": .string("integer")])])]), at: "$")).isEmpty)
    }

    // MARK: A small JSON Schema checker (the keywords the document uses)

    private func resolve(_ reference: String) throws -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    /// The described operation a request reaches, with its path template.
    private func operation(_ method: HTTPMethod, _ path: String) -> (String, JSONValue)? {
        let requested = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let parts = requested.split(separator: "/", omittingEmptySubsequences: false)
        for (template, operations) in paths {
            let pattern = template.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == parts.count,
                  zip(pattern, parts).allSatisfy({ $0.hasPrefix("{") && $0.hasSuffix("}") && !$1.isEmpty || $0 == $1 }) else { continue }
            if let operation = operations[method.rawValue.lowercased()] { return (template, operation) }
        }
        return nil
    }

    private func validate(_ value: JSONValue, against schema: JSONValue, at path: String) throws -> [String] {
        if let reference = schema["$ref"]?.stringValue {
            guard let target = try resolve(reference) else { return ["\(path): unresolved \(reference)"] }
            return try validate(value, against: target, at: path)
        }
        if let choices = schema["oneOf"]?.arrayValue {
            let matching = try choices.filter { try validate(value, against: $0, at: path).isEmpty }.count
            return matching == 1 ? [] : ["\(path): matches \(matching) of the oneOf schemas, not exactly 1"]
        }
        var problems: [String] = []
        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? ""]
            guard allowed.contains(where: { Self.has(value, type: $0) }) else { return ["\(path): \(value) is not of type \(allowed)"] }
        }
        if let choices = schema["enum"]?.arrayValue, !choices.contains(value) { problems.append("\(path): \(value) is not one of \(choices)") }
        if let minimum = schema["minimum"], case .integer(let bound) = minimum, case .integer(let number) = value, number < bound {
            problems.append("\(path): \(number) is below \(bound)")
        }
        if let pattern = schema["pattern"]?.stringValue, case .string(let text) = value,
           text.range(of: pattern, options: .regularExpression) == nil {
            problems.append("\(path): '\(text.prefix(80))' does not match \(pattern)")
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (position, item) in items.enumerated() { problems += try validate(item, against: itemSchema, at: "\(path)[\(position)]") }
        }
        if case .object(let members) = value {
            let properties = schema["properties"]?.objectValue ?? [:]
            for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[required] == nil {
                problems.append("\(path): '\(required)' is missing")
            }
            for (name, member) in members {
                if let property = properties[name] {
                    problems += try validate(member, against: property, at: "\(path).\(name)")
                } else if let additional = schema["additionalProperties"] {
                    if case .bool(false) = additional {
                        problems.append("\(path): '\(name)' is not described")
                    } else if case .object = additional {
                        problems += try validate(member, against: additional, at: "\(path).\(name)")
                    }
                }
            }
        }
        return problems
    }

    private static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("string", .string),
             ("array", .array), ("object", .object): true
        default: false
        }
    }
}
