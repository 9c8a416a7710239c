import ConsortTesting
import Foundation
import Ledger
import LedgerCore
import NIOCore
import NIOPosix
import NodeAPI
import NodeClient
import NIOHTTP1
import Testing
@testable import Node

/// Reads nothing; lets a test see when the server closes the connection.
private final class Silent: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
}

@Suite(.serialized) struct APIConnectionTests {
    @Test func budget_leavesDescriptorsForStoresAndPeers_withinItsBounds() {
        let reserved = APIConnectionBudget.reservedDescriptors(validators: 4)
        #expect(APIConnectionBudget.connections(descriptorLimit: 1024, validators: 4) == 1024 - reserved)
        #expect(1024 - reserved >= 256, "a default descriptor limit still leaves room for hundreds of clients")
        #expect(APIConnectionBudget.connections(descriptorLimit: 100, validators: 4) == APILimits.connectionsMin)
        #expect(APIConnectionBudget.connections(descriptorLimit: 1_000_000, validators: 4) == APILimits.connectionsMax)
        #expect(APIConnectionBudget.processDescriptorLimit() != nil)
    }

    /// Starts the API with the given idle and request timeouts and connection
    /// cap; returns its task and bound port (0 when it did not start in 2 s).
    private func startServer(_ backend: any NodeBackend, connectionsMax: Int, timeoutMs: Int) async throws -> (Task<Void, any Error>, Int) {
        let portBox = PortBox()
        let server = Task {
            try await APIServer(backend: backend).run(host: "127.0.0.1", port: 0, connectionsMax: connectionsMax,
                                                      idleTimeoutMs: timeoutMs, requestReadTimeoutMs: timeoutMs) { portBox.set($0) }
        }
        for _ in 0..<200 where portBox.get() == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        return (server, portBox.get())
    }

    /// Runs the API with the given idle and request timeouts and connection cap.
    private func withServer(connectionsMax: Int, timeoutMs: Int, _ body: (Int) async throws -> Void) async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let (server, port) = try await startServer(LedgerOnlyBackend(ledger: chain.ledger), connectionsMax: connectionsMax, timeoutMs: timeoutMs)
        defer { server.cancel() }
        try await body(port)
    }

    private func open(_ port: Int, sending text: String) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Silent()) } }
            .connect(host: "127.0.0.1", port: port).get()
        guard !text.isEmpty else { return channel }
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text))
        } catch ChannelError.ioOnClosedChannel {
            // On a slow machine the server may already have closed it: what the tests wait for anyway.
        }
        return channel
    }

    /// Whether the server answers a request within `timeoutMs`.
    private func answers(_ port: Int, timeoutMs: Int64) async -> Bool {
        do {
            let client = try NodeClient(baseURL: "http://127.0.0.1:\(port)", timeoutMs: timeoutMs)
            return try await client.request(.GET, "/v1/genesis").status == 200
        } catch {
            return false
        }
    }

    private func closedWithin(seconds: Double, _ channel: any Channel) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !channel.isActive { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return !channel.isActive
    }

    @Test func slowRequests_andIdleConnections_areClosed() async throws {
        try await withServer(connectionsMax: 64, timeoutMs: 1_000) { port in
            let idle = try await open(port, sending: "")
            let trickledHead = try await open(port, sending: "GET /v1/status HTTP/1.1\r\nHo")
            let trickledBody = try await open(port, sending: "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"tr")
            #expect(try await closedWithin(seconds: 10, idle), "an idle connection is closed")
            #expect(try await closedWithin(seconds: 10, trickledHead), "a head that trickles in is closed")
            #expect(try await closedWithin(seconds: 10, trickledBody), "a body that trickles in is closed")
        }
    }

    /// Cancelled while connections keep arriving, the server stops accepting,
    /// ends the connections it holds within the shutdown grace and returns.
    /// A connection accepted as the server stops is closed, not left behind
    /// to trap when it is released.
    @Test func cancelledWhileConnectionsArrive_stopsWithinTheGrace() async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let backend = LedgerOnlyBackend(ledger: chain.ledger)
        for round in 0..<20 {
            let (server, port) = try await startServer(backend, connectionsMax: 4, timeoutMs: 60_000)
            try #require(port != 0, "the server did not start in round \(round)")
            let arriving = Task {
                var clients: [any Channel] = []
                while !Task.isCancelled, clients.count < 64 {
                    guard let channel = try? await open(port, sending: "GET /v1/status HTTP/1.1\r\nHo") else { break }
                    clients.append(channel)
                }
                return clients
            }
            try await Task.sleep(nanoseconds: UInt64(5 + round) * 1_000_000)
            let cancelled = ContinuousClock.now
            server.cancel()
            try await server.value
            let took = ContinuousClock.now - cancelled
            #expect(took < .milliseconds(APILimits.shutdownGraceMs + 3_000), "stopping took \(took) in round \(round)")
            arriving.cancel()
            for channel in await arriving.value {
                #expect(try await closedWithin(seconds: 5, channel), "a connection outlived the server in round \(round)")
            }
        }
    }

    @Test func connectionsBeyondTheCap_waitWithoutStoppingTheServer() async throws {
        try await withServer(connectionsMax: 2, timeoutMs: 60_000) { port in
            var held: [any Channel] = []
            for _ in 0..<2 { held.append(try await open(port, sending: "GET /v1/status HTTP/1.1\r\nHo")) }
            // A connect returns once the kernel has queued it; let the server accept both before the third comes.
            try await Task.sleep(nanoseconds: 500_000_000)
            let whileFull = await answers(port, timeoutMs: 150)
            #expect(!whileFull, "a third connection is not served while two are held")
            for channel in held { try await channel.close() }
            let afterwards = await answers(port, timeoutMs: 5_000)
            #expect(afterwards, "once they close, the server answers again")
        }
    }
}
