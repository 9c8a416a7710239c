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

/// Splices every pair of peer ports into each other, as an outsider relaying handshakes would.
private func spliceEveryPair(_ ports: [Int]) async -> Int {
    var spliced = 0
    for first in ports.indices {
        for second in ports.indices where second > first {
            do {
                _ = try await spliceLoopback(ports[first], ports[second])
                spliced += 1
            } catch {
                continue
            }
        }
    }
    return spliced
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
        for index in 0..<4 { try await devnet.waitLive(index) }

        let flood = IdleSockets(count: 1500, port: devnet.apiPorts[0])
        defer { flood.closeAll() }
        #expect(flood.descriptors.count == 1500)
        let peerPorts = devnet.genesis.validators.validators.compactMap { parseHostPort($0.address)?.port }
        let relay = Task {
            var spliced = 0
            while !Task.isCancelled {
                spliced += await spliceEveryPair(peerPorts)
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
