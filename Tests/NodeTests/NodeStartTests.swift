import Foundation
import Logging
import Testing
import ConsortTesting
import Ledger
import LedgerCore
@testable import Node

/// A validator's folder whose ledger holds `blocks` blocks and whose
/// consensus state notes that height, as a running node leaves them; with the
/// key of organization bankA's member.
func validatorFolder(blocks: Int) throws -> (directory: String, config: NodeConfig, memberKey: PrivateKey) {
    let directory = NSTemporaryDirectory() + "consort-start-\(UUID().uuidString)"
    let data = directory + "/data"
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    let memberKey: PrivateKey
    do {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)], store: try LevelDBStore(path: data + "/ledger"))
        for _ in 0..<blocks { try chain.commit([]) }
        try chain.genesis.json().write(to: URL(fileURLWithPath: directory + "/genesis.json"))
        try KeyFile.write(chain.validatorKey(0), to: directory + "/node0.key")
        try ConsensusStateStore(store: try LevelDBStore(path: data + "/consensus")).recordLedgerHeight(UInt64(blocks))
        memberKey = chain.member("bankA").key
    }
    let config = NodeConfig(name: "node0", role: .validator, genesisPath: directory + "/genesis.json", nodeKeyPath: directory + "/node0.key",
                            dataDirectory: data, apiHost: "127.0.0.1", apiPort: 0, peerAddress: nil, syncFrom: [], logLevel: "error")
    return (directory, config, memberKey)
}

/// Starting a validator on damaged data files, made by hand in a temporary folder.
@Suite struct NodeStartTests {
    @Test func ledgerBelowTheNotedHeight_refusesToStart_andSaysWhatWasLost() throws {
        let (directory, config, _) = try validatorFolder(blocks: 20)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledgerPath = config.dataDirectory + "/ledger"
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: ledgerPath).first { $0.hasSuffix(".log") })
        let size = try #require(try FileManager.default.attributesOfItem(atPath: ledgerPath + "/" + log)[.size] as? Int)
        try FileHandle(forWritingTo: URL(fileURLWithPath: ledgerPath + "/" + log)).truncate(atOffset: UInt64(size / 2))

        let error = #expect(throws: NodeStartError.self) { try ConsortNode(config: config, logger: Logger(label: "test")) }
        let message = error?.description ?? ""
        #expect(message.contains("records that it held block 20"))
        #expect(message.contains("committed blocks were lost"))
        #expect(message.contains(log), "the message names the log that was cut short")
        #expect(message.contains("Restore \(ledgerPath)"))
    }

    @Test func nodeKeyOthersMayRead_refusesToStart_withTheChmodThatFixesIt() throws {
        let (directory, config, _) = try validatorFolder(blocks: 1)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyPath = try #require(config.nodeKeyPath)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyPath)
        let error = #expect(throws: ConfigError.self) { try ConsortNode(config: config, logger: Logger(label: "test")) }
        #expect(error?.description.contains("chmod 600 \(keyPath)") == true)
    }

    @Test func missingConsensusStateBesideALedger_refusesToStart_unlessTheOperatorSaysSo() throws {
        var (directory, config, _) = try validatorFolder(blocks: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.removeItem(atPath: config.dataDirectory + "/consensus")
        let error = #expect(throws: NodeStartError.self) { try ConsortNode(config: config, logger: Logger(label: "test")) }
        let message = error?.description ?? ""
        #expect(message.contains("holds 3 blocks, but there is no consensus state"))
        #expect(message.contains("--fresh-consensus-state"))
        config.freshConsensusState = true
        _ = try ConsortNode(config: config, logger: Logger(label: "test"))
    }

    @Test func aBusyAPIPort_isNamed_withTheListener() async throws {
        var (directory, config, _) = try validatorFolder(blocks: 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let busy = try BusyPort()
        config.apiPort = busy.port
        config.peerAddress = "127.0.0.1:\(try freeLoopbackPort())"
        let node = try ConsortNode(config: config, logger: Logger(label: "test"))
        let error = await #expect(throws: ListenerError.self) { try await node.run() }
        #expect(error == ListenerError(.api, address: "127.0.0.1:\(busy.port)", inUse: true, reason: error?.reason ?? ""))
        #expect(error?.description.hasPrefix("cannot open the API listener on 127.0.0.1:\(busy.port): the address is in use") == true,
                "\(String(describing: error))")
    }

    @Test func aBusyPeerPort_isNamed_withTheListener() async throws {
        var (directory, config, _) = try validatorFolder(blocks: 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let busy = try BusyPort()
        config.peerAddress = "127.0.0.1:\(busy.port)"
        let node = try ConsortNode(config: config, logger: Logger(label: "test"))
        let error = await #expect(throws: ListenerError.self) { try await node.run() }
        #expect(error?.listener == .peer && error?.inUse == true)
        #expect(error?.description.hasPrefix("cannot open the peer listener on 127.0.0.1:\(busy.port): the address is in use") == true,
                "\(String(describing: error))")
    }
}
