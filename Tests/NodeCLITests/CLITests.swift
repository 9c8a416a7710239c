import Foundation
import Testing
import Ledger
import LedgerCore
import ConsortTesting
@testable import Bench
@testable import Node
import NodeAPI
@testable import NodeClient

/// Runs the built `consort` with `arguments`; returns exit status, stdout and stderr.
func runCLI(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    var merged = ProcessInfo.processInfo.environment
    merged.merge(environment) { _, new in new }
    let result = try runToEnd(URL(fileURLWithPath: try consortExecutable()), arguments, environment: merged)
    return (result.status, result.out, result.err)
}

@Suite struct CLITests {
    @Test func help_listsTheCommandsAndExitCodes() throws {
        let result = try runCLI(["--help"])
        #expect(result.status == 0)
        for command in ["keys", "genesis", "node", "tx", "block", "status", "bench", "blacklist", "receivable"] {
            #expect(result.output.contains(command), "help does not mention \(command)")
        }
        #expect(result.output.contains("Exit codes"))
    }

    @Test func badArguments_exitWith2AndSayWhatIsWrong() throws {
        let directory = try TemporaryFolder()
        let status = try runCLI(["tx", "status", "not-a-hash", "--node", "http://127.0.0.1:9"])
        #expect(status.status == 2)
        #expect(status.error.contains("64 hex digits"))
        let key = directory.path + "/k.key"
        #expect(try runCLI(["keys", "generate", "--out", key]).status == 0)
        let again = try runCLI(["keys", "generate", "--out", key])
        #expect(again.status == 2)
        #expect(again.error.contains("already exists"))
        let noSubject = try runCLI(["blacklist", "check", "--key", key, "--purpose", "loan_review"])
        #expect(noSubject.status == 2)
        #expect(noSubject.error.contains("exactly one subject"))
        let badCode = try runCLI(["blacklist", "check", "--key", key, "--company", "12345", "--purpose", "loan_review"])
        #expect(badCode.status == 2)
        let badPiece = try runCLI(["receivable", "trace", "PO-1", "--node", "http://127.0.0.1:9"])
        #expect(badPiece.status == 2)
        #expect(badPiece.error.contains("VOUCHER:FIRST-LAST"))
        let badURL = try runCLI(["status", "--node", "ftp://somewhere"])
        #expect(badURL.status == 2)
    }

    @Test func unreachableNode_exitsWith3() throws {
        let result = try runCLI(["status", "--node", "http://127.0.0.1:\(try freeLoopbackPort())"])
        #expect(result.status == 3)
        #expect(result.error.contains("cannot reach the node"))
    }

    @Test func keyFiles_roundTrip_andDamagedOnesAreRefused() throws {
        let directory = try TemporaryFolder()
        let path = directory.path + "/node.key"
        let generated = try runCLI(["keys", "generate", "--out", path, "--json"])
        #expect(generated.status == 0)
        let shown = try runCLI(["keys", "show", path])
        #expect(generated.output.contains(shown.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try Data("{\"privateKey\":\"00\",\"publicKey\":\"00\"}".utf8).write(to: URL(fileURLWithPath: path))
        let damaged = try runCLI(["keys", "show", path])
        #expect(damaged.status == 2)
        #expect(damaged.error.contains(path))
    }

    @Test func genesisInit_fromADescription_andCheck_andBadDescriptionsNameTheProblem() throws {
        let directory = try TemporaryFolder()
        for name in ["bank", "node0"] { _ = try runCLI(["keys", "generate", "--out", "\(directory.path)/\(name).key"]) }
        let description = """
            {"chainId": "cli-test", "organizations": [{"id": "bank", "kind": "bank", "keyFiles": ["bank.key"]}],
             "validators": [{"name": "node0", "organization": "bank", "keyFile": "node0.key", "address": "127.0.0.1:7000"}]}
            """
        try Data(description.utf8).write(to: URL(fileURLWithPath: directory.path + "/description.json"))
        let created = try runCLI(["genesis", "init", "--description", directory.path + "/description.json", "--out", directory.path + "/genesis.json"])
        #expect(created.status == 0, "\(created.error)")
        #expect(try runCLI(["genesis", "check", directory.path + "/genesis.json"]).status == 0)
        let wrongKind = description.replacingOccurrences(of: "\"kind\": \"bank\"", with: "\"kind\": \"shop\"")
        try Data(wrongKind.utf8).write(to: URL(fileURLWithPath: directory.path + "/bad.json"))
        let refused = try runCLI(["genesis", "init", "--description", directory.path + "/bad.json", "--out", directory.path + "/g2.json"])
        #expect(refused.status == 2)
        #expect(refused.error.contains("shop"))
    }

    @Test func misspeltKeys_inADescriptionOrAConfig_areRefusedWithTheNearestSpelling() throws {
        let directory = try TemporaryFolder()
        for name in ["bank", "node0"] { _ = try runCLI(["keys", "generate", "--out", "\(directory.path)/\(name).key"]) }
        let description = """
            {"chainId": "cli-test", "organizations": [{"id": "bank", "kind": "bank", "keyFiles": ["bank.key"]}],
             "validators": [{"name": "node0", "organization": "bank", "keyFile": "node0.key", "address": "127.0.0.1:7000"}],
             "parameters": {"blockIntervalMs": 40}}
            """
        let cases = [
            ("\"chainId\"", "\"chainID\"", "unknown key 'chainID' in the description; did you mean 'chainId'?"),
            ("\"keyFiles\"", "\"keyfile\"", "unknown key 'keyfile' in organizations[0]; did you mean 'keyFiles'?"),
            ("\"keyFile\"", "\"nodeKeyFile\"", "unknown key 'nodeKeyFile' in validators[0]"),
            ("\"blockIntervalMs\"", "\"blockIntervalMS\"", "unknown key 'blockIntervalMS' in parameters; did you mean 'blockIntervalMs'?"),
        ]
        for (good, bad, message) in cases {
            try Data(description.replacingOccurrences(of: good, with: bad).utf8).write(to: URL(fileURLWithPath: directory.path + "/bad.json"))
            let refused = try runCLI(["genesis", "init", "--description", directory.path + "/bad.json", "--out", directory.path + "/g.json"])
            #expect(refused.status == 2)
            #expect(refused.error.contains(message), "\(refused.error)")
        }
        try Data(description.utf8).write(to: URL(fileURLWithPath: directory.path + "/description.json"))
        #expect(try runCLI(["genesis", "init", "--description", directory.path + "/description.json", "--out", directory.path + "/genesis.json"]).status == 0)

        let config = #"{"name": "node0", "genesis": "genesis.json", "nodeKey": "node0.key", "dataDir": "data", "api": "127.0.0.1:7100"}"#
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory.path + "/config.json"))
        let checked = try runCLI(["node", "check-config", "--config", directory.path + "/config.json"])
        #expect(checked.status == 0, "\(checked.error)")
        #expect(checked.output.contains("OK") && checked.output.contains("validator  node0 of bank"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"), "checking creates nothing")

        try Data(config.replacingOccurrences(of: "\"dataDir\"", with: "\"dataDirectory\"").utf8)
            .write(to: URL(fileURLWithPath: directory.path + "/typo.json"))
        let typo = try runCLI(["node", "check-config", "--config", directory.path + "/typo.json"])
        #expect(typo.status == 2)
        #expect(typo.error.contains("unknown key 'dataDirectory' in the node config; did you mean 'dataDir'?"), "\(typo.error)")

        _ = try runCLI(["keys", "generate", "--out", directory.path + "/stranger.key"])
        try Data(config.replacingOccurrences(of: "node0.key", with: "stranger.key").utf8)
            .write(to: URL(fileURLWithPath: directory.path + "/stranger.json"))
        let stranger = try runCLI(["node", "check-config", "--config", directory.path + "/stranger.json"])
        #expect(stranger.status == 2)
        #expect(stranger.error.contains("is not a validator in the genesis"))
    }

    @Test func nodeStart_withABadConfig_explainsAndExitsWith2() throws {
        let directory = try TemporaryFolder()
        try Data("{\"name\": \"n\", \"genesis\": \"g.json\", \"dataDir\": \"d\", \"api\": \"nowhere\"}".utf8)
            .write(to: URL(fileURLWithPath: directory.path + "/config.json"))
        let result = try runCLI(["node", "start", "--config", directory.path + "/config.json"])
        #expect(result.status == 2)
        #expect(result.error.contains("api must be host:port"))
        let missing = try runCLI(["node", "start", "--config", directory.path + "/absent.json"])
        #expect(missing.status == 2)
    }
}

/// A temporary folder removed when released.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "consort-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
