import NIOCore
import NIOPosix

/// Forwards every byte it reads to its partner channel: one half of a relay
/// that an outsider would run between two validators. While `passes` says
/// no, bytes are dropped instead: a link that goes silent without closing.
public final class Forwarder: ChannelInboundHandler, @unchecked Sendable {
    public typealias InboundIn = ByteBuffer
    private var partner: (any Channel)?
    private var pending: [ByteBuffer] = []
    private let passes: @Sendable () -> Bool

    public init(passes: @escaping @Sendable () -> Bool = { true }) {
        self.passes = passes
    }

    /// Sets the partner (call on this channel's event loop) and sends what arrived before it.
    public func connect(to partner: any Channel) {
        self.partner = partner
        for buffer in pending { partner.writeAndFlush(buffer, promise: nil) }
        pending = []
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard passes() else { return }
        let buffer = unwrapInboundIn(data)
        if let partner { partner.writeAndFlush(buffer, promise: nil) } else { pending.append(buffer) }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
    }
}

/// A TCP client on 127.0.0.1 whose pipeline is `handler`.
public func connectLoopback(_ port: Int, handler: any ChannelHandler & Sendable) async throws -> any Channel {
    try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
        .connect(host: "127.0.0.1", port: port).get()
}

/// Opens a connection to each port and pipes them into each other, as a
/// relay splicing two peers would; returns both ends.
public func spliceLoopback(_ first: Int, _ second: Int) async throws -> [any Channel] {
    let towardsFirst = Forwarder()
    let towardsSecond = Forwarder()
    let a = try await connectLoopback(first, handler: towardsFirst)
    let b = try await connectLoopback(second, handler: towardsSecond)
    try await a.eventLoop.submit { towardsFirst.connect(to: b) }.get()
    try await b.eventLoop.submit { towardsSecond.connect(to: a) }.get()
    return [a, b]
}
