import ConsortTesting
import Foundation
import LedgerCore
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Idle sockets opened without waiting for the connection to complete, as a flood would.
private final class IdleSockets {
    private(set) var descriptors: [Int32] = []

    init(count: Int, port: Int) {
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { break }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            descriptors.append(descriptor)
        }
    }

    func closeAll() {
        for descriptor in descriptors { close(descriptor) }
        descriptors = []
    }
}

/// Forwards every byte it reads to its partner channel: one half of a relay.
private final class Forwarder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var partner: (any Channel)?
    private var pending: [ByteBuffer] = []

    func connect(to partner: any Channel) {
        self.partner = partner
        for buffer in pending { partner.writeAndFlush(buffer, promise: nil) }
        pending = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let partner { partner.writeAndFlush(buffer, promise: nil) } else { pending.append(buffer) }
    }

    func channelInactive(context: ChannelHandlerContext) { partner?.close(promise: nil) }
}

/// Splices pairs of peer ports into each other, over and over, as an outsider relaying handshakes would.
private struct Splicer {
    let ports: [Int]

    func spliceEveryPair() async -> Int {
        var opened = 0
        for first in ports.indices {
            for second in ports.indices where second > first {
                let towardsFirst = Forwarder()
                let towardsSecond = Forwarder()
                guard let a = try? await connect(ports[first], towardsFirst), let b = try? await connect(ports[second], towardsSecond) else {
                    continue
                }
                a.eventLoop.execute { towardsFirst.connect(to: b) }
                b.eventLoop.execute { towardsSecond.connect(to: a) }
                opened += 1
            }
        }
        return opened
    }

    private func connect(_ port: Int, _ handler: Forwarder) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
            .connect(host: "127.0.0.1", port: port).get()
    }
}

/// The attack drill on real processes: a relay splices every pair of
/// validators while 1,500 idle sockets sit on one validator's API, and that
/// validator runs under a 1,024-descriptor limit. Transactions keep
/// committing on all four nodes, and the flooded one serves again once the sockets go.
@Suite(.serialized, .timeLimit(.minutes(5))) struct AttackDrillTests {
    @Test func spliceAndIdleSocketFlood_underALowDescriptorLimit_everyNodeKeepsCommitting() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try devnet.start(0, descriptorLimit: 1024)
        for index in 1..<4 { try devnet.start(index) }
        for index in 0..<4 { try await devnet.waitHealthy(index) }

        let flood = IdleSockets(count: 1500, port: devnet.apiPorts[0])
        defer { flood.closeAll() }
        #expect(flood.descriptors.count == 1500)
        let splicer = Splicer(ports: devnet.genesis.validators.validators.compactMap { parseHostPort($0.address)?.1 })
        let relay = Task {
            var spliced = 0
            while !Task.isCancelled {
                spliced += await splicer.spliceEveryPair()
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
            return spliced
        }
        // For 30 s, a transaction every half second through the three other nodes.
        var submitted: [(id: Hash, node: Int)] = []
        let end = Date().addingTimeInterval(30)
        while Date() < end {
            let node = 1 + submitted.count % 3
            let transaction = try devnet.addKeyTransaction("acme", nonce: UInt64(submitted.count))
            try await devnet.client(node).submit(transaction)
            submitted.append((transaction.id, node))
            #expect(devnet.isRunning(0), "the flooded node is still running: \(devnet.logTail(0))")
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        // Every one commits, while the relay and the flood go on.
        var last = 0
        for (id, node) in submitted { last = max(last, try await devnet.waitCommitted(id, on: node, timeoutSeconds: 90)) }
        for index in 1..<4 {
            let connected = try await devnet.status(index).validators.filter(\.connected).count
            #expect(connected == 3, "node\(index) keeps its links to the other three validators while spliced")
        }
        relay.cancel()
        #expect(await relay.value > 0, "the relay reached the peer ports")
        flood.closeAll()
        try await devnet.waitAllReach(last, nodes: [0, 1, 2, 3], timeoutSeconds: 60)
        #expect(devnet.isRunning(0))
    }
}
