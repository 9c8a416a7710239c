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
    case badResponse(String)

    public var description: String {
        switch self {
        case .badURL(let url): "'\(url)' is not an http://host:port URL"
        case .unreachable(let url, let reason): "cannot reach the node at \(url): \(reason)"
        case .timedOut(let url): "the node at \(url) did not answer in time"
        case .api(let status, let code, let message): "the node refused the request (HTTP \(status), \(code)): \(message)"
        case .badResponse(let reason): "the node's answer is not understood: \(reason)"
        }
    }
}

/// A minimal HTTP/1.1 client for talking to a node's API: one request per
/// connection, JSON in and out, and line streaming for the event stream.
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

    /// Sends a request and returns the status and body.
    public func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws(NodeClientError) -> (status: Int, body: [UInt8]) {
        let collector = ResponseCollector()
        let channel = try await connect(collector)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
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

    /// GETs JSON, turning API error bodies into ``NodeClientError/api(status:code:message:)``.
    public func getJSON(_ path: String) async throws(NodeClientError) -> Any {
        try Self.decode(try await request(.GET, path))
    }

    /// POSTs JSON, turning API error bodies into ``NodeClientError/api(status:code:message:)``.
    public func postJSON(_ path: String, _ object: [String: Any]) async throws(NodeClientError) -> Any {
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: object)
        } catch {
            throw .badResponse("could not encode the request: \(error)")
        }
        return try Self.decode(try await request(.POST, path, body: Array(data)))
    }

    /// Submits a signed transaction; returns its id.
    @discardableResult
    public func submit(_ transaction: Transaction) async throws(NodeClientError) -> Hash {
        _ = try await postJSON("/v1/transactions", ["transaction": Hex.encode(transaction.canonicalBytes)])
        return transaction.id
    }

    public static func decode(_ response: (status: Int, body: [UInt8])) throws(NodeClientError) -> Any {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
        } catch {
            throw .badResponse("HTTP \(response.status) with a body that is not JSON")
        }
        if response.status >= 400 {
            let error = (object as? [String: Any])?["error"] as? [String: Any]
            throw .api(status: response.status, code: error?["code"] as? String ?? "unknown", message: error?["message"] as? String ?? "no message")
        }
        return object
    }

    /// Opens a streaming GET and calls `onLine` with each line of the body
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
            if response.status >= 400 { _ = try Self.decode(response) }
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
                    } else {
                        pendingLine.append(byte)
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
