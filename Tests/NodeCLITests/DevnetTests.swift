import NIOHTTP1
import Consensus
import Foundation
import Testing
import Ledger
import LedgerCore
import NodeClient
@testable import Bench
import ConsortTesting
import Node

/// Real `consort` processes on 127.0.0.1: consensus across processes, kill -9,
/// restart and catch-up, and an observer verifying every certificate.
/// Serialized: each test runs its own four or five processes.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DevnetTests {
    @Test func fourNodes_commitTransactionsSubmittedToAnyNode_withTheSameStateRoot() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try await devnet.startAll()
        var ids: [Hash] = []
        for index in 0..<4 {
            let transaction = try devnet.addKeyTransaction("acme", nonce: UInt64(index))
            try await devnet.client(index).submit(transaction)
            ids.append(transaction.id)
        }
        var top = 0
        for id in ids { top = max(top, try await devnet.waitCommitted(id, on: 3)) }
        try await devnet.waitAllReach(top, nodes: [0, 1, 2, 3])
        let reference = try await devnet.certifiedBlock(top, from: 0)
        for index in 1..<4 {
            #expect(try await devnet.certifiedBlock(top, from: index).stateRoot == reference.stateRoot)
        }
    }

    @Test func killingThePrimary_theOthersChangeViewAndKeepCommitting() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try await devnet.startAll()
        let first = try devnet.addKeyTransaction("acme", nonce: 0)
        try await devnet.client(1).submit(first)
        _ = try await devnet.waitCommitted(first.id, on: 1)
        #expect(try await devnet.status(1).primary == "node0")

        devnet.kill9(0)
        for nonce in 1...3 as ClosedRange<UInt64> {
            let transaction = try devnet.addKeyTransaction("acme", nonce: nonce)
            try await devnet.client(Int(nonce)).submit(transaction)
            _ = try await devnet.waitCommitted(transaction.id, on: Int(nonce), timeoutSeconds: 40)
        }
        let status = try await devnet.status(2)
        #expect(status.view >= 1)
        #expect(status.primary != "node0")
    }

    @Test func restartedOldPrimary_rejoinsTheCurrentView_soTheNextPrimaryMayFail() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try await devnet.startAll()
        devnet.kill9(0)
        let during = try devnet.addKeyTransaction("acme", nonce: 0)
        try await devnet.client(1).submit(during)
        let height = try await devnet.waitCommitted(during.id, on: 1, timeoutSeconds: 40)
        try devnet.start(0)
        try await devnet.waitLive(0)
        try await devnet.waitAllReach(height, nodes: [0], timeoutSeconds: 40)
        let primary = try await devnet.status(2).primary
        let primaryIndex = try #require(primary.flatMap { Int($0.dropFirst("node".count)) })
        devnet.kill9(primaryIndex)
        let survivor = (0..<4).first { $0 != primaryIndex && $0 != 0 } ?? 2
        let after = try devnet.addKeyTransaction("acme", nonce: 1)
        try await devnet.client(survivor).submit(after)
        _ = try await devnet.waitCommitted(after.id, on: 0, timeoutSeconds: 60)
    }

    @Test func killedReplica_restarts_andCatchesUpToTheSameHeightAndRoot() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try await devnet.startAll()
        devnet.kill9(3)
        var last: Hash?
        for nonce in 0..<6 as Range<UInt64> {
            let transaction = try devnet.addKeyTransaction("acme", nonce: nonce)
            try await devnet.client(Int(nonce % 3)).submit(transaction)
            last = transaction.id
            _ = try await devnet.waitCommitted(transaction.id, on: Int(nonce % 3))
        }
        let target = try await devnet.waitCommitted(try #require(last), on: 0)
        try devnet.start(3)
        try await devnet.waitLive(3)
        try await devnet.waitAllReach(target, nodes: [3], timeoutSeconds: 40)
        let restarted = try await devnet.certifiedBlock(target, from: 3)
        let reference = try await devnet.certifiedBlock(target, from: 0)
        #expect(restarted.stateRoot == reference.stateRoot)
        #expect(try CertifiedBlock(canonicalBytes: restarted.bytes).block == (try CertifiedBlock(canonicalBytes: reference.bytes).block))

        let after = try devnet.addKeyTransaction("acme", nonce: 6)
        try await devnet.client(3).submit(after)
        _ = try await devnet.waitCommitted(after.id, on: 3)
    }

    @Test func freshObserver_syncsFromGenesis_andEveryCertificateVerifies() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try await devnet.startAll()
        var last: Hash?
        for nonce in 0..<5 as Range<UInt64> {
            let transaction = try devnet.addKeyTransaction("bankA", nonce: nonce)
            try await devnet.client(0).submit(transaction)
            last = transaction.id
        }
        let target = try await devnet.waitCommitted(try #require(last), on: 0)
        let observer = try devnet.addObserver()
        try devnet.start(observer)
        try await devnet.waitLive(observer)
        // Node 1 is compared below; it may commit a moment after node 0 did.
        try await devnet.waitAllReach(target, nodes: [1, observer], timeoutSeconds: 40)
        #expect(try await devnet.status(observer).role == "observer")
        for height in 1...target {
            let record = try await devnet.certifiedBlock(height, from: observer)
            let certified = try CertifiedBlock(canonicalBytes: record.bytes)
            try certified.certificate.verify(header: certified.block.header, validators: devnet.genesis.validators, chainID: devnet.genesis.chainID)
            // Each node keeps the certificate it assembled, so signer sets may differ; the block and its result may not.
            let validatorCopy = try await devnet.certifiedBlock(height, from: 1)
            #expect(try CertifiedBlock(canonicalBytes: validatorCopy.bytes).block == certified.block)
            #expect(validatorCopy.stateRoot == record.stateRoot)
        }
        let late = try devnet.addKeyTransaction("bankA", nonce: 5)
        let refused = await #expect(throws: NodeClientError.self) { try await devnet.client(observer).submit(late) }
        guard case .api(422, "observer", _)? = refused else {
            Issue.record("an observer answered a submission with \(String(describing: refused))")
            return
        }
    }

    @Test func sigterm_stopsANodeCleanly_andItRestartsFromItsData() async throws {
        let devnet = try TestDevnet()
        defer { devnet.shutdown() }
        try await devnet.startAll()
        let transaction = try devnet.addKeyTransaction("acme", nonce: 0)
        try await devnet.client(0).submit(transaction)
        let height = try await devnet.waitCommitted(transaction.id, on: 2)
        #expect(devnet.terminate(2) == 0)
        try devnet.start(2)
        try await devnet.waitLive(2)
        #expect(await devnet.height(2) >= height)
    }
}
