import Foundation
import Hummingbird
import Ledger
import LedgerCore
import Logging
import NodeAPI
import NIOCore
import ServiceLifecycle

/// An API error: an HTTP status and a JSON body `{"error": {"code", "message"}}`.
struct APIError: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// Seconds a client should wait before trying again, sent as `Retry-After`.
    var retryAfterSeconds: Int?

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(status: .badRequest, code: code, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func internalError(_ message: String) -> APIError { APIError(status: .internalServerError, code: "internal", message: message) }
}

/// The HTTP/JSON API of a node.
///
/// | route | what |
/// |---|---|
/// | `POST /v1/transactions` | submit `{"transaction": "<hex of canonical bytes>"}` |
/// | `POST /v1/transactions/batch` | submit many (``TransactionBatchRequest``, `application/octet-stream`); an answer per transaction |
/// | `GET /v1/transactions/{id}` | pending, committed (height, index, receipt) or unknown |
/// | `GET /v1/blocks/{height|latest}` | a block with receipts, certificate and its canonical encoding |
/// | `GET /v1/status` | height, last hash, state root, view, primary, validators, mempool |
/// | `GET /v1/genesis` | chain id, genesis hash and validators |
/// | `GET /v1/accounts/{key}/nonce` | the next nonce of a sender key |
/// | `GET /v1/query/{contract}/{name}?…` | a contract query |
/// | `GET /v1/proof/{contract}?key=hex` | a state proof against the head's state root |
/// | `GET /v1/events?from=H` | Server-Sent Events: committed blocks with receipts from height H; `&encoding=binary` sends each as ``EncodedBlockEvent`` |
/// | `GET /v1/openapi.json` | this table as an OpenAPI 3.1 document (``OpenAPIDocument``), with every answer's schema |
/// | `GET /metrics` | Prometheus metrics |
/// | `GET /health/live` | liveness: the process answers (always 200) |
/// | `GET /health/ready`, `GET /health` | readiness (``NodeHealth``): 200, or 503 with the problems when faulted, cut off from a quorum or stalled |
public struct APIServer: Sendable {
    let backend: any NodeBackend
    let clock: @Sendable () -> UInt64

    public init(backend: any NodeBackend, clock: @escaping @Sendable () -> UInt64 = { wallClockMs() }) {
        self.backend = backend
        self.clock = clock
    }

    /// Runs the API on `host:port` until the task is cancelled; `onRunning`
    /// receives the bound port (useful with port 0). At most `connectionsMax`
    /// connections are open at once; one without a request in progress for
    /// `idleTimeoutMs`, or whose request takes longer than `requestReadTimeoutMs`
    /// to arrive once its head has, is closed.
    public func run(host: String, port: Int, connectionsMax: Int = APILimits.connectionsMax,
                    idleTimeoutMs: Int = APILimits.idleTimeoutMs, requestReadTimeoutMs: Int = APILimits.requestReadTimeoutMs,
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "consort.api")
        // The server logs cancellation at shutdown as an error; request errors are reported in responses and metrics.
        logger.logLevel = .critical
        let application = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestReadDeadline(timeoutMs: requestReadTimeoutMs)],
                                                idleTimeout: .milliseconds(Int64(idleTimeoutMs)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "consort",
                                 availableConnectionsDelegate: .maximum(connectionsMax, logger: logger)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        var services = ServiceGroupConfiguration(services: [application], logger: logger)
        services.maximumGracefulShutdownDuration = .milliseconds(APILimits.shutdownGraceMs)
        let group = ServiceGroup(configuration: services)
        // Cancelling a server whose accepted connections are not yet served
        // traps in NIO, so cancellation stops it gracefully instead: it stops
        // accepting, serves what it has accepted within the grace and then
        // cancels. The group runs in a task of its own, which the caller's
        // cancellation does not reach.
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// The router with every route; errors become JSON bodies.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let backend = self.backend
        router.add(middleware: RouteTimingMiddleware(metrics: backend.metrics))
        router.add(middleware: JSONErrorMiddleware(metrics: backend.metrics))
        router.get("/health/live") { _, _ in json(HealthAnswer(status: "live", height: backend.ledger.head.height)) }
        for path in ["/health/ready", "/health"] {
            router.get(RouterPath(path)) { _, _ in
                let health = NodeHealth(backend.status())
                return json(health.answer, status: health.isReady ? .ok : .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: backend.metrics.exposition())))
        }
        let openAPI = ByteBuffer(string: OpenAPIDocument.json(version: NodeMetrics.version))
        router.get("/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPI))
        }
        router.get("/v1/status") { _, _ in json(Render.status(backend.status())) }
        router.get("/v1/genesis") { _, _ in json(Render.genesis(backend.ledger.genesis)) }
        router.post("/v1/transactions") { request, context in
            try await handle(backend) {
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: APILimits.requestBodyBytesMax)
                } catch {
                    throw APIError(status: .contentTooLarge, code: "too_large", message: "request body is above \(APILimits.requestBodyBytesMax) bytes")
                }
                let bytes = try decodeSubmission(Array(buffer: body))
                let transaction: Transaction
                do {
                    transaction = try Transaction(canonicalBytes: bytes)
                } catch {
                    throw APIError.badRequest("malformed", "transaction does not decode: \(error)")
                }
                do {
                    let admission = try backend.submit(transaction)
                    return json(SubmissionAnswer(id: transaction.id, isNew: admission == .added), status: .accepted)
                } catch let error as AdmissionError {
                    switch error {
                    case .busy(_, let retryAfterMs):
                        throw APIError(status: .serviceUnavailable, code: error.code, message: error.description,
                                       retryAfterSeconds: retryAfterSeconds(ms: retryAfterMs))
                    case .storage: throw APIError.internalError(error.description)
                    default: throw APIError(status: .unprocessableContent, code: error.code, message: error.description)
                    }
                }
            }
        }
        router.post("/v1/transactions/batch") { request, _ in
            try await handle(backend) {
                guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/octet-stream") else {
                    throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type", message: """
                        a batch is sent as application/octet-stream: a count, then each transaction's canonical bytes with their length \
                        (single transactions as JSON go to POST /v1/transactions)
                        """)
                }
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: APILimits.batchBodyBytesMax)
                } catch {
                    throw APIError(status: .contentTooLarge, code: "too_large",
                                   message: "a batch body is at most \(APILimits.batchBodyBytesMax) bytes; send the transactions in smaller batches")
                }
                let batch: TransactionBatchRequest
                do {
                    batch = try TransactionBatchRequest(canonicalBytes: Array(buffer: body))
                } catch {
                    throw APIError.badRequest("malformed_batch", "the batch does not decode: \(error)")
                }
                return submitBatch(batch, to: backend)
            }
        }
        router.get("/v1/transactions/:id") { _, context in
            try await handle(backend) {
                let id = try parseHash(context.parameters.get("id"), name: "transaction id")
                if backend.mempool.contains(id) {
                    return json(TransactionStatusAnswer.pending(id: id))
                }
                guard let record = try ledgerCall({ try backend.ledger.transaction(id) }) else {
                    throw APIError.notFound("transaction \(id.hex) is neither pending nor committed on this node")
                }
                // Offline evidence: the Merkle path to the block's transactions root, and the block's header and certificate.
                var inclusion: InclusionEvidence?
                if let block = try ledgerCall({ try backend.ledger.block(at: record.location.height) }),
                   let certificate = try ledgerCall({ try backend.ledger.certificate(at: record.location.height) }) {
                    inclusion = Render.inclusion(ofTransactionAt: Int(record.location.index), in: block, certificate: certificate)
                }
                return json(TransactionStatusAnswer.committed(CommittedTransaction(
                    id: id, height: record.location.height, index: record.location.index, receipt: Render.receipt(record.receipt),
                    transaction: Render.transaction(record.transaction), inclusion: inclusion)))
            }
        }
        router.get("/v1/blocks/:height") { _, context in
            try await handle(backend) {
                let raw = context.parameters.get("height") ?? ""
                let height: UInt64
                if raw == "latest" {
                    height = backend.ledger.head.height
                } else {
                    guard let parsed = UInt64(raw) else { throw APIError.badRequest("bad_parameter", "height must be a number or 'latest', got '\(raw)'") }
                    height = parsed
                }
                guard let block = try ledgerCall({ try backend.ledger.block(at: height) }) else {
                    throw APIError.notFound("no block at height \(height); the head is \(backend.ledger.head.height)")
                }
                let certificate = try ledgerCall { try backend.ledger.certificate(at: height) }
                let receipts = try ledgerCall { try backend.ledger.receipts(at: height) }
                let root = try ledgerCall { try backend.ledger.stateRoot(at: height) }
                return json(Render.block(block, certificate: certificate, receipts: receipts, stateRoot: root))
            }
        }
        router.get("/v1/accounts/:key/nonce") { _, context in
            try await handle(backend) {
                guard let key = try? PublicKey(hex: context.parameters.get("key") ?? "") else {
                    throw APIError.badRequest("bad_parameter", "key must be a compressed secp256k1 public key in hex (66 digits)")
                }
                let nonce = try ledgerCall { try backend.ledger.nextNonce(for: key) }
                let organization = try ledgerCall { try backend.ledger.organization(forMember: key) }
                return json(NonceAnswer(key: key, nextNonce: nonce, pendingNonce: backend.mempool.nextNonce(for: key, committed: nonce),
                                        organization: organization?.id))
            }
        }
        router.get("/v1/query/:contract/:name") { request, context in
            try await handle(backend) {
                let contract = context.parameters.get("contract") ?? ""
                let name = context.parameters.get("name") ?? ""
                var parameters: [String: String] = [:]
                for (key, value) in request.uri.queryParameters {
                    let decodedKey = String(key).removingPercentEncoding ?? String(key)
                    parameters[decodedKey] = String(value).removingPercentEncoding ?? String(value)
                }
                do {
                    let result = try backend.ledger.query(contract: contract, name, parameters: parameters)
                    return json(QueryAnswer(height: backend.ledger.head.height, result: result))
                } catch let error as QueryError {
                    switch error.code {
                    case .notFound: throw APIError(status: .notFound, code: error.code.rawValue, message: error.message)
                    case .forbidden: throw APIError(status: .forbidden, code: error.code.rawValue, message: error.message)
                    case .storage: throw APIError.internalError(error.message)
                    case .unknownQuery, .badParameter: throw APIError.badRequest(error.code.rawValue, error.message)
                    }
                }
            }
        }
        router.get("/v1/proof/:contract") { request, context in
            try await handle(backend) {
                let contract = context.parameters.get("contract") ?? ""
                guard backend.ledger.registry.contract(named: contract) != nil else {
                    throw APIError.notFound("no contract named '\(contract)'")
                }
                guard let hex = request.uri.queryParameters.get("key"), let key = Hex.decode(hex), !key.isEmpty,
                      key.count <= Limits.stateKeyBytesMax else {
                    throw APIError.badRequest("bad_parameter", "key must be the state key in hex, 1 to \(Limits.stateKeyBytesMax) bytes")
                }
                let (root, height, proof) = try ledgerCall { try backend.ledger.proof(contract: contract, key: key) }
                return json(ProofAnswer(height: height, stateRoot: root, value: proof.value.map(HexBytes.init), proof: HexBytes(proof.canonicalBytes)))
            }
        }
        router.get("/v1/events") { request, _ in
            try await handle(backend) {
                let from: UInt64
                if let raw = request.uri.queryParameters.get("from") {
                    guard let parsed = UInt64(raw), parsed >= 1 else {
                        throw APIError.badRequest("bad_parameter", "from must be a block height of at least 1, got '\(raw)'")
                    }
                    from = parsed
                } else {
                    from = backend.ledger.head.height + 1
                }
                let binary: Bool
                switch request.uri.queryParameters.get("encoding") {
                case nil, "json": binary = false
                case "binary": binary = true
                case let other?: throw APIError.badRequest("bad_parameter", "encoding must be 'json' or 'binary', got '\(other)'")
                }
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                    body: ResponseBody { writer in try await streamBlocks(backend, from: from, binary: binary, into: &writer) })
            }
        }
        return router
    }
}

/// Times every request by its matched route pattern (`consort_api_request_duration_seconds`).
struct RouteTimingMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: NodeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
        metrics.answered(route: route, statusCode: response.status.code,
                         nanoseconds: (ContinuousClock.now - start).wholeNanoseconds)
        return response
    }
}

/// Turns errors raised outside the route handlers (unknown route, wrong method)
/// into the same JSON error body the handlers use.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: NodeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            metrics.apiErrors.increment()
            let code = error.status == .notFound ? "not_found" : (error.status == .methodNotAllowed ? "method_not_allowed" : "bad_request")
            let message = error.status == .notFound ? "no route \(request.method) \(request.uri.path)" : (error.body ?? "\(error.status)")
            return json(ErrorAnswer(code: code, message: message), status: error.status)
        }
    }
}

/// A JSON answer, encoded the one way the API encodes (``APICoding``) and ended by a newline.
private func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    var body: [UInt8]
    var status = status
    do {
        body = try APICoding.encode(value)
    } catch {
        status = .internalServerError
        body = unencodableAnswer
    }
    body.append(UInt8(ascii: "\n"))
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
}

/// The error body sent when an answer cannot be encoded (no value the routes build can fail to encode).
private let unencodableAnswer = Array(#"{"error":{"code":"internal","message":"the answer could not be encoded as JSON"}}"#.utf8)

private func handle(_ backend: any NodeBackend, _ body: () async throws -> Response) async throws -> Response {
    do {
        return try await body()
    } catch let error as APIError {
        backend.metrics.apiErrors.increment()
        var response = json(ErrorAnswer(code: error.code, message: error.message), status: error.status)
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}

private func ledgerCall<T>(_ body: () throws -> T) throws(APIError) -> T {
    do {
        return try body()
    } catch let error as LedgerError {
        throw APIError.internalError(error.description)
    } catch {
        throw APIError.internalError("\(error)")
    }
}

private func parseHash(_ raw: String?, name: String) throws(APIError) -> Hash {
    guard let raw, let hash = try? Hash(hex: raw) else {
        throw APIError.badRequest("bad_parameter", "\(name) must be 64 hex digits")
    }
    return hash
}

/// Admits a decoded batch and answers per transaction: 200, or 503 with
/// `Retry-After` when every transaction was `busy`.
private func submitBatch(_ batch: TransactionBatchRequest, to backend: any NodeBackend) -> Response {
    var results = [BatchSubmissionResult?](repeating: nil, count: batch.transactions.count)
    var decoded: [Transaction] = []
    var decodedAt: [Int] = []
    for (index, bytes) in batch.transactions.enumerated() {
        do {
            decoded.append(try Transaction(canonicalBytes: bytes))
            decodedAt.append(index)
        } catch {
            results[index] = BatchSubmissionResult(
                id: nil, status: .refused, error: APIErrorDetail(code: "malformed", message: "transaction \(index) does not decode: \(error)"))
        }
    }
    var retryAfterMs: Int?
    for (index, (transaction, admission)) in zip(decodedAt, zip(decoded, backend.submit(batch: decoded))) {
        switch admission {
        case .success(let admitted):
            results[index] = BatchSubmissionResult(id: transaction.id, status: .pending, isNew: admitted == .added)
        case .failure(let error):
            if case .busy(_, let wait) = error { retryAfterMs = max(retryAfterMs ?? 0, wait) }
            results[index] = BatchSubmissionResult(id: transaction.id, status: error.isBusy ? .busy : .refused,
                                                   error: APIErrorDetail(code: error.code, message: error.description))
        }
    }
    let answer = BatchSubmissionAnswer(results: results.compactMap { $0 }, retryAfterMs: retryAfterMs)
    let allBusy = !answer.results.isEmpty && answer.results.allSatisfy { $0.status == .busy }
    var response = json(answer, status: allBusy ? .serviceUnavailable : .ok)
    if let retryAfterMs { response.headers[.retryAfter] = String(retryAfterSeconds(ms: retryAfterMs)) }
    return response
}

/// A retry hint in whole seconds for `Retry-After`: rounded up, at least 1.
private func retryAfterSeconds(ms: Int) -> Int {
    max(1, (ms + 999) / 1_000)
}

/// Accepts a ``SubmissionRequest``, `{"transaction": "<hex>"}`.
private func decodeSubmission(_ body: [UInt8]) throws(APIError) -> [UInt8] {
    guard !body.isEmpty else { throw APIError.badRequest("empty_body", "send {\"transaction\": \"<hex of the signed transaction>\"}") }
    do {
        return try APICoding.decode(SubmissionRequest.self, from: body).transaction.bytes
    } catch {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            throw APIError.badRequest("bad_json", "request body is not JSON: \(APICoding.describe(error))")
        case .dataCorrupted:
            throw APIError.badRequest("bad_hex", "field 'transaction' is not hex")
        default:
            throw APIError.badRequest("bad_request", "request body must be an object with a string field 'transaction'")
        }
    }
}

/// Why the block stream ended early.
enum StreamError: Error, CustomStringConvertible {
    case blockMissing(height: UInt64)

    var description: String {
        switch self {
        case .blockMissing(let height): "block \(height) is at or below the head but missing from storage"
        }
    }
}

/// Writes committed blocks from `from` onwards as Server-Sent Events
/// (``BlockStreamEvent``), waiting for new commits; a comment line keeps idle
/// streams alive.
private func streamBlocks(_ backend: any NodeBackend, from: UInt64, binary: Bool, into writer: inout any ResponseBodyWriter) async throws {
    var next = from
    while !Task.isCancelled {
        let head = backend.ledger.head.height
        if next > head {
            await backend.commits.wait(above: head, timeoutMs: APILimits.streamKeepAliveMs)
            if backend.ledger.head.height == head {
                try await writer.write(ByteBuffer(string: ServerSentEvent.keepAlive))
            }
            continue
        }
        var sent = 0
        while next <= backend.ledger.head.height, sent < APILimits.streamBatchBlocksMax {
            // A block at or below the head that cannot be read ends the stream with the error, rather than skipping it.
            let text: String
            if binary {
                // Passed on as stored: the canonical bytes need no decoding to be sent again.
                guard let stored = try backend.ledger.storedRecords(at: next) else { throw StreamError.blockMissing(height: next) }
                text = EncodedBlockEvent.serverSentEvent(height: next, block: stored.block, certificate: stored.certificate,
                                                         receipts: stored.receipts, stateRoot: stored.stateRoot).text
            } else {
                guard let block = try backend.ledger.block(at: next) else { throw StreamError.blockMissing(height: next) }
                text = try BlockStreamEvent(block: Render.block(block, certificate: try backend.ledger.certificate(at: next),
                                                                receipts: try backend.ledger.receipts(at: next),
                                                                stateRoot: try backend.ledger.stateRoot(at: next))).serverSentEvent().text
            }
            try await writer.write(ByteBuffer(string: text))
            next += 1
            sent += 1
        }
    }
}
