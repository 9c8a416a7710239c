import Foundation
import Testing
import Ledger
import LedgerCore
import NodeClient
@testable import Bench
import ConsortTesting
import Node
@testable import NodeCLI

/// `consort bench network` refuses bad arguments before it contacts any node.
@Suite struct NetworkBenchArgumentTests {
    /// Runs `body` with a readable key file in a fresh folder, removed afterwards.
    private static func withKeyFile(_ body: (String) throws -> Void) throws {
        let folder = NSTemporaryDirectory() + "consort-bench-args-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bank.key"
        try KeyFile.write(try PrivateKey.generate(), to: path)
        try body(path)
    }

    /// The message argument parsing gives for `arguments`, or nil if they parse.
    private static func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try BenchCommand.NetworkBench.parse(arguments)
            return nil
        } catch {
            return BenchCommand.NetworkBench.message(for: error)
        }
    }

    @Test func goodArguments_parse() throws {
        try Self.withKeyFile { key in
            #expect(Self.refusal(["--node", "http://127.0.0.1:28100", "--node", "http://127.0.0.1:28101", "--key", key, "--duration", "5"]) == nil)
        }
    }

    @Test func badURL_isRefusedWithTheURL() throws {
        try Self.withKeyFile { key in
            let message = try #require(Self.refusal(["--node", "ftp://127.0.0.1:28100", "--key", key]))
            #expect(message.contains("'ftp://127.0.0.1:28100' is not an http://host:port URL"))
        }
    }

    @Test func secondURLBad_isRefused() throws {
        try Self.withKeyFile { key in
            let message = try #require(Self.refusal(["--node", "http://127.0.0.1:28100", "--node", "http://127.0.0.1", "--key", key]))
            #expect(message.contains("'http://127.0.0.1' is not an http://host:port URL"))
        }
    }

    @Test func zeroDuration_isRefused() throws {
        try Self.withKeyFile { key in
            let message = try #require(Self.refusal(["--node", "http://127.0.0.1:28100", "--key", key, "--duration", "0"]))
            #expect(message.contains("--duration must be from 1 to"))
        }
    }

    @Test func negativeRate_isRefused() throws {
        try Self.withKeyFile { key in
            let message = try #require(Self.refusal(["--node", "http://127.0.0.1:28100", "--key", key, "--rate=-5"]))
            #expect(message.contains("--rate must be from 0"))
        }
    }

    @Test func tooManySenders_isRefused() throws {
        try Self.withKeyFile { key in
            let message = try #require(Self.refusal(["--node", "http://127.0.0.1:28100", "--key", key, "--senders", "64"]))
            #expect(message.contains("--senders must be from 1 to 63"))
        }
    }

    @Test func missingKeyFile_isRefusedWithThePath() {
        let path = NSTemporaryDirectory() + "consort-no-such-key-\(UUID().uuidString).key"
        let message = Self.refusal(["--node", "http://127.0.0.1:28100", "--key", path])
        #expect(message?.contains(path) == true)
        #expect(message?.contains("cannot read the key file") == true)
    }

    @Test func missingKeyOption_isRefused() {
        let message = Self.refusal(["--node", "http://127.0.0.1:28100"])
        #expect(message?.contains("--key") == true)
    }

    @Test func settings_refuseEmptyNodeList() {
        #expect(throws: LoadRunError.badSetting("give at least one --node URL")) {
            try NetworkBenchSettings(nodes: [], senders: 4, ratePerSecond: 0, durationSeconds: 5)
        }
    }
}
