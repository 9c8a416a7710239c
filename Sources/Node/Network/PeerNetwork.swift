import Ledger
import LedgerCore
import Logging
import NIOCore
import NIOPosix

/// What the peer network reports to the node.
public protocol PeerNetworkDelegate: AnyObject, Sendable {
    func peerConnected(_ key: PublicKey)
    func peerDisconnected(_ key: PublicKey)
    /// A message from an authenticated validator.
    func received(_ message: PeerMessage, from key: PublicKey)
    /// A connection was dropped for misbehaving (bad frame, failed handshake).
    func peerMisbehaved(address: String, reason: String)
    /// A message to a slow peer was dropped because its send queue was full.
    func sendDropped(to key: PublicKey)
}

/// Length-prefixed frames: a 4-byte big-endian length, then one ``PeerMessage``.
/// A frame above the limit, or one that does not decode, fails the connection.
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerMessage
    let frameBytesMax: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= frameBytesMax else { throw PeerProtocolError.frameTooLarge(bytes: Int(length), limit: frameBytesMax) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let payload = buffer.readBytes(length: Int(length)) else { return .needMoreData }
        do {
            let message = try PeerMessage(canonicalBytes: payload)
            context.fireChannelRead(wrapInboundOut(message))
        } catch {
            throw PeerProtocolError.malformed(error.description)
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Encodes one message as one frame.
func encodeFrame(_ message: PeerMessage, allocator: ByteBufferAllocator) -> ByteBuffer {
    let payload = message.canonicalBytes
    var buffer = allocator.buffer(capacity: payload.count + 4)
    buffer.writeInteger(UInt32(payload.count))
    buffer.writeBytes(payload)
    return buffer
}

/// Why a peer connection was closed.
enum PeerProtocolError: Error, CustomStringConvertible {
    case frameTooLarge(bytes: Int, limit: Int)
    case malformed(String)
    case handshake(String)

    var description: String {
        switch self {
        case .frameTooLarge(let bytes, let limit): "frame of \(bytes) bytes is above the limit of \(limit)"
        case .malformed(let reason): "malformed message: \(reason)"
        case .handshake(let reason): "handshake failed: \(reason)"
        }
    }
}

/// Runs the handshake on one connection, then hands messages to the network.
final class PeerChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = PeerMessage
    typealias OutboundOut = ByteBuffer

    private var handshake: HandshakeStateMachine
    private weak var network: PeerNetwork?
    private var peer: PublicKey?
    private var remote = "unknown"

    init(handshake: HandshakeStateMachine, network: PeerNetwork) {
        self.handshake = handshake
        self.network = network
    }

    func channelActive(context: ChannelHandlerContext) {
        remote = context.remoteAddress?.description ?? "unknown"
        context.writeAndFlush(wrapOutboundOut(encodeFrame(handshake.hello, allocator: context.channel.allocator)), promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(PeerLimits.handshakeTimeoutMs))) { [weak self] in
            guard let self, self.peer == nil else { return }
            self.network?.misbehaved(address: self.remote, reason: "handshake timed out")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        if let peer {
            network?.deliver(message, from: peer)
            return
        }
        for action in handshake.receive(message) {
            switch action {
            case .send(let reply):
                context.writeAndFlush(wrapOutboundOut(encodeFrame(reply, allocator: context.channel.allocator)), promise: nil)
            case .authenticated(let key):
                peer = key
                network?.register(key, channel: context.channel)
            case .fail(let reason):
                network?.misbehaved(address: remote, reason: reason)
                context.close(promise: nil)
            case .none:
                break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let peer { network?.unregister(peer, channel: context.channel) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        network?.misbehaved(address: remote, reason: "\(error)")
        context.close(promise: nil)
    }
}

/// TCP connections between validators: each validator listens on its genesis
/// address and dials every validator after it in the genesis order, so each
/// pair shares exactly one connection. Connections are authenticated by the
/// handshake; sends to one peer are bounded so a slow peer cannot exhaust memory.
public final class PeerNetwork: @unchecked Sendable {
    private struct Connection {
        let channel: any Channel
        var queuedBytes: Int
    }

    private let group: any EventLoopGroup
    private let ownKey: PrivateKey
    private let genesis: Genesis
    private let listenHost: String
    private let listenPort: Int
    private let logger: Logger
    private weak var delegate: (any PeerNetworkDelegate)?
    private let lock = Lock()
    private var connections: [PublicKey: Connection] = [:]
    private var listener: (any Channel)?
    private var dialTasks: [Task<Void, Never>] = []
    private var stopped = false

    public init(group: any EventLoopGroup, ownKey: PrivateKey, genesis: Genesis, listenHost: String, listenPort: Int,
                delegate: any PeerNetworkDelegate, logger: Logger) {
        self.group = group
        self.ownKey = ownKey
        self.genesis = genesis
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.delegate = delegate
        self.logger = logger
    }

    /// Peers currently authenticated.
    public var connectedPeers: Set<PublicKey> { lock.withLock { Set(connections.keys) } }

    private var acceptableKeys: Set<PublicKey> {
        Set(genesis.validators.validators.map(\.nodeKey)).subtracting([ownKey.publicKey])
    }

    private func makeHandler() throws -> PeerChannelHandler {
        let challenge = try SecureRandom.bytes(32)
        let machine = HandshakeStateMachine(chainID: genesis.chainID, genesisHash: genesis.hash, ownKey: ownKey,
                                            challenge: challenge, acceptable: acceptableKeys)
        return PeerChannelHandler(handshake: machine, network: self)
    }

    private func initialize(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let handler = try self.makeHandler()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(frameBytesMax: PeerLimits.frameBytesMax)))
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }

    /// Binds the listener and starts dialing the validators after this one.
    public func start() async throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [unowned self] channel in self.initialize(channel) }
        let channel = try await bootstrap.bind(host: listenHost, port: listenPort).get()
        lock.withLock { listener = channel }
        let validators = genesis.validators.validators
        guard let ownIndex = genesis.validators.index(of: ownKey.publicKey) else { return }
        for validator in validators[(ownIndex + 1)...] {
            let task = Task { [weak self] in
                guard let self else { return }
                await self.dialLoop(validator)
            }
            lock.withLock { dialTasks.append(task) }
        }
    }

    private func dialLoop(_ validator: Validator) async {
        guard let (host, port) = parseHostPort(validator.address) else {
            logger.error("validator address is not host:port", metadata: ["validator": "\(validator.name)"])
            return
        }
        var delayMs = PeerLimits.reconnectDelayMsMin
        while !Task.isCancelled && !lock.withLock({ stopped }) {
            if let existing = lock.withLock({ connections[validator.nodeKey]?.channel }) {
                try? await existing.closeFuture.get()
                continue
            }
            do {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.seconds(3))
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { [unowned self] channel in self.initialize(channel) }
                    .connect(host: host, port: port).get()
                delayMs = PeerLimits.reconnectDelayMsMin
                try? await channel.closeFuture.get()
            } catch {
                logger.debug("dial failed", metadata: ["peer": "\(validator.name)", "error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(delayMs) * 1_000_000)
            delayMs = min(delayMs * 2, PeerLimits.reconnectDelayMsMax)
        }
    }

    func register(_ key: PublicKey, channel: any Channel) {
        let previous = lock.withLock { () -> (any Channel)? in
            let old = connections[key]?.channel
            connections[key] = Connection(channel: channel, queuedBytes: 0)
            return old
        }
        if let previous, previous !== channel { previous.close(promise: nil) }
        logger.info("peer connected", metadata: ["peer": "\(key.short)"])
        delegate?.peerConnected(key)
    }

    func unregister(_ key: PublicKey, channel: any Channel) {
        let removed = lock.withLock { () -> Bool in
            guard let current = connections[key], current.channel === channel else { return false }
            connections[key] = nil
            return true
        }
        if removed {
            logger.info("peer disconnected", metadata: ["peer": "\(key.short)"])
            delegate?.peerDisconnected(key)
        }
    }

    func deliver(_ message: PeerMessage, from key: PublicKey) {
        switch message {
        case .hello, .helloProof:
            misbehaved(address: key.short, reason: "handshake message after authentication")
        default:
            delegate?.received(message, from: key)
        }
    }

    func misbehaved(address: String, reason: String) {
        logger.warning("peer connection dropped", metadata: ["peer": "\(address)", "reason": "\(reason)"])
        delegate?.peerMisbehaved(address: address, reason: reason)
    }

    /// Sends to one peer if connected; drops the message if that peer's queue is full.
    public func send(_ message: PeerMessage, to key: PublicKey) {
        guard let channel = lock.withLock({ connections[key]?.channel }) else { return }
        let frame = encodeFrame(message, allocator: channel.allocator)
        let size = frame.readableBytes
        let admitted = lock.withLock { () -> Bool in
            guard var connection = connections[key], connection.queuedBytes + size <= PeerLimits.sendQueueBytesMax else { return false }
            connection.queuedBytes += size
            connections[key] = connection
            return true
        }
        guard admitted else {
            delegate?.sendDropped(to: key)
            return
        }
        channel.writeAndFlush(frame).whenComplete { [weak self] _ in
            self?.lock.withLock {
                if var connection = self?.connections[key], connection.channel === channel {
                    connection.queuedBytes -= size
                    self?.connections[key] = connection
                }
            }
        }
    }

    /// Sends to every connected validator.
    public func broadcast(_ message: PeerMessage) {
        for key in connectedPeers { send(message, to: key) }
    }

    /// Closes the listener and every connection.
    public func shutdown() async {
        let (listener, channels, tasks) = lock.withLock { () -> ((any Channel)?, [any Channel], [Task<Void, Never>]) in
            stopped = true
            return (self.listener, connections.values.map(\.channel), dialTasks)
        }
        for task in tasks { task.cancel() }
        try? await listener?.close()
        for channel in channels { try? await channel.close() }
    }
}
