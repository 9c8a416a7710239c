import ConsortTesting
import Foundation
import Ledger
import LedgerCore
import Logging
import NIOCore
import NIOPosix
import Testing
@testable import Node

/// What a peer network told its node.
private final class RecordingPeerDelegate: PeerNetworkDelegate, @unchecked Sendable {
    private let lock = Lock()
    private var connectedKeys: [PublicKey] = []
    private var disconnects = 0
    private var messages: [PeerMessage] = []

    func peerConnected(_ key: PublicKey) { lock.withLock { connectedKeys.append(key) } }
    func peerDisconnected(_ key: PublicKey) { lock.withLock { disconnects += 1 } }
    func received(_ message: PeerMessage, from key: PublicKey) { lock.withLock { messages.append(message) } }
    func peerMisbehaved(address: String, reason: String) {}
    func sendDropped(to key: PublicKey) {}

    var connections: Int { lock.withLock { connectedKeys.count } }
    var disconnections: Int { lock.withLock { disconnects } }
    var received: [PeerMessage] { lock.withLock { messages } }
}

/// Whether the relay in front of a validator passes bytes.
private final class Gate: @unchecked Sendable {
    private let lock = Lock()
    private var isOpen = true
    var open: Bool {
        get { lock.withLock { isOpen } }
        set { lock.withLock { isOpen = newValue } }
    }
}

/// Two real validators' peer networks on 127.0.0.1, with an outsider between them.
@Suite(.serialized) struct PeerRelayTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let keys: [PrivateKey]
    let genesis: Genesis
    let ports: [Int]

    init() throws {
        let keys = try (0..<4).map { _ in try PrivateKey.generate() }
        let ports = try (0..<4).map { _ in try freeLoopbackPort() }
        self.keys = keys
        self.ports = ports
        let bank = Organization(id: "bank", name: "Bank", kind: .bank, memberKeys: [try PrivateKey.generate().publicKey])
        let validators = try ValidatorSet(keys.indices.map {
            Validator(name: "v\($0)", organizationID: "bank", nodeKey: keys[$0].publicKey, address: "127.0.0.1:\(ports[$0])")
        })
        genesis = try Genesis(chainID: "relay-test", timestampMs: 1_000, organizations: [bank], validators: validators)
    }

    private func network(_ index: Int, _ delegate: RecordingPeerDelegate) -> PeerNetwork {
        var logger = Logger(label: "test.peer")
        logger.logLevel = .critical
        return PeerNetwork(group: group, ownKey: keys[index], genesis: genesis, listenHost: "127.0.0.1", listenPort: ports[index],
                           delegate: delegate, logger: logger)
    }

    private func waitUntil(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    @Test func relaySplicingTwoValidators_neitherReplacesNorReadsTheirLink() async throws {
        let delegateA = RecordingPeerDelegate()
        let delegateB = RecordingPeerDelegate()
        let a = network(0, delegateA)
        let b = network(1, delegateB)
        try await a.start()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(try await waitUntil(seconds: 10) { a.connectedPeers.contains(keys[1].publicKey) && b.connectedPeers.contains(keys[0].publicKey) })

        var relayed: [any Channel] = []
        for _ in 0..<8 { relayed += try await spliceLoopback(ports[0], ports[1]) }
        // An outsider's plaintext peer message, as the injection did: refused, never delivered.
        let injector = try await connectLoopback(ports[1], handler: Forwarder())
        var injected = ByteBufferAllocator().buffer(capacity: 64)
        let request = PeerMessage.syncRequest(fromHeight: 1, count: 64).canonicalBytes
        injected.writeInteger(UInt32(request.count))
        injected.writeBytes(request)
        try await injector.writeAndFlush(injected)
        relayed.append(injector)

        #expect(try await waitUntil(seconds: Double(PeerLimits.handshakeTimeoutMs) / 1000 + 3) { relayed.allSatisfy { !$0.isActive } },
                "every spliced connection is refused")
        #expect(delegateA.disconnections == 0 && delegateB.disconnections == 0, "the real link was never dropped")
        #expect(delegateA.connections == 1 && delegateB.connections == 1, "no second link was taken")
        #expect(delegateB.received.isEmpty, "nothing the relay sent reached the node")
        a.send(.syncRequest(fromHeight: 77, count: 1), to: keys[1].publicKey)
        #expect(try await waitUntil(seconds: 5) { delegateB.received == [.syncRequest(fromHeight: 77, count: 1)] }, "the real link still carries messages")
    }

    @Test func linkThatGoesSilent_isDroppedAfterTheLivenessTimeout_andReplaced() async throws {
        // Validator 0 reaches validator 1 through a relay listening at validator 1's genesis address.
        let gate = Gate()
        let realPort = try freeLoopbackPort()
        let relay = try await ServerBootstrap(group: group)
            .childChannelInitializer { [gate] inbound in
                inbound.eventLoop.makeCompletedFuture {
                    let towardsTarget = Forwarder { gate.open }
                    try inbound.pipeline.syncOperations.addHandler(towardsTarget)
                    _ = ClientBootstrap(group: inbound.eventLoop)
                        .channelInitializer { outbound in
                            outbound.eventLoop.makeCompletedFuture {
                                let back = Forwarder { gate.open }
                                try outbound.pipeline.syncOperations.addHandler(back)
                                back.connect(to: inbound)
                            }
                        }
                        .connect(host: "127.0.0.1", port: realPort)
                        .map { outbound in towardsTarget.connect(to: outbound) }
                }
            }
            .bind(host: "127.0.0.1", port: ports[1]).get()
        defer { relay.close(promise: nil) }
        let delegateA = RecordingPeerDelegate()
        let delegateB = RecordingPeerDelegate()
        var logger = Logger(label: "test.peer")
        logger.logLevel = .critical
        let a = network(0, delegateA)
        let b = PeerNetwork(group: group, ownKey: keys[1], genesis: genesis, listenHost: "127.0.0.1", listenPort: realPort,
                            delegate: delegateB, logger: logger)
        try await a.start()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(try await waitUntil(seconds: 10) { a.connectedPeers.contains(keys[1].publicKey) && delegateB.connections >= 1 })
        // Keep-alives flow: the link outlives several liveness timeouts.
        try await Task.sleep(nanoseconds: UInt64(PeerLimits.livenessTimeoutMs + 1_500) * 1_000_000)
        #expect(delegateA.disconnections == 0, "a link that carries keep-alives stays up")
        gate.open = false
        let silentAt = Date()
        #expect(try await waitUntil(seconds: Double(PeerLimits.livenessTimeoutMs) / 1000 + 4) { delegateA.disconnections >= 1 },
                "a link silent past the liveness timeout is dropped")
        print("[liveness] silent link dropped after \(Int(Date().timeIntervalSince(silentAt) * 1000)) ms (timeout \(PeerLimits.livenessTimeoutMs) ms)")
        gate.open = true
        #expect(try await waitUntil(seconds: 15) { a.connectedPeers.contains(keys[1].publicKey) }, "and a fresh link replaces it")
    }

    @Test func strangers_getAFewSlots_andLargeFramesAreRefusedBeforeAuthentication() async throws {
        let delegate = RecordingPeerDelegate()
        let b = network(1, delegate)
        try await b.start()
        defer { Task { await b.shutdown() } }
        var idle: [any Channel] = []
        for _ in 0..<(PeerLimits.unauthenticatedPerAddressMax + 2) {
            idle.append(try await connectLoopback(ports[1], handler: Forwarder()))
        }
        #expect(try await waitUntil(seconds: 3) { idle.filter { !$0.isActive }.count == 2 }, "connections beyond the per-address cap are closed at once")
        for channel in idle where channel.isActive { try await channel.close() }
        // The closed connections give their slots back; a new one may then announce a frame.
        try await Task.sleep(nanoseconds: 300_000_000)
        let fresh = try await connectLoopback(ports[1], handler: Forwarder())
        var announcement = ByteBufferAllocator().buffer(capacity: 4)
        announcement.writeInteger(UInt32(33 * 1024 * 1024))
        try await fresh.writeAndFlush(announcement)
        #expect(try await waitUntil(seconds: 3) { !fresh.isActive }, "a large frame before authentication closes the connection")
        #expect(delegate.connections == 0)
    }
}
