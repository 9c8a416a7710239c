import Foundation
import LedgerCore
import NodeAPI
import NIOCore
import NIOHTTP1
import NIOPosix

/// Why a request to a node failed.
public enum NodeClientError: Error, Equatable, Sendable, CustomStringConvertible {
    case badURL(String)
    case unreachable(String, String)
    case timedOut(String)
    /// The node answered with an error body.
    case api(status: Int, code: String, message: String)
    /// The node's answer is not what the API defines; says which field is wrong.
    case badResponse(String)
    /// The request could not be put into JSON.
    case badRequest(String)

    /// The node answered 404: what the request names does not exist.
    public var isNotFound: Bool {
        if case .api(let status, _, _) = self { status == 404 } else { false }
    }

    public var description: String {
        switch self {
        case .badURL(let url): "'\(url)' is not an http://host:port URL"
        case .unreachable(let url, let reason): "cannot reach the node at \(url): \(reason)"
        case .timedOut(let url): "the node at \(url) did not answer in time"
        case .api(let status, let code, let message): "the node refused the request (HTTP \(status), \(code)): \(message)"
        case .badResponse(let reason): "the node's answer is not understood: \(reason)"
        case .badRequest(let reason): "the request was not sent: \(reason)"
        }
    }
}

/// A minimal HTTP/1.1 client for talking to a node's API: one request per
/// connection, a typed method per route (the shapes are NodeAPI's), and line
/// streaming for the event stream. ``request(_:_:body:)`` and
/// ``streamLines(_:onLine:)`` give the raw bytes and lines.
public final class NodeClient: Sendable {
    public let baseURL: String
    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let timeoutMs: Int64

    /// - Parameter baseURL: `http://host:port` of the node's API.
    public init(baseURL: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, timeoutMs: Int64 = 10_000) throws(NodeClientError) {
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard trimmed.hasPrefix("http://") else { throw .badURL(baseURL) }
        let authority = String(trimmed.dropFirst("http://".count))
        guard !authority.contains("/"), let (host, port) = parseHostPort(authority) else { throw .badURL(baseURL) }
        self.baseURL = trimmed
        self.host = host
        self.port = port
        self.group = group
        self.timeoutMs = timeoutMs
    }

    /// Sends a raw request and returns the status and body, unread: for
    /// bodies encoded ahead of time (load runs) and for malformed input.
    public func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil,
                        contentType: String = "application/json") async throws(NodeClientError) -> (status: Int, body: [UInt8]) {
        let collector = ResponseCollector()
        let channel = try await connect(collector)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        if let body {
            head.headers.add(name: "Content-Type", value: contentType)
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeout = channel.eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) {
            collector.fail(NodeClientError.timedOut(self.baseURL))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        do {
            return try await collector.result.get()
        } catch let error as NodeClientError {
            throw error
        } catch {
            throw .unreachable(baseURL, "\(error)")
        }
    }

    // MARK: Typed routes

    /// GETs `path` and reads the answer as `Response`; an error body becomes
    /// ``NodeClientError/api(status:code:message:)``, an answer of another
    /// shape ``NodeClientError/badResponse(_:)`` naming the field.
    public func get<Response: Decodable>(_ path: String, as type: Response.Type = Response.self) async throws(NodeClientError) -> Response {
        try Self.decode(type, from: try await request(.GET, path), route: "GET \(path)")
    }

    /// POSTs `body` as JSON to `path` and reads the answer as `Response`, as ``get(_:as:)`` does.
    public func post<Body: Encodable, Response: Decodable>(_ path: String, _ body: Body,
                                                          as type: Response.Type = Response.self) async throws(NodeClientError) -> Response {
        let bytes: [UInt8]
        do {
            bytes = try APICoding.encode(body)
        } catch {
            throw .badRequest("the body for POST \(path) cannot be encoded: \(error)")
        }
        return try Self.decode(type, from: try await request(.POST, path, body: bytes), route: "POST \(path)")
    }

    /// `GET /v1/status`: height, head, view, primary, validators, mempool.
    public func status() async throws(NodeClientError) -> StatusAnswer {
        try await get("/v1/status")
    }

    /// `GET /v1/genesis`: chain id, genesis hash and validators.
    public func genesis() async throws(NodeClientError) -> GenesisAnswer {
        try await get("/v1/genesis")
    }

    /// `GET /health`: the node is up.
    public func health() async throws(NodeClientError) -> HealthAnswer {
        try await get("/health")
    }

    /// `POST /v1/transactions`: submits a signed transaction; the answer has its id and whether it was new to the node.
    @discardableResult
    public func submit(_ transaction: Transaction) async throws(NodeClientError) -> SubmissionAnswer {
        try await post("/v1/transactions", SubmissionRequest(transaction))
    }

    /// `POST /v1/transactions/batch`: submits signed transactions in the
    /// canonical encoding, in one request; the answer says, for each in
    /// order, whether it is pending, `busy` (send it again after the answer's
    /// `retryAfterMs`) or refused, and why. A batch where every transaction
    /// was busy is answered 503 with the same shape.
    public func submit(batch transactions: [Transaction]) async throws(NodeClientError) -> BatchSubmissionAnswer {
        try await submit(batch: TransactionBatchRequest(transactions))
    }

    /// Submits a batch encoded ahead of time (``submit(batch:)-([Transaction])``).
    public func submit(batch: TransactionBatchRequest) async throws(NodeClientError) -> BatchSubmissionAnswer {
        let route = "POST /v1/transactions/batch"
        let response = try await request(.POST, "/v1/transactions/batch", body: batch.canonicalBytes, contentType: "application/octet-stream")
        // Every transaction busy: the per-transaction answer comes with 503.
        // A 503 of another shape is the node's own error, which `decode` reports.
        if response.status == 503, let answer = Self.decodedBusyBatch(response.body) { return answer }
        return try Self.decode(BatchSubmissionAnswer.self, from: response, route: route)
    }

    private static func decodedBusyBatch(_ body: [UInt8]) -> BatchSubmissionAnswer? {
        do {
            return try APICoding.decode(BatchSubmissionAnswer.self, from: body)
        } catch {
            return nil
        }
    }

    /// `GET /v1/transactions/{id}`: pending or committed; a transaction the node does not know is `.api(status: 404, …)`.
    public func transaction(_ id: Hash) async throws(NodeClientError) -> TransactionStatusAnswer {
        try await get("/v1/transactions/\(id.hex)")
    }

    /// Asks about `id` every `pollIntervalMs` until it has committed, and
    /// gives it with its receipt; nil when it has not committed within
    /// `timeoutMs` or the calling task is cancelled. Unknown to this node
    /// (a 404: another node took it, or it has not arrived) means keep asking.
    public func waitForCommit(_ id: Hash, timeoutMs: UInt64, pollIntervalMs: UInt64 = 100) async throws(NodeClientError) -> CommittedTransaction? {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline && !Task.isCancelled {
            do throws(NodeClientError) {
                if let committed = try await transaction(id).committed { return committed }
            } catch {
                guard case .api(404, _, _) = error else { throw error }
            }
            do { try await Task.sleep(for: .milliseconds(pollIntervalMs)) } catch { return nil }
        }
        return nil
    }

    /// `GET /v1/blocks/{height}`; a height above the head is `.api(status: 404, …)`.
    public func block(at height: UInt64) async throws(NodeClientError) -> BlockAnswer {
        try await get("/v1/blocks/\(height)")
    }

    /// `GET /v1/blocks/latest`: the head block.
    public func latestBlock() async throws(NodeClientError) -> BlockAnswer {
        try await get("/v1/blocks/latest")
    }

    /// `GET /v1/accounts/{key}/nonce`: a sender key's next committed and next pending nonce, and its organization.
    public func nonces(of key: PublicKey) async throws(NodeClientError) -> NonceAnswer {
        try await get("/v1/accounts/\(key.hex)/nonce")
    }

    /// `GET /v1/query/{contract}/{name}?…`: a contract query; its result stays a ``JSONValue`` whose shape the contract documents.
    public func query(contract: String, _ name: String, parameters: [String: String] = [:]) async throws(NodeClientError) -> QueryAnswer {
        try await get(Self.queryPath(contract: contract, name, parameters))
    }

    /// `GET /v1/query/{contract}/{name}` with the result read as `Result`,
    /// the typed answer the contract builds it from; a result of another
    /// shape is ``NodeClientError/badResponse(_:)`` naming the query and the field.
    public func query<Result: Decodable>(contract: String, _ name: String, parameters: [String: String] = [:],
                                         as type: Result.Type) async throws(NodeClientError) -> Result {
        let answer = try await query(contract: contract, name, parameters: parameters)
        return try Self.decodeResult(answer.result, as: type, contract: contract, name)
    }

    /// Reads a query's result as `Result`; a result of another shape is
    /// ``NodeClientError/badResponse(_:)`` naming the query and the field.
    public static func decodeResult<Result: Decodable>(_ result: JSONValue, as type: Result.Type, contract: String,
                                                       _ name: String) throws(NodeClientError) -> Result {
        do {
            return try result.decode(type)
        } catch {
            throw .badResponse("the result of query \(contract)/\(name) does not read as \(Result.self): \(APICoding.describe(error))")
        }
    }

    /// `GET /v1/proof/{contract}?key=HEX`: a Merkle proof of a state key against the head's state root.
    public func proof(contract: String, key: [UInt8]) async throws(NodeClientError) -> ProofAnswer {
        var components = URLComponents()
        components.path = "/v1/proof/\(contract)"
        return try await get(components.percentEncodedPath + "?key=" + Hex.encode(key))
    }

    /// `GET /v1/events?from=H`: calls `onEvent` with each committed block from
    /// height `from` (nil: from the next block to commit) until `onEvent`
    /// returns false, the stream ends, or the calling task is cancelled. A
    /// block event the client cannot read ends the stream with
    /// ``NodeClientError/badResponse(_:)`` naming the field.
    public func events(from height: UInt64?, onEvent: @escaping @Sendable (BlockStreamEvent) -> Bool) async throws(NodeClientError) {
        let path = height.map { "/v1/events?from=\($0)" } ?? "/v1/events"
        try await follow(path, name: BlockStreamEvent.name, decode: { frame throws(NodeClientError) in
            do throws(DecodingError) {
                return try BlockStreamEvent(frame)
            } catch {
                throw .badResponse("GET \(path): block event \(frame.id): \(APICoding.describe(error))")
            }
        }, onEvent: onEvent)
    }

    /// `GET /v1/events?from=H&encoding=binary`: as ``events(from:onEvent:)``,
    /// with each block in the canonical encoding (``EncodedBlockEvent``): no JSON on either side.
    public func encodedEvents(from height: UInt64?, onEvent: @escaping @Sendable (EncodedBlockEvent) -> Bool) async throws(NodeClientError) {
        let path = (height.map { "/v1/events?from=\($0)&" } ?? "/v1/events?") + "encoding=binary"
        try await follow(path, name: EncodedBlockEvent.name, decode: { frame throws(NodeClientError) in
            do throws(ServerSentEventError) {
                return try EncodedBlockEvent(frame)
            } catch {
                throw .badResponse("GET \(path): \(error.description)")
            }
        }, onEvent: onEvent)
    }

    /// Streams `path` and hands each event named `name` to `onEvent`, read by `decode`, until either gives up.
    private func follow<Event: Sendable>(_ path: String, name: String,
                                         decode: @escaping @Sendable (ServerSentEvent) throws(NodeClientError) -> Event,
                                         onEvent: @escaping @Sendable (Event) -> Bool) async throws(NodeClientError) {
        let reader = BlockEventReader(route: "GET \(path)", name: name, decode: decode, onEvent: onEvent)
        try await streamLines(path) { line in reader.feed(line) }
        if let failure = reader.failure { throw failure }
    }

    /// The API path of a contract query with its parameters, percent-encoded (a `+` too, which servers may read as a space).
    public static func queryPath(contract: String, _ name: String, _ parameters: [String: String]) -> String {
        var components = URLComponents()
        components.path = "/v1/query/\(contract)/\(name)"
        components.queryItems = parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? "")
    }

    /// Reads an answer as `Response`: a 4xx/5xx answer becomes
    /// ``NodeClientError/api(status:code:message:)`` from its error body, and
    /// an answer that is not a `Response` becomes ``NodeClientError/badResponse(_:)``
    /// naming the route and the field.
    public static func decode<Response: Decodable>(_ type: Response.Type, from response: (status: Int, body: [UInt8]),
                                                   route: String) throws(NodeClientError) -> Response {
        try checkStatus(response, route: route)
        do {
            return try APICoding.decode(type, from: response.body)
        } catch {
            throw .badResponse("\(route) (HTTP \(response.status)): \(APICoding.describe(error))")
        }
    }

    /// Turns a 4xx/5xx answer into the ``NodeClientError/api(status:code:message:)``
    /// its error body names (``NodeClientError/badResponse(_:)`` without one); other answers pass.
    public static func checkStatus(_ response: (status: Int, body: [UInt8]), route: String) throws(NodeClientError) {
        guard response.status >= 400 else { return }
        let answer: ErrorAnswer
        do {
            answer = try APICoding.decode(ErrorAnswer.self, from: response.body)
        } catch {
            throw .badResponse("\(route) answered HTTP \(response.status) without the error body {\"error\": {\"code\", \"message\"}}: "
                               + APICoding.describe(error))
        }
        throw .api(status: response.status, code: answer.error.code, message: answer.error.message)
    }

    /// Opens a streaming GET and calls `onLine` with each raw line of the body
    /// until the stream ends, `onLine` returns false, or the calling task is
    /// cancelled (which closes the connection and returns normally).
    public func streamLines(_ path: String, onLine: @escaping @Sendable (String) -> Bool) async throws(NodeClientError) {
        let collector = ResponseCollector(onLine: onLine)
        let channel = try await connect(collector)
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Accept", value: "text/event-stream")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let response = try await withTaskCancellationHandler {
                try await collector.result.get()
            } onCancel: {
                collector.endByCaller()
                channel.close(promise: nil)
            }
            try Self.checkStatus(response, route: "GET \(path)")
        } catch let error as NodeClientError {
            throw error
        } catch {
            throw .unreachable(baseURL, "\(error)")
        }
    }

    private func connect(_ collector: ResponseCollector) async throws(NodeClientError) -> any Channel {
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(timeoutMs))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            // The handler may already hold a promise; complete it so that it is not leaked.
            collector.fail(error)
            throw .unreachable(baseURL, "\(error)")
        }
    }
}

/// Reads the lines of `GET /v1/events` into block events for a caller.
private final class BlockEventReader<Event: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private let route: String
    private let name: String
    private let decode: @Sendable (ServerSentEvent) throws(NodeClientError) -> Event
    private let onEvent: @Sendable (Event) -> Bool
    private var parser = ServerSentEventParser()
    private var failed: NodeClientError?

    /// Events named `name` (or unnamed) are read by `decode`; others are skipped.
    init(route: String, name: String, decode: @escaping @Sendable (ServerSentEvent) throws(NodeClientError) -> Event,
         onEvent: @escaping @Sendable (Event) -> Bool) {
        self.route = route
        self.name = name
        self.decode = decode
        self.onEvent = onEvent
    }

    /// Why the stream was given up, if the reader gave it up.
    var failure: NodeClientError? { lock.withLock { failed } }

    /// Feeds one line; false ends the stream (the caller is done, or the stream cannot be read).
    func feed(_ line: String) -> Bool {
        let event: Event
        do {
            let frame = try lock.withLock { () throws(ServerSentEventError) -> ServerSentEvent? in try parser.feed(line) }
            guard let frame, frame.event.isEmpty || frame.event == name else { return true }
            do throws(NodeClientError) {
                event = try decode(frame)
            } catch {
                return fail(error)
            }
        } catch {
            return fail(.badResponse("\(route): \(error.description)"))
        }
        return onEvent(event)
    }

    private func fail(_ error: NodeClientError) -> Bool {
        lock.withLock { failed = error }
        return false
    }
}

/// Gathers one HTTP response, or hands its body out line by line.
private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let promiseBox = PromiseBox()
    private let onLine: (@Sendable (String) -> Bool)?
    private var status = 0
    private var body: [UInt8] = []
    private var pendingLine: [UInt8] = []
    private let bodyBytesMax = APILimits.responseBodyBytesMax

    init(onLine: (@Sendable (String) -> Bool)? = nil) {
        self.onLine = onLine
    }

    var result: PromiseBox { promiseBox }

    func fail(_ error: any Error) { promiseBox.fail(error) }

    /// Ends a stream the caller no longer wants, as if the server had ended it.
    func endByCaller() { promiseBox.succeed((200, [])) }

    func handlerAdded(context: ChannelHandlerContext) {
        promiseBox.attach(context.eventLoop.makePromise(of: (status: Int, body: [UInt8]).self))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var buffer):
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if let onLine, status < 400 {
                for byte in bytes {
                    if byte == 0x0A {
                        if pendingLine.last == 0x0D { pendingLine.removeLast() }
                        let line = String(decoding: pendingLine, as: UTF8.self)
                        pendingLine.removeAll(keepingCapacity: true)
                        if !onLine(line) {
                            promiseBox.succeed((status, []))
                            context.close(promise: nil)
                            return
                        }
                    } else if pendingLine.count < bodyBytesMax {
                        pendingLine.append(byte)
                    } else {
                        promiseBox.fail(NodeClientError.badResponse("a line of the stream is above \(bodyBytesMax) bytes"))
                        context.close(promise: nil)
                        return
                    }
                }
            } else if body.count + bytes.count <= bodyBytesMax {
                body.append(contentsOf: bytes)
            } else {
                promiseBox.fail(NodeClientError.badResponse("response body above \(bodyBytesMax) bytes"))
                context.close(promise: nil)
            }
        case .end:
            promiseBox.succeed((status, body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promiseBox.fail(NodeClientError.badResponse("the connection closed before the response ended"))
    }

    /// A connection that never became active (refused, timed out) still completes the promise.
    func handlerRemoved(context: ChannelHandlerContext) {
        promiseBox.fail(NodeClientError.badResponse("the connection closed before a response"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promiseBox.fail(error)
        context.close(promise: nil)
    }
}

/// A promise completed at most once.
private final class PromiseBox: @unchecked Sendable {
    private let lock = Lock()
    private var promise: EventLoopPromise<(status: Int, body: [UInt8])>?
    private var done = false

    func attach(_ promise: EventLoopPromise<(status: Int, body: [UInt8])>) {
        lock.withLock { self.promise = promise }
    }

    func succeed(_ value: (status: Int, body: [UInt8])) {
        let target = lock.withLock { () -> EventLoopPromise<(status: Int, body: [UInt8])>? in
            guard !done else { return nil }
            done = true
            return promise
        }
        target?.succeed(value)
    }

    func fail(_ error: any Error) {
        let target = lock.withLock { () -> EventLoopPromise<(status: Int, body: [UInt8])>? in
            guard !done else { return nil }
            done = true
            return promise
        }
        target?.fail(error)
    }

    func get() async throws -> (status: Int, body: [UInt8]) {
        guard let promise = lock.withLock({ promise }) else { throw NodeClientError.badResponse("no connection") }
        return try await promise.futureResult.get()
    }
}
