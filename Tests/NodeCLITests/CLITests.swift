import Foundation
import Testing
import Ledger
import LedgerCore
import ConsortTesting
@testable import Bench
@testable import Node
import NodeAPI
@testable import NodeClient
@testable import NodeCLI

/// Runs the built `consort` with `arguments`; returns exit status, stdout and stderr.
func runCLI(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    var merged = ProcessInfo.processInfo.environment
    merged.merge(environment) { _, new in new }
    let result = try runToEnd(URL(fileURLWithPath: try consortExecutable()), arguments, environment: merged)
    return (result.status, result.out, result.err)
}

private let cliDescription = """
    {"chainId": "cli-test", "organizations": [{"id": "bank", "kind": "bank", "keyFiles": ["bank.key"]}],
     "validators": [{"name": "node0", "organization": "bank", "keyFile": "node0.key", "address": "127.0.0.1:7000"}],
     "parameters": {"blockIntervalMs": 40}}
    """

private let cliConfig = #"{"name": "node0", "genesis": "genesis.json", "nodeKey": "node0.key", "dataDir": "data", "api": "127.0.0.1:7100"}"#

/// A folder with keys, a genesis built by `genesis init` from ``cliDescription``, and ``cliConfig`` as `config.json`.
private func consortiumFolder() throws -> TemporaryFolder {
    let directory = try TemporaryFolder()
    for name in ["bank", "node0"] { _ = try runCLI(["keys", "generate", "--out", "\(directory.path)/\(name).key"]) }
    try Data(cliDescription.utf8).write(to: URL(fileURLWithPath: directory.path + "/description.json"))
    let created = try runCLI(["genesis", "init", "--description", directory.path + "/description.json", "--out", directory.path + "/genesis.json"])
    guard created.status == 0 else { throw InProcessNodeError("genesis init failed: \(created.error)") }
    try Data(cliConfig.utf8).write(to: URL(fileURLWithPath: directory.path + "/config.json"))
    return directory
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

    @Test func misspeltKeys_inADescription_areRefusedWithTheirPathAndTheNearestSpelling() throws {
        let directory = try TemporaryFolder()
        for name in ["bank", "node0"] { _ = try runCLI(["keys", "generate", "--out", "\(directory.path)/\(name).key"]) }
        let cases = [
            ("\"chainId\"", "\"chainID\"", "unknown key 'chainID'; did you mean 'chainId'?"),
            ("\"keyFiles\"", "\"keyfile\"", "unknown key 'organizations[0].keyfile'; did you mean 'keyFiles'?"),
            ("\"keyFile\"", "\"nodeKeyFile\"", "unknown key 'validators[0].nodeKeyFile'"),
            ("\"blockIntervalMs\"", "\"blockIntervalMS\"", "unknown key 'parameters.blockIntervalMS'; did you mean 'blockIntervalMs'?"),
            ("\"kind\": \"bank\"", "\"kind\": \"banc\"", "organizations[0].kind is 'banc'; allowed: bank, core_enterprise,"),
        ]
        for (good, bad, message) in cases {
            try Data(cliDescription.replacingOccurrences(of: good, with: bad).utf8).write(to: URL(fileURLWithPath: directory.path + "/bad.json"))
            let refused = try runCLI(["genesis", "init", "--description", directory.path + "/bad.json", "--out", directory.path + "/g.json"])
            #expect(refused.status == 2)
            #expect(refused.error.contains(message), "\(refused.error)")
        }
    }

    @Test func checkConfig_printsTheNodeAndItsGenesis_andCreatesNothing() throws {
        let directory = try consortiumFolder()
        let hash = try #require(try runCLI(["genesis", "check", directory.path + "/genesis.json"]).output.split(separator: " ").dropFirst().first)
        let checked = try runCLI(["node", "check-config", "--config", directory.path + "/config.json"])
        #expect(checked.status == 0, "\(checked.error)")
        #expect(checked.output.contains("config.json: OK"))
        #expect(checked.output.contains("node        node0, validator 'node0' of bank, node key "))
        #expect(checked.output.contains("listens     API 127.0.0.1:7100 (also /metrics, /health), peers 127.0.0.1:7000"))
        #expect(checked.output.contains("genesis     \(hash), chain cli-test"), "\(checked.output)")
        #expect(checked.output.contains("validators  1\n              node0 of bank at 127.0.0.1:7000 (this node)\n"), "\(checked.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"), "checking creates nothing")
    }

    @Test func checkConfig_namesTheProblem_andExitsWith2() throws {
        let directory = try consortiumFolder()
        let cases = [
            ("\"dataDir\"", "\"dataDirectory\"", "config.json: unknown key 'dataDirectory'; did you mean 'dataDir'?"),
            ("\"api\"", "\"apiAddress\"", "unknown key 'apiAddress'; did you mean 'api'?"),
            ("{\"name\"", "{\"role\": \"validater\", \"name\"", "config.json: role is 'validater'; allowed: validator, observer"),
            ("node0.key", "stranger.key", "is not a validator in the genesis"),
        ]
        _ = try runCLI(["keys", "generate", "--out", directory.path + "/stranger.key"])
        for (good, bad, message) in cases {
            try Data(cliConfig.replacingOccurrences(of: good, with: bad).utf8).write(to: URL(fileURLWithPath: directory.path + "/config.json"))
            let refused = try runCLI(["node", "check-config", "--config", directory.path + "/config.json"])
            #expect(refused.status == 2, "\(bad)")
            #expect(refused.error.contains(message), "\(refused.error)")
            #expect(refused.output.isEmpty)
        }
        let genesis = try String(contentsOfFile: directory.path + "/genesis.json", encoding: .utf8)
        try Data(genesis.replacingOccurrences(of: "\"address\"", with: "\"adress\"").utf8).write(to: URL(fileURLWithPath: directory.path + "/genesis.json"))
        try Data(cliConfig.utf8).write(to: URL(fileURLWithPath: directory.path + "/config.json"))
        let badGenesis = try runCLI(["node", "check-config", "--config", directory.path + "/config.json"])
        #expect(badGenesis.status == 2)
        #expect(badGenesis.error.contains("genesis.json: invalid genesis: unknown key 'validators[0].adress'; did you mean 'address'?"), "\(badGenesis.error)")
    }

    @Test func nodeStart_onABusyAPIPort_namesTheAddressAndTheListener() throws {
        let directory = try consortiumFolder()
        let busy = try BusyPort()
        let config = cliConfig.replacingOccurrences(of: "127.0.0.1:7100", with: "127.0.0.1:\(busy.port)")
            .replacingOccurrences(of: "\"api\"", with: "\"p2p\": \"127.0.0.1:\(try freeLoopbackPort())\", \"api\"")
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory.path + "/config.json"))
        let result = try runCLI(["node", "start", "--config", directory.path + "/config.json"])
        #expect(result.status == 1)
        #expect(result.error.contains("cannot open the API listener on 127.0.0.1:\(busy.port): the address is in use"), "\(result.error)")
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

/// The fixes printed under a rejection name commands and options that exist.
@Suite struct RejectionHintTests {
    @Test func everyFix_namesACommandThatExists_withTheOptionsItNames() throws {
        for hint in RejectionHints.all {
            let parts = hint.fix.split(separator: "`")
            try #require(parts.count >= 2, "\(hint.code): no command in backticks")
            let command = parts[1].split(separator: " ").map(String.init)
            #expect(command.first == "consort", "\(hint.code)")
            let help = try runCLI(Array(command.dropFirst()) + ["--help"])
            #expect(help.status == 0, "\(hint.code): \(command.joined(separator: " ")) is not a command: \(help.error)")
            for option in hint.fix.split(separator: " ").map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: ",.;:()")) })
            where option.hasPrefix("--") {
                #expect(help.output.contains(option), "\(hint.code): \(command.joined(separator: " ")) has no \(option)")
            }
        }
        #expect(RejectionHints.fix(contract: "receivables", code: "not_due")?.contains("--early") == true)
        #expect(RejectionHints.fix(contract: "statements", code: "not_due") == nil)
    }
}

/// Help shows what a command needs and only what it takes.
@Suite struct ReceivableHelpTests {
    @Test func issueHelp_marksTheOptionsRequiredInPractice_andShowOffersNoVoucherOption() throws {
        let issue = try runCLI(["receivable", "issue", "--help"])
        #expect(issue.status == 0)
        let flattened = issue.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flattened.contains("(this or --contract-file is required)"))
        #expect(flattened.contains("(at least one is required; repeat for several)"))
        let show = try runCLI(["receivable", "show", "--help"])
        #expect(show.status == 0)
        #expect(!show.output.contains("--voucher"))
        let pieceTree = try runCLI(["receivable", "show", "PO-1:1-10", "--tree", "--node", "http://127.0.0.1:9"])
        #expect(pieceTree.status == 2)
        #expect(pieceTree.error.contains("give the voucher id"))
    }
}
