import ConsortTesting
import Foundation
import LedgerCore
import Node
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

/// Splices every pair of peer ports into each other, as an outsider relaying
/// handshakes would; returns the relay's connections, two per splice.
private func spliceEveryPair(_ ports: [Int]) async -> [any Channel] {
    var channels: [any Channel] = []
    for first in ports.indices {
        for second in ports.indices where second > first {
            do {
                channels += try await spliceLoopback(ports[first], ports[second])
            } catch {
                continue
            }
        }
    }
    return channels
}

/// What the relay did: splices made, and connections the nodes had not closed by their deadline.
private struct RelayOutcome: Sendable {
    var splices = 0
    var openPastDeadline = 0
}

/// The attack drill on real processes: a relay splices every pair of
/// validators while 1,500 idle sockets sit on one validator's API, and that
/// validator runs under a 1,024-descriptor limit. Transactions keep
/// committing on all four nodes, and the flooded one serves again once the sockets go.
@Suite(.serialized, .timeLimit(.minutes(5))) struct AttackDrillTests {
    @Test func spliceAndIdleSocketFlood_underALowDescriptorLimit_everyNodeKeepsCommitting() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try devnet.setLogLevel("info", for: 0)
        try devnet.start(0, descriptorLimit: 1024)
        for index in 1..<4 { try devnet.start(index) }
        for index in 0..<4 { try await devnet.waitLive(index) }

        let flood = IdleSockets(count: 1500, port: devnet.apiPorts[0])
        defer { flood.closeAll() }
        #expect(flood.descriptors.count == 1500)
        let peerPorts = devnet.genesis.validators.validators.compactMap { parseHostPort($0.address)?.port }
        // A spliced connection must be closed by the nodes within the handshake timeout (plus slack for a loaded machine).
        let deadline = Double(PeerLimits.handshakeTimeoutMs) / 1000 + 5
        let relay = Task {
            var outcome = RelayOutcome()
            var watched: [(channel: any Channel, opened: Date)] = []
            while !Task.isCancelled {
                let channels = await spliceEveryPair(peerPorts)
                outcome.splices += channels.count / 2
                watched += channels.map { ($0, Date()) }
                watched.removeAll { entry in
                    guard entry.channel.isActive else { return true }
                    guard Date().timeIntervalSince(entry.opened) > deadline else { return false }
                    outcome.openPastDeadline += 1
                    entry.channel.close(promise: nil)
                    return true
                }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
            for entry in watched { entry.channel.close(promise: nil) }
            return outcome
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
        // The flooded node commits too, before the flood ends: its log shows the last height.
        let flooded = Date().addingTimeInterval(60)
        while devnet.highestLoggedCommit(0) < last && Date() < flooded { try await Task.sleep(nanoseconds: 250_000_000) }
        #expect(devnet.highestLoggedCommit(0) >= last, "node0 commits height \(last) while flooded and spliced: \(devnet.logTail(0))")
        relay.cancel()
        let outcome = await relay.value
        print("[attack drill] \(submitted.count) transactions committed up to height \(last); \(outcome.splices) splices, "
              + "\(outcome.openPastDeadline) left open past \(deadline) s; 1,500 idle sockets on node0's API under a 1,024-descriptor limit")
        #expect(outcome.splices > 0, "the relay reached the peer ports")
        #expect(outcome.openPastDeadline == 0, "every spliced link is refused")
        flood.closeAll()
        try await devnet.waitAllReach(last, nodes: [0, 1, 2, 3], timeoutSeconds: 60)
        #expect(devnet.isRunning(0))
    }
}
