import ArgumentParser
import Foundation
import Ledger
import LedgerCore
import Bench
import Contracts
import Node
import ReconciliationJob
import NodeAPI
import NodeClient

/// `consort`: run a Consort node and talk to one.
@main
struct Consort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consort",
        abstract: "A permissioned consortium ledger for bank–enterprise reconciliation and supply-chain finance.",
        discussion: """
            Exit codes: 0 success; 1 the operation failed or the ledger rejected the transaction; \
            2 bad input (arguments or files); 3 the node could not be reached; 4 not found.
            """,
        version: NodeMetrics.version,
        subcommands: [
            KeysCommand.self, GenesisCommand.self, NodeCommand.self, TxCommand.self, BlockCommand.self, StatusCommand.self, BenchCommand.self,
            BlacklistCommand.self, ReceivableCommand.self, StatementCommand.self, BooksCommand.self, ReconcileCommand.self, ClearingCommand.self,
        ]
    )

    /// Runs the command line. Arguments that do not parse or fail a
    /// command's `validate()` exit with 2 (bad input), as `--help` documents,
    /// rather than the argument parser's own 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exit(withError: ExitCode(ExitStatus.badInput.rawValue))
        }
    }
}

/// Exit codes, documented in `consort --help`.
enum ExitStatus: Int32 {
    case failed = 1
    case badInput = 2
    case unreachable = 3
    case notFound = 4
}

/// An error the CLI reports to a person, with the exit code it maps to.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    let status: ExitStatus

    init(_ message: String, _ status: ExitStatus = .failed) {
        self.message = message
        self.status = status
    }

    var description: String { message }

    static func from(_ error: NodeClientError) -> CLIError {
        switch error {
        case .badURL: CLIError(error.description, .badInput)
        case .unreachable, .timedOut: unreachable(error.description)
        case _ where error.isNotFound: CLIError(error.description, .notFound)
        case .api(let status, _, _) where status == 400 || status == 422: CLIError(error.description, .badInput)
        default: CLIError(error.description, .failed)
        }
    }

    /// The node did not answer: `message` says how, and the fix follows it.
    static func unreachable(_ message: String) -> CLIError {
        CLIError(message + "\nIs the node running? Check --node or CONSORT_NODE.", .unreachable)
    }

    /// A load run's error; `failing` prefixes a failure of the run itself.
    static func from(_ error: LoadRunError, failing: String) -> CLIError {
        switch error {
        case .badSetting(let message): CLIError(message, .badInput)
        case .node(let nodeError): from(nodeError)
        case .setupFailed(let message): CLIError("\(failing): \(message)")
        }
    }
}

/// Runs a command body, printing errors to stderr and exiting with their code.
func runReporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(error.status.rawValue)
    } catch let error as NodeClientError {
        let mapped = CLIError.from(error)
        FileHandle.standardError.write(Data("error: \(mapped.message)\n".utf8))
        throw ExitCode(mapped.status.rawValue)
    } catch let error as ConfigError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(ExitStatus.badInput.rawValue)
    }
}

/// Options shared by commands that talk to a node.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The node's API URL (default: $CONSORT_NODE or http://127.0.0.1:8080).")
    var node: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    func client() throws -> NodeClient {
        let url = node ?? ProcessInfo.processInfo.environment["CONSORT_NODE"] ?? "http://127.0.0.1:8080"
        do {
            return try NodeClient(baseURL: url)
        } catch {
            throw CLIError(error.description, .badInput)
        }
    }
}

/// Prints an API answer, or another value of this tool, as indented JSON with sorted keys.
func printJSON(_ value: some Encodable) throws {
    do {
        print(try APICoding.prettyText(value))
    } catch {
        throw CLIError("the answer cannot be printed as JSON: \(error)")
    }
}

/// Prints a report built as a dictionary (the benchmarks' reports), indented with sorted keys.
func printJSONObject(_ object: [String: Any]) throws {
    do {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    } catch {
        throw CLIError("the report cannot be printed as JSON: \(error)")
    }
}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage secp256k1 keys.", subcommands: [Generate.self, Show.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate a key from the OS's secure random source and write it to a file (mode 0600).")

        @Option(name: .shortAndLong, help: "Where to write the key file.")
        var out: String

        @Flag(name: .long, help: "Replace an existing file.")
        var force = false

        @Flag(name: .long, help: "Print machine-readable JSON.")
        var json = false

        func run() async throws {
            try await runReporting {
                if FileManager.default.fileExists(atPath: out) && !force {
                    throw CLIError("\(out) already exists; pass --force to replace it", .badInput)
                }
                let key: PrivateKey
                do { key = try PrivateKey.generate() } catch { throw CLIError("\(error)") }
                try KeyFile.write(key, to: out)
                if json { try printJSON(["publicKey": key.publicKey.hex, "file": out]) } else { print(key.publicKey.hex) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public key of a key file.")

        @Argument(help: "The key file.")
        var file: String

        func run() async throws {
            try await runReporting { print(try KeyFile.read(file).publicKey.hex) }
        }
    }
}

struct GenesisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genesis", abstract: "Create and check genesis files, and list the codes they define.", subcommands: [Initialize.self, Check.self, Codes.self])

    struct Initialize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Build a genesis file from a description of organizations and validators.",
            discussion: """
                The description is JSON: {"chainId", "organizations": [{"id", "name", "kind", "memberKeys" or "keyFiles"}], \
                "validators": [{"name", "organization", "nodeKey" or "keyFile", "address"}], optional "parameters" and "contracts"}. \
                Key file paths are relative to the description's folder.
                """)

        @Option(name: .long, help: "The description file.")
        var description: String

        @Option(name: .shortAndLong, help: "Where to write the genesis file.")
        var out: String

        func run() async throws {
            try await runReporting {
                guard let data = FileManager.default.contents(atPath: description) else {
                    throw CLIError("cannot read \(description)", .badInput)
                }
                let parsed: GenesisDescription
                do throws(ConfigError) {
                    parsed = try GenesisDescription.decode(data, file: description)
                } catch {
                    throw CLIError(error.description, .badInput)
                }
                let base = URL(fileURLWithPath: description).deletingLastPathComponent().path
                let genesis = try parsed.genesis(baseDirectory: base, defaultTimestampMs: wallClockMs())
                do {
                    try genesis.json().write(to: URL(fileURLWithPath: out))
                } catch {
                    throw CLIError("cannot write \(out): \(error.localizedDescription)")
                }
                print("genesis \(genesis.hash.hex) for chain '\(genesis.chainID)': \(genesis.organizations.count) organizations, \(genesis.validators.count) validators")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a genesis file and print its hash.")

        @Argument(help: "The genesis file.")
        var file: String

        func run() async throws {
            try await runReporting {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)", .badInput) }
                do {
                    let genesis = try Genesis.load(json: data)
                    print("genesis \(genesis.hash.hex) for chain '\(genesis.chainID)' is valid")
                } catch {
                    throw CLIError("\(file): \(error)", .badInput)
                }
            }
        }
    }
}

extension GenesisCommand {
    struct Codes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the codes the genesis defines (blacklist reasons and purposes), from a node or a genesis file.")

        @OptionGroup var options: NodeOptions

        @Option(name: .long, help: "Read the codes from this genesis file instead of asking the node.")
        var genesis: String?

        func run() async throws {
            try await runReporting {
                let parameters: BlacklistParametersAnswer
                if let genesis {
                    guard let data = FileManager.default.contents(atPath: genesis) else { throw CLIError("cannot read \(genesis)", .badInput) }
                    do {
                        parameters = try BlacklistParameters.fromGenesis(try Genesis.load(json: data).contracts[BlacklistContract.name]).answer
                    } catch {
                        throw CLIError("\(genesis): \(error)", .badInput)
                    }
                } else {
                    parameters = try await options.client().query(contract: BlacklistContract.name, "parameters", as: BlacklistParametersAnswer.self)
                }
                if options.json {
                    try printJSON(["blacklistReasonCodes": parameters.reasonCodes, "blacklistPurposeCodes": parameters.purposeCodes])
                    return
                }
                for kind in BlacklistCode.allCases {
                    print("\(kind.title):")
                    for code in kind.codes(in: parameters) { print("  \(code)") }
                }
            }
        }
    }
}

struct TxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tx", abstract: "Submit transactions and follow them.", subcommands: [Submit.self, Status.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign and submit a raw contract call.")

        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions

        @Option(name: .long, help: "Contract name.")
        var contract: String

        @Option(name: .long, help: "Operation name.")
        var operation: String

        @Option(name: .long, help: "Arguments in the contract's canonical encoding, as hex.")
        var arguments: String = ""

        func run() async throws {
            try await runReporting {
                guard let bytes = Hex.decode(arguments) else { throw CLIError("--arguments is not hex", .badInput) }
                let call = ContractCall(contract: contract, operation: operation, arguments: bytes)
                try await submitAndReport(call, options: options, signing: signing)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show whether a transaction is pending, committed or unknown, with its receipt.")

        @OptionGroup var options: NodeOptions

        @Argument(help: "The transaction id (64 hex digits).")
        var id: String

        func run() async throws {
            try await runReporting {
                guard let hash = try? Hash(hex: id) else { throw CLIError("'\(id)' is not a transaction id (64 hex digits)", .badInput) }
                let answer = try await options.client().transaction(hash)
                if options.json { try printJSON(answer); return }
                printTransactionStatus(answer)
            }
        }
    }
}

/// A transaction's status for a person: pending, or committed with its receipt's outcome and events.
func printTransactionStatus(_ answer: TransactionStatusAnswer, withEvents: Bool = true) {
    guard let committed = answer.committed else {
        print("\(answer.id.hex) \(TransactionState.pending.rawValue)")
        return
    }
    let receipt = committed.receipt
    if receipt.isSuccess {
        print("\(committed.id.hex) committed at height \(committed.height): success")
    } else {
        print("\(committed.id.hex) committed at height \(committed.height): rejected (\(receipt.error?.code ?? "?")): \(receipt.error?.message ?? "")")
        if let code = receipt.error?.code, let fix = RejectionHints.fix(contract: committed.transaction.contract, code: code) {
            print("  fix: \(fix)")
        }
    }
    for event in receipt.events where withEvents {
        let attributes = event.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        print("  event \(event.contract).\(event.name): \(attributes.joined(separator: " "))")
    }
}

struct BlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "block", abstract: "Inspect committed blocks.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a block with its certificate; verifies the certificate against the genesis when given.")

        @OptionGroup var options: NodeOptions

        @Argument(help: "A height, or 'latest'.")
        var height: String = "latest"

        @Option(name: .long, help: "A genesis file to verify the block's commit certificate against.")
        var genesis: String?

        func run() async throws {
            try await runReporting {
                let client = try options.client()
                let block: BlockAnswer
                if height == "latest" {
                    block = try await client.latestBlock()
                } else if let number = UInt64(height) {
                    block = try await client.block(at: number)
                } else {
                    throw CLIError("height must be a number or 'latest'", .badInput)
                }
                var verdict: String?
                if let genesisPath = genesis {
                    guard let data = FileManager.default.contents(atPath: genesisPath) else { throw CLIError("cannot read \(genesisPath)", .badInput) }
                    let chain: Genesis
                    do { chain = try Genesis.load(json: data) } catch { throw CLIError("\(genesisPath): \(error)", .badInput) }
                    guard let encoded = block.encoded else {
                        throw CLIError("the block has no certificate to verify (genesis block?)", .failed)
                    }
                    do {
                        let certified = try CertifiedBlock(canonicalBytes: encoded.bytes)
                        try certified.certificate.verify(header: certified.block.header, validators: chain.validators, chainID: chain.chainID)
                        verdict = "certificate verified: \(certified.certificate.signatures.count) of \(chain.validators.count) validators signed"
                    } catch {
                        throw CLIError("certificate does NOT verify: \(error)", .failed)
                    }
                }
                if options.json {
                    try printJSON(VerifiedBlock(block: block, verification: verdict))
                    return
                }
                let header = block.header
                let proposer = try await client.genesis().validators.first { $0.nodeKey == header.proposer }
                print("block \(header.height) \(header.hash.hex)")
                print("  parent      \(header.parentHash.hex)")
                print("  time        \(isoTime(header.timestampMs))")
                let proposerName = header.height == 0 ? "none (the genesis block)"
                    : proposer.map { "\($0.name) of \($0.organization)" } ?? "not a validator of this chain's genesis"
                print("  proposer    \(proposerName) (\(header.proposer.hex))")
                print("  state root  \(block.resultingStateRoot?.hex ?? "") (after this block)")
                print("  transactions \(block.transactions.count)")
                if let certificate = block.certificate {
                    print("  certificate view \(certificate.view), \(certificate.signatures.count) signatures")
                }
                if let verdict { print("  \(verdict)") }
            }
        }
    }
}

/// `block show --json`: the block as the API gives it, with the verdict of the offline check when there was one.
struct VerifiedBlock: Encodable {
    let block: BlockAnswer
    let verification: String?

    enum CodingKeys: String, CodingKey {
        case verification
    }

    func encode(to encoder: any Encoder) throws {
        try block.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(verification, forKey: .verification)
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a node's height, view, peers and mempool.")

    @OptionGroup var options: NodeOptions

    func run() async throws {
        try await runReporting {
            let status = try await options.client().status()
            if options.json { try printJSON(status); return }
            print("node \(status.node) (\(status.role)) height \(status.height) view \(status.view) primary \(status.primary ?? "-")")
            print("  last block \(status.lastBlockHash.hex) at \(isoTime(status.lastBlockTimeMs))")
            print("  state root \(status.stateRoot.hex)")
            print("  mempool \(status.mempoolSize) pending")
            let reach = status.validatorReach
            if reach.of > 0 {
                print("  \(reach.reached) of \(reach.of) validators reached, \(reach.needed) needed to commit" + (reach.reached < reach.needed ? ": NO QUORUM" : ""))
            }
            for validator in status.validators {
                let mark = validator.isSelf ? "self" : (validator.connected ? "connected" : "disconnected")
                print("  validator \(validator.name) \(validator.address) \(mark)")
            }
            if let fault = status.fault { print("  FAULT: \(fault)") }
        }
    }
}

/// Milliseconds since 1970 as an ISO 8601 UTC time, for people (`2026-12-02T14:05:09Z`).
func isoTime(_ milliseconds: UInt64) -> String {
    Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
}
