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

/// Length-prefixed frames: a 4-byte big-endian length, then the payload. The
/// limit starts at the handshake's few hundred bytes and is raised only once
/// the peer has proven its key, so an unauthenticated connection can make
/// this node buffer no more than that.
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [UInt8]
    let limit: FrameLimit

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // Bytes of a large frame still arriving show the peer is alive too.
        limit.lastBytesAt = .now()
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        let frameBytesMax = limit.bytes
        guard Int(length) <= frameBytesMax else { throw PeerProtocolError.frameTooLarge(bytes: Int(length), limit: frameBytesMax) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let payload = buffer.readBytes(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(payload))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// The frame limit of one connection and when bytes last arrived on it,
/// shared by its decoder and its handler (both run on the connection's event loop).
final class FrameLimit: @unchecked Sendable {
    var bytes = PeerLimits.handshakeFrameBytesMax
    var lastBytesAt = NIODeadline.now()
}

/// One frame around `payload`.
func encodeFrame(_ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
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

/// Runs the handshake on one connection, then opens every incoming frame and
/// seals every outgoing one (written to the channel as encoded ``PeerMessage`` bytes).
final class PeerChannelHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = [UInt8]
    typealias OutboundIn = [UInt8]
    typealias OutboundOut = ByteBuffer

    private var handshake: PeerHandshake
    private var session: PeerSession?
    private let limit: FrameLimit
    private weak var network: PeerNetwork?
    /// The source address of an accepted connection while it holds an unauthenticated slot.
    private var slotAddress: String?
    private var peer: PublicKey?
    private var remote = "unknown"
    private var keepAlive: RepeatedTask?
    /// When the keep-alive task last ran: a later run after a long gap means this node stalled, not the peer.
    private var lastLivenessCheck = NIODeadline.now()

    init(handshake: PeerHandshake, limit: FrameLimit, network: PeerNetwork, inboundAddress: String?) {
        self.handshake = handshake
        self.limit = limit
        self.network = network
        self.slotAddress = inboundAddress
    }

    func channelActive(context: ChannelHandlerContext) {
        remote = context.remoteAddress?.description ?? "unknown"
        context.writeAndFlush(wrapOutboundOut(encodeFrame(handshake.hello.canonicalBytes, allocator: context.channel.allocator)), promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(PeerLimits.handshakeTimeoutMs))) { [weak self] in
            guard let self, self.peer == nil else { return }
            self.network?.misbehaved(address: self.remote, reason: "handshake timed out")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard var session else { return receiveHello(context: context, frame) }
        let plaintext: [UInt8]
        do {
            plaintext = try session.open(frame)
            self.session = session
        } catch {
            return close(context, reason: error.description)
        }
        guard let peer else { return receiveProof(context: context, plaintext) }
        do {
            let message = try PeerMessage(canonicalBytes: plaintext)
            network?.deliver(message, from: peer, channel: context.channel)
        } catch {
            close(context, reason: PeerProtocolError.malformed(error.description).description)
        }
    }

    private func receiveHello(context: ChannelHandlerContext, _ frame: [UInt8]) {
        let hello: PeerHello
        do {
            hello = try PeerHello(canonicalBytes: frame)
        } catch {
            return close(context, reason: PeerProtocolError.handshake("the first frame is not a hello: \(error)").description)
        }
        switch handshake.receive(hello: hello) {
        case .sendProof(let signature, var session):
            do {
                let sealed = try session.seal(signature.canonicalBytes)
                self.session = session
                context.writeAndFlush(wrapOutboundOut(encodeFrame(sealed, allocator: context.channel.allocator)), promise: nil)
            } catch {
                close(context, reason: error.description)
            }
        case .fail(let reason):
            close(context, reason: PeerProtocolError.handshake(reason).description)
        case .authenticated:
            close(context, reason: PeerProtocolError.handshake("authenticated without a proof").description)
        }
    }

    private func receiveProof(context: ChannelHandlerContext, _ proof: [UInt8]) {
        switch handshake.receive(proof: proof) {
        case .authenticated(let key):
            if let slotAddress { network?.releaseSlot(slotAddress) }
            slotAddress = nil
            guard let network, network.register(key, channel: context.channel) else {
                return close(context, reason: "a live link to \(key.short)… exists; this one is refused")
            }
            peer = key
            limit.bytes = PeerLimits.frameBytesMax + PeerSession.sealBytes
            startKeepAlive(context: context)
        case .fail(let reason):
            close(context, reason: PeerProtocolError.handshake(reason).description)
        case .sendProof:
            close(context, reason: PeerProtocolError.handshake("a second key exchange").description)
        }
    }

    /// Sends a keep-alive every interval and closes a link silent for longer
    /// than the liveness timeout. Silence is counted only while this node's
    /// own event loop kept time: after a stall of its own (a check that runs
    /// late), the peer's bytes may be waiting unread, so it is not judged then.
    private func startKeepAlive(context: ChannelHandlerContext) {
        let channel = context.channel
        let keepAliveBytes = PeerMessage.keepAlive.canonicalBytes
        let interval = TimeAmount.milliseconds(Int64(PeerLimits.keepAliveMs))
        lastLivenessCheck = NIODeadline.now()
        keepAlive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            guard let self else { return }
            let now = NIODeadline.now()
            if now - self.lastLivenessCheck > interval * 2 { self.limit.lastBytesAt = max(self.limit.lastBytesAt, now - interval) }
            self.lastLivenessCheck = now
            if now - self.limit.lastBytesAt > .milliseconds(Int64(PeerLimits.livenessTimeoutMs)) {
                self.network?.misbehaved(address: self.remote, reason: "silent for \(PeerLimits.livenessTimeoutMs) ms")
                channel.close(promise: nil)
                return
            }
            channel.writeAndFlush(NIOAny(keepAliveBytes), promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        guard peer != nil, var session else {
            promise?.fail(PeerProtocolError.handshake("message before the link is authenticated"))
            return
        }
        do {
            let sealed = try session.seal(plaintext)
            self.session = session
            context.write(wrapOutboundOut(encodeFrame(sealed, allocator: context.channel.allocator)), promise: promise)
        } catch {
            promise?.fail(error)
            close(context, reason: error.description)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        network?.closed(channel: context.channel, peer: peer, slotAddress: slotAddress)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context, reason: "\(error)")
    }

    private func close(_ context: ChannelHandlerContext, reason: String) {
        network?.misbehaved(address: remote, reason: reason)
        context.close(promise: nil)
    }
}

/// Counts connections that have not proven a key yet, per source address and
/// in all, so that strangers cannot hold more than a few hundred bytes each
/// of a bounded number of slots.
struct UnauthenticatedConnections {
    private var perAddress: [String: Int] = [:]
    private(set) var total = 0

    /// Takes a slot for a connection from `address`, if one is free.
    mutating func admit(_ address: String) -> Bool {
        guard total < PeerLimits.unauthenticatedMax, perAddress[address, default: 0] < PeerLimits.unauthenticatedPerAddressMax else {
            return false
        }
        perAddress[address, default: 0] += 1
        total += 1
        return true
    }

    /// Gives back the slot of a connection from `address` (authenticated or closed).
    mutating func release(_ address: String) {
        guard let count = perAddress[address], count > 0 else { return }
        perAddress[address] = count == 1 ? nil : count - 1
        total -= 1
    }
}

/// TCP connections between validators: each validator listens on its genesis
/// address and dials every validator after it in the genesis order, and takes
/// links only from those before it, so each pair shares exactly one
/// connection. A connection counts only once the peer has proven its node key
/// over this connection's key exchange (``PeerHandshake``); every frame after
/// that is sealed. A live link is never replaced: a second one from the same
/// peer is refused until the first closes (a silent link closes itself after
/// ``PeerLimits/livenessTimeoutMs``). Sends to one peer are bounded in bytes
/// so a slow peer cannot exhaust memory.
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
    private var unauthenticated = UnauthenticatedConnections()
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

    /// The validators that dial this one: those before it in the genesis order.
    private var dialers: Set<PublicKey> {
        guard let ownIndex = genesis.validators.index(of: ownKey.publicKey) else { return [] }
        return Set(genesis.validators.validators[..<ownIndex].map(\.nodeKey))
    }

    /// Sets up a connection: as initiator towards `dialed`, or as responder to a stranger.
    private func initialize(_ channel: any Channel, dialed: PublicKey?) -> EventLoopFuture<Void> {
        var inboundAddress: String?
        if dialed == nil {
            let address = channel.remoteAddress?.ipAddress ?? "unknown"
            let admitted = lock.withLock { unauthenticated.admit(address) }
            guard admitted else {
                misbehaved(address: address, reason: "too many connections that have not authenticated")
                return channel.close()
            }
            inboundAddress = address
        }
        let handshake = PeerHandshake(role: dialed == nil ? .responder : .initiator, chainID: genesis.chainID, genesisHash: genesis.hash,
                                      ownKey: ownKey, acceptable: dialed.map { [$0] } ?? dialers)
        let limit = FrameLimit()
        let handler = PeerChannelHandler(handshake: handshake, limit: limit, network: self, inboundAddress: inboundAddress)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(limit: limit)))
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }

    /// Binds the listener and starts dialing the validators after this one.
    public func start() async throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [unowned self] channel in self.initialize(channel, dialed: nil) }
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
        var backoff = RetryBackoff(minimumMs: PeerLimits.reconnectDelayMsMin, maximumMs: PeerLimits.reconnectDelayMsMax)
        while !Task.isCancelled && !lock.withLock({ stopped }) {
            if let existing = lock.withLock({ connections[validator.nodeKey]?.channel }) {
                try? await existing.closeFuture.get()
                continue
            }
            do {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.seconds(3))
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { [unowned self] channel in self.initialize(channel, dialed: validator.nodeKey) }
                    .connect(host: host, port: port).get()
                backoff.succeeded()
                try? await channel.closeFuture.get()
            } catch {
                logger.debug("dial failed", metadata: ["peer": "\(validator.name)", "error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: backoff.currentMs * 1_000_000)
            backoff.failed()
        }
    }

    /// Records an authenticated link; false (refuse it) while another link to the same peer is open.
    func register(_ key: PublicKey, channel: any Channel) -> Bool {
        let registered = lock.withLock { () -> Bool in
            guard connections[key] == nil, !stopped else { return false }
            connections[key] = Connection(channel: channel, queuedBytes: 0)
            return true
        }
        guard registered else { return false }
        logger.info("peer connected", metadata: ["peer": "\(key.short)"])
        delegate?.peerConnected(key)
        return true
    }

    /// A connection closed: frees its slot, and forgets its peer if this was the registered link.
    func closed(channel: any Channel, peer: PublicKey?, slotAddress: String?) {
        let removed = lock.withLock { () -> Bool in
            if let slotAddress { unauthenticated.release(slotAddress) }
            guard let peer, let current = connections[peer], current.channel === channel else { return false }
            connections[peer] = nil
            return true
        }
        if removed, let peer {
            logger.info("peer disconnected", metadata: ["peer": "\(peer.short)"])
            delegate?.peerDisconnected(peer)
        }
    }

    /// Gives back the unauthenticated slot of a connection from `address`.
    func releaseSlot(_ address: String) {
        lock.withLock { unauthenticated.release(address) }
    }

    /// Hands a message from the registered link of `key` to the node.
    func deliver(_ message: PeerMessage, from key: PublicKey, channel: any Channel) {
        guard lock.withLock({ connections[key]?.channel === channel }) else { return }
        if case .keepAlive = message { return }
        delegate?.received(message, from: key)
    }

    func misbehaved(address: String, reason: String) {
        logger.warning("peer connection dropped", metadata: ["peer": "\(address)", "reason": "\(reason)"])
        delegate?.peerMisbehaved(address: address, reason: reason)
    }

    /// Sends to one peer if connected; drops the message if that peer's queue is full.
    public func send(_ message: PeerMessage, to key: PublicKey) {
        send(encoded: message.canonicalBytes, to: key)
    }

    /// Sends an already encoded message, so that a broadcast encodes it once for every peer.
    private func send(encoded payload: [UInt8], to key: PublicKey) {
        guard let channel = lock.withLock({ connections[key]?.channel }) else { return }
        let size = payload.count + 4 + PeerSession.sealBytes
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
        channel.writeAndFlush(payload).whenComplete { [weak self] _ in
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
        let payload = message.canonicalBytes
        for key in connectedPeers { send(encoded: payload, to: key) }
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
